import { resolve } from 'node:path';
import { removeTempDirs } from '../../support/tmp.js';
import { findBundle, PROJECT, startAsterisk } from './asterisk.js';

/**
 * Before any test file: a live run without Asterisk fails, loudly, and says what it needs (it is never a silent
 * pass); with the bundle, one Asterisk is started and stopped so that the bundle is unpacked once into the shared
 * ASTERISK_DIST_DIR before the files, running in parallel, each start their own from it.
 */
export default async function setup(): Promise<void> {
  if (findBundle() === undefined) {
    console.error(
      [
        '',
        'npm run test:live needs the Asterisk 22 bundle (start-asterisk.sh, stop-asterisk.sh and its tarball).',
        process.env['ASTERISK_BUNDLE'] === undefined
          ? `None found at ${resolve(PROJECT, '../shared/asterisk')} (beside the project).`
          : `None found at ASTERISK_BUNDLE=${process.env['ASTERISK_BUNDLE']}.`,
        'Run it as: ASTERISK_BUNDLE=/path/to/shared/asterisk npm run test:live',
        '',
      ].join('\n'),
    );
    throw new Error('the live suite cannot run without Asterisk: set ASTERISK_BUNDLE');
  }
  const ast = await startAsterisk();
  await ast.stop();
  removeTempDirs();
}
