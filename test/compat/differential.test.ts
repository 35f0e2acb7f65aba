/**
 * The differential test: one script of scenarios, run against the real `memcached` 2.2.2 and against
 * memcluster/compat, on the same real servers (flushed between the two runs), comparing what code
 * sees: callback arguments (errors as message, name and printed form; `notStored`), events with
 * their payloads, and the instance properties 2.2.2 code reads.
 *
 * Every step must match, except the ones in DELIBERATE: each names the 2.2.2 bug compat does not
 * copy (listed in src/compat/README.md, "Deliberate differences"), and asserts what 2.2.2 does and
 * what compat does instead, so the list cannot go stale silently. 2.2.2's slow paths are bounded by
 * small `retries` / `retry` / `timeout` options, and `reconnect` is set far beyond the test so 2.2.2
 * never spawns `ping`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { BlackHole } from '../support/black-hole.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { call, closedPort, Legacy } from './helpers.js';

const EVENTS = ['issue', 'failure', 'reconnecting', 'reconnect', 'remove'] as const;
/** Far beyond the test: 2.2.2 would spawn `ping` when it fires. */
const NO_RECONNECT = 600_000;

type Seen = { step: string; err: unknown; data: unknown; events: Array<{ name: string; details: unknown }> };

/** An error as code sees it: message, name, printed form, and the flags 2.2.2 set. */
function describeErr(err: any): unknown {
  if (err === undefined || err === null) return err;
  if (Array.isArray(err)) return err.map(describeErr);
  if (!(err instanceof Error)) return { value: err };
  const out: Record<string, unknown> = { message: err.message, name: err.name, printed: String(err) };
  if ((err as { notStored?: boolean }).notStored) out.notStored = true;
  return out;
}

/** Values as comparable data (Buffers as their bytes). */
function plain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v, (_k, x) => (x && x.type === 'Buffer' ? `buffer:${Buffer.from(x.data).toString('hex')}` : x)));
}

/** A client under test with its events recorded (payloads copied when emitted: 2.2.2 passes live arrays). */
class Runner {
  readonly seen: Seen[] = [];
  private events: Seen['events'] = [];
  constructor(readonly client: any) {
    for (const name of EVENTS) client.on(name, (details: unknown) => this.events.push({ name, details: plain(details) }));
  }

  /** One call; `boundMs` bounds a 2.2.2 hang (recorded as `hang`). */
  async step(step: string, method: string, args: unknown[], boundMs = 3000): Promise<Seen> {
    let r: Seen;
    try {
      const c = await call(this.client, method, args, boundMs);
      r = { step, err: describeErr(c.err), data: plain(c.data), events: [] };
    } catch {
      r = { step, err: 'hang: no callback', data: undefined, events: [] };
    }
    await new Promise((resolve) => setImmediate(resolve));
    r.events = this.events.splice(0);
    this.seen.push(r);
    return r;
  }
}

/** A deliberate difference: what 2.2.2 does at this step and what compat does instead. */
interface Deliberate {
  why: string;
  legacy: (s: Seen) => void;
  compat: (s: Seen) => void;
}

function compare(legacy: Seen[], compat: Seen[], deliberate: Record<string, Deliberate> = {}): void {
  expect(compat.map((s) => s.step)).toEqual(legacy.map((s) => s.step));
  const used = new Set<string>();
  legacy.forEach((l, i) => {
    const c = compat[i]!;
    const d = deliberate[l.step];
    if (d) {
      used.add(l.step);
      d.legacy(l);
      d.compat(c);
      return;
    }
    expect({ step: c.step, err: c.err, data: c.data, events: c.events }, `step ${l.step}`).toEqual({ step: l.step, err: l.err, data: l.data, events: l.events });
  });
  expect([...used].sort(), 'every listed difference was seen').toEqual(Object.keys(deliberate).sort());
}

/** The properties 2.2.2 code reads, minus EventEmitter internals. */
function props(client: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(client)) {
    if (['_events', '_eventsCount', '_maxListeners', 'HashRing', 'connections', 'issues'].includes(k) || typeof client[k] === 'function') continue;
    out[k] = plain(client[k]);
  }
  out.connections = Object.keys(client.connections).sort();
  out.issues = Object.keys(client.issues).sort();
  return out;
}

