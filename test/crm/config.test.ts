import { describe, expect, it } from 'vitest';
import { crmSchema } from '../../src/config/crm.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** The `crm:` section: an empty one works, mistakes are errors with their key path. */

describe('crmSchema', () => {
  it('gives every key a default, so an empty section works and creates nothing new in the portal', () => {
    expect(crmSchema.parse({})).toEqual({
      leads: { byLine: {}, source: 'CALL', bind: true },
      lookupDeadlineMs: 800,
      cacheTtlSec: 300,
      negativeCacheTtlSec: 60,
      route: { fallback: 'none', ringSeconds: 20, onlyIfTimemanOpened: false },
      callerName: { maxLength: 40 },
      missedCall: { enabled: false, action: 'task', statuses: ['304', '486', '603'], dedupWindowSec: 3600, deadlineHours: 24, titleTemplate: 'Missed call from {name}' },
      blacklist: { numbers: [], prefixes: [], skipRegistration: true },
      timeline: { enabled: false },
    });
  });

  const bad: Array<[string, unknown, string]> = [
    ['an unknown key (a typo must not silently turn a feature off)', { missedCal: { enabled: true } }, ''],
    ['an unknown nested key', { blacklist: { number: ['+79990000000'] } }, 'blacklist'],
    ['a blacklist number with letters', { blacklist: { numbers: ['+7999abc'] } }, 'blacklist.numbers.0'],
    ['a blacklist prefix with spaces', { blacklist: { prefixes: ['+7 809'] } }, 'blacklist.prefixes.0'],
    ['a CRM field that is not a user field', { blacklist: { crmField: 'TITLE' } }, 'blacklist.crmField'],
    ['a short lookup token', { lookupToken: 'short' }, 'lookupToken'],
    ['an unknown template placeholder', { missedCall: { titleTemplate: 'Call {phone}' } }, 'missedCall.titleTemplate'],
    ['an unknown action', { missedCall: { action: 'email' } }, 'missedCall.action'],
    ['a status that is not a missed one', { missedCall: { statuses: ['200'] } }, 'missedCall.statuses.0'],
    ['a deadline too long for a ringing caller', { lookupDeadlineMs: 10_000 }, 'lookupDeadlineMs'],
    ['a fallback that is not a plain word', { route: { fallback: 'queue 1' } }, 'route.fallback'],
    ['a CRM_SOURCE with spaces', { leads: { source: 'cold call' } }, 'leads.source'],
  ];

  it.each(bad)('refuses %s', (_name, input, path) => {
    const r = crmSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

describe('crm.lookupToken from the environment', () => {
  const base = {
    asterisk: { ami: { host: '127.0.0.1', port: 5038, username: 'b24bridge', secret: 's3cret-ami' } },
    bitrix: { webhookUrl: 'https://example.bitrix24.ru/rest/1/abcdef123456/', applicationToken: 'tok', defaultUserId: 1 },
    http: { host: '127.0.0.1', port: 8090 },
  };

  it('takes the lookup token from B24BRIDGE_LOOKUP_TOKEN, with or without a crm section in the file', () => {
    const token = 'lookup-token-from-env-0123';
    expect(parseConfig(base, { B24BRIDGE_LOOKUP_TOKEN: token }).crm.lookupToken).toBe(token);
    expect(parseConfig({ ...base, crm: { lookupToken: 'lookup-token-in-the-file-99' } }, { B24BRIDGE_LOOKUP_TOKEN: token }).crm.lookupToken).toBe(token);
    expect(parseConfig(base, {}).crm.lookupToken).toBeUndefined();
  });

  it('refuses a too-short B24BRIDGE_LOOKUP_TOKEN by key path, without echoing it', () => {
    let problems: string[] = [];
    try {
      parseConfig(base, { B24BRIDGE_LOOKUP_TOKEN: 'short-s3cret' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^crm\.lookupToken:/)]);
    expect(problems.join('\n')).not.toContain('short-s3cret');
  });
});
