import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { callLogger, createLogger, redactSecrets, scrubLine, setLevel, type Logger } from '../../src/obs/logger.js';

const WEBHOOK_CODE = 'q7w8e9r0t1y2u3i4';
const WEBHOOK_URL = `https://acme.bitrix24.ru/rest/12/${WEBHOOK_CODE}/`;
const AMI_SECRET = 'ami-S3cret-value';
const ARI_PASSWORD = 'ari-P4ssword-value';
const APP_TOKEN = 'apptoken0123456789abcdef';
const ACCESS_TOKEN = 'accesstokenZZZ999';
const BEARER = 'Bearer bearer-XYZ-777';
const LOOKUP_TOKEN = 'lookup-T0ken-for-the-dialplan';
const SECRETS = [WEBHOOK_CODE, AMI_SECRET, ARI_PASSWORD, APP_TOKEN, ACCESS_TOKEN, 'bearer-XYZ-777', LOOKUP_TOKEN];

/** A log sink: pino writes each finished line here, exactly as journald would receive it. */
function sink(level = 'trace'): { logger: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const logger = createLogger({ level, format: 'json', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, text: () => lines.join('') };
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

function realConfig() {
  const doc = parseYaml(readFileSync(new URL('../../config/example.yaml', import.meta.url), 'utf8')) as Record<string, Record<string, unknown>>;
  doc['asterisk']!['ari'] = { url: 'http://127.0.0.1:8088', username: 'b24bridge', password: 'x' };
  return parseConfig(doc, {
    B24BRIDGE_AMI_SECRET: AMI_SECRET,
    B24BRIDGE_ARI_PASSWORD: ARI_PASSWORD,
    B24BRIDGE_WEBHOOK_URL: WEBHOOK_URL,
    B24BRIDGE_APPLICATION_TOKEN: APP_TOKEN,
    B24BRIDGE_LOOKUP_TOKEN: LOOKUP_TOKEN,
  });
}

/** What Bitrix24 posts to the outbound webhook (ONEXTERNALCALLSTART), parsed. */
const bitrixEvent = {
  event: 'ONEXTERNALCALLSTART',
  data: { PHONE_NUMBER: '+74951234567', USER_ID: '7', CALL_ID: 'externalCall.abc' },
  ts: '1700000000',
  auth: { domain: 'acme.bitrix24.ru', client_endpoint: 'https://acme.bitrix24.ru/rest/', member_id: 'm1', application_token: APP_TOKEN, access_token: ACCESS_TOKEN },
};

describe('the logger', () => {
  it('never writes the secrets of a whole config object logged at the top level', () => {
    const { logger, text } = sink();
    logger.info(realConfig(), 'config');
    expectNoSecret(text());
    expect(text()).toContain('[redacted]');
  });

  it('never writes the secrets of a config object nested anywhere in what is logged', () => {
    const { logger, text } = sink();
    const config = realConfig();
    logger.info({ config }, 'loaded');
    logger.info({ reload: { previous: config, next: config } }, 'reloaded');
    logger.warn({ parts: [{ deep: { deeper: { config } } }] }, 'very deep');
    expectNoSecret(text());
  });

  it('keeps the non-secret parts of a config so a log line is still useful', () => {
    const { logger, lines } = sink();
    logger.info({ config: realConfig() }, 'loaded');
    const line = JSON.parse(lines[0]!) as { config: { asterisk: { ami: { host: string; username: string; secret: string } } } };
    expect(line.config.asterisk.ami).toMatchObject({ host: '127.0.0.1', username: 'b24bridge', secret: '[redacted]' });
  });

  it('censors the auth block of a Bitrix24 event, whether logged at the top or nested in a request', () => {
    const { logger, lines, text } = sink();
    logger.info(bitrixEvent, 'event');
    logger.info({ req: { method: 'POST', path: '/bitrix/events', body: bitrixEvent } }, 'request');
    logger.info({ a: { b: { c: { d: bitrixEvent } } } }, 'deep');
    expectNoSecret(text());
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'ONEXTERNALCALLSTART', data: { PHONE_NUMBER: '+74951234567' }, auth: '[redacted]' });
  });

  it('censors a raw URL-encoded event body logged as a string', () => {
    const { logger, text } = sink();
    const raw = `event=ONEXTERNALCALLSTART&data%5BUSER_ID%5D=7&auth%5Bapplication_token%5D=${APP_TOKEN}&auth%5Baccess_token%5D=${ACCESS_TOKEN}`;
    logger.warn({ body: raw }, 'rejected event');
    logger.warn({}, `rejected event: auth[application_token]=${APP_TOKEN}`);
    expectNoSecret(text());
    expect(text()).toContain('event=ONEXTERNALCALLSTART');
  });

  it('censors Authorization headers in any spelling and at any depth', () => {
    const { logger, text } = sink();
    logger.info({ headers: { authorization: BEARER } }, 'a');
    logger.info({ req: { headers: { Authorization: BEARER } } }, 'b');
    logger.info({ upstream: { request: { headers: { AUTHORIZATION: BEARER, cookie: BEARER } } } }, 'c');
    expectNoSecret(text());
  });

  it('censors the CRM lookup token in the config, in an X-Token header and in a logged lookup URL', () => {
    const { logger, text } = sink();
    expect(realConfig().crm.lookupToken).toBe(LOOKUP_TOKEN);
    logger.info({ crm: realConfig().crm }, 'crm');
    logger.info({ req: { headers: { 'x-token': LOOKUP_TOKEN, 'X-Token': LOOKUP_TOKEN } } }, 'lookup');
    logger.warn({ url: `/route?number=5551001&token=${LOOKUP_TOKEN}` }, 'lookup url');
    expectNoSecret(text());
  });

  it('never writes the webhook code even when an error message and stack contain the URL', () => {
    const { logger, text } = sink();
    const err = new Error(`POST ${WEBHOOK_URL}telephony.externalcall.register failed: ECONNRESET`);
    logger.error({ err }, 'bitrix request failed');
    logger.error(err);
    logger.error({ err: new Error('wrapped', { cause: new Error(`GET ${WEBHOOK_URL}user.get`) }) }, 'with a cause');
    logger.error({}, `message text with ${WEBHOOK_URL}batch`);
    expectNoSecret(text());
    expect(text()).toContain('/rest/12/***');
    expect(text()).toContain('ECONNRESET');
  });

  it('censors secrets kept in the fields of an error object, keeping its message and type', () => {
    const { logger, lines, text } = sink();
    class HttpError extends Error {
      options = { url: WEBHOOK_URL, headers: { authorization: BEARER }, webhookUrl: WEBHOOK_URL };
    }
    logger.error({ err: new HttpError('boom') }, 'failed');
    expectNoSecret(text());
    expect(JSON.parse(lines[0]!)).toMatchObject({ err: { type: 'HttpError', message: 'boom' } });
  });

  it('censors user:password in any URL', () => {
    expect(scrubLine('"url":"https://admin:hunter2@pbx.example:8088/ari"')).toBe('"url":"https://***@pbx.example:8088/ari"');
  });

  it('does not change the object the caller logged', () => {
    const { logger } = sink();
    const config = realConfig();
    logger.info({ config }, 'loaded');
    expect(config.asterisk.ami.secret).toBe(AMI_SECRET);
    expect(config.bitrix.webhookUrl).toBe(WEBHOOK_URL);
    const event = structuredClone(bitrixEvent);
    redactSecrets({ event });
    expect(event).toEqual(bitrixEvent);
  });

  it('censors the secrets of a config object bound to a child logger', () => {
    const { logger, text } = sink();
    logger.child({ config: realConfig() }).info({}, 'from a child bound to the config');
    expectNoSecret(text());
  });

  it('survives an object that refers to itself', () => {
    const { logger, text } = sink();
    const loop: Record<string, unknown> = { name: 'loop', secret: AMI_SECRET };
    loop['self'] = loop;
    logger.info({ loop }, 'cyclic');
    expectNoSecret(text());
    expect(text()).toContain('"name":"loop"');
  });
});

