import type { CrmEntityType } from './lookup.js';
import { STATUS_TEXT, type CallSummary } from './types.js';

/**
 * Call-center data on the client's CRM timeline (crm.timeline.comment.add): queue, waiting time, the members who
 * were rung and missed it, the transfer path. Bitrix24 logs the call itself; this adds what only the PBX knows.
 * The comment goes on the entity the call is bound to, which Bitrix24 tells in the register's answer
 * (CRM_ENTITY_TYPE/ID). That answer often arrives after the call ended (register waits for the first card or the
 * end), so a finished call waits here for it; one whose register never lands (blocked, parked) expires.
 */

export interface TimelineEntity {
  entityType: CrmEntityType;
  entityId: number;
}

/** CRM_ENTITY_TYPE/ID from telephony.externalcall.register's result ("" / null when nothing is bound). */
export function entityOfRegisterResult(result: unknown): TimelineEntity | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as Record<string, unknown>;
  const type = typeof r['CRM_ENTITY_TYPE'] === 'string' ? r['CRM_ENTITY_TYPE'].toUpperCase() : '';
  const id = Number(r['CRM_ENTITY_ID']);
  if ((type !== 'CONTACT' && type !== 'COMPANY' && type !== 'LEAD') || !Number.isInteger(id) || id <= 0) return undefined;
  return { entityType: type, entityId: id };
}

/** The comment for one call, or undefined when the call has no call-center data (no queue, nobody rung). */
export function timelineCommentParams(e: CallSummary, entity: TimelineEntity): Record<string, unknown> | undefined {
  if (e.queue === undefined && e.rungExtensions.length === 0 && e.transfers.length === 0 && e.waitSec === undefined) return undefined;
  const answered = e.status === '200';
  const lines = [`Call center: ${e.direction} call, ${STATUS_TEXT[e.status] ?? 'ended'} (${e.status})`];
  if (e.queue !== undefined) lines.push(`Queue: ${e.queue}`);
  if (e.waitSec !== undefined) lines.push(`Waiting time: ${e.waitSec} s`);
  const talked = e.answeredBy;
  const missed = e.rungExtensions.filter((x) => !talked.includes(x));
  if (missed.length > 0) lines.push(`Rung and missed: ${missed.join(', ')}`);
  if (answered && talked[0] !== undefined) lines.push(`Answered by: ${talked[0]}`);
  if (talked.length > 1) {
    lines.push(`Transfer path: ${talked.join(' → ')}`);
    // The path lists who talked; a failed transfer added nobody to it, so it is listed on its own.
    const failed = e.transfers.map(parseTransfer).filter((t) => t.failed);
    if (failed.length > 0) lines.push(`Failed transfers: ${failed.map((t) => `${t.type} to ${t.target}`).join(', ')}`);
  } else if (e.transfers.length > 0) lines.push(`Transfers: ${e.transfers.map(describeTransfer).join(', ')}`);
  if (answered) lines.push(`Talk time: ${e.durationSec} s`);
  return { fields: { ENTITY_TYPE: entity.entityType.toLowerCase(), ENTITY_ID: entity.entityId, COMMENT: lines.join('\n') } };
}

/** The core's `blind:103`, `attended:104`, `blind:failed:105`. */
function parseTransfer(t: string): { type: string; failed: boolean; target: string } {
  const [type = '', ...rest] = t.split(':');
  const failed = rest[0] === 'failed';
  return { type, failed, target: (failed ? rest.slice(1) : rest).join(':') };
}

function describeTransfer(t: string): string {
  const { type, failed, target } = parseTransfer(t);
  return `${failed ? 'failed ' : ''}${type} to ${target}`;
}

export interface CallTimelineOptions {
  enabled: boolean;
  /** The wiring maps it to outbox.enqueue(key, 'call', method, params, false). */
  enqueue: (key: string, method: string, params: Record<string, unknown>) => void;
  clock: () => number;
  /** How long a finished call waits for its register's answer (and an answer for its call's end). */
  pendingTtlMs?: number;
}

export class CallTimeline {
  private readonly ended = new Map<string, { summary: CallSummary; at: number }>();
  /** null: registered, bound to nothing. */
  private readonly registered = new Map<string, { entity: TimelineEntity | null; at: number }>();

  constructor(private readonly opts: CallTimelineOptions) {}

  /** From the outbox's onDelivered for a register: the entity Bitrix24 bound the call to. */
  onRegistered(linkedid: string, result: unknown): void {
    if (!this.opts.enabled) return;
    const entity = entityOfRegisterResult(result) ?? null;
    const waiting = this.ended.get(linkedid);
    if (waiting) {
      this.ended.delete(linkedid);
      if (entity) this.post(waiting.summary, entity);
      return;
    }
    this.prune();
    this.registered.set(linkedid, { entity, at: this.opts.clock() });
  }

  onCallEnded(e: CallSummary): void {
    if (!this.opts.enabled) return;
    const known = this.registered.get(e.linkedid);
    if (known) {
      this.registered.delete(e.linkedid);
      if (known.entity) this.post(e, known.entity);
      return;
    }
    this.prune();
    this.ended.set(e.linkedid, { summary: e, at: this.opts.clock() });
  }

  /** Calls waiting for the other half (for tests and health). */
  get waiting(): number {
    return this.ended.size + this.registered.size;
  }

  private post(e: CallSummary, entity: TimelineEntity): void {
    const params = timelineCommentParams(e, entity);
    // Its own key: behind the call's commands it could wait minutes for a recording's attachment.
    if (params) this.opts.enqueue(`crm:${e.linkedid}`, 'crm.timeline.comment.add', params);
  }

  private prune(): void {
    const oldest = this.opts.clock() - (this.opts.pendingTtlMs ?? 3_600_000);
    for (const map of [this.ended, this.registered] as Array<Map<string, { at: number }>>) {
      for (const [k, v] of map) {
        // Insertion order is time order: stop at the first young one.
        if (v.at >= oldest) break;
        map.delete(k);
      }
    }
  }
}
