import { defineConfig } from 'vitest/config';

// The long crash and fault loops (npm run test:chaos), kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    passWithNoTests: false,
  },
});
