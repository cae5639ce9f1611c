import { serializeAction, type ActionHeaders } from './actions.js';
import { AmiActionError, type AmiLogger, type AmiResponse } from './client.js';
import { field, type AmiMessage } from './types.js';

interface PendingAction {
  name: string;
  resolve(r: AmiResponse): void;
  reject(e: AmiActionError): void;
  timer: NodeJS.Timeout;
  /** Set once `EventList: start` came: list events are being collected. */
  listResponse?: AmiMessage;
  events: AmiMessage[];
}

/**
 * The actions sent and not answered yet, by ActionID. Each answer goes to the action that asked: its response, or
 * for a list action the `EventList: start` response and every event up to `EventList: Complete` (or Cancelled).
 */
export class PendingActions {
  private readonly pending = new Map<string, PendingAction>();
  private counter = 0;

  constructor(
    private readonly idPrefix: string,
    private readonly log: AmiLogger,
  ) {}

  /** Give the action a fresh ActionID, `write` its frame and wait for its answer (or `timeoutMs`). */
  send(write: (frame: string) => void, req: { action: string; headers: ActionHeaders }, timeoutMs: number): Promise<AmiResponse> {
    const id = `${this.idPrefix}${++this.counter}`;
    let frame: string;
    try {
      frame = serializeAction(req.action, req.headers, id);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<AmiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AmiActionError('TIMEOUT', `AMI ${req.action} got no answer within ${timeoutMs} ms`, req.action, id));
      }, timeoutMs);
      this.pending.set(id, { name: req.action, resolve, reject, timer, events: [] });
      this.log.debug({ action: req.action, actionId: id }, 'AMI action sent');
      write(frame);
    });
  }

  /**
   * Takes a message that belongs to an action: any response (one nobody waits for is dropped here) and the events
   * of a list being collected. False for every other event: the caller's to hand on.
   */
  take(msg: AmiMessage): boolean {
    const actionId = field(msg, 'ActionID');
    const p = actionId === undefined ? undefined : this.pending.get(actionId);
    if (msg['Event'] !== undefined) {
      if (p?.listResponse === undefined || actionId === undefined) return false;
      this.collectListEvent(actionId, p, msg);
      return true;
    }
    if (p === undefined || actionId === undefined || p.listResponse !== undefined) {
      this.log.debug({ actionId }, 'AMI response for no pending action ignored');
      return true;
    }
    const response = (field(msg, 'Response') ?? '').toLowerCase();
    if (response === 'error') {
      this.finish(actionId, p);
      const text = field(msg, 'Message') ?? 'no message';
      p.reject(new AmiActionError('ACTION_FAILED', `AMI ${p.name} failed: ${text}`, p.name, actionId, msg));
    } else if ((field(msg, 'EventList') ?? '').toLowerCase() === 'start') {
      p.listResponse = msg;
    } else {
      this.finish(actionId, p);
      p.resolve({ response: msg, events: [] });
    }
    return true;
  }

  /** The connection is gone: every action still waiting fails with DISCONNECTED. */
  failAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new AmiActionError('DISCONNECTED', `AMI connection lost (${reason}) before ${p.name} completed`, p.name, id));
    }
    this.pending.clear();
  }

  private collectListEvent(actionId: string, p: PendingAction, msg: AmiMessage): void {
    p.events.push(msg);
    const marker = (field(msg, 'EventList') ?? '').toLowerCase();
    if (marker === 'complete' || marker === 'cancelled') {
      this.finish(actionId, p);
      p.resolve({ response: p.listResponse ?? msg, events: p.events });
    }
  }

  private finish(actionId: string, p: PendingAction): void {
    clearTimeout(p.timer);
    this.pending.delete(actionId);
  }
}
