import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
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
});
