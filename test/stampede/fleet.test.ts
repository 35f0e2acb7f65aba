/**
 * One loader per missing key across the fleet: five client instances in two processes (three here,
 * two in a child process running the built package) stampede on cold keys, and the loader runs
 * exactly once per key in total; a winner killed mid-load is replaced after leaseTtl. On both
 * protocols: meta leases (`mg N`) and the text `add` lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { settlesWithin } from '../support/timing.js';
import { AppProcess, buildBundle, OPTS, work } from './helpers.js';

const LOADER_MS = 100;
const PER_CLIENT = 40;
const KEYS = 20;

describe.each(['meta', 'text'] as const)('fetch stampede across processes (protocol: %s)', (protocol) => {
  const servers = useMemcached(2);
  let build: ReturnType<typeof buildBundle>;
  beforeAll(() => { build = buildBundle(); });
  afterAll(() => build?.remove());

  it(`5 clients (2 in another process) x ${PER_CLIENT} concurrent fetches of a cold key: one loader call in total, every call gets its value; ${KEYS} keys`, async () => {
    const addresses = servers.map((s) => s.address);
    // Round trips get 2 s: a busy machine must not turn a slow reply into a (correct) direct load.
    const clientOptions = { ...OPTS, timeoutMs: 2000, protocol };
    const fetchOptions = { ttl: 60, leaseTtl: 10, waitMs: 5000 };
    const app = await AppProcess.start(build.bundle, { servers: addresses, clientOptions, clients: 2, perClient: PER_CLIENT, loaderMs: LOADER_MS, fetchOptions });
    const local = Array.from({ length: 3 }, () => new Client(addresses, clientOptions));
    try {
      for (let k = 0; k < KEYS; k++) {
        const key = `stampede:${protocol}:${k}:${Date.now()}`;
        const loads: string[] = [];
        const loader = async (key2: string): Promise<string> => {
          const value = `parent-${key2}-${Math.random().toString(36).slice(2)}`;
          loads.push(value);
          await work(LOADER_MS);
          return value;
        };
        const id = await app.fetch(key);
        const calls = local.flatMap((mc) => Array.from({ length: PER_CLIENT }, () => mc.fetch(key, loader, fetchOptions)));
        const here = await settlesWithin(Promise.all(calls), fetchOptions.waitMs + LOADER_MS, 'every local fetch settles within waitMs + the load');
        const there = await app.done(id, fetchOptions.waitMs + LOADER_MS);
        expect(here.ok, String(!here.ok && here.error)).toBe(true);
        expect(there.errors).toEqual([]);
        // A cache round trip that fails (a timeout on a machine too busy to answer in time) would
        // rightly call the loader directly: this test is about the lease, not about timeouts.
        expect(local.reduce((n, mc) => n + mc.fetchStats().fallbacks, 0) + there.stats.reduce((n, st) => n + st.fallbacks, 0), 'fallbacks').toBe(0);
        const allLoads = [...loads, ...app.loads(key)];
        const stats = JSON.stringify({ here: local.map((mc) => mc.fetchStats()), there: there.stats });
        expect(allLoads, `loader calls for ${key}; fetchStats: ${stats}`).toHaveLength(1);
        const values = [...(here.ok ? here.value : []), ...there.values];
        expect(values).toHaveLength(5 * PER_CLIENT);
        expect(new Set(values)).toEqual(new Set(allLoads));
      }
    } finally {
      await Promise.all(local.map((mc) => mc.close()));
      await app.stop();
    }
  });

  it('the winner is killed mid-load: another caller loads after leaseTtl, nobody hangs, nobody gets an empty value', async () => {
    const addresses = servers.map((s) => s.address);
    const clientOptions = { ...OPTS, protocol };
    const leaseTtl = 2;
    const fetchOptions = { ttl: 60, leaseTtl, waitMs: 8000 };
    // The child's loader never finishes: it is killed while it sleeps.
    const app = await AppProcess.start(build.bundle, { servers: addresses, clientOptions, clients: 1, perClient: 1, loaderMs: 600_000, fetchOptions });
    const local = Array.from({ length: 3 }, () => new Client(addresses, clientOptions));
    try {
      const key = `killed:${protocol}:${Date.now()}`;
      await app.fetch(key);
      await app.waitFor((e) => e.ev === 'load' && e.key === key, 5000, 'the child won the lease and is loading');
      const loads: string[] = [];
      const loader = async (key2: string): Promise<string> => {
        const value = `parent-${key2}-${loads.length}`;
        loads.push(value);
        await work(LOADER_MS);
        return value;
      };
      const calls = local.flatMap((mc) => Array.from({ length: PER_CLIENT }, () => mc.fetch(key, loader, fetchOptions)));
      app.kill();
      // The placeholder (or lock) lives leaseTtl seconds (memcached counts whole seconds: up to one more).
      const out = await settlesWithin(Promise.all(calls), (leaseTtl + 1) * 1000 + LOADER_MS, 'waiters settle once the dead winner\'s lease expired');
      expect(out.ok, String(!out.ok && out.error)).toBe(true);
      expect(loads, 'exactly one waiter took over the load').toHaveLength(1);
      expect(app.loads(key)).toHaveLength(1);
      const values = out.ok ? out.value : [];
      expect(values).toHaveLength(3 * PER_CLIENT);
      for (const v of values) expect(v).toBe(loads[0]);
      // And it was stored: a later fetch is a hit.
      expect(await local[0]!.fetch(key, async () => 'not called', fetchOptions)).toBe(loads[0]);
    } finally {
      await Promise.all(local.map((mc) => mc.close()));
      await app.stop();
    }
  });
});
