import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../src/config/load.js';
import { tempDir } from './support/tmp.js';
import { configProblems } from './support/config.js';

const contractOnly = {
  asterisk: { ami: { host: '127.0.0.1', port: 5038, username: 'b24bridge', secret: 's3cret-ami' } },
  bitrix: { webhookUrl: 'https://example.bitrix24.ru/rest/1/abcdef123456/', applicationToken: 'tok', defaultUserId: 1 },
  users: { extensions: { '1001': 7 } },
  http: { host: '127.0.0.1', port: 8090 },
  state: { dir: '/var/lib/asterisk-b24-bridge' },
};


describe('configuration', () => {
  it('accepts a config with only the contract keys and fills in every default', () => {
    const c = parseConfig(contractOnly);
    expect(c.bitrix.rateLimit).toEqual({ perSecond: 2, burst: 50 });
    expect(c.asterisk.contexts.inbound).toContain('from-trunk');
    expect(c.asterisk.extensionPattern).toBe('^(?:PJSIP|SIP|IAX2|Local)/(\\d+)');
    expect(c.outbox.concurrency).toBe(4);
    expect(c.users.extensions).toEqual({ '1001': 7 });
  });

  it('accepts the contract config verbatim, ARI and contexts included, and dials customers through its outbound context', () => {
    const file = fileURLToPath(new URL('./fixtures/config/contract.yaml', import.meta.url));
    const c = loadConfigFile(file, {});
    expect(c.asterisk.ari).toEqual({ url: 'http://127.0.0.1:8088', username: 'b24bridge', password: '...' });
    expect(c.asterisk.contexts).toEqual({ inbound: ['from-trunk', 'incoming'], outbound: ['outbound', 'from-internal-outbound'], internal: ['from-internal', 'agents'] });
    expect(c.clickToCall.context).toBe('outbound');
  });

  it('takes the first outbound context for click-to-call when the config names none (a FreePBX box has no "outbound")', () => {
    const c = parseConfig({ ...contractOnly, asterisk: { ...contractOnly.asterisk, contexts: { outbound: ['outbound-allroutes'] } } });
    expect(c.clickToCall.context).toBe('outbound-allroutes');
    const p = configProblems({ ...contractOnly, asterisk: { ...contractOnly.asterisk, contexts: { outbound: ['outbound-allroutes'] } }, clickToCall: { context: 'outbound' } });
    expect(p).toEqual([expect.stringMatching(/^clickToCall\.context: .*asterisk\.contexts\.outbound/)]);
  });

  it('refuses a context listed under two directions, which would make a call\'s direction a guess', () => {
    const p = configProblems({ ...contractOnly, asterisk: { ...contractOnly.asterisk, contexts: { inbound: ['from-trunk'], outbound: ['from-trunk', 'outbound'] } } });
    expect(p).toEqual([expect.stringMatching(/^asterisk\.contexts: "from-trunk" is listed under both inbound and outbound/)]);
  });

  it('validates the shipped config/example.yaml', () => {
    const file = fileURLToPath(new URL('../config/example.yaml', import.meta.url));
    expect(() => loadConfigFile(file, {})).not.toThrow();
  });

  it('rejects unknown keys and bad values with the key path and reason, all at once', () => {
    const bad = {
      ...contractOnly,
      asterisk: { ami: { ...contractOnly.asterisk.ami, port: 70000, secert: 'typo' }, extensionPattern: '^PJSIP/\\d+' },
      bitrix: { ...contractOnly.bitrix, webhookUrl: 'https://example.bitrix24.ru/nope', defaultUserId: -1 },
      http: { host: '127.0.0.1', port: 'eighty' },
    };
    const p = configProblems(bad);
    expect(p.some((l) => l.startsWith('asterisk.ami.port:'))).toBe(true);
    expect(p.some((l) => l.startsWith('asterisk.ami:') && l.includes('secert'))).toBe(true);
    expect(p.some((l) => l.startsWith('asterisk.extensionPattern:') && l.includes('capture group'))).toBe(true);
    expect(p.some((l) => l.startsWith('bitrix.webhookUrl:'))).toBe(true);
    expect(p.some((l) => l.startsWith('bitrix.defaultUserId:'))).toBe(true);
    expect(p.some((l) => l.startsWith('http.port:'))).toBe(true);
  });

  it('refuses one path for both the events and the install route (one of them would never be reached)', () => {
    const doc = { ...contractOnly, http: { ...contractOnly.http, eventsPath: '/bitrix/hook', installPath: '/bitrix/hook' } };
    expect(configProblems(doc)).toEqual(['http.installPath: must differ from eventsPath']);
    expect(configProblems({ ...contractOnly, http: { ...contractOnly.http, eventsPath: '/bitrix/hook' } })).toEqual([]);
  });

  it('never echoes a value in its errors (it may be a secret)', () => {
    const p = configProblems({ ...contractOnly, bitrix: { ...contractOnly.bitrix, webhookUrl: 'not a url with s3cret-value' } });
    expect(p.join('\n')).not.toContain('s3cret-value');
  });

  it('takes secrets from the environment, which then need not be in the file', () => {
    const doc = structuredClone(contractOnly) as Record<string, any>;
    delete doc.asterisk.ami.secret;
    delete doc.bitrix.webhookUrl;
    const c = parseConfig(doc, { B24BRIDGE_AMI_SECRET: 'from-env', B24BRIDGE_WEBHOOK_URL: 'https://p.bitrix24.ru/rest/3/zzz/' });
    expect(c.asterisk.ami.secret).toBe('from-env');
    expect(c.bitrix.webhookUrl).toBe('https://p.bitrix24.ru/rest/3/zzz/');
    expect(configProblems(doc)).toEqual(expect.arrayContaining([expect.stringMatching(/^asterisk\.ami\.secret:/), expect.stringMatching(/^bitrix\.webhookUrl:/)]));
  });

  it('the live view: loopback only by default; statusAllow and statusToken (also from B24BRIDGE_STATUS_TOKEN) checked', () => {
    const c = parseConfig(contractOnly);
    expect([c.http.statusAllow, c.http.statusToken]).toEqual([[], undefined]);
    const fromEnv = parseConfig(contractOnly, { B24BRIDGE_STATUS_TOKEN: 'env-status-token-0123456789' });
    expect(fromEnv.http.statusToken).toBe('env-status-token-0123456789');
    const p = configProblems({ ...contractOnly, http: { ...contractOnly.http, statusAllow: ['10.0.0.0/8', 'pbx.lan'], statusToken: 'short' } });
    expect(p).toEqual(['http.statusAllow.1: must be an IP address or a CIDR prefix', 'http.statusToken: must be at least 16 characters (e.g. `openssl rand -hex 16`)']);
    expect(p.join('\n')).not.toContain('short');
  });

  it('reports an unreadable file and broken YAML clearly', () => {
    const dir = tempDir('b24cfg-');
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), {})).toThrow(/cannot read .*ENOENT/);
    writeFileSync(join(dir, 'bad.yaml'), 'asterisk: [unclosed');
    expect(() => loadConfigFile(join(dir, 'bad.yaml'), {})).toThrow(/not valid YAML/);
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    expect(() => loadConfigFile(join(dir, 'list.yaml'), {})).toThrow(/must be a YAML mapping/);
  });
});
