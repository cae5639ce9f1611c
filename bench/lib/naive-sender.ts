import type { BitrixClient } from '../../src/bitrix/client.js';
import { registerParams } from '../../src/bitrix/commands.js';

/**
 * The baseline of item 3: what an integration without batching does (asterlink, most PHP modules): one HTTP request
 * per command, `register` then one `show` per ringing member, each member as its own request. It uses the bridge's
 * own Bitrix24 client, so the HTTP path and the client-side leaky bucket (wait instead of 503) are the same;
 * only the outbox (batching, merging a call's shows into one USER_ID array) is missing. Two requests in flight,
 * as the outbox's default concurrency. A failed request is counted and tried again.
 */

const MAX_ATTEMPTS = 5;

export interface NaiveStats {
  requests: number;
  failures: number;
}

export class NaiveSender {
  private readonly queue: Array<() => Promise<void>> = [];
  private running = 0;
  readonly stats: NaiveStats = { requests: 0, failures: 0 };

  constructor(
    private readonly client: BitrixClient,
    private readonly concurrency = 2,
  ) {}

  /** A call starts ringing `userIds` at once. */
  ringing(linkedid: string, phone: string, userIds: number[], startedAt: number): void {
    const params = registerParams(
      { type: 'register', linkedid, userId: userIds[0] ?? 1, phoneNumber: phone, callType: 2, lineNumber: '', startedAt, crmCreate: true },
      { addToChat: true },
    );
    this.push(async () => {
      const result = await this.send('telephony.externalcall.register', params);
      const callId = (result as { CALL_ID?: string }).CALL_ID;
      for (const userId of userIds) this.push(() => this.send('telephony.externalcall.show', { CALL_ID: callId, USER_ID: userId }).then(() => undefined));
    });
  }

  private async send(method: string, params: Record<string, unknown>): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      this.stats.requests++;
      try {
        return await this.client.call(method, params);
      } catch (err) {
        this.stats.failures++;
        // The client already made its limiter wait after a 503; anything else is not worth hammering on.
        if (attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private push(task: () => Promise<void>): void {
    this.queue.push(task);
    this.next();
  }

  private next(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.running++;
      void task()
        .catch(() => undefined) // given up: the card is counted as lost by whoever compares with what was expected
        .finally(() => {
          this.running--;
          this.next();
        });
    }
  }
}
