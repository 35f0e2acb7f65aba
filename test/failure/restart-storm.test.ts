/**
 * Scenario 6: a restart storm. Three servers; one of them is killed and restarted (empty, same
 * port) about every second, 9 times round-robin, while 32 loops do get/set with unique values.
 *
 * What is checked, per request:
 * - it settles (a hang fails the test);
 * - an error is a MemclusterError naming the key's own server;
 * - a hit is exactly the last value the loop wrote to that key (or the value of a set that failed
 *   after it: a timed-out set may still have landed);
 * - a miss is allowed only if no set of that key was ever acknowledged, or if the key's server was
 *   killed between the issue of the last acknowledged set and the end of the get (a restart wipes
 *   the data). Nothing else may make a written key disappear: no TTL is used and memory is ample.
 */
import { describe, expect, it } from 'vitest';
import { MemclusterError } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import {
  describeError, FAST, HangError, keys, now, ownersOf, recordEvents, settle, sleep, useClients, waitFor,
} from './helpers.js';

const LOOPS = 32;
const KEYS_PER_LOOP = 3;
const RESTARTS = 9;
const RESTART_EVERY_MS = 1000;
const BOUND = FAST.timeoutMs! + 2000;

interface KeyState {
  /** The last set acknowledged with STORED, and when it was issued. */
  acked?: { value: string; issuedAt: number };
  /** Values of sets that failed after the last acknowledged one (each may or may not have landed). */
  uncertain: string[];
}

