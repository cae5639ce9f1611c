import { expect } from 'vitest';
import { runCli, writeConfig } from './daemon-process.js';
import { merge, startRig, type Rig, type RigOptions } from './rig.js';

/** The e2e rig in application mode: the emulator has the local application and refuses webhooks for telephony. */

export const APP = { clientId: 'local.65f0c1d2e3a4b5.12345678', clientSecret: 'app-secret-9c2e7f1a4b8d3e6f' };

export interface AppRigOptions {
  accessTokenTtlSec?: number;
  events?: 'offline' | 'online';
  offlineExtended?: boolean;
  /** The portal's host name in installs (default the emulator's host:port). */
  domain?: string;
  /** More config, merged last. */
  config?: RigOptions['config'];
}

export function startAppRig(o: AppRigOptions = {}): Promise<Rig> {
  return startRig({
    portal: {
      app: { ...APP, ...(o.accessTokenTtlSec ? { accessTokenTtlSec: o.accessTokenTtlSec } : {}) },
      refuseWebhookTelephony: true,
      offlineExtended: o.offlineExtended ?? true,
      ...(o.domain ? { domain: o.domain } : {}),
    },
    config: (parts) =>
      merge({
      bitrix: {
        auth: { mode: 'app' },
        app: {
          ...APP,
          portalUrl: parts.portal.url,
          oauthUrl: parts.portal.oauthUrl,
          events: o.events ?? 'offline',
          eventsPollMs: 200,
          ...(o.events === 'online' ? { handlerUrl: 'http://127.0.0.1:9/bitrix/events' } : {}),
        },
      },
      users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 },
      clickToCall: { agentChannel: 'Local/{ext}@agents/n', context: 'outbound', callerId: 'Click2Call <{number}>', callback: { target: 'queue', queueExten: '600', queueContext: 'agents' } },
      }, o.config?.(parts) ?? {}),
  });
}

/**
 * What an admin does on a bridge Bitrix24 cannot reach: `auth`, open the URL, `auth --code CODE`; the CLI as a process
 * of its own, as on a real host. (In this process its synchronous writes to the state store would wait, event loop
 * blocked, for the running daemon's turn to commit, which cannot happen while the loop is blocked.)
 */
export async function authorise(r: Rig): Promise<string[]> {
  const file = writeConfig(JSON.parse(JSON.stringify(r.config)) as Record<string, unknown>);
  const url = await runCli(['auth', '--config', file]);
  expect(url.code).toBe(0);
  const exchanged = await runCli(['auth', '--config', file, '--code', r.portal.authorizationCode()]);
  expect(exchanged.output).toMatch(/^PASS authorised on /m);
  expect(exchanged.code).toBe(0);
  return [...url.output.split('\n'), ...exchanged.output.split('\n')].filter((l) => l !== '');
}
