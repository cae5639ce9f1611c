import type { AmiClient } from '../ami/client.js';
import type { AppAuth } from '../bitrix/auth/app-auth.js';
import type { Outbox } from '../bitrix/outbox.js';
import type { ExtensionDirectory } from '../bitrix/user-directory.js';
import type { Config } from '../config/schema.js';
import type { CallTracker } from '../core/tracker.js';
import type { Crm } from '../crm/setup.js';
import { crmNumber } from '../crm/number.js';
import type { Route } from '../http/types.js';
import type { Logger } from '../obs/logger.js';
import type { RingBackService } from '../ringback/service.js';
import { createStatusAccess } from '../status/access.js';
import { AmiInfo } from '../status/ami-info.js';
import { ASSET_DIR, loadStatusAssets, type StatusAssets } from '../status/assets.js';
import { StatusFeed } from '../status/feed.js';
import { HoldBook } from '../status/holds.js';
import type { RecentErrors } from '../status/recent-errors.js';
import { statusRoutes } from '../status/routes.js';
import { buildStatus } from '../status/snapshot.js';
import type { StatusSnapshot } from '../status/types.js';
import type { Lifecycle } from './lifecycle.js';
import { retryParkedCommands } from './parked.js';
import type { Portal } from './portal.js';

/**
 * The live view's wiring: reads every part the page shows (never a config object: no secret can slip in) into the
 * pure snapshot builder, and gives the routes the two actions through their owners (the ring-back service, the
 * outbox's parked-retry rule).
 */

export interface StatusParts {
  ami: AmiClient;
  portal: Portal;
  appAuth: AppAuth | undefined;
  tracker: CallTracker;
  directory: ExtensionDirectory;
  crm: Crm;
  ringBack: RingBackService;
  outbox: Outbox;
  /** Jobs at the speech-to-text server; undefined when transcripts are off. */
  transcriptJobs: (() => number) | undefined;
  errors: RecentErrors;
  clock: () => number;
  logger: Logger;
  lifecycle: Lifecycle;
}

export interface LiveView {
  routes: Record<string, Route>;
  snapshot(): StatusSnapshot;
}

export function wireStatus(config: Config, p: StatusParts): LiveView {
  const access = createStatusAccess({ allow: config.http.statusAllow, token: config.http.statusToken });
  const amiInfo = new AmiInfo(p.ami, p.clock);
  const holds = new HoldBook(p.clock);
  const onEvent = (msg: Parameters<HoldBook['onEvent']>[0]): void => holds.onEvent(msg);
  p.ami.on('event', onEvent);
  const rate = config.bitrix.rateLimit;
  const snapshot = (): StatusSnapshot => {
    const auth = p.appAuth?.status();
    return buildStatus({
      now: p.clock(),
      ami: amiInfo.view(),
      portal: {
        reachable: p.portal.health.reachable,
        problem: p.portal.health.problem,
        mode: config.bitrix.auth.mode,
        token: auth === undefined ? null : auth.state === 'authorised' ? { state: 'authorised', refreshTokenExpiresAt: auth.refreshTokenExpiresAt } : { state: 'required', reason: auth.reason },
        requestsLastMinute: p.portal.health.requestsLastMinute(),
        budgetPerMinute: Math.round(rate.perSecond * 60),
        burst: rate.burst,
        lastRefusal: p.portal.health.lastRefusal,
      },
      calls: p.tracker.exportCalls(),
      callsTracked: p.tracker.activeCalls,
      holds: holds.held(),
      extensionOf: (userId) => p.directory.extensionFor(userId),
      userOf: (ext) => p.directory.userIdFor(ext),
      crmNameOf: (raw) => {
        const n = crmNumber(raw, config.clickToCall.number);
        return n === undefined ? undefined : p.crm.lookup.cachedMatch(n)?.name;
      },
      setAside: p.ringBack.changes(),
      outbox: { depth: p.outbox.depth, oldestCreatedAt: p.outbox.oldestCreatedAt(), parked: p.outbox.parkedEntries() },
      recordingsWaiting: p.outbox.waiting('attach'),
      transcriptsWaiting: p.transcriptJobs === undefined ? undefined : p.transcriptJobs() + p.outbox.waiting('transcript'),
      errors: p.errors.list(),
      tokenConfigured: access.tokenConfigured,
    });
  };
  const feed = new StatusFeed({ snapshot });
  p.lifecycle.onStop('live view', () => {
    feed.stop();
    amiInfo.stop();
    p.ami.off('event', onEvent);
  });
  const routes = statusRoutes({
    access,
    snapshot,
    feed,
    assets: assetsOrNotice(p.logger),
    release: (queue, iface) => p.ringBack.releaseMember(queue, iface),
    retryParked: (wanted) => retryParkedCommands(p.outbox, wanted),
    logger: p.logger,
  });
  return { routes, snapshot };
}

/** A package without its page files still runs the bridge (and /status.json); the page says what is missing. */
function assetsOrNotice(logger: Logger): StatusAssets {
  try {
    return loadStatusAssets();
  } catch (err) {
    logger.error({ err, dir: ASSET_DIR }, 'live view: the page files are missing; /status.json still works');
    const notice = `<!doctype html><title>live view</title><p>The live view's page files are missing from ${ASSET_DIR}: reinstall the package. /status.json still works.</p>`;
    // Only who may read learns where the package lives.
    return { html: notice, js: '', css: '', signIn: '<!doctype html><title>live view</title><p>The live view is unavailable.</p>' };
  }
}