function flush(servers: MemcachedServer[]): Promise<unknown> {
  return Promise.all(servers.map((s) => s.command('flush_all\r\n')));
}

/** Runs `script` on 2.2.2 and on compat (servers flushed before each), ending both clients. */
async function both(servers: MemcachedServer[], locations: unknown, options: object, script: (r: Runner) => Promise<void>): Promise<[Runner, Runner]> {
  await flush(servers);
  const legacy = new Runner(new Legacy(locations as never, options));
  try {
    await script(legacy);
  } finally {
    legacy.client.end();
  }
  await flush(servers);
  const compat = new Runner(new Memcached(locations as never, options));
  try {
    await script(compat);
  } finally {
    compat.client.end();
  }
  return [legacy, compat];
}

describe('differential: memcached 2.2.2 and memcluster/compat, side by side on real servers', () => {
  const servers = useMemcached(2);
  let refused: string;
  let hole: BlackHole;
  beforeAll(async () => {
    refused = `127.0.0.1:${await closedPort()}`;
    hole = await BlackHole.start();
  });
  afterAll(() => hole?.close());

  it('success paths and misses: every method, result and `this`', async () => {
    const [l, c] = await both(servers, servers.map((s) => s.address), { retries: 0 }, async (r) => {
      await r.step('set', 'set', ['k', 'v', 0]);
      await r.step('get', 'get', ['k']);
      await r.step('get miss', 'get', ['nope']);
      await r.step('set json', 'set', ['j', { a: [1, 'x'], b: null }, 0]);
      await r.step('get json', 'get', ['j']);
      await r.step('set number', 'set', ['n', 42, 0]);
      await r.step('get number', 'get', ['n']);
      await r.step('set buffer', 'set', ['b', Buffer.from([0, 1, 0xfe, 0xff]), 0]);
      await r.step('get buffer', 'get', ['b']);
      await r.step('set crlf', 'set', ['crlf', 'a\r\nb\nc', 0]);
      await r.step('get crlf', 'get', ['crlf']);
      await r.step('add existing', 'add', ['k', 'other', 0]);
      await r.step('add new', 'add', ['k2', 'new', 0]);
      await r.step('replace missing', 'replace', ['nope', 'x', 0]);
      await r.step('replace', 'replace', ['k', 'v2', 0]);
      await r.step('append', 'append', ['k', '>']);
      await r.step('prepend', 'prepend', ['k', '<']);
      await r.step('append missing', 'append', ['nope', 'x']);
      await r.step('get appended', 'get', ['k']);
      await r.step('set counter', 'set', ['cnt', 10, 0]);
      await r.step('incr', 'incr', ['cnt', 5]);
      await r.step('decr', 'decr', ['cnt', 20]);
      await r.step('incr missing', 'incr', ['nope', 1]);
      const gets = await r.step('gets', 'gets', ['k']);
      const cas = (gets.data as { cas: string }).cas;
      await r.step('cas ok', 'cas', ['k', 'v3', cas, 0]);
      await r.step('cas stale', 'cas', ['k', 'v4', cas, 0]);
      await r.step('gets miss', 'gets', ['nope']);
      await r.step('touch', 'touch', ['k', 100]);
      await r.step('touch missing', 'touch', ['nope', 100]);
      await r.step('getMulti', 'getMulti', [['k', 'j', 'n', 'nope']]);
      await r.step('del', 'del', ['k']);
      await r.step('del missing', 'del', ['k']);
      await r.step('flush', 'flush', []);
    });
    compare(l.seen, c.seen, {
      // 2.2.2 reads `gets` cas tokens out of its parse buffer; they differ per server state, so
      // compare the shape: the value under the key, and a cas of digits.
      gets: {
        why: 'cas tokens are server counters: same shape, different digits',
        legacy: (s) => expect(s.data).toEqual({ k: '<v2>', cas: expect.stringMatching(/^\d+$/) }),
        compat: (s) => expect(s.data).toEqual({ k: '<v2>', cas: expect.stringMatching(/^\d+$/) }),
      },
    });
    // `this` in a success callback is the query object in both.
    for (const runner of [new Legacy(servers[0]!.address, { retries: 0 }), new Memcached(servers[0]!.address)] as any[]) {
      const r = await call(runner, 'get', ['k']);
      expect({ key: r.self.key, type: r.self.type, command: r.self.command }).toEqual({ key: 'k', type: 'get', command: 'get k' });
      runner.end();
    }
  });

  it('keys with spaces or new lines, keys over 250 characters, a value over 1 MB: 2.2.2\'s messages, through the callback', async () => {
    const long = `long-${'x'.repeat(300)}`;
    const [l, c] = await both(servers, servers.map((s) => s.address), { retries: 0 }, async (r) => {
      await r.step('get space', 'get', ['a b']);
      await r.step('set newline', 'set', ['a\nb', 'v', 0]);
      await r.step('set long (compressed)', 'set', [long, 'long value', 0]);
      await r.step('get long', 'get', [long]);
      await r.step('getMulti with the long key', 'getMulti', [[long, 'nope']], 1000);
      await r.step('set 1 MB + 1', 'set', ['big', 'x'.repeat(1_048_577), 0]);
      await r.step('set escaped over 1 MB', 'set', ['big', '\n'.repeat(524_289), 0]);
      await r.step('incr not a number', 'incr', ['cnt', 'one']);
      await r.step('incr negative', 'incr', ['cnt', -1]);
      await r.step('set lifetime not a number', 'set', ['k', 'v', 'soon']);
    });
    compare(l.seen, c.seen, {
      'getMulti with the long key': {
        why: 'getMulti returns an over-long key\'s value under its md5 in 2.2.2, a key the caller never asked for (a silent miss)',
        legacy: (s) => expect(s.data).toEqual({ '09cb4e909ca77695de29c1c5b0bab5e0': 'long value' }),
        compat: (s) => expect([s.err, s.data]).toEqual([undefined, { [long]: 'long value' }]),
      },
    });
    expect(c.seen[0]!.err).toEqual({ message: 'The key should not contain any whitespace or new lines', name: 'Error', printed: 'Error: The key should not contain any whitespace or new lines' });
    const big = c.seen.find((x) => x.step === 'set 1 MB + 1')!;
    expect([big.err, big.data]).toEqual([{ message: 'The length of the value is greater than 1048576', name: 'Error', printed: 'Error: The length of the value is greater than 1048576' }, false]);

    const [ls, cs] = await both(servers, servers.map((s) => s.address), { retries: 0, keyCompression: false }, async (r) => {
      await r.step('get long, keyCompression false', 'get', [long]);
      await r.step('getMulti with a long key', 'getMulti', [['a', long]], 1000);
    });
    // 2.2.2 names the key by its index in the getMulti array.
    const tooLong = { message: 'Argument "1" is longer than the maximum allowed length of 250', name: 'Error', printed: 'Error: Argument "1" is longer than the maximum allowed length of 250' };
    compare(ls.seen, cs.seen, {
      'getMulti with a long key': {
        why: 'a bad key fails the whole getMulti in 2.2.2: no data, the error once per server the keys route to',
        legacy: (s) => {
          expect(s.data).toEqual({});
          expect((s.err as unknown[]).length).toBeGreaterThanOrEqual(1);
          for (const e of s.err as unknown[]) expect(e).toEqual(tooLong);
        },
        compat: (s) => expect([s.err, s.data]).toEqual([[tooLong], {}]),
      },
    });
  });

  it('a refused port, retries: 0, failures: 2: ECONNREFUSED, then "not available" within `retry`, issue events counting down, removal', async () => {
    const opts = { retries: 0, retry: 60, failures: 2, timeout: 500, remove: true, reconnect: NO_RECONNECT };
    const [l, c] = await both(servers, refused, opts, async (r) => {
      const server = refused;
      for (let i = 1; i <= 3; i++) {
        await r.step(`get #${i}`, 'get', ['k']);
        await r.step(`get #${i} again at once`, 'set', ['k', 'v', 0]);
        await eventually(() => r.client.issues[server]?.failed === false || (i === 3), 500, 'the retry window to end');
      }
      await r.step('after removal', 'get', ['k']);
    });
    compare(l.seen, c.seen);
    const first = c.seen[0]!;
    expect(first.err).toEqual({ message: `connect ECONNREFUSED ${refused}`, name: 'Error', printed: `Error: connect ECONNREFUSED ${refused}` });
    expect(first.events).toEqual([{ name: 'issue', details: { server: refused, tokens: [refused.split(':')[1], '127.0.0.1'], messages: [`Error: connect ECONNREFUSED ${refused}`], failures: 2, totalFailures: 0 } }]);
    expect(c.seen[1]!.err).toMatchObject({ message: `Server at ${refused} not available` });
    expect(c.seen[4]!.events.map((e) => e.name)).toEqual(['remove', 'failure']);
  });

  it('failures: 0, retries: 0, retry: 100, remove: true on two servers: the refused one is removed at its first failure and its keys move', async () => {
    const live = servers[0]!.address;
    const opts = { failures: 0, retries: 0, retry: 100, remove: true, timeout: 500, reconnect: NO_RECONNECT };
    // A key the ring puts on the refused server.
    const probe = new Legacy([live, refused], opts) as any;
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => probe.HashRing.get(k) === refused)!;
    probe.end();
    const [l, c] = await both(servers, [live, refused], opts, async (r) => {
      await r.step('set on the refused server', 'set', [key, 'v', 0]);
      await r.step('set again: now on the live one', 'set', [key, 'v', 0]);
      await r.step('get', 'get', [key]);
      expect(r.client.HashRing.get(key)).toBe(live);
    });
    compare(l.seen, c.seen);
    expect(c.seen[0]!.events.map((e) => e.name)).toEqual(['remove', 'failure']);
    expect(props(c.client)).toEqual(props(l.client));
  });

  it('failures: 0 with remove: false: marked failed at the first failure, no event, "not available" after', async () => {
    const opts = { failures: 0, retries: 0, retry: 30, timeout: 500, reconnect: NO_RECONNECT };
    const [l, c] = await both(servers, refused, opts, async (r) => {
      await r.step('get', 'get', ['k']);
      await r.step('get again', 'get', ['k']);
      await new Promise((resolve) => setTimeout(resolve, 60)); // past `retry`: a dead server stays failed anyway
      await r.step('get after retry', 'get', ['k']);
      expect(r.client.issues[refused]).toMatchObject({ failed: true, isScheduledToReconnect: true, failures: 0 });
    });
    compare(l.seen, c.seen);
    expect(c.seen[0]!.events).toEqual([]);
  });

  it('a server that accepts but never answers (black hole): 2.2.2 never calls back; compat says the connection timed out', async () => {
    const opts = { retries: 0, timeout: 300, idle: 300, failures: 5, reconnect: NO_RECONNECT };
    const [l, c] = await both(servers, hole.address, opts, async (r) => {
      await r.step('get', 'get', ['k'], 1500);
    });
    compare(l.seen, c.seen, {
      get: {
        why: 'no per-request timeout in 2.2.2: a request on a socket that never answers never calls back',
        legacy: (s) => expect(s.err).toBe('hang: no callback'),
        compat: (s) => {
          expect(s.err).toEqual({ message: 'Timed out while trying to establish connection', name: 'Error', printed: 'Error: Timed out while trying to establish connection' });
          expect(s.events.map((e) => e.name)).toEqual(['issue']);
        },
      },
    });
  });

  it('port-less locations: `servers` as given, `connections` keyed host:11211', async () => {
    const opts = { retries: 0, timeout: 300, failures: 5, reconnect: NO_RECONNECT };
    const [l, c] = await both(servers, ['localhost', servers[0]!.address], opts, async (r) => {
      // A key on the port-less server (nothing listens on 11211 here, or something does: both see the same).
      const key = Array.from({ length: 100 }, (_, i) => `p${i}`).find((k) => r.client.HashRing.get(k) === 'localhost')!;
      await r.step('get on localhost', 'get', [key]);
      await r.step('get on the other', 'get', [Array.from({ length: 100 }, (_, i) => `p${i}`).find((k) => r.client.HashRing.get(k) !== 'localhost')!]);
    });
    compare(l.seen, c.seen);
    expect(props(c.client)).toEqual(props(l.client));
    expect(Object.keys(c.client.connections).sort()).toEqual(['localhost:11211', servers[0]!.address].sort());
  });

  it('properties: every option copied onto the instance, servers, connections, issues, HashRing routing', async () => {
    const opts = { failures: 0, retries: 0, retry: 100, remove: true, redundancy: 1, namespace: 'ns:', poolSize: 3, idle: 1000, debug: false, failOverServers: [servers[1]!.address], algorithm: 'md5', timeout: 1000, myOwnOption: 'kept' };
    const legacy = new Legacy([servers[0]!.address, refused], opts as never) as any;
    const compat = new Memcached([servers[0]!.address, refused], opts as never) as any;
    try {
      expect(props(compat)).toEqual(props(legacy));
      for (let i = 0; i < 50; i++) expect(compat.HashRing.get(`ns:key${i}`)).toBe(legacy.HashRing.get(`ns:key${i}`));
    } finally {
      legacy.end();
      compat.end();
    }
  });

  it('SERVER_ERROR (value over the server\'s item size, under maxValue): 2.2.2 gives no error and fails the server; compat gives the error', async () => {
    const opts = { retries: 0, maxValue: 4 * 1024 * 1024, reconnect: NO_RECONNECT };
    const [l, c] = await both(servers, servers[0]!.address, opts, async (r) => {
      await r.step('set 2 MB', 'set', ['big', 'x'.repeat(2 * 1024 * 1024), 0]);
      await r.step('get after', 'get', ['big']);
    });
    compare(l.seen, c.seen, {
      'set 2 MB': {
        why: 'SERVER_ERROR comes back as (undefined, false) in 2.2.2, and marks the server failed',
        legacy: (s) => expect([s.err, s.data, s.events.map((e) => e.name)]).toEqual([undefined, false, ['issue']]),
        compat: (s) => expect([s.err, s.data, s.events]).toEqual([{ message: expect.stringMatching(/^SERVER_ERROR object too large/), name: 'Error', printed: expect.stringMatching(/^Error: SERVER_ERROR/) }, false, []]),
      },
      'get after': {
        why: 'the server 2.2.2 failed for a SERVER_ERROR refuses every key for `retry` ms',
        legacy: (s) => expect(s.err).toMatchObject({ message: `Server at ${servers[0]!.address} not available` }),
        compat: (s) => expect([s.err, s.data]).toEqual([undefined, undefined]),
      },
    });
  });

  it('end() with a request in flight: 2.2.2 drops its reply; compat calls back; both connect again on the next call', async () => {
    const [l, c] = await both(servers, servers[0]!.address, { retries: 0 }, async (r) => {
      await r.step('set', 'set', ['k', 'v', 0]);
      const inFlight = call(r.client, 'get', ['k'], 1000).then((x) => x, () => 'hang: no callback');
      r.client.end();
      const got = await inFlight;
      r.seen.push({ step: 'get in flight at end()', err: typeof got === 'string' ? got : describeErr(got.err), data: typeof got === 'string' ? undefined : got.data, events: [] });
      await r.step('get after end()', 'get', ['k']);
      expect(Object.keys(r.client.connections)).toEqual([servers[0]!.address]);
    });
    compare(l.seen, c.seen, {
      'get in flight at end()': {
        why: 'end() destroys sockets with requests on them; their callbacks never run in 2.2.2',
        legacy: (s) => expect(s.err).toBe('hang: no callback'),
        compat: (s) => expect([s.err, s.data]).toEqual([undefined, 'v']),
      },
    });
  });
});

