/**
 * Multi-key calls with one of three servers stopped (SIGSTOP: connects and writes still succeed,
 * nothing is ever answered), and setMulti/deleteMulti semantics: per-key results, pipelining,
 * validation of every key before any byte is written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client, InvalidKeyError, InvalidValueError, MemclusterError, PartialFailureError } from '../../src/index.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { CountingProxy } from './counting-proxy.js';
import { expectWithinPromise } from '../support/timing.js';
import { closeWithin, describeError, now, numStats, ownersOf, rawGetMulti, rejectionOf, within } from './support.js';

/** Every call with a stopped server must settle within this (its timeoutMs), checked with the shared slack. */
const TIMEOUT = 500;

const keysOf = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

describe('multi-key calls with one of 3 servers stopped', () => {
  const servers = useMemcached(3);
  const clients: Client[] = [];
  const client = (opts: ConstructorParameters<typeof Client>[1] = {}): Client => {
    const c = new Client(servers.map((s) => s.address), { timeoutMs: TIMEOUT, validateTimeoutMs: 400, ...opts });
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const s of servers) s.thaw();
    await Promise.all(clients.splice(0).map((c) => closeWithin(c)));
  });

  /** Writes `keys` (value `v-<key>`) and returns the victim's keys and everyone else's. */
  async function setup(prefix: string, n: number, victim: MemcachedServer): Promise<{ keys: string[]; mine: Set<string>; others: Map<string, string> }> {
    const keys = keysOf(prefix, n);
    const writer = new Client(servers.map((s) => s.address), { timeoutMs: 5000, validateTimeoutMs: 2000 });
    try {
      const r = await writer.setMulti(keys.map((k) => [k, `v-${k}`] as const));
      expect([...r.values()].every(Boolean)).toBe(true);
    } finally {
      await closeWithin(writer);
    }
    const owners = await ownersOf(servers, keys);
    const mine = new Set(owners.get(victim.address)!);
    expect(mine.size).toBeGreaterThan(5);
    expect(mine.size).toBeLessThan(n);
    const others = new Map(keys.filter((k) => !mine.has(k)).map((k) => [k, `v-${k}`]));
    return { keys, mine, others };
  }

  function expectErrorsExactly(errors: Map<string, MemclusterError>, mine: Set<string>, victim: MemcachedServer): void {
    expect([...errors.keys()].sort()).toEqual([...mine].sort());
    for (const [k, e] of errors) {
      expect(e, `error for ${k}`).toBeInstanceOf(MemclusterError);
      expect(e.server, `${k}: ${describeError(e)}`).toBe(victim.address);
    }
  }

  it('getMulti rejects with PartialFailureError: .errors exactly the stopped server\'s keys, .values the others\' hits, within the bound', async () => {
    const victim = servers[1]!;
    const { keys, mine, others } = await setup('gm', 300, victim);
    const mc = client();
    expect((await mc.getMulti(keys)).size).toBe(keys.length); // warm pools, including the victim's
    await victim.freeze(); // every thread really stopped (SIGSTOP is delivered asynchronously)
    const t0 = now();
    const err = await within(rejectionOf(mc.getMulti<string>(keys)), 5000, 'getMulti');
    const ms = now() - t0;
    console.log(`[multi] getMulti with a stopped server settled in ${Math.round(ms)} ms: ${describeError(err).slice(0, 200)}`);
    expect(err, describeError(err)).toBeInstanceOf(PartialFailureError);
    const pf = err as PartialFailureError<string>;
    expectErrorsExactly(pf.errors, mine, victim);
    expect(pf.values).toEqual(others);
    expectWithinPromise(ms, TIMEOUT, 'getMulti with a stopped server settles within timeoutMs');
  });

  it('getMultiSettled resolves with { values, errors } likewise', async () => {
    const victim = servers[2]!;
    const { keys, mine, others } = await setup('gms', 300, victim);
    const mc = client();
    await victim.freeze(); // every thread really stopped (SIGSTOP is delivered asynchronously)
    const t0 = now();
    const { values, errors } = await within(mc.getMultiSettled<string>([...keys, 'gms:absent']), 5000, 'getMultiSettled');
    const ms = now() - t0;
    // 'gms:absent' is on some server: a miss if a live one, an error if the stopped one.
    const absentFailed = errors.has('gms:absent');
    if (absentFailed) mine.add('gms:absent');
    expectErrorsExactly(errors, mine, victim);
    expect(values).toEqual(others);
    expectWithinPromise(ms, TIMEOUT, 'getMultiSettled with a stopped server settles within timeoutMs');
    // A second call (the server may be marked down by now) is as exact, and as bounded.
    const t1 = now();
    const again = await within(mc.getMultiSettled<string>(keys), 5000, 'getMultiSettled');
    expectWithinPromise(now() - t1, TIMEOUT, 'a second getMultiSettled settles within timeoutMs');
    mine.delete('gms:absent');
    expectErrorsExactly(again.errors, mine, victim);
    expect(again.values).toEqual(others);
  });

  it('setMulti and deleteMulti reject with PartialFailureError carrying the others\' per-key results', async () => {
    const victim = servers[0]!;
    const { keys, mine, others } = await setup('sm', 240, victim);
    const mc = client();
    await victim.freeze(); // every thread really stopped (SIGSTOP is delivered asynchronously)

    const t0 = now();
    const err = await within(rejectionOf(mc.setMulti(keys.map((k) => [k, `w-${k}`] as const))), 5000, 'setMulti');
    expectWithinPromise(now() - t0, TIMEOUT, 'setMulti with a stopped server settles within timeoutMs');
    expect(err, describeError(err)).toBeInstanceOf(PartialFailureError);
    const pf = err as PartialFailureError<boolean>;
    expectErrorsExactly(pf.errors, mine, victim);
    expect(pf.values).toEqual(new Map([...others.keys()].map((k) => [k, true])));
    // The others really were written.
    const live = servers.filter((s) => s !== victim);
    const held = new Map<string, string>();
    for (const s of live) for (const [k, v] of await rawGetMulti(s, [...others.keys()])) held.set(k, v);
    expect(held).toEqual(new Map([...others.keys()].map((k) => [k, `w-${k}`])));

    const othersList = [...others.keys()];
    const t1 = now();
    const err2 = await within(rejectionOf(mc.deleteMulti([...othersList.slice(0, 50), ...mine, 'sm:never-set'])), 5000, 'deleteMulti');
    expectWithinPromise(now() - t1, TIMEOUT, 'deleteMulti with a stopped server settles within timeoutMs');
    expect(err2, describeError(err2)).toBeInstanceOf(PartialFailureError);
    const pf2 = err2 as PartialFailureError<boolean>;
    const expectedErrors = new Set(mine);
    const neverSetFailed = pf2.errors.has('sm:never-set');
    if (neverSetFailed) expectedErrors.add('sm:never-set');
    expectErrorsExactly(pf2.errors, expectedErrors, victim);
    const expectedValues = new Map<string, boolean>(othersList.slice(0, 50).map((k) => [k, true]));
    if (!neverSetFailed) expectedValues.set('sm:never-set', false);
    expect(pf2.values).toEqual(expectedValues);
    const left = new Set<string>();
    for (const s of live) for (const k of (await rawGetMulti(s, othersList)).keys()) left.add(k);
    expect([...left].sort()).toEqual(othersList.slice(50).sort());
  });
});

