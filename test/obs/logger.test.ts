import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { callLogger, redactSecrets, scrubLine, setLevel } from '../../src/obs/logger.js';
import { captureDaemonLogger } from '../support/logger.js';

const WEBHOOK_CODE = 'q7w8e9r0t1y2u3i4';
const WEBHOOK_URL = `https://acme.bitrix24.ru/rest/12/${WEBHOOK_CODE}/`;
const AMI_SECRET = 'ami-S3cret-value';
const ARI_PASSWORD = 'ari-P4ssword-value';
const APP_TOKEN = 'apptoken0123456789abcdef';
const ACCESS_TOKEN = 'accesstokenZZZ999';
const BEARER = 'Bearer bearer-XYZ-777';
const LOOKUP_TOKEN = 'lookup-T0ken-for-the-dialplan';
const SECRETS = [WEBHOOK_CODE, AMI_SECRET, ARI_PASSWORD, APP_TOKEN, ACCESS_TOKEN, 'bearer-XYZ-777', LOOKUP_TOKEN];

/** The daemon's logger writing into memory: each finished line, exactly as journald would receive it. */
const sink = captureDaemonLogger;

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

/** The messages of the lines written: a redaction test must see its lines there, not only the secrets gone. */
const messages = (lines: () => Array<Record<string, unknown>>) => lines().map((l) => l['msg']);

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
    const { logger, lines, text } = sink();
    logger.info(realConfig(), 'config');
    expectNoSecret(text());
    expect(messages(lines)).toEqual(['config']);
    expect(lines()[0]).toMatchObject({ asterisk: { ami: { host: '127.0.0.1', username: 'b24bridge', secret: '[redacted]' } }, bitrix: { webhookUrl: '[redacted]' } });
  });

  it('never writes the secrets of a config object nested anywhere in what is logged', () => {
    const { logger, lines, text } = sink();
    const config = realConfig();
    logger.info({ config }, 'loaded');
    logger.info({ reload: { previous: config, next: config } }, 'reloaded');
    logger.warn({ parts: [{ deep: { deeper: { config } } }] }, 'very deep');
    expectNoSecret(text());
    expect(messages(lines)).toEqual(['loaded', 'reloaded', 'very deep']);
    const ami = { host: '127.0.0.1', username: 'b24bridge', secret: '[redacted]' };
    expect(lines()[0]).toMatchObject({ config: { asterisk: { ami } } });
    expect(lines()[1]).toMatchObject({ reload: { previous: { asterisk: { ami } }, next: { asterisk: { ami } } } });
    expect(lines()[2]).toMatchObject({ parts: [{ deep: { deeper: { config: { asterisk: { ami } } } } }] });
  });

  it('keeps the non-secret parts of a config so a log line is still useful', () => {
    const { logger, lines } = sink();
    logger.info({ config: realConfig() }, 'loaded');
    const line = lines()[0] as { config: { asterisk: { ami: { host: string; username: string; secret: string } } } };
    expect(line.config.asterisk.ami).toMatchObject({ host: '127.0.0.1', username: 'b24bridge', secret: '[redacted]' });
  });

  it('censors the auth block of a Bitrix24 event, whether logged at the top or nested in a request', () => {
    const { logger, lines, text } = sink();
    logger.info(bitrixEvent, 'event');
    logger.info({ req: { method: 'POST', path: '/bitrix/events', body: bitrixEvent } }, 'request');
    logger.info({ a: { b: { c: { d: bitrixEvent } } } }, 'deep');
    expectNoSecret(text());
    expect(messages(lines)).toEqual(['event', 'request', 'deep']);
    const censored = { event: 'ONEXTERNALCALLSTART', data: { PHONE_NUMBER: '+74951234567' }, auth: '[redacted]' };
    expect(lines()[0]).toMatchObject(censored);
    expect(lines()[1]).toMatchObject({ req: { method: 'POST', path: '/bitrix/events', body: censored } });
    expect(lines()[2]).toMatchObject({ a: { b: { c: { d: censored } } } });
  });

  it('censors a raw URL-encoded event body logged as a string', () => {
    const { logger, lines, text } = sink();
    const raw = `event=ONEXTERNALCALLSTART&data%5BUSER_ID%5D=7&auth%5Bapplication_token%5D=${APP_TOKEN}&auth%5Baccess_token%5D=${ACCESS_TOKEN}`;
    logger.warn({ body: raw }, 'rejected event');
    logger.warn({}, `rejected event: auth[application_token]=${APP_TOKEN}`);
    expectNoSecret(text());
    expect(lines()[0]).toMatchObject({ msg: 'rejected event', body: 'event=ONEXTERNALCALLSTART&data%5BUSER_ID%5D=7&auth%5Bapplication_token%5D=***&auth%5Baccess_token%5D=***' });
    expect(messages(lines)).toEqual(['rejected event', 'rejected event: auth[application_token]=***']);
  });

  it('censors Authorization headers in any spelling and at any depth', () => {
    const { logger, lines, text } = sink();
    logger.info({ headers: { authorization: BEARER, accept: 'application/json' } }, 'a');
    logger.info({ req: { headers: { Authorization: BEARER } } }, 'b');
    logger.info({ upstream: { request: { headers: { AUTHORIZATION: BEARER, cookie: BEARER } } } }, 'c');
    expectNoSecret(text());
    expect(lines()).toMatchObject([
      { msg: 'a', headers: { authorization: '[redacted]', accept: 'application/json' } },
      { msg: 'b', req: { headers: { Authorization: '[redacted]' } } },
      { msg: 'c', upstream: { request: { headers: { AUTHORIZATION: '[redacted]', cookie: '[redacted]' } } } },
    ]);
  });

  it('censors the CRM lookup token in the config, in an X-Token header and in a logged lookup URL', () => {
    const { logger, lines, text } = sink();
    expect(realConfig().crm.lookupToken).toBe(LOOKUP_TOKEN);
    logger.info({ crm: realConfig().crm }, 'crm');
    logger.info({ req: { headers: { 'x-token': LOOKUP_TOKEN, 'X-Token': LOOKUP_TOKEN } } }, 'lookup');
    logger.warn({ url: `/route?number=5551001&token=${LOOKUP_TOKEN}` }, 'lookup url');
    expectNoSecret(text());
    expect(lines()).toMatchObject([
      { msg: 'crm', crm: { lookupToken: '[redacted]', lookupDeadlineMs: realConfig().crm.lookupDeadlineMs } },
      { msg: 'lookup', req: { headers: { 'x-token': '[redacted]', 'X-Token': '[redacted]' } } },
      { msg: 'lookup url', url: '/route?number=5551001&token=***' },
    ]);
  });

  it('never writes the webhook code even when an error message and stack contain the URL', () => {
    const { logger, lines, text } = sink();
    const err = new Error(`POST ${WEBHOOK_URL}telephony.externalcall.register failed: ECONNRESET`);
    logger.error({ err }, 'bitrix request failed');
    logger.error(err);
    logger.error({ err: new Error('wrapped', { cause: new Error(`GET ${WEBHOOK_URL}user.get`) }) }, 'with a cause');
    logger.error({}, `message text with ${WEBHOOK_URL}batch`);
    expectNoSecret(text());
    expect(messages(lines)).toEqual(['bitrix request failed', 'POST https://acme.bitrix24.ru/rest/12/***/telephony.externalcall.register failed: ECONNRESET', 'with a cause', 'message text with https://acme.bitrix24.ru/rest/12/***/batch']);
    expect(lines()[0]).toMatchObject({ err: { type: 'Error', message: 'POST https://acme.bitrix24.ru/rest/12/***/telephony.externalcall.register failed: ECONNRESET' } });
  });

  it('censors secrets kept in the fields of an error object, keeping its message and type', () => {
    const { logger, lines, text } = sink();
    class HttpError extends Error {
      options = { url: WEBHOOK_URL, headers: { authorization: BEARER }, webhookUrl: WEBHOOK_URL };
    }
    logger.error({ err: new HttpError('boom') }, 'failed');
    expectNoSecret(text());
    expect(lines()).toMatchObject([{ msg: 'failed', err: { type: 'HttpError', message: 'boom', options: { headers: { authorization: '[redacted]' }, webhookUrl: '[redacted]' } } }]);
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
    const { logger, lines, text } = sink();
    logger.child({ config: realConfig() }).info({}, 'from a child bound to the config');
    expectNoSecret(text());
    expect(lines()).toMatchObject([{ msg: 'from a child bound to the config', config: { asterisk: { ami: { host: '127.0.0.1', secret: '[redacted]' } } } }]);
  });

  it('survives an object that refers to itself', () => {
    const { logger, lines, text } = sink();
    const loop: Record<string, unknown> = { name: 'loop', secret: AMI_SECRET };
    loop['self'] = loop;
    logger.info({ loop }, 'cyclic');
    expectNoSecret(text());
    expect(lines()).toMatchObject([{ msg: 'cyclic', loop: { name: 'loop', secret: '[redacted]' } }]);
  });
});

describe('the per-call logger', () => {
  it('puts the linkedid and the CALL_ID on every line of the call', () => {
    const { logger, lines } = sink();
    callLogger(logger, { linkedid: '1700000000.42', callId: 'externalCall.abc' }).info({ userId: 7 }, 'card shown');
    callLogger(logger, { linkedid: '1700000000.43' }).info({}, 'registered');
    expect(lines()[0]).toMatchObject({ linkedid: '1700000000.42', callId: 'externalCall.abc', userId: 7, msg: 'card shown' });
    const second = lines()[1]!;
    expect(second['linkedid']).toBe('1700000000.43');
    expect(second).not.toHaveProperty('callId');
  });

  it('keeps redacting secrets', () => {
    const { logger, lines, text } = sink();
    callLogger(logger, { linkedid: '1.1' }).info({ event: bitrixEvent }, 'event for this call');
    expectNoSecret(text());
    expect(lines()).toMatchObject([{ msg: 'event for this call', linkedid: '1.1', event: { event: 'ONEXTERNALCALLSTART', data: { USER_ID: '7' }, auth: '[redacted]' } }]);
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
    expect(messages(lines)).toEqual(['part debug', 'call debug']);
  });
});
