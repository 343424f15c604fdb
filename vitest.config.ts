import { defineConfig } from 'vitest/config';

// Unit and system tests run in Node. System tests start real worker_threads,
// so each test file gets its own forked process and a generous timeout.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
