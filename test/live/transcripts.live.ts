import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWav } from '../../src/recordings/wav.js';
import { startSttServer, type FakeSttServer } from '../support/stt-server.js';
import { waitFor } from '../support/wait.js';
import { liveBed, type LiveDaemon } from './support/bed.js';
import { expectEachCallOnce, finished, telephony } from './support/portal.js';

/**
 * Transcripts on a real Asterisk 22 (issue 18): a queue call recorded with the README's dialplan (MixMonitor with
 * r() and t() beside the mixed file, on the caller's channel), the daemon as a process, the fake speech-to-text
 * server hearing the tones the simulated phones play (the customer 600/1000 Hz, the agent 440/550 Hz: the live
 * dialplan's CUSTOMER_TONE and AGENT_TONE), and the strict emulator.
 */

let live: LiveDaemon | undefined;
let stt: FakeSttServer | undefined;
const lab = liveBed();
afterEach(async () => {
  await stt?.close();
  stt = undefined;
});

const pitch = (text: string) => Number(/tone (\d+) Hz/.exec(text)?.[1]);
const near = (hz: number, tones: number[]) => tones.some((t) => Math.abs(hz - t) <= 40);

describe('transcripts, live', () => {
  it('a queue call recorded with r() and t(): one transcript after the finish, the customer as Client, the agent as User, in time order', async () => {
    stt = await startSttServer();
    live = await lab.daemon({ transcripts: { enabled: true, url: stt.url, model: 'whisper-1', minDurationSec: 1 } });
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:4', '103': 'noanswer' });
    await pbx.customer('5558101', 'answer:60');
    await pbx.call('5558101', 'support', { RECORD: 'sides' });
    const { call, finish } = await finished(live.portal, '5558101');
    const transcript = await waitFor(() => live!.portal.transcripts.find((t) => t.callId === call.callId), 'the transcript', 30_000);
    const duration = Number(finish.params['DURATION']);
    expect(duration).toBe(4);
    const messages = transcript.messages;
    expect(messages.length).toBeGreaterThanOrEqual(4);
    for (const m of messages) {
      expect(m.SIDE === 'Client' ? near(pitch(m.MESSAGE), [600, 1000]) : near(pitch(m.MESSAGE), [440, 550])).toBe(true);
      expect(m.STOP_TIME).toBeLessThanOrEqual(duration);
    }
    expect(new Set(messages.map((m) => m.SIDE))).toEqual(new Set(['Client', 'User']));
    expect(messages.map((m) => m.START_TIME)).toEqual([...messages.map((m) => m.START_TIME)].sort((a, b) => a - b));
    // Once, after the finish and the record; each side sent apart, nothing else sent anywhere.
    expect(live.portal.transcripts.filter((t) => t.callId === call.callId)).toHaveLength(1);
    const methods = telephony(live.portal).filter((c) => c.callId === call.callId).map((c) => c.method);
    expect(methods.indexOf('finish')).toBeLessThan(methods.indexOf('attachrecord'));
    expect(live.portal.commands.filter((c) => c.ok && c.method === 'telephony.call.attachtranscription')).toHaveLength(1);
    expect(stt.requests.map((r) => r.fileName).sort()).toEqual(['receive.wav', 'transmit.wav']);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it("MixMonitor's D option on this Asterisk writes a .wav whose header says one channel over twice the data: not a two-channel file", async () => {
    live = await lab.daemon();
    const { pbx, ast } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:4', '103': 'noanswer' });
    await pbx.customer('5558102', 'answer:60');
    await pbx.call('5558102', 'support', { RECORD: 'stereo' });
    const { finish } = await finished(live.portal, '5558102');
    const recorded = live.output().match(/"path":"([^"]+\.wav)"/g)?.map((m) => m.slice(8, -1)) ?? [];
    const file = await waitFor(() => recorded.find((p) => p.startsWith(ast.monitorDir)), 'the recording path in the log');
    const bytes = readFileSync(join(file));
    const wav = parseWav(bytes.subarray(0, 65536), bytes.length);
    expect(wav).toMatchObject({ ok: true, channels: 1, sampleRate: 8000, bitsPerSample: 16 });
    const seconds = (wav.ok ? wav.dataBytes : 0) / (8000 * 2);
    // Two interleaved channels under a mono header: the "mono" file lasts twice the talk time.
    expect(Math.abs(seconds - 2 * Number(finish.params['DURATION']))).toBeLessThanOrEqual(1);
  });
});
