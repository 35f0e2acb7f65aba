import diagnostics from 'node:diagnostics_channel';
import keyvTestSuite from '@keyv/test-suite';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, InvalidOptionError } from '../../src/index.js';
import { KeyvMemcluster, toSeconds } from '../../src/keyv/index.js';
import { freePort, rawCommand, useMemcached } from '../support/memcached.js';

// The store satisfies Keyv's adapter type (checked by tsc).
const asAdapter = (s: KeyvMemcluster): KeyvStoreAdapter => s;

describe('@keyv/test-suite against real memcached', () => {
  const servers = useMemcached(2);
  let client: Client;
  beforeAll(() => { client = new Client(servers.map((s) => s.address)); });
  afterAll(() => client.close());
  // A new store per Keyv (as the suite expects), all on one shared client.
  keyvTestSuite(vitest as never, Keyv as never, () => asAdapter(new KeyvMemcluster(client)) as never);
});

describe('KeyvMemcluster', () => {
  const servers = useMemcached(2);
  const addresses = () => servers.map((s) => s.address);
  const closers: Array<() => unknown> = [];
  afterAll(async () => { await Promise.all(closers.map((c) => c())); });
  const store = (opts = {}) => {
    const s = new KeyvMemcluster(addresses(), opts);
    closers.push(() => s.disconnect());
    return s;
  };

  it('TTL in ms is rounded up to whole seconds (never expires early)', () => {
    expect([undefined, 0, 1, 999, 1000, 1001, 1500, 60_000].map((t) => toSeconds(t))).toEqual([0, 0, 1, 1, 1, 2, 2, 60]);
    expect(() => toSeconds(-1)).toThrow(InvalidOptionError);
    expect(() => toSeconds(Number.NaN)).toThrow(InvalidOptionError);
  });

  it('sends the rounded TTL to memcached', async () => {
    const s = new KeyvMemcluster([servers[0]!.address], { clear: 'flush' }); // plain keys: the wire key is Keyv's
    closers.push(() => s.disconnect());
    const keyv = new Keyv({ store: s, namespace: 'ttl' });
    await keyv.set('k', 'v', 1500);
    // mg with the t flag reports the seconds left: 2 (1.5 s rounded up), or 1 if a second ticked.
    const reply = await rawCommand(servers[0]!.port, 'mg ttl:k t\r\n');
    expect(reply).toMatch(/^HD t[12]\r\n$/);
    await keyv.set('forever', 'v');
    expect(await rawCommand(servers[0]!.port, 'mg ttl:forever t\r\n')).toBe('HD t-1\r\n');
  });

  it('getMany is one getMulti call', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'many' });
    await keyv.set('a', 1);
    await keyv.set('b', 2);
    const methods: string[] = [];
    const ch = diagnostics.tracingChannel<unknown, { method: string }>('memcluster:command');
    const handlers = { start: (c: { method: string }) => methods.push(c.method), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    ch.subscribe(handlers);
    try {
      expect(await keyv.get(['a', 'nope', 'b'])).toEqual([1, undefined, 2]);
    } finally {
      ch.unsubscribe(handlers);
    }
    expect(methods.filter((m) => m !== 'get')).toEqual(['getMulti']); // plus the namespace generation read
  });

  it('clear() clears the namespace for every process at once; other namespaces keep their items', async () => {
    const a = new Keyv({ store: store(), namespace: 'shared' });
    const b = new Keyv({ store: store(), namespace: 'shared' }); // another client: as another process
    const other = new Keyv({ store: store(), namespace: 'other' });
    await a.set('k', 'from a');
    await other.set('k', 'kept');
    expect(await b.get('k')).toBe('from a');
    await b.clear();
    expect(await a.get('k')).toBeUndefined();
    expect(await b.get('k')).toBeUndefined();
    expect(await other.get('k')).toBe('kept');
    await a.set('k', 'after');
    expect(await b.get('k')).toBe('after');
  });

  it("clear: 'flush' empties every server", async () => {
    const plain = new Keyv({ store: store(), namespace: 'p1' });
    const flushing = new Keyv({ store: store({ clear: 'flush' }), namespace: 'p2' });
    await plain.set('k', 1);
    await flushing.set('k', 2);
    await flushing.clear();
    expect(await flushing.get('k')).toBeUndefined();
    expect(await plain.get('k')).toBeUndefined();
  });

  it('any string is a key: spaces, control characters, long and non-ASCII keys round-trip', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'keys' });
    const keys = ['with space', 'line\r\nbreak', 'x'.repeat(1000), 'ключ', '#hash', ''];
    for (const [i, k] of keys.entries()) await keyv.set(k, i);
    for (const [i, k] of keys.entries()) expect(await keyv.get(k)).toBe(i);
    expect(await keyv.get(keys)).toEqual(keys.map((_, i) => i));
  });

  it('setMany and deleteMany', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'sm' });
    await keyv.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 60_000 }]);
    expect(await keyv.get(['a', 'b'])).toEqual([1, 2]);
    expect(await keyv.delete(['a', 'b'])).toBe(true);
    expect(await keyv.get(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await keyv.delete(['a', 'missing'])).toBe(false);
  });

  it('an existing Client: shared, and left open by disconnect(); an own client is closed', async () => {
    const client = new Client(addresses());
    closers.push(() => client.close());
    const shared = new KeyvMemcluster(client);
    await new Keyv({ store: shared }).set('k', 1);
    await shared.disconnect();
    expect(await client.get('k')).toBeUndefined(); // (keys live in a generation, not as 'keyv:k')
    expect(await client.set('still-open', 1)).toBe(true);
    const own = new KeyvMemcluster(addresses());
    await own.disconnect();
    await expect(own.client.get('x')).rejects.toThrow(/closed/);
    expect(() => new KeyvMemcluster(client, { timeoutMs: 5 } as never)).toThrow(InvalidOptionError);
    expect(() => new KeyvMemcluster(addresses(), { clear: 'all' } as never)).toThrow(/clear must be/);
  });

  it('a server failure reaches Keyv as an error (not as a miss)', async () => {
    const s = new KeyvMemcluster([`127.0.0.1:${await freePort()}`], { timeoutMs: 500, connectTimeoutMs: 200 });
    closers.push(() => s.disconnect());
    const keyv = new Keyv({ store: s, throwOnErrors: true });
    await expect(keyv.get('k')).rejects.toThrow();
  });
});
