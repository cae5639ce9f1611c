import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/daemon/lifecycle.js';
import { captureLogger } from '../support/logger.js';
import { sleep, waitFor } from '../support/wait.js';

describe('the lifecycle', () => {
  it('stops parts in reverse order of start, once, however often stop is called', async () => {
    const order: string[] = [];
    const life = new Lifecycle(captureLogger().logger);
    for (const name of ['store', 'outbox', 'ami', 'http']) life.onStop(name, () => void order.push(name));
    await Promise.all([life.stop(), life.stop()]);
    await life.stop();
    expect(order).toEqual(['http', 'ami', 'outbox', 'store']);
  });

  it('goes on past a step that throws or overruns its limit, and logs which one', async () => {
    const sink = captureLogger();
    const order: string[] = [];
    const life = new Lifecycle(sink.logger);
    life.onStop('store', () => void order.push('store'));
    life.onStop('hangs', () => new Promise<void>(() => order.push('hangs')), 50);
    life.onStop('throws', () => {
      order.push('throws');
      throw new Error('boom');
    });
    await life.stop();
    expect(order).toEqual(['throws', 'hangs', 'store']);
    const lines = sink.lines();
    expect(lines.find((l) => l['step'] === 'throws')?.['msg']).toBe('stop step failed; going on');
    expect(lines.find((l) => l['step'] === 'hangs')).toMatchObject({ msg: 'stop step overran its limit; going on', limitMs: 50 });
  });

  it('reads a step limit when the step runs, so the drain limit given to stop applies', async () => {
    let limit = 10_000;
    const sink = captureLogger();
    const life = new Lifecycle(sink.logger);
    life.onStop('outbox', () => new Promise<void>(() => undefined), () => limit);
    limit = 30;
    await life.stop();
    expect(sink.lines().find((l) => l['step'] === 'outbox')).toMatchObject({ limitMs: 30 });
  });

  it('clears its repeating timers at stop', async () => {
    let ticks = 0;
    const life = new Lifecycle(captureLogger().logger);
    life.every('tick', 5, () => ticks++);
    await waitFor(() => ticks > 0, 'a tick');
    await life.stop();
    const atStop = ticks;
    await sleep(40);
    expect(atStop).toBeGreaterThan(0);
    expect(ticks).toBe(atStop);
  });
});
