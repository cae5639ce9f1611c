import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import type { StatusSnapshot } from '../../src/status/types.js';
import { AMI_DIR } from '../support/traces.js';

/** The quick start's first command: the demo runs the real daemon end to end and says what the portal got. */
describe('the demo', () => {
  it('plays every scenario and finishes every call once in the emulated portal', async () => {
    const lines: string[] = [];
    const result = await runDemo({ speed: 40, traceDir: AMI_DIR, print: (l) => lines.push(l) });
    const text = lines.join('\n');
    // 1 + 1 + 1 + 1 + 1 (outbound) + 1 (click from Bitrix24) + 1 (recording) + 3 (sales) calls.
    expect(result.calls).toBe(10);
    expect(text).toMatch(/finish {3}USER_ID=12 DURATION=5s STATUS_CODE=200/);
    expect(text).toMatch(/attach {3}FILENAME=1795263642\.90\.(mp3|wav)/);
    expect(text).toMatch(/PBX <- Originate Channel=Local\/101@agents\/n Context=outbound Exten=5559876/);
    expect(text).toMatch(/PBX <- QueuePause Queue=sales Interface=Local\/201@agents\/n Paused=true/);
    expect(text).not.toMatch(/ERROR/);
  }, 120_000);

  it('in app mode, where the portal refuses webhooks, authorises with a code and rings a click fetched as an offline event', async () => {
    const lines: string[] = [];
    const result = await runDemo({ speed: 40, traceDir: AMI_DIR, auth: 'app', traces: ['support_ringall_answer', 'click_from_bitrix24'], print: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(result.calls).toBe(2);
    expect(text).toMatch(/finish {3}USER_ID=12 DURATION=5s STATUS_CODE=200/);
    expect(text).toMatch(/kept as an offline event for the application/);
    expect(text).toMatch(/PBX <- Originate Channel=Local\/101@agents\/n Context=outbound Exten=5559876/);
    expect(text).toMatch(/finish {3}USER_ID=11 DURATION=6s STATUS_CODE=200/);
    expect(text).not.toMatch(/ERROR/);
  }, 120_000);

  it('prints the live view\'s URL, serves it while the traces replay (the call shows there), and after them while held open', async () => {
    const lines: string[] = [];
    let events = '';
    const abort = new AbortController();
    const follow = (url: string) =>
      void fetch(`${url}/events`, { signal: abort.signal })
        .then(async (res) => {
          for await (const chunk of res.body!) events += Buffer.from(chunk).toString('utf8');
        })
        .catch(() => undefined);
    let after: StatusSnapshot | undefined;
    const result = await runDemo({
      speed: 2,
      traceDir: AMI_DIR,
      traces: ['support_ringall_answer'],
      print: (l) => {
        lines.push(l);
        const url = /^Live view: (http:\/\/127\.0\.0\.1:\d+\/status) /.exec(l)?.[1];
        if (url) follow(url);
      },
      holdOpen: async (url) => {
        const page = await fetch(url);
        expect([page.status, (await page.text()).includes('/status/status.js')]).toEqual([200, true]);
        after = (await (await fetch(`${url}.json`)).json()) as StatusSnapshot;
        abort.abort();
      },
    });
    expect(result.calls).toBe(1);
    expect(lines.some((l) => /^Live view: http:\/\/127\.0\.0\.1:\d+\/status /.test(l))).toBe(true);
    expect(lines.some((l) => /stay up: http:\/\/127\.0\.0\.1:\d+\/status {2}\(Ctrl-C to stop\)$/.test(l))).toBe(true);
    // During the replay the page's stream carried the call, with the three members' cards.
    const states = events.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as StatusSnapshot);
    expect(states.some((s) => s.calls.some((c) => c.number === '5551001' && c.cards.map((p) => p.ext).join() === '101,102,103'))).toBe(true);
    expect(states.some((s) => s.calls.some((c) => c.state === 'talking' && c.agent?.ext === '102'))).toBe(true);
    expect([after?.calls, after?.outbox.depth, after?.ami.connected]).toEqual([[], 0, true]);
  }, 60_000);
});
