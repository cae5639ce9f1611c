import type { BitrixClient } from '../bitrix/client.js';
import type { CommandOptions } from '../bitrix/commands.js';
import type { OutboxStore } from '../bitrix/outbox-entry.js';
import { Outbox, type AttachHandler, type TranscriptHandler } from '../bitrix/outbox.js';
import { APP_REFUSAL } from '../bitrix/outbox/settle.js';
import { ExtensionDirectory } from '../bitrix/user-directory.js';
import type { Config } from '../config/schema.js';
import { ChannelClassifier } from '../core/classify.js';
import type { Effect } from '../core/effects.js';
import type { TrackerSnapshot } from '../core/snapshot.js';
import { CallTracker } from '../core/tracker.js';
import { setupCrm, type Crm } from '../crm/setup.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import { CoreState } from './core-state.js';
import type { Lifecycle } from './lifecycle.js';
import { outboxHooks } from './outbox-hooks.js';
import type { Portal } from './portal.js';
import type { Problems } from './problems.js';
import { Runtime } from './runtime.js';
import type { StateStore } from './state-store.js';

/**
 * The heart of the daemon, wired: the call-tracking core (resumed from its snapshot), the outbox that delivers its
 * effects to Bitrix24, the CRM features around them, and the runtime that feeds the core and performs its effects.
 * AMI in, core, effects out through one outbox: nothing here listens or connects.
 */

export interface CoreParts {
  tracker: CallTracker;
  classifier: ChannelClassifier;
  directory: ExtensionDirectory;
  outbox: Outbox;
  crm: Crm;
  runtime: Runtime;
  commands: CommandOptions;
  /** The snapshot the previous run left (its last event time is when the daemon went blind). */
  saved: TrackerSnapshot | undefined;
}

export interface CoreDeps {
  state: StateStore;
  /** The store the outbox writes through (metrics may wrap the state's own). */
  store: OutboxStore;
  portal: Portal;
  attach: AttachHandler | undefined;
  /** Sends transcripts (undefined: transcripts are not enabled). */
  transcript: TranscriptHandler | undefined;
  recordingVariables: string[];
  clock: () => number;
  logger: Logger;
  metrics: Metrics | undefined;
  problems: Problems;
  lifecycle: Lifecycle;
  /** The outbox's drain limit at stop (given to stop()). */
  drainLimit: () => number;
  /** No user map yet and one expected (src/daemon/user-map.ts). */
  awaitingUserMap: () => boolean;
  onEffect?: (effect: Effect) => void;
}

export function wireCore(config: Config, deps: CoreDeps): CoreParts {
  const { clock, logger: log, problems, lifecycle } = deps;
  const bitrix: BitrixClient = deps.portal.client;
  const directory = new ExtensionDirectory(config.users.extensions);
  const classifier = new ChannelClassifier({ contexts: config.asterisk.contexts, extensionPattern: config.asterisk.extensionPattern });
  const tracker = new CallTracker({
    recordingVariables: deps.recordingVariables,
    classifier,
    defaultUserId: config.bitrix.defaultUserId,
    crmCreate: config.bitrix.crmCreate,
    defaultLineNumber: config.bitrix.defaultLineNumber,
    showCards: config.bitrix.showCards,
  });
  const commands: CommandOptions = { addToChat: config.bitrix.addToChat };
  const coreLog = log.child({ part: 'core' });
  const hooks = outboxHooks({ logger: coreLog, problems, ...(deps.metrics ? { metrics: deps.metrics.outboxHooks() } : {}) });
  const outbox = new Outbox({
    client: bitrix,
    store: deps.store,
    clock,
    limiterDelay: () => deps.portal.bucket.waitMs(),
    logger: log.child({ part: 'outbox' }),
    concurrency: config.outbox.concurrency,
    attachConcurrency: config.outbox.attachConcurrency,
    maxEntries: config.outbox.maxEntries,
    maxRetryDelayMs: config.outbox.maxRetryDelayMs,
    ...(deps.attach ? { attach: deps.attach } : {}),
    ...(deps.transcript ? { transcript: deps.transcript } : {}),
    hooks: hooks.outbox,
    // A call made while an extension had no user is attributed when its command leaves, by the map known then;
    // while the first map is still expected (the portal has been down since before the start) such commands wait.
    resolveUser: (ext) => directory.userIdFor(ext),
    holdUnresolved: () => deps.awaitingUserMap(),
    // In app mode a refused request means the portal address or the installation, never a webhook URL.
    ...(config.bitrix.auth.mode === 'app' ? { refusal: APP_REFUSAL } : {}),
  });
  const coreState = new CoreState({ db: deps.state.db, turnWriter: deps.state.turnWriter, tracker, clock, onSaveError: (err) => problems.set('store', `state store snapshot: ${err.message}`, false) });
  // The disk is back: what came and went while it failed is written over the stale copy, snapshot included.
  deps.state.onRecovered(() => {
    outbox.persistAll();
    coreState.save();
  });
  // A restart (even kill -9) resumes the calls in flight from the last snapshot; the resync repairs the gap.
  const saved = coreState.load();
  if (saved) {
    tracker.importState(saved);
    log.info({ calls: saved.calls.length }, 'resumed calls in flight from the state store');
  }
  const crm = setupCrm(
    {
      crm: config.crm,
      numberRules: config.clickToCall.number,
      defaultUserId: config.bitrix.defaultUserId,
      userExtensions: () => directory.overrides,
      httpAllow: config.http.allow,
    },
    {
      client: bitrix,
      enqueue: (key, method, params) => void outbox.enqueue(key, 'call', method, params, false),
      userIdFor: (ext) => directory.userIdFor(ext),
      extensionFor: (userId) => directory.extensionFor(userId),
      logger: log.child({ part: 'crm' }),
      clock,
    },
  );
  hooks.onDelivered((entry, result) => crm.onDelivered(entry, result));
  const runtime = new Runtime({
    tracker,
    outbox,
    logger: coreLog,
    clock,
    commands,
    recordingsEnabled: deps.attach !== undefined,
    recordingVariables: deps.recordingVariables,
    onEffect: (effect) => {
      deps.onEffect?.(effect);
      crm.onEffect(effect);
    },
    onEffects: (effects) => coreState.afterTurn(effects),
    admit: (effect) => crm.admit(effect),
    registerExtras: (effect) => crm.registerParams(effect),
  });
  lifecycle.onStop('core snapshot', () => coreState.save());
  lifecycle.onStop(
    'outbox',
    async () => {
      const drained = await outbox.drain(deps.drainLimit());
      if (!drained) log.warn({ waiting: outbox.depth }, 'stopping with Bitrix24 commands still waiting; they are kept for the next start');
      outbox.stop();
    },
    () => deps.drainLimit() + 1_000,
  );
  lifecycle.every('core snapshot timer', 1000, () => coreState.tick(runtime.stats.events));
  lifecycle.every('parked retry requests', 5000, () => {
    // Requests the CLI wrote; a seq retried meanwhile (with its register, or by the live view) is simply gone.
    for (const seq of deps.state.takeRetryRequests()) outbox.retryParked(seq);
  });
  deps.metrics?.bindOutbox(outbox, clock);
  deps.metrics?.observeRuntime(() => ({ ...runtime.stats, activeCalls: tracker.activeCalls }));
  return { tracker, classifier, directory, outbox, crm, runtime, commands, saved };
}
