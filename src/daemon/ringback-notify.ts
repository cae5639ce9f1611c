import type { ChannelClassifier } from '../core/classify.js';

/**
 * The message an agent gets in Bitrix24 when the ring-back fix sets them aside after a missed queue call: which
 * queue, for how long, and what it means (paused, or only demoted behind the others).
 */

export interface SetAside {
  iface: string;
  queue: string;
  cooldownSec: number;
  policy: 'pause' | 'penalty';
}

export interface RingBackNotifyDeps {
  classifier: Pick<ChannelClassifier, 'extensionOf'>;
  userIdFor: (ext: string) => number | undefined;
  /** outbox.enqueue(key, 'call', 'im.notify', params, false) */
  enqueue: (key: string, params: Record<string, unknown>) => void;
  clock: () => number;
}

export function ringBackNotifier(deps: RingBackNotifyDeps): (s: SetAside) => Promise<void> {
  return async ({ iface, queue, cooldownSec, policy }) => {
    const ext = deps.classifier.extensionOf(iface);
    const userId = ext === undefined ? undefined : deps.userIdFor(ext);
    if (userId === undefined) return;
    deps.enqueue(`notify:${iface}:${deps.clock()}`, {
      to: userId,
      type: 'SYSTEM',
      message:
        policy === 'pause'
          ? `You missed a call in queue ${queue}; you are paused there for ${cooldownSec} s.`
          : `You missed a call in queue ${queue}; other agents get its calls first for ${cooldownSec} s.`,
    });
  };
}