describe('setMulti / deleteMulti', () => {
  const servers = useMemcached(3);
  let mc: Client | undefined;
  let proxies: CountingProxy[] = [];
  afterEach(async () => {
    const c = mc;
    mc = undefined;
    await closeWithin(c);
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  const totals = async (fields: string[]): Promise<Record<string, number>> => {
    const all = await Promise.all(servers.map((s) => numStats(s, fields)));
    return Object.fromEntries(fields.map((f) => [f, all.reduce((a, s) => a + s[f]!, 0)]));
  };

  it('are pipelined per server and give per-key true/false by caller key', async () => {
    proxies = await Promise.all(servers.map((s) => CountingProxy.start(s)));
    mc = new Client(proxies.map((p) => p.address), { keyPrefix: 'sd:', timeoutMs: 5000, validateTimeoutMs: 2000 });
    const entries: Array<[string, unknown]> = Array.from({ length: 600 }, (_, i) => [`k${i}`, i % 4 === 0 ? { n: i } : i % 4 === 1 ? i : i % 4 === 2 ? Buffer.from([i & 255, 0, 13, 10]) : `s${i}`]);
    const set = await within(mc.setMulti(entries), 10_000, 'setMulti');
    expect(set).toEqual(new Map(entries.map(([k]) => [k, true])));
    const sets = proxies.reduce((a, p) => a + p.linesOf('set').length, 0);
    const conns = proxies.map((p) => p.connections);
    const chunks = proxies.reduce((a, p) => a + p.chunks, 0);
    console.log(`[multi] setMulti(600): ${sets} set lines in ${chunks} TCP reads over ${conns} connections per server`);
    expect(sets).toBe(600);
    // Pipelined: many requests per write, a bounded number of sockets per server.
    expect(chunks).toBeLessThan(600 / 4);
    for (const c of conns) expect(c).toBeLessThanOrEqual(8);

    const got = await mc.getMulti(entries.map(([k]) => k));
    expect(got).toEqual(new Map(entries));

    const del = await within(mc.deleteMulti([...entries.slice(0, 300).map(([k]) => k), 'never-set-1', 'never-set-2']), 10_000, 'deleteMulti');
    expect(del).toEqual(new Map<string, boolean>([...entries.slice(0, 300).map(([k]) => [k, true] as [string, boolean]), ['never-set-1', false], ['never-set-2', false]]));
    const left = await mc.getMulti(entries.map(([k]) => k));
    expect([...left.keys()].sort()).toEqual(entries.slice(300).map(([k]) => k).sort());
  });

  it('a bad key or value anywhere rejects before anything is written', async () => {
    mc = new Client(servers.map((s) => s.address), { timeoutMs: 5000, validateTimeoutMs: 2000 });
    const good = Array.from({ length: 200 }, (_, i) => [`bad-test:${i}`, `v${i}`] as [string, unknown]);
    await mc.setMulti(good);
    // Counters of commands only: bytes_read would also count socket validation (`mn`), which the
    // pool may do at any time and which writes nothing.
    const before = await totals(['cmd_set', 'cmd_get', 'cmd_touch', 'curr_items', 'delete_hits', 'delete_misses']);
    const bads: Array<[string, unknown, abstract new (...a: never[]) => MemclusterError]> = [
      ['has space', 'x', InvalidKeyError],
      ['inject\r\nset x 0 0 1', 'x', InvalidKeyError],
      ['k'.repeat(251), 'x', InvalidKeyError],
      ['', 'x', InvalidKeyError],
      ['fine-key', undefined, InvalidValueError],
      ['fine-key', () => 1, InvalidValueError],
    ];
    for (const [key, value, cls] of bads) {
      const entries = [...good.slice(0, 100), [key, value] as [string, unknown], ...good.slice(100)];
      const err = await rejectionOf(mc.setMulti(entries.map(([k, v]) => [k, v === 'v0' ? 'changed' : v] as [string, unknown])));
      expect(err, `${JSON.stringify(key)}: ${describeError(err)}`).toBeInstanceOf(cls);
    }
    for (const key of ['has space', 'k'.repeat(251), 'a\nb']) {
      const err = await rejectionOf(mc.deleteMulti([...good.map(([k]) => k), key]));
      expect(err, describeError(err)).toBeInstanceOf(InvalidKeyError);
    }
    const after = await totals(['cmd_set', 'cmd_get', 'cmd_touch', 'curr_items', 'delete_hits', 'delete_misses']);
    expect(after).toEqual(before);
    const held = await mc.getMulti(good.map(([k]) => k));
    expect(held).toEqual(new Map(good));
  });
});
