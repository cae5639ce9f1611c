import { describe, expect, it } from 'vitest';
import { checkStateDir } from '../../src/daemon/check.js';
import { runCli, writeConfig } from '../support/daemon-process.js';
import { AMI_SECRET, processRigPerTest } from '../support/process-rig.js';

/** `check --config FILE`: one PASS/FAIL line per item, exit 1 on any FAIL, and never a secret on screen. */

const { start } = processRigPerTest();

const SECRET = AMI_SECRET;

async function check(overrides: { secret?: string; scopes?: string[] } = {}) {
  const rig = await start({ portal: overrides.scopes ? { scopes: overrides.scopes } : {} });
  const file = rig.configFile({ asterisk: { ami: { secret: overrides.secret ?? SECRET } }, recordings: { enabled: false } });
  const result = await runCli(['check', '--config', file]);
  return { ...result, lines: result.output.trim().split('\n'), code: result.code, webhookCode: rig.portal.webhookUrl.split('/').at(-2)! };
}

describe('the check command', () => {
  it('passes config, AMI login, the portal and the state directory, one line each, exit 0', async () => {
    const r = await check();
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      expect.stringMatching(/^PASS config: /),
      expect.stringMatching(/^PASS ami: logged in to 127\.0\.0\.1:\d+ as b24bridge/),
      expect.stringMatching(/^PASS portal: http:\/\/127\.0\.0\.1:\d+\/rest\/1\/\*\*\*\/ answers; scopes .*telephony/),
      'PASS telephony: the portal accepts this webhook for telephony.externalcall.register/finish',
      expect.stringMatching(/^PASS state: .* does not exist yet; .* lets it be created/),
    ]);
    expect(r.output).not.toContain(SECRET);
    expect(r.output).not.toContain(r.webhookCode);
  });

  it('fails the AMI line on a wrong secret and the portal line when the webhook lacks scopes, exit 1', async () => {
    const r = await check({ secret: 'wrong-secret-123', scopes: ['telephony'] });
    expect(r.code).toBe(1);
    expect(r.lines.find((l) => l.startsWith('FAIL ami:'))).toMatch(/as b24bridge/);
    expect(r.lines.find((l) => l.startsWith('FAIL portal:'))).toMatch(/lacks scopes: crm, user$/);
    expect(r.output).not.toContain('wrong-secret-123');
  });

  it('fails the config line alone for a config that does not validate', async () => {
    const file = writeConfig({ asterisk: { ami: { username: 'x', secret: 'y' } }, bitrix: { webhookUrl: 'nope', defaultUserId: 1 } });
    const r = await runCli(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/^FAIL config: /);
    expect(r.output).toMatch(/bitrix\.webhookUrl: /);
    // Nothing else is tried with a config that is not valid.
    expect(r.output).not.toMatch(/PASS|FAIL (ami|portal|state)/);
  });

  it('fails the state line when the directory cannot be written', () => {
    const denied = (): void => {
      throw Object.assign(new Error('denied'), { code: 'EACCES' });
    };
    expect(checkStateDir('/var/lib/asterisk-b24-bridge', denied)).toEqual({ ok: false, line: expect.stringMatching(/^FAIL state: \/var\/lib\/asterisk-b24-bridge: .* is not writable \(EACCES\)$/) });
  });
});
