import { defineConfig } from 'vitest/config';

/**
 * The live suite (`npm run test:live`): the real Asterisk 22 of ../shared/asterisk (or ASTERISK_BUNDLE), the built
 * daemon as a process and the Bitrix24 emulator. Each file runs its own Asterisk on free ports in a run dir of its
 * own, so files run in parallel; calls take real time, which is what the timeouts allow for.
 */
export default defineConfig({
  test: {
    // Not *.test.ts: `npm test` (vitest.config.ts, test/**/*.test.ts) must not pick these up.
    include: ['test/live/**/*.live.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    globalSetup: ['test/live/support/global-setup.ts'],
  },
});
