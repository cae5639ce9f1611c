import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { captureDaemonLogger } from '../support/logger.js';
import { configProblems } from '../support/config.js';

const base = {
  asterisk: { ami: { username: 'b24bridge', secret: 's3cret-ami' } },
  bitrix: { webhookUrl: 'https://example.bitrix24.ru/rest/1/abcdef123456/', defaultUserId: 1 },
};


describe('the transcripts section', () => {
  it('is off by default, with defaults for every other key', () => {
    expect(parseConfig(base).transcripts).toEqual({
      enabled: false,
      language: 'auto',
      timeoutMs: 300_000,
      concurrency: 1,
      minDurationSec: 5,
      queues: [],
      directions: ['inbound', 'outbound'],
      receiveSuffix: '-in',
      transmitSuffix: '-out',
      failuresBeforeWarning: 3,
      initialRetryDelayMs: 5_000,
      maxRetryDelayMs: 300_000,
      maxTries: 1000,
    });
  });

  it('turns on with three keys: enabled, url and model', () => {
    const t = parseConfig({ ...base, transcripts: { enabled: true, url: 'http://stt.lan:8000/v1/audio/transcriptions', model: 'whisper-1' } }).transcripts;
    expect(t).toMatchObject({ enabled: true, url: 'http://stt.lan:8000/v1/audio/transcriptions', model: 'whisper-1', language: 'auto' });
  });

  it('reports every mistake at once, by key, never echoing a value', () => {
    const p = configProblems({
      ...base,
      recordings: { enabled: false },
      transcripts: { enabled: true, language: 'Russian', concurrency: 0, directions: ['sideways'], timeoutMs: 10, apiKey: '' },
    });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^transcripts\.language: must be an ISO-639-1 code/),
        expect.stringMatching(/^transcripts\.concurrency: /),
        expect.stringMatching(/^transcripts\.directions\.0: /),
        expect.stringMatching(/^transcripts\.timeoutMs: /),
        expect.stringMatching(/^transcripts\.apiKey: must not be empty/),
      ]),
    );
    expect(p.length).toBeGreaterThanOrEqual(5);
    expect(configProblems({ ...base, transcripts: { enabled: true } })).toEqual([
      'transcripts.url: is required when transcripts.enabled is true',
      'transcripts.model: is required when transcripts.enabled is true',
    ]);
    expect(configProblems({ ...base, recordings: { enabled: false }, transcripts: { enabled: true, url: 'http://stt/v1/audio/transcriptions', model: 'm' } })).toEqual([
      'transcripts.enabled: transcripts.enabled needs recordings.enabled: transcripts are made from the attached recordings',
    ]);
    expect(configProblems({ ...base, transcripts: { url: 'ftp://stt/x' } })).toEqual(['transcripts.url: must be an http(s) URL']);
    expect(configProblems({ ...base, transcripts: { typo: 1 } })).toEqual([expect.stringMatching(/^transcripts: Unrecognized key: "typo"/)]);
  });

  it('takes the API key from B24BRIDGE_TRANSCRIPTS_API_KEY, and never logs it', () => {
    const c = parseConfig({ ...base, transcripts: { enabled: true, url: 'http://stt.lan/v1/audio/transcriptions', model: 'm' } }, { B24BRIDGE_TRANSCRIPTS_API_KEY: 'sk-stt-SECRET-42' });
    expect(c.transcripts.apiKey).toBe('sk-stt-SECRET-42');
    const { logger, lines, text } = captureDaemonLogger();
    logger.info({ config: c }, 'config loaded');
    logger.info(c, 'the config as an object');
    logger.info({ transcripts: c.transcripts }, 'the section');
    logger.warn({ settings: { apiKey: c.transcripts.apiKey, api_key: c.transcripts.apiKey } }, 'keys by other names');
    expect(lines()).toHaveLength(4);
    expect(text()).not.toContain('sk-stt-SECRET-42');
    expect(lines()[2]).toMatchObject({ transcripts: { apiKey: '[redacted]', model: 'm' } });
  });
});
