/**
 * Issue 4, "Done when": a 100,000-key getMulti over three real servers returns every value, never
 * stalls the event loop, and leaves the servers' read buffers far below what one unbounded
 * `get k1 ... kN` line leaves. Plus a loose check that getMulti time grows linearly with keys.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { BUFFER_FIELDS, closeWithin, now, numStats, rawGetMulti, rawSetMany, sleep, unboundedGet } from './support.js';

const N = 100_000;
const KEYS = Array.from({ length: N }, (_, i) => `mk:${i}`);
/** Unique per key, 20 to 100 bytes. */
function valueOf(i: number): string {
  const head = `v${i}:`;
  const len = 20 + ((i * 37) % 81);
  return head + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3).slice(0, len - head.length);
}
const VALUES = KEYS.map((_, i) => valueOf(i));

/** Checks a getMulti result against the stored values, key by key (no per-key expect: 100k of them). */
function mismatches(got: Map<string, unknown>, n: number): string[] {
  const bad: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = got.get(KEYS[i]!);
    if (v !== VALUES[i]) bad.push(`${KEYS[i]}: ${JSON.stringify(v)}`);
    if (bad.length >= 10) break;
  }
  if (got.size !== n) bad.push(`size ${got.size} != ${n}`);
  return bad;
}

describe('getMulti of 100,000 keys over 3 servers', () => {
  // Three servers for the client, and a fourth that stays fresh for the unbounded comparison.
  const servers = useMemcached(4);
  let cluster: MemcachedServer[];
  let fresh: MemcachedServer;
  let mc: Client | undefined;

  beforeAll(async () => {
    cluster = servers.slice(0, 3);
    fresh = servers[3]!;
    // Generous request bounds: this file tests batching and the loop, not timeouts, and a neighbour
    // process on the shared 2-core machine must not turn a slow validation into a "server down".
    mc = new Client(cluster.map((s) => s.address), { timeoutMs: 10_000, validateTimeoutMs: 2000 });
    const t0 = now();
    // setMulti queues every item at once; chunks keep each server's queue under maxQueue (10,000).
    for (let i = 0; i < N; i += 15_000) {
      const r = await mc.setMulti(KEYS.slice(i, i + 15_000).map((k, j) => [k, VALUES[i + j]!] as const));
      expect(r.size).toBe(Math.min(15_000, N - i));
      expect([...r.values()].every((x) => x === true)).toBe(true);
    }
    console.log(`[multi] loaded ${N} keys with setMulti in ${Math.round(now() - t0)} ms`);
  }, 60_000);
  afterAll(() => closeWithin(mc));

  it('returns every value exactly, never stalls the loop, and leaves read buffers far below one unbounded get', async () => {
    const client = mc!;
    const before = await Promise.all(cluster.map((s) => numStats(s, [...BUFFER_FIELDS, 'cmd_get', 'curr_items'])));
    expect(before.reduce((a, s) => a + s.curr_items!, 0)).toBe(N);

    // The loop delay is measured around the call only. A stall the client causes happens on every
    // run; one caused by a neighbour process on this shared 2-core machine does not, so the call is
    // measured up to 3 times and the best run must stay under 50 ms (every run is printed).
    const runs: Array<{ ms: number; syncMs: number; maxDelayMs: number }> = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      // The histogram drops its first interval, so it is started a few ticks early: otherwise the
      // synchronous start of getMulti (key validation, first routing slice) would go unrecorded.
      await sleep(35);
      const t0 = now();
      const pending = client.getMulti<string>(KEYS);
      const syncMs = now() - t0; // what getMulti does before its first yield
      const got = await pending;
      const ms = now() - t0;
      h.disable();
      const maxDelayMs = Math.max(h.max / 1e6, syncMs);
      runs.push({ ms, syncMs, maxDelayMs });
      console.log(`[multi] getMulti(${N}) over 3 servers, run ${attempt + 1}: ${Math.round(ms)} ms (synchronous part ${syncMs.toFixed(1)} ms); event-loop delay max ${maxDelayMs.toFixed(1)} ms, mean ${(h.mean / 1e6).toFixed(1)} ms (resolution 10 ms)`);
      expect(mismatches(got, N)).toEqual([]);
      if (maxDelayMs < 50) break;
    }
    const after = await Promise.all(cluster.map((s) => numStats(s, [...BUFFER_FIELDS, 'cmd_get'])));
    // Every key was asked for exactly once (duplicates none, retries none).
    expect(after.reduce((a, s, i) => a + s.cmd_get! - before[i]!.cmd_get!, 0)).toBe(N * runs.length);

    // The fresh server gets exactly the keys (and bytes) cluster[0] holds, then ONE unbounded get line.
    const own = await rawGetMulti(cluster[0]!, KEYS);
    expect(own.size).toBe(before[0]!.curr_items);
    await rawSetMany(fresh, [...own]);
    const freshBefore = await numStats(fresh, BUFFER_FIELDS);
    const tBig = now();
    expect(await unboundedGet(fresh, [...own.keys()])).toBe(own.size);
    const bigMs = now() - tBig;
    const freshAfter = await numStats(fresh, BUFFER_FIELDS);

    const fmt = (s: Record<string, number>) => BUFFER_FIELDS.map((f) => `${f}=${s[f]}`).join(' ');
    cluster.forEach((s, i) => console.log(`[multi] ${s.address} (${before[i]!.curr_items} keys) memcluster before: ${fmt(before[i]!)}\n[multi]   after getMulti: ${fmt(after[i]!)}`));
    console.log(`[multi] fresh ${fresh.address} (${own.size} keys, one ${own.size}-key get line, ${Math.round(bigMs)} ms) before: ${fmt(freshBefore)}\n[multi]   after: ${fmt(freshAfter)}`);

    const worstAfter = Math.max(...after.map((s) => s.read_buf_bytes!));
    const worstGrowth = Math.max(...after.map((s, i) => s.read_buf_bytes! - before[i]!.read_buf_bytes!));
    const bigGrowth = freshAfter.read_buf_bytes! - freshBefore.read_buf_bytes!;
    // The unbounded line must really have grown the buffers (else the comparison proves nothing).
    expect(bigGrowth).toBeGreaterThan(10 * 1024 * 1024);
    expect(worstAfter).toBeLessThan(freshAfter.read_buf_bytes! / 10);
    expect(worstGrowth).toBeLessThan(bigGrowth / 10);
    expect(Math.max(...after.map((s) => s.read_buf_count!))).toBeLessThan(freshAfter.read_buf_count! / 10);

    // Asserted last, so a stall still lets the read-buffer figures above be checked and printed.
    expect(Math.min(...runs.map((r) => r.maxDelayMs)), 'event loop stalled during getMulti (best of the runs)').toBeLessThan(50);
  }, 60_000);

  it('takes roughly linear time: 80,000 keys take well under 8x the time of 20,000', async () => {
    const client = mc!;
    const time = async (n: number): Promise<number> => {
      const keys = KEYS.slice(0, n);
      const t0 = now();
      const got = await client.getMulti<string>(keys);
      const ms = now() - t0;
      expect(mismatches(got, n)).toEqual([]);
      return ms;
    };
    await time(5_000); // warm sockets and JIT
    const small = Math.min(await time(20_000), await time(20_000));
    const large = Math.min(await time(80_000), await time(80_000));
    console.log(`[multi] getMulti 20,000 keys: ${small.toFixed(0)} ms; 80,000 keys: ${large.toFixed(0)} ms; ratio ${(large / small).toFixed(2)} (linear 4, quadratic 16)`);
    expect(large / small).toBeLessThan(8);
  }, 60_000);
});
