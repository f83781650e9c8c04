import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The long crash/fault loops run separately: npm run test:chaos.
    exclude: ['test/chaos/**', 'node_modules/**'],
    // Integration tests start their own redis-server processes and RQ workers; the
    // machine has two cores, so keep parallelism modest and timeouts generous.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Any test that needs a service it cannot reach must fail, never skip.
    passWithNoTests: false,
    // Daemons spawned by tests keep their state files in a temporary directory.
    setupFiles: ['test/helpers/state-dir-setup.ts'],
  },
});
