import { findBundle, PROJECT } from './asterisk.js';
import { resolve } from 'node:path';

/** A live run without Asterisk must fail, loudly, and say what it needs: it is never a silent pass. */
export default function setup(): void {
  if (findBundle() !== undefined) return;
  const message = [
    '',
    'npm run test:live needs the Asterisk 22 bundle (start-asterisk.sh, stop-asterisk.sh and its tarball).',
    `None found at ${resolve(PROJECT, '../shared/asterisk')}.`,
    'Run it as: ASTERISK_BUNDLE=/path/to/shared/asterisk npm run test:live',
    '',
  ].join('\n');
  console.error(message);
  throw new Error('the live suite cannot run without Asterisk: set ASTERISK_BUNDLE');
}
