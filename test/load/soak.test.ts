/**
 * Soak (issue 12): three real memcached servers behind delay proxies (a few ms away), mixed
 * get/set/getMulti/setMulti/incr traffic from many concurrent loops plus periodic bursts, while one
 * server is SIGSTOPped for a while and another is killed and restarted. Bounded: it stops by itself.
 *
 * It asserts behaviour, not speed: every call issued settled; every value read for a key is one
 * that was written for that key (a miss is always allowed: the restarted server lost its items);
 * the server that was never stopped nor killed never went down; the stopped one went down and
 * came back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type MemclusterError } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';
import { kindOf } from './support.js';

const LOOPS = 40;
const BURST = 300;
const KEYS = 200;
const COUNTERS = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('soak: mixed traffic while one server is stopped and another restarted', () => {
  const servers = useMemcached(3);
  const proxies: DelayProxy[] = [];
  beforeAll(async () => { proxies.push(...(await Promise.all(servers.map((s, i) => DelayProxy.start(s, { replyDelayMs: 2 + i }))))); });
  afterAll(async () => {
    for (const s of servers) s.thaw();
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  it('every call settles, every value read was written for its key, only the stopped server goes down, and it comes back', async () => {
    const [steady, stopped, restarted] = proxies;
    const client = new Client(proxies.map((p) => p.address), {
      timeoutMs: 500, connectTimeoutMs: 500, validateTimeoutMs: 500, failureThreshold: 3, retryDelayMs: 100, maxRetryDelayMs: 400, maxConnections: 8,
    });
    const events = recordEvents(client);
    const written = new Map<string, Set<string>>();
    const wrong: string[] = [];
    const errorKinds = new Map<string, number>();
    let issued = 0;
    let settled = 0;
    let seq = 0;
    let stop = false;
    const key = (): string => `soak:${Math.floor(Math.random() * KEYS)}`;
    const value = (k: string): string => {
      const v = `${k}=${seq++}`;
      let set = written.get(k);
      if (!set) written.set(k, (set = new Set()));
      set.add(v); // before the write: a write that times out may still have been stored
      return v;
    };
    const check = (k: string, v: unknown): void => {
      if (v === undefined) return;
      if (typeof v !== 'string' || !written.get(k)?.has(v)) wrong.push(`${k} read ${JSON.stringify(v)}, never written for it`);
    };
    /** One random call, counted when issued and when settled. */
    const one = async (): Promise<void> => {
      issued++;
      const r = Math.random();
      try {
        if (r < 0.35) { const k = key(); check(k, await client.get(k)); }
        else if (r < 0.6) { const k = key(); await client.set(k, value(k)); }
        else if (r < 0.75) {
          const ks = Array.from({ length: 10 }, key);
          const got = await client.getMultiSettled<string>(ks);
          for (const [k, v] of got.values) check(k, v);
          for (const e of got.errors.values()) errorKinds.set(kindOf(e), (errorKinds.get(kindOf(e)) ?? 0) + 1);
        } else if (r < 0.85) {
          const ks = [...new Set(Array.from({ length: 8 }, key))];
          await client.setMulti(ks.map((k) => [k, value(k)] as const));
        } else {
          const out = await client.incr(`soak:ctr:${Math.floor(Math.random() * COUNTERS)}`, 1);
          if (out !== false && (!Number.isSafeInteger(out) || out < 1)) wrong.push(`incr returned ${String(out)}`);
        }
      } catch (err) {
        errorKinds.set(kindOf(err), (errorKinds.get(kindOf(err)) ?? 0) + 1);
        if (kindOf(err).startsWith('other:')) wrong.push(`untyped error: ${String(err)}`);
      } finally {
        settled++;
      }
    };

    try {
      await client.setMulti(Array.from({ length: COUNTERS }, (_, i) => [`soak:ctr:${i}`, '0'] as const));
      const loops = Array.from({ length: LOOPS }, async () => {
        while (!stop) {
          await one();
          await sleep(1);
        }
      });
      const bursts: Array<Promise<unknown>> = [];
      const burst = (): void => void bursts.push(Promise.all(Array.from({ length: BURST }, one)));

      // The script: bursts throughout; a stop of the second server, a kill and restart of the third.
      burst();
      await sleep(1500);
      await servers[1]!.freeze();
      burst();
      await eventually(() => events.some((e) => e.name === 'serverDown' && e.server === stopped!.address), 5000, 'the stopped server is marked down');
      await sleep(1000);
      burst();
      servers[1]!.thaw();
      await eventually(() => events.some((e) => e.name === 'serverUp' && e.server === stopped!.address), 5000, 'the stopped server comes back (serverUp)');
      burst();
      await servers[2]!.kill();
      await sleep(500);
      burst();
      await servers[2]!.restart();
      await sleep(1500);
      burst();
      await sleep(1500);
      stop = true;
      await Promise.all([...loops, ...bursts]);

      expect(settled, 'every call issued settled').toBe(issued);
      expect(issued).toBeGreaterThan(1000);
      expect(wrong.slice(0, 10), `${wrong.length} wrong reads`).toEqual([]);
      const downs = events.filter((e) => e.name === 'serverDown');
      expect(downs.filter((e) => e.server === steady!.address).map((e) => describeError((e.payload as { reason: MemclusterError }).reason)), 'the server never stopped or killed went down').toEqual([]);
      expect(downs.some((e) => e.server === stopped!.address)).toBe(true);
      expect(events.some((e) => e.name === 'serverUp' && e.server === stopped!.address)).toBe(true);
      if (process.env.MEMCLUSTER_LOAD_VERBOSE) console.info('soak', { issued, errors: Object.fromEntries(errorKinds), events: events.map((e) => `${e.name} ${e.server}`) });

      // Afterwards every server serves again (the restarted one may need a probe first).
      for (const p of [steady, stopped, restarted]) {
        await eventually(() => client.serverStats().find((s) => s.server === p!.address)!.state === 'up', 3000, `${p!.address} up at the end`);
      }
      const fresh = Array.from({ length: 60 }, (_, i) => [`soak:end:${i}`, `e${i}`] as const);
      await eventually(async () => client.setMulti(fresh).then(() => true, () => false), 3000, 'a setMulti over all three servers succeeds at the end');
      expect([...(await client.getMulti<string>(fresh.map(([k]) => k)))].sort()).toEqual([...fresh].map(([k, v]) => [k, v]).sort());
    } finally {
      stop = true;
      for (const s of servers) s.thaw();
      await closeWithin(client, 3000);
    }
  }, 30_000);
});