describe('the per-call logger', () => {
  it('puts the linkedid and the CALL_ID on every line of the call', () => {
    const { logger, lines } = sink();
    callLogger(logger, { linkedid: '1700000000.42', callId: 'externalCall.abc' }).info({ userId: 7 }, 'card shown');
    callLogger(logger, { linkedid: '1700000000.43' }).info({}, 'registered');
    expect(JSON.parse(lines[0]!)).toMatchObject({ linkedid: '1700000000.42', callId: 'externalCall.abc', userId: 7, msg: 'card shown' });
    const second = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(second['linkedid']).toBe('1700000000.43');
    expect(second).not.toHaveProperty('callId');
  });

  it('keeps redacting secrets', () => {
    const { logger, text } = sink();
    callLogger(logger, { linkedid: '1.1' }).info({ event: bitrixEvent }, 'event for this call');
    expectNoSecret(text());
  });
});

describe('setLevel', () => {
  it('changes the level of the logger and of children created before the change', () => {
    const { logger, lines } = sink('info');
    const part = logger.child({ part: 'bitrix' });
    const call = callLogger(part, { linkedid: '1.1' });
    part.debug({}, 'hidden');
    call.debug({}, 'hidden');
    setLevel(logger, 'debug');
    part.debug({}, 'part debug');
    call.debug({}, 'call debug');
    setLevel(logger, 'warn');
    call.info({}, 'hidden again');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['part debug', 'call debug']);
  });
});
