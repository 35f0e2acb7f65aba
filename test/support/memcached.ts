/**
 * Test-side access to real memcached processes: everything from `src/testing` (shipped as
 * `memcluster/testing`) plus `useMemcached`, which ties servers to a vitest scope.
 */
import { afterAll, beforeAll } from 'vitest';
import { startServers, type MemcachedServer, type MemcachedServerOptions } from '../../src/testing/memcached-server.js';

export * from '../../src/testing/memcached-server.js';

/**
 * Registers `beforeAll`/`afterAll` in the calling scope and returns an array that holds the `n`
 * servers once `beforeAll` has run. Only these servers are stopped afterwards.
 */
export function useMemcached(n = 1, opts?: MemcachedServerOptions): MemcachedServer[] {
  const servers: MemcachedServer[] = [];
  beforeAll(async () => void servers.push(...(await startServers(n, opts))));
  afterAll(async () => void (await Promise.all(servers.splice(0).map((s) => s.stop()))));
  return servers;
}
