import { describe, expect, it } from 'vitest';
import { RestartDetector } from '../../src/ami/restart-detector.js';

describe('RestartDetector', () => {
  function detector(start = 1_000_000) {
    let now = start;
    const d = new RestartDetector(() => now);
    return { d, advance: (ms: number) => (now += ms) };
  }

  it('takes the first FullyBooted for the boot it knows, not for a restart', () => {
    const { d } = detector();
    expect(d.booted(3600)).toBe(false);
  });

  it('takes a boot time within five seconds of the last for the same boot (one-second Uptime steps, a slow login)', () => {
    const { d, advance } = detector();
    expect(d.booted(100)).toBe(false);
    advance(60_000);
    // Same boot would say 160; 156 puts the boot 4 s later: still one boot.
    expect(d.booted(156)).toBe(false);
    advance(60_000);
    // 210 instead of 216: 6 s later, a new boot.
    expect(d.booted(210)).toBe(true);
  });

  it('sees a restart after a Shutdown event even when the boot time did not move', () => {
    const { d, advance } = detector();
    expect(d.booted(100)).toBe(false);
    d.shutdown();
    advance(1000);
    expect(d.booted(101)).toBe(true);
    advance(1000);
    expect(d.booted(102)).toBe(false);
  });

  it('keeps the boot it knew when a FullyBooted has no Uptime, and compares the next one with it', () => {
    const { d, advance } = detector();
    expect(d.booted(100)).toBe(false);
    advance(10_000);
    expect(d.booted(Number.NaN)).toBe(false);
    advance(10_000);
    expect(d.booted(5)).toBe(true);
  });
});