describe('a restart storm', () => {
  const servers = useMemcached(3);
  const newClient = useClients();

  it('never hangs, every error names the key\'s server, no written value is lost or wrong unless its server restarted, and all serve afterwards', async () => {
    const client = newClient(servers.map((s) => s.address));
    const events = recordEvents(client);
    const allKeys = keys('storm', LOOPS * KEYS_PER_LOOP);
    const owners = await ownersOf(client, servers, allKeys);
    const ownerOf = new Map<string, string>();
    for (const [server, ks] of owners) for (const k of ks) ownerOf.set(k, server);
    await client.deleteMulti(allKeys);

    /** Kill intervals per server: data written before a kill's end is gone if the kill began before it was read. */
    const kills = new Map<string, Array<{ start: number; end: number }>>(servers.map((s) => [s.address, []]));
    const wipedBetween = (server: string, from: number, to: number): boolean =>
      kills.get(server)!.some((k) => k.start <= to && k.end >= from);

    const state = new Map<string, KeyState>(allKeys.map((k) => [k, { uncertain: [] }]));
    const violations: string[] = [];
    const hangs: string[] = [];
    const errorsByClass = new Map<string, number>();
    let ops = 0;
    /** When each request was issued, per server of its key: shows that traffic met every restart. */
    const issued = new Map<string, number[]>(servers.map((s) => [s.address, []]));
    let hits = 0;
    let allowedMisses = 0;
    let stop = false;

    const loop = async (id: number): Promise<void> => {
      const mine = allKeys.slice(id * KEYS_PER_LOOP, (id + 1) * KEYS_PER_LOOP);
      for (let seq = 0; !stop; seq++) {
        const k = mine[seq % mine.length]!;
        const st = state.get(k)!;
        const owner = ownerOf.get(k)!;
        const isSet = Math.random() < 0.5;
        const value = `${id}:${seq}`;
        const issuedAt = now();
        issued.get(owner)!.push(issuedAt);
        let o;
        try {
          o = await settle<unknown>(isSet ? client.set(k, value) : client.get<string>(k), BOUND, `${isSet ? 'set' : 'get'} ${k}`);
        } catch (err) {
          if (!(err instanceof HangError)) throw err;
          hangs.push(err.message);
          continue;
        }
        const doneAt = now();
        ops++;
        if (!o.ok) {
          const e = o.error;
          const name = e instanceof MemclusterError ? e.code : String(e);
          errorsByClass.set(name, (errorsByClass.get(name) ?? 0) + 1);
          if (!(e instanceof MemclusterError)) violations.push(`${k}: not a MemclusterError: ${String(e)}`);
          else if (e.server !== owner) violations.push(`${k} (on ${owner}): error names ${e.server}: ${describeError(e)}`);
          if (isSet) st.uncertain.push(value);
          await sleep(5); // a server marked down rejects at once: do not spin
          continue;
        }
        if (isSet) {
          if (o.value !== true) violations.push(`${k}: set resolved ${String(o.value)}`);
          st.acked = { value, issuedAt };
          st.uncertain = [];
        } else if (o.value === undefined) {
          if (st.acked && !wipedBetween(owner, st.acked.issuedAt, doneAt)) {
            violations.push(`${k}: miss, but ${st.acked.value} was stored at ${st.acked.issuedAt.toFixed(0)} and ${owner} was not restarted since`);
          } else allowedMisses++;
        } else {
          hits++;
          const possible = [...(st.acked ? [st.acked.value] : []), ...st.uncertain];
          if (!possible.includes(o.value as string)) violations.push(`${k}: read ${String(o.value)}, expected one of ${JSON.stringify(possible)}`);
        }
        // A few ms between requests: ~5,000 requests/s in all, enough traffic to meet every restart
        // without taking the shared cores from the servers being restarted.
        await sleep(3);
      }
    };

    // A fixed number of restarts (a slow machine stretches the storm instead of skipping some).
    const storm = async (): Promise<void> => {
      const start = now();
      for (let i = 0; i < RESTARTS; i++) {
        await sleep(Math.max(0, start + (i + 1) * RESTART_EVERY_MS - now()));
        const s = servers[i % servers.length] as MemcachedServer;
        const interval = { start: now(), end: Infinity };
        kills.get(s.address)!.push(interval);
        await s.kill();
        interval.end = now();
        await s.restart();
      }
    };

    const loops = Array.from({ length: LOOPS }, (_, i) => loop(i));
    await storm();
    stop = true;
    await Promise.all(loops);

    const restarts = [...kills.values()].reduce((n, k) => n + k.length, 0);
    const summary = `ops=${ops} hits=${hits} allowedMisses=${allowedMisses} restarts=${restarts} errors=${JSON.stringify(Object.fromEntries(errorsByClass))} `
      + `down=${events.filter((e) => e.name === 'serverDown').length} up=${events.filter((e) => e.name === 'serverUp').length}`;
    console.log(`restart storm: ${summary}`);
    expect(hangs, summary).toEqual([]);
    expect(violations.slice(0, 20), `${violations.length} violations; ${summary}`).toEqual([]);
    expect(restarts).toBe(RESTARTS);
    // Traffic met every restart: requests for the server's keys were issued while it was killed
    // and restarted, or within half a restart interval around it.
    const unmet = [...kills].flatMap(([server, ks]) => ks
      .filter((k) => !issued.get(server)!.some((t) => t >= k.start - RESTART_EVERY_MS / 2 && t <= k.end + RESTART_EVERY_MS / 2))
      .map((k) => `${server} killed at ${k.start.toFixed(0)}`));
    expect(unmet, `restarts no request met; ${summary}`).toEqual([]);
    expect(hits, 'reads found written values').toBeGreaterThan(0);
    expect(allowedMisses, 'restarts wiped data that was then read as a miss').toBeGreaterThan(0);

    // After the storm every server is up and serves its own keys.
    await waitFor(() => client.serverStats().every((s) => s.state === 'up'), 3000, 'every server up after the storm');
    for (const s of servers) {
      for (const k of owners.get(s.address)!.slice(0, 5)) {
        const set = await settle(client.set(k, `final-${k}`), BOUND, `final set ${k}`);
        expect(set.ok, `${s.address}: ${describeError(set.error)}`).toBe(true);
        const get = await settle(client.get(k), BOUND, `final get ${k}`);
        expect(get.value, `${s.address}: ${describeError(get.error)}`).toBe(`final-${k}`);
      }
    }
  }, 40_000);
});
