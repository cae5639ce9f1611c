import { isoWithOffset } from '../bitrix/commands.js';
import type { MissedCallConfig } from '../config/crm.js';
import type { CrmLookup, CrmMatch } from './lookup.js';
import type { CrmNumber } from './number.js';
import { STATUS_TEXT, type CallSummary } from './types.js';

/**
 * After a missed or abandoned inbound call, somebody must call back: a task (tasks.task.add) or a notification
 * (im.notify) for the number's responsible manager (searchCrmEntities' ASSIGNED_BY_ID), else missedCall.userId or
 * bitrix.defaultUserId. One follow-up per number within dedupWindowSec: a customer who tries five times in ten
 * minutes makes one task, not five. The window is in memory (a restart forgets it: at worst one extra task).
 * Commands go through the outbox (`enqueue`), so a portal outage delays them and never loses them.
 */

export interface FollowUpOptions {
  config: MissedCallConfig;
  defaultUserId: number;
  lookup: Pick<CrmLookup, 'resolve'>;
  toNumber: (raw: string) => CrmNumber | undefined;
  /** Blocked callers get no follow-up. */
  isBlocked?: (n: CrmNumber) => boolean;
  /** The wiring maps it to outbox.enqueue(key, 'call', method, params, false). */
  enqueue: (key: string, method: string, params: Record<string, unknown>) => void;
  clock: () => number;
  /** Fixed UTC offset for DEADLINE and the time in the text; default: the host's zone. */
  utcOffsetMinutes?: number;
}

export type FollowUpOutcome =
  | { sent: 'task' | 'notify'; userId: number; key: string }
  | { skipped: 'disabled' | 'not-missed' | 'anonymous' | 'blocked' | 'duplicate' };

const UF_CRM_PREFIX: Record<CrmMatch['entityType'], string> = { CONTACT: 'C', COMPANY: 'CO', LEAD: 'L' };
const PRUNE_AT = 1000;

export class MissedCallFollowUp {
  /** Number key -> when its last follow-up was made. */
  private readonly last = new Map<string, number>();

  constructor(private readonly opts: FollowUpOptions) {}

  async onCallEnded(e: CallSummary): Promise<FollowUpOutcome> {
    const { config } = this.opts;
    if (!config.enabled) return { skipped: 'disabled' };
    if (e.direction !== 'inbound' || !(config.statuses as string[]).includes(e.status)) return { skipped: 'not-missed' };
    const n = this.opts.toNumber(e.phoneNumber);
    if (!n) return { skipped: 'anonymous' };
    if (this.opts.isBlocked?.(n)) return { skipped: 'blocked' };
    const now = this.opts.clock();
    if (this.isDuplicate(n.key, now)) return { skipped: 'duplicate' };
    // Claimed before the lookup: two missed calls ending together must not both pass the window.
    this.last.set(n.key, now);

    const found = await this.opts.lookup.resolve(n);
    const match = found.kind === 'found' ? found.match : undefined;
    const userId = match?.responsibleId ?? config.userId ?? this.opts.defaultUserId;
    const key = `crm:${e.linkedid}`;
    const title = fill(config.titleTemplate, n.number, match?.name || n.number, e.queue ?? '');
    const description = describe(e, n, match, isoWithOffset(now, this.opts.utcOffsetMinutes));
    if (config.action === 'notify') {
      this.opts.enqueue(key, 'im.notify', { to: userId, type: 'SYSTEM', message: `${title}\n${description}` });
      return { sent: 'notify', userId, key };
    }
    const fields: Record<string, unknown> = { TITLE: title, RESPONSIBLE_ID: userId, DESCRIPTION: description };
    if (config.deadlineHours > 0) fields['DEADLINE'] = isoWithOffset(now + config.deadlineHours * 3_600_000, this.opts.utcOffsetMinutes);
    // The task shows up on the client's CRM card too.
    if (match) fields['UF_CRM_TASK'] = [`${UF_CRM_PREFIX[match.entityType]}_${match.entityId}`];
    this.opts.enqueue(key, 'tasks.task.add', { fields });
    return { sent: 'task', userId, key };
  }

  private isDuplicate(key: string, now: number): boolean {
    const windowMs = this.opts.config.dedupWindowSec * 1000;
    if (this.last.size >= PRUNE_AT) for (const [k, at] of this.last) if (now - at >= windowMs) this.last.delete(k);
    const at = this.last.get(key);
    return at !== undefined && now - at < windowMs;
  }
}

function fill(template: string, number: string, name: string, queue: string): string {
  const values: Record<string, string> = { number, name, queue };
  return template.replace(/\{(number|name|queue)\}/g, (_m, k: string) => values[k] ?? '').trim() || `Missed call from ${number}`;
}

function describe(e: CallSummary, n: CrmNumber, match: CrmMatch | undefined, at: string): string {
  const who = match ? `${match.name || n.number} (${match.entityType.toLowerCase()} #${match.entityId})` : 'not in the CRM';
  const lines = [
    `Missed inbound call from ${n.number}: ${who}.`,
    `When: ${at.slice(0, 10)} ${at.slice(11, 16)} (UTC${at.slice(19)})`,
    `Status: ${e.status} (${STATUS_TEXT[e.status] ?? 'missed'})`,
  ];
  if (e.queue !== undefined) lines.push(`Queue: ${e.queue}${e.waitSec !== undefined ? `, waited ${e.waitSec} s` : ''}`);
  if (e.rungExtensions.length > 0) lines.push(`Rung: ${e.rungExtensions.join(', ')}`);
  return lines.join('\n');
}
