import { defineConfig } from 'vitest/config';

// Tests talk to real memcached processes on loopback: give them real-network timeouts, and keep
// parallelism at the core count because every test file also runs its own servers.
//
// Two projects: every test file as users run it (`protocol: 'auto'`, which speaks meta to the
// memcached 1.6.18 the tests start), and the real-server behaviour suites again with the classic
// text protocol forced (test/support/protocol-setup.ts), so every guarantee is checked on both.
export default defineConfig({
  test: {
    environment: 'node',
    // Forks, not threads: the harness relies on per-process exit/signal cleanup of its children.
    pool: 'forks',
    // The package is built once per run, for the files that run it built (test/support/build.ts).
    globalSetup: ['test/support/build-setup.ts'],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    projects: [
      { extends: true, test: { name: 'auto', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'text',
          include: ['test/client/**/*.test.ts', 'test/multi/**/*.test.ts', 'test/failure/**/*.test.ts', 'test/load/**/*.test.ts'],
          env: { MEMCLUSTER_TEST_PROTOCOL: 'text' },
          setupFiles: ['test/support/protocol-setup.ts'],
        },
      },
    ],
  },
});
