import type { AmiMessage } from '../src/ami/types.js';
import { launchChromium } from '../test/support/browser.js';
import { IFACE_201, SECRETS, startStatusRig } from '../test/support/status-rig.js';
import { asTrace, copied, replayEvents, startingNow } from '../test/support/trace-replay.js';
import { waitFor } from '../test/support/wait.js';

/**
 * The live view's screenshots in docs/ (README "Live view"), taken from the real page with the daemon, the AMI
 * simulator and the emulator: a parked command, a member paused by the ring-back fix, a queue call ringing three
 * members. English and Russian, desktop and phone width.
 *
 *   npm run screenshots
 */

const rig = await startStatusRig();
const browser = await launchChromium();
try {
  const replay = (events: AmiMessage[]) => rig.pbx.replay(asTrace(events), { speed: 0 });
  const upTo = (events: AmiMessage[], pred: (e: AmiMessage) => boolean) => events.slice(0, events.findIndex(pred));
  await waitFor(() => rig.pbx.received.some((a) => a['Action'] === 'QueueStatus'), 'the ring-back reconcile', 5000);

  rig.portal.faults.failNext(1, { status: 400, error: 'ERROR_CORE', error_description: 'Required fields: USER_ID' });
  await replay(startingNow(copied(replayEvents('caller_abandon'), 9)));
  await waitFor(() => rig.bridge.outbox.parkedEntries().length > 0, 'a parked command', 10_000);

  const sales = startingNow(replayEvents('ringback_fixed_pause').filter((e) => e['Event'] !== 'QueueMemberPause'));
  await replay(sales.slice(0, sales.findIndex((e) => e['Event'] === 'AgentRingNoAnswer' && e['Interface'] === IFACE_201) + 1));
  await rig.pbx.waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201, 5000);

  // The dialplan's caller-name lookup, so the call shows its CRM name.
  await fetch(`${rig.base}/callerid?number=5551001`, { headers: { 'x-token': SECRETS.lookupToken } });
  await replay(upTo(startingNow(replayEvents('support_ringall_answer')), (e) => e['Event'] === 'DialEnd' && /^Local\/10\d@agents/.test(String(e['DestChannel']))));
  await waitFor(() => rig.bridge.liveView.snapshot().calls.some((c) => c.cards.length === 3), 'the ringing call', 10_000);

  for (const [name, viewport] of [['', { width: 1100, height: 900 }], ['-phone', { width: 390, height: 844 }]] as const) {
    const page = await browser.newPage({ viewport, colorScheme: 'light' });
    await page.goto(`${rig.base}/status`);
    await page.fill('#token', SECRETS.statusToken);
    await Promise.all([page.waitForURL(`${rig.base}/status`), page.press('#token', 'Enter')]);
    await page.waitForSelector('#sign-out:not([hidden])');
    for (const lang of ['en', 'ru']) {
      await page.click(`button[data-lang="${lang}"]`);
      await page.waitForSelector('li.call .cards .person');
      const file = `docs/status-page-${lang}${name}.png`;
      await page.screenshot({ path: file, fullPage: true });
      console.log(`wrote ${file}`);
    }
    await page.close();
  }
} finally {
  await browser.close();
  await rig.close();
}
