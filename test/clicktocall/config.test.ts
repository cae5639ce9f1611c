import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clickToCallProblems, clickToCallSchema, headersWithinRequestTimeout, httpServerKeys } from '../../src/config/http.js';

const httpSection = z
  .strictObject({ host: z.string().default('127.0.0.1'), port: z.number().default(8090), ...httpServerKeys })
  .refine(headersWithinRequestTimeout, { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] });

describe('HTTP and click-to-call configuration', () => {
  it('has defaults an admin would pick', () => {
    expect(httpSection.parse({})).toEqual({
      host: '127.0.0.1',
      port: 8090,
      allow: [],
      eventsPath: '/bitrix/events',
      installPath: '/bitrix/install',
      maxBodyBytes: 65536,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 15_000,
      perAddressPerMinute: 120,
    });
    expect(clickToCallSchema.parse({})).toEqual({
      via: 'ami',
      agentChannel: 'PJSIP/{ext}',
      context: 'outbound',
      callerId: '{number}',
      timeoutMs: 30_000,
      dedupWindowSec: 30,
      number: { stripChars: ' ()-.\u00a0', plusAs: '', outboundPrefix: '', minDigits: 3, maxDigits: 15 },
    });
  });

  it('accepts allow-list entries of both families and refuses anything else', () => {
    expect(httpSection.parse({ allow: ['10.0.0.0/8', '::1', '2001:db8::/32'] }).allow).toHaveLength(3);
    expect(httpSection.safeParse({ allow: ['10.0.0.0/40'] }).success).toBe(false);
    expect(httpSection.safeParse({ allow: ['bitrix24.com'] }).success).toBe(false);
    expect(httpSection.safeParse({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 }).success).toBe(false);
  });

  it('refuses channel and caller ID templates that could break a dial string or a header', () => {
    expect(clickToCallSchema.parse({ agentChannel: 'Local/{ext}@from-internal/n' }).agentChannel).toBe('Local/{ext}@from-internal/n');
    expect(clickToCallSchema.safeParse({ agentChannel: 'PJSIP/{ext}&PJSIP/999' }).success).toBe(false);
    expect(clickToCallSchema.safeParse({ agentChannel: 'PJSIP/{user}' }).success).toBe(false);
    expect(clickToCallSchema.parse({ callerId: 'Bitrix24 <{number}>' }).callerId).toBe('Bitrix24 <{number}>');
    expect(clickToCallSchema.safeParse({ callerId: 'x\r\nAction: Hangup' }).success).toBe(false);
    expect(clickToCallSchema.safeParse({ context: 'from internal' }).success).toBe(false);
  });

  it('needs a queue extension for queue callbacks and a country code for trunk-prefix rewriting', () => {
    expect(clickToCallSchema.safeParse({ callback: { target: 'queue' } }).success).toBe(false);
    expect(clickToCallSchema.parse({ callback: { queueExten: '600' } }).callback).toEqual({ target: 'queue', queueExten: '600', queueContext: 'from-internal' });
    expect(clickToCallSchema.safeParse({ number: { trunkPrefix: '8' } }).success).toBe(false);
    expect(clickToCallSchema.safeParse({ number: { minDigits: 10, maxDigits: 5 } }).success).toBe(false);
  });
});

describe('click-to-call checks across sections', () => {
  it('wants ARI configured for via "ari" and the customer contexts listed as outbound', () => {
    const asterisk = { contexts: { outbound: ['outbound'] } };
    expect(clickToCallProblems(clickToCallSchema.parse({}), asterisk)).toEqual([]);
    expect(clickToCallProblems(clickToCallSchema.parse({ via: 'ari', context: 'from-internal', callback: { queueExten: '600', context: 'cb-out' } }), asterisk)).toEqual([
      { path: ['clickToCall', 'via'], message: '"ari" needs an asterisk.ari section' },
      { path: ['clickToCall', 'context'], message: '"from-internal" must also be listed in asterisk.contexts.outbound (the core finds the customer leg by it)' },
      { path: ['clickToCall', 'callback', 'context'], message: '"cb-out" must also be listed in asterisk.contexts.outbound (the core finds the customer leg by it)' },
    ]);
  });
});
