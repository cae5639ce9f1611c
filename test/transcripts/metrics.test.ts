import { describe, expect, it } from 'vitest';
import type { OutboxEntry, ParkedEntry } from '../../src/bitrix/outbox-entry.js';
import { createMetrics } from '../../src/obs/metrics.js';

const transcript = (seq: number): OutboxEntry => ({
  seq,
  key: `L${seq}`,
  kind: 'transcript',
  method: 'telephony.call.attachTranscription',
  params: { CALL_ID: 'c', MESSAGES: [] },
  needsCallId: false,
  attempts: 0,
  notBefore: 0,
  createdAt: 0,
});

const line = (scrape: string, name: string) => scrape.split('\n').find((l) => l.startsWith(name));

describe('transcript metrics', () => {
  it('count how transcripts end, the requests to the server, what waits and the failure streak', async () => {
    const m = createMetrics({ processMetrics: false });
    const worker = m.transcripts.workerHooks();
    const outbox = m.outboxHooks();
    let pending = 3;
    m.transcripts.observePending(() => pending);
    worker.onRequest!(false, 2);
    worker.onRequest!(false, 30);
    worker.onStreak!(2, 'HTTP 500');
    worker.onRequest!(true, 4);
    worker.onStreak!(0, undefined);
    worker.onResult!('queued');
    worker.onResult!('empty');
    worker.onResult!('given_up');
    outbox.onDelivered!(transcript(1), { TRANSCRIPT_ID: 1 });
    outbox.onParked!({ ...transcript(2), parkedAt: 0, error: 'x' } as ParkedEntry);
    m.transcripts.skipped('not-answered');
    m.transcripts.outcome('not_kept');
    let text = await m.scrape();
    expect(line(text, 'b24bridge_transcripts_total{result="attached"}')).toBe('b24bridge_transcripts_total{result="attached"} 1');
    expect(line(text, 'b24bridge_transcripts_total{result="empty"}')).toMatch(/ 1$/);
    expect(line(text, 'b24bridge_transcripts_total{result="given_up"}')).toMatch(/ 1$/);
    expect(line(text, 'b24bridge_transcripts_total{result="parked"}')).toMatch(/ 1$/);
    expect(line(text, 'b24bridge_transcripts_total{result="not_kept"}')).toMatch(/ 1$/);
    // 'queued' is not an end: the outbox counts it as attached or parked.
    expect(line(text, 'b24bridge_transcripts_total{result="queued"}')).toBeUndefined();
    expect(line(text, 'b24bridge_transcripts_skipped_total{reason="not-answered"}')).toMatch(/ 1$/);
    expect(line(text, 'b24bridge_transcript_requests_total{outcome="error"}')).toMatch(/ 2$/);
    expect(line(text, 'b24bridge_transcript_requests_total{outcome="ok"}')).toMatch(/ 1$/);
    expect(line(text, 'b24bridge_transcript_request_duration_seconds_count')).toMatch(/ 3$/);
    expect(line(text, 'b24bridge_transcripts_pending')).toBe('b24bridge_transcripts_pending 3');
    expect(line(text, 'b24bridge_transcript_failure_streak')).toBe('b24bridge_transcript_failure_streak 0');
    pending = 0;
    worker.onStreak!(5, 'ECONNREFUSED');
    text = await m.scrape();
    expect(line(text, 'b24bridge_transcripts_pending')).toBe('b24bridge_transcripts_pending 0');
    expect(line(text, 'b24bridge_transcript_failure_streak')).toBe('b24bridge_transcript_failure_streak 5');
  });
});
