import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Deletes the temp dirs each file made (test/support/tmp.ts).
    setupFiles: ['test/support/setup.ts'],
  },
});
