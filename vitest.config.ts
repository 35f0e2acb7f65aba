import { defineConfig } from 'vitest/config';

// Tests talk to real memcached processes on loopback: give them real-network timeouts, and keep
// parallelism at the core count because every test file also runs its own servers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Forks, not threads: the harness relies on per-process exit/signal cleanup of its children.
    pool: 'forks',
    // The package is built once per run, for the files that run it built (test/support/build.ts).
    globalSetup: ['test/support/build-setup.ts'],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
