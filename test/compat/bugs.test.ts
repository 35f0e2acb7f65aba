/**
 * None of memcached 2.2.2's bugs, one test each, on real servers. Where it is cheap, the same call
 * on the real 2.2.2 shows the bug the test would catch.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, ServerErrorReply, ServerUnavailableError, TimeoutError, ValidationFailedError } from '../../src/index.js';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { clock, expectWithinPromise } from '../support/timing.js';
import { call, closedPort, Legacy, ok, sleep } from './helpers.js';

/** Whether nothing listens on 127.0.0.1:11211, the port a port-less location means (a test may then use it as a dead server). */
const port11211Refused = await new Promise<boolean>((resolve) => {
  const s = net.connect(11211, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(false); });
  s.once('error', () => resolve(true));
});

describe('memcluster/compat does not copy the bugs of memcached 2.2.2', () => {
  const servers = useMemcached(2);
  let mc: any;
  beforeAll(() => { mc = new Memcached(servers.map((s) => s.address), { timeout: 400, retry: 50 }); });
  afterAll(() => mc?.end());

  it('every callback runs exactly once, within the timeout, while a server is frozen (SIGSTOP)', async () => {
    const frozen = servers[1]!;
    const a = new Memcached(servers.map((s) => s.address), { timeout: 300, retry: 50, failures: 100 }) as any;
    await ok(a, 'set', 'warm', 'x', 0);
    await frozen.freeze();
    try {
      const started = clock();
      const calls = await Promise.all(Array.from({ length: 40 }, (_, i) => {
        const key = `f${i}`;
        const ops: Array<[string, unknown[]]> = [['get', [key]], ['set', [key, 'v', 0]], ['incr', [key, 1]], ['del', [key]], ['touch', [key, 1]], ['gets', [key]], ['getMulti', [[key, `${key}b`, `${key}c`]]], ['version', []]];
        const [method, args] = ops[i % ops.length]!;
        return call(a, method, args, 3000);
      }));
      expectWithinPromise(clock() - started, 300, 'every call settles within `timeout` (300 ms)');
      const failed = calls.filter((c) => c.err);
      expect(failed.length).toBeGreaterThan(0); // keys on the frozen server
      for (const c of calls) expectWithinPromise(c.ms, 300, 'each call settles within `timeout`');
      const errors = failed.flatMap((c) => (Array.isArray(c.err) ? c.err : [c.err]));
      // No reply on a live socket: TimeoutError; a new socket that never answers its first request:
      // 2.2.2's connect timeout; later calls inside `retry`: the server is not available.
      for (const e of errors) expect([TimeoutError, ValidationFailedError, ServerUnavailableError].some((T) => e instanceof T), String(e)).toBe(true);
      expect(errors.some((e) => e instanceof TimeoutError || e instanceof ValidationFailedError)).toBe(true);
      await sleep(600); // any second callback would have come by now
      for (const c of calls) expect(c.calls()).toBe(1);
    } finally {
      frozen.thaw();
      a.end();
    }
  });

  it('a refused server is reported within `timeout` (2.2.2 took ~100 s with its default retries), then at once', async () => {
    const dead = new Memcached(`127.0.0.1:${await closedPort()}`, { timeout: 5000 }) as any;
    try {
      // Default retries (5): the pool retries the connect with memcluster's backoff (50 ms, doubling),
      // ~1.5 s in all, not 2.2.2's 1, 3, 9, 27 and 60 s.
      const get = await call(dead, 'get', ['k'], 7000);
      expectWithinPromise(get.ms, 5000, 'a call on a refused server settles within `timeout`');
      expect(get.err).toBeInstanceOf(ConnectionError);
      expect(get.err.message).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
      // The call gave up on the server: its request left the server's queue with it (no socket that
      // comes later carries a request nobody waits for).
      expect(dead.fleet.cluster.all()[0].stats().queued).toBe(0);
      const multi = await call(dead, 'getMulti', [['a', 'b']], 2000);
      expect(multi.err.map(String)).toEqual([`Error: Server at ${dead.servers[0]} not available`]);
      expect(multi.data).toEqual({});
      expectWithinPromise(multi.ms, 0, 'a failed server (within `retry`) fails its calls at once');
    } finally {
      dead.end();
    }
  });

  it('SERVER_ERROR is an error, and the server stays in service', async () => {
    const one = new Memcached(servers[0]!.address, { maxValue: 4 * 1024 * 1024, failures: 1, timeout: 2000 }) as any;
    const events: string[] = [];
    for (const e of ['issue', 'failure', 'reconnecting', 'remove']) one.on(e, () => events.push(e));
    try {
      await ok(one, 'set', 'small', 'ok', 0);
      const tooBig = await call(one, 'set', ['big', 'x'.repeat(2 * 1024 * 1024), 0]);
      expect(tooBig.err).toBeInstanceOf(ServerErrorReply);
      expect(tooBig.err.message).toMatch(/object too large/);
      expect(tooBig.data).toBe(false);
      expect(await ok(one, 'get', 'small')).toBe('ok'); // not marked failed, even with failures: 1
      expect(await ok(one, 'set', 'after', 'still fine', 0)).toBe(true);
      await sleep(50);
      expect(events).toEqual([]);
    } finally {
      one.end();
    }
    const legacy = new Legacy(servers[0]!.address, { maxValue: 4 * 1024 * 1024, retries: 0 });
    try {
      const r = await call(legacy, 'set', ['big', 'x'.repeat(2 * 1024 * 1024), 0]);
      expect([r.err, r.data]).toEqual([undefined, false]); // 2.2.2: no error at all...
      const next = await call(legacy, 'get', ['small']);
      expect(String(next.err)).toMatch(/not available/); // ...and the server is marked failed
    } finally {
      legacy.end();
    }
  });

  it('getMulti([]) calls back, and so does a getMulti with an over-long key', async () => {
    const empty = await call(mc, 'getMulti', [[]], 1000);
    expect([empty.err, empty.data]).toEqual([undefined, {}]);
    const long = `k-${'x'.repeat(300)}`;
    await ok(mc, 'set', long, 'long value', 0);
    await ok(mc, 'set', 'short', 'short value', 0);
    expect(await ok(mc, 'getMulti', [long, 'short', 'missing'])).toEqual({ [long]: 'long value', short: 'short value' });
    const strict = new Memcached(servers[0]!.address, { keyCompression: false }) as any;
    try {
      const r = await call(strict, 'getMulti', [[long, 'short', 'bad key']], 2000);
      expect(r.err).toHaveLength(2);
      expect(r.err[0].message).toBe('Argument "0" is longer than the maximum allowed length of 250'); // 2.2.2 names the array index
      expect(r.err[1].message).toMatch(/space/);
    } finally {
      strict.end();
    }
  });

  it('getMulti of 20,000 keys settles within `timeout` and yields to the event loop while it works (2.2.2: ~2.7 s blocked per 10k)', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `many:${i}`);
    // The whole call is bounded by `timeout`: room for 20,000 keys on a busy machine.
    const big = new Memcached(servers.map((s) => s.address), { timeout: 5000 }) as any;
    try {
      for (let i = 0; i < 200; i++) await ok(big, 'set', keys[i * 100]!, i, 0);
      let turns = 0;
      let ticking = true;
      const tick = (): void => { if (ticking) { turns++; setImmediate(tick); } };
      setImmediate(tick);
      const r = await call(big, 'getMulti', [keys], 10_000);
      ticking = false;
      expect(r.err).toBeUndefined();
      expect(Object.keys(r.data)).toHaveLength(200);
      expectWithinPromise(r.ms, 5000, 'a getMulti settles within `timeout`');
      expect(turns).toBeGreaterThan(1); // other work ran during the call
    } finally {
      big.end();
    }
  });

  it('set(k, undefined) and other unstorable values call back with an error instead of throwing', async () => {
    for (const value of [undefined, () => 1, Symbol('s'), 10n]) {
      let r: Awaited<ReturnType<typeof call>> | undefined;
      expect(() => { r = undefined; void call(mc, 'set', ['u', value, 0]).then((x) => { r = x; }); }).not.toThrow();
      await sleep(20);
      expect(r?.err, String(typeof value)).toBeInstanceOf(Error);
      expect(r!.data).toBe(false);
    }
    const legacy = new Legacy(servers[0]!.address);
    expect(() => legacy.set('u', undefined, 0, () => {})).toThrow(TypeError); // 2.2.2 throws synchronously
    legacy.end();
  });

  it('callbacks never run synchronously, not even for invalid input', () => {
    let called = false;
    mc.get('bad key', () => { called = true; });
    mc.set('k', 'v', 'soon', () => { called = true; });
    expect(called).toBe(false);
  });

  it('every option value 2.2.2 accepts is accepted (redundancy, failures: 0, other algorithms, junk): none throws', () => {
    const values: Array<Record<string, unknown>> = [
      { redundancy: 1 }, { redundancy: true }, { failures: 0 }, { failures: -1 }, { failures: 1.5 }, { retries: 0 }, { retry: 0 },
      { remove: true }, { remove: 'yes' }, { reconnect: 0 }, { idle: 0 }, { poolSize: 0 }, { keyCompression: 0 }, { maxKeySize: 0 },
      { maxExpiration: 0 }, { maxValue: 0 }, { algorithm: 'sha1' }, { compatibility: 'hash_ring' }, { compatiblity: 'ketama' },
      { namespace: 5 }, { failOverServers: '127.0.0.1:1' }, { failOverServers: [] }, { debug: true }, { timeout: 0 }, { timeout: -1 },
      { timeout: '500' }, { maxQueueSize: 10 }, { activeQueries: 3 }, { factor: 2, minTimeout: 1, maxTimeout: 2, randomize: true },
      { failuresTimeout: 0 }, { unknownOption: 1 }, { failures: undefined }, { failures: null }, {},
    ];
    for (const v of values) {
      expect(() => new Memcached('127.0.0.1:11211', v as never).end(), JSON.stringify(v)).not.toThrow();
      expect(() => new Legacy('127.0.0.1:11211', v as never).end(), JSON.stringify(v)).not.toThrow(); // the control
    }
  });

  it('redundancy works from the first call (2.2.2 threw `createRange is not a function` on the first del/incr with several servers) and keys are not replicated', async () => {
    const r = new Memcached(servers.map((s) => s.address), { redundancy: 1, timeout: 1000 } as never) as any;
    try {
      expect(await ok(r, 'set', 'red:n', 5, 0)).toBe(true);
      expect(await ok(r, 'incr', 'red:n', 2)).toBe(7);
      expect(await ok(r, 'del', 'red:n')).toBe(true);
      expect(await ok(r, 'set', 'red:k', 'one', 0)).toBe(true);
      const holders = [];
      for (const s of servers) if ((await s.command('mg red:k v\r\n')).startsWith('VA ')) holders.push(s.address);
      expect(holders).toHaveLength(1); // stored on its own server only: no replica
      expect(await ok(r, 'get', 'red:k')).toBe('one');
    } finally {
      r.end();
    }
  });

  it('maxExpiration is enforced, and a lifetime over 30 days works when allowed (2.2.2 dropped the item)', async () => {
    const fortyDays = 40 * 86_400;
    const over = await call(mc, 'set', ['ttl', 'v', fortyDays]);
    expect(over.err.message).toMatch(/exceeds maxExpiration \(2592000 s\)/);
    expect(over.data).toBeUndefined(); // an argument error: 2.2.2's validation called back with the error alone
    const lowered = new Memcached(servers[0]!.address, { maxExpiration: 60 }) as any;
    const allowed = new Memcached(servers[0]!.address, { maxExpiration: 90 * 86_400 }) as any;
    const legacy = new Legacy(servers[0]!.address, { retries: 0 });
    try {
      expect((await call(lowered, 'touch', ['ttl', 61])).err.message).toMatch(/exceeds maxExpiration/);
      expect(await ok(lowered, 'set', 'ttl60', 'v', 60)).toBe(true);
      expect(await ok(allowed, 'set', 'ttl40d', 'kept', fortyDays)).toBe(true);
      expect(await ok(allowed, 'get', 'ttl40d')).toBe('kept');
      const ttl = Number(/t(\d+)/.exec(await servers[0]!.command('mg ttl40d t\r\n'))![1]);
      expect(Math.abs(ttl - fortyDays)).toBeLessThan(10);
      expect(await ok(legacy, 'set', 'legacy40d', 'lost', fortyDays)).toBe(true);
      expect(await ok(legacy, 'get', 'legacy40d')).toBeUndefined(); // 2.2.2: read as a 1970 date, gone at once
    } finally {
      lowered.end();
      allowed.end();
      legacy.end();
    }
  });

  it('calling it without `new` works, and so does subclassing', async () => {
    const Ctor = Memcached as unknown as (loc: string, opts?: object) => any;
    const made = Ctor(servers[0]!.address, { timeout: 1000 });
    try {
      expect(made).toBeInstanceOf(Memcached);
      expect(await ok(made, 'set', 'nonew', 'yes', 0)).toBe(true);
      expect(await ok(made, 'get', 'nonew')).toBe('yes');
      class Mine extends Memcached {
        hello(): string { return 'subclass'; }
      }
      const mine = new Mine(servers[0]!.address);
      expect([mine instanceof Memcached, mine.hello(), await ok(mine, 'get', 'nonew')]).toEqual([true, 'subclass', 'yes']);
      mine.end();
    } finally {
      made.end();
    }
  });

  it('a burst of concurrent failures counts once per `retry` window: a server with failures left is not removed (2.2.2 removed it in the burst)', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const options = { timeout: 1000, retries: 0, retry: 5000, failures: 3, remove: true };
    const burst = async (client: any) => {
      const events: string[] = [];
      for (const e of ['issue', 'failure', 'remove']) client.on(e, () => events.push(e));
      const calls = await Promise.all(Array.from({ length: 20 }, (_, i) => call(client, 'get', [`burst${i}`], 5000)));
      return { events, calls };
    };
    // 2.2.2 with the same options on the same refused port: the second failure of the burst,
    // inside the retry window, skips straight to `remove` with 3 failures left.
    const legacy = new Legacy(dead, options) as any;
    try {
      const before = await burst(legacy);
      expect(before.events).toContain('remove');
    } finally {
      legacy.end();
    }
    const compat = new Memcached(dead, options) as any;
    try {
      const { events, calls } = await burst(compat);
      for (const c of calls) expect(c.err).toBeTruthy();
      expect(events.filter((e) => e === 'issue')).toHaveLength(1); // one failure counted for the whole burst
      expect(events).not.toContain('remove');
      const log = compat.issues[dead];
      expect(log.failures).toBe(3); // counted down only when the retry window closes
      expect(log.messages.length).toBeGreaterThan(1); // every failure of the burst is recorded
      // A second burst inside the same window adds no issue either.
      const again = await burst(compat);
      expect(again.events.filter((e) => e === 'issue')).toHaveLength(0);
      expect(again.events).not.toContain('remove');
    } finally {
      compat.end();
    }
  });

  // A port-less location means port 11211, which this test cannot own: it runs only where nothing
  // listens there (a memcached on 11211 would not be a dead server).
  it.skipIf(!port11211Refused)('a port-less server has its failures counted under host:11211 and then fails its keys at once, like any other (2.2.2 keyed its issues by host:11211 but checked the host)', async () => {
    const portless = new Memcached('127.0.0.1', { failures: 1, retry: 60_000, timeout: 1000, remove: true }) as any;
    const events: string[] = [];
    for (const e of ['issue', 'failure', 'remove']) portless.on(e, () => events.push(e));
    try {
      const first = await call(portless, 'get', ['pl1'], 5000);
      expect(first.err).toBeInstanceOf(ConnectionError);
      expect(String(first.err.message)).toContain('127.0.0.1:11211');
      const later = await call(portless, 'get', ['pl2'], 5000);
      expect(later.err).toBeInstanceOf(ServerUnavailableError);
      expectWithinPromise(later.ms, 0, "a down port-less server's keys fail at once");
      expect(events).toEqual(['issue']); // the failure was counted against the server, once
      expect(Object.keys(portless.issues)).toEqual(['127.0.0.1:11211']);
    } finally {
      portless.end();
    }
  });

  it('a down server fails its keys at once with a typed error', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const two = new Memcached([servers[0]!.address, dead], { failures: 1, retry: 60_000, timeout: 1000 }) as any;
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `dn${i}`);
      await call(two, 'getMulti', [keys]);
      const r = await call(two, 'getMulti', [keys]);
      expect(r.err.some((e: unknown) => e instanceof ServerUnavailableError)).toBe(true);
      expectWithinPromise(r.ms, 0, "a down server's keys fail at once");
    } finally {
      two.end();
    }
  });
});
