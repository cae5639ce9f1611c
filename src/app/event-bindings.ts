import type { BitrixClient } from '../bitrix/client.js';

/**
 * The application's subscriptions to the two click-to-call events, made idempotent: what event.get lists as wanted
 * stays, what is missing is bound, and an earlier binding of these events that is no longer wanted (online after
 * switching to offline, an old handler URL) is unbound. Run at every start and after every install: "When deleting
 * and updating the application, its actions will be removed" (Bitrix24 REST docs, api-reference/events/event-bind.md),
 * and binding the same event and handler twice is an error.
 */

export const TELEPHONY_EVENTS = ['ONEXTERNALCALLSTART', 'ONEXTERNALCALLBACKSTART'] as const;

export type EventDelivery = { kind: 'offline' } | { kind: 'online'; handlerUrl: string };

interface Binding {
  event: string;
  handler: string;
  offline: boolean;
}

export interface BindingChanges {
  bound: string[];
  unbound: string[];
}

export async function ensureEventBindings(client: Pick<BitrixClient, 'call'>, delivery: EventDelivery): Promise<BindingChanges> {
  const listed = await client.call<unknown>('event.get');
  const ours = (Array.isArray(listed) ? listed : []).map(asBinding).filter((b): b is Binding => b !== undefined && (TELEPHONY_EVENTS as readonly string[]).includes(b.event));
  const wanted = (b: Binding): boolean => (delivery.kind === 'offline' ? b.offline : !b.offline && b.handler === delivery.handlerUrl);
  const changes: BindingChanges = { bound: [], unbound: [] };
  for (const stale of ours.filter((b) => !wanted(b))) {
    await client.call('event.unbind', stale.offline ? { event: stale.event, event_type: 'offline' } : { event: stale.event, handler: stale.handler });
    changes.unbound.push(`${stale.event} ${stale.offline ? 'offline' : 'online'}`);
  }
  for (const event of TELEPHONY_EVENTS) {
    if (ours.some((b) => b.event === event && wanted(b))) continue;
    await client.call('event.bind', delivery.kind === 'offline' ? { event, event_type: 'offline' } : { event, handler: delivery.handlerUrl, event_type: 'online' });
    changes.bound.push(`${event} ${delivery.kind}`);
  }
  return changes;
}

function asBinding(raw: unknown): Binding | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r['event'] !== 'string') return undefined;
  return { event: r['event'].toUpperCase(), handler: typeof r['handler'] === 'string' ? r['handler'] : '', offline: Number(r['offline'] ?? 0) === 1 };
}
