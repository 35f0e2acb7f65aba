/**
 * Same bytes: the real `memcached` 2.2.2, memcluster/compat and memcluster's `Client` with
 * `legacySerializer` share one cache on real servers. What one writes the others read, both ways,
 * and the item bytes on the server are identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import Memcached from '../../src/compat/index.js';
import { legacySerializer } from '../../src/compat/legacy-serializer.js';
import { useMemcached } from '../support/memcached.js';
import { Legacy, ok, rawItem } from './helpers.js';

const all256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const big = Array.from({ length: 20_000 }, (_, i) => `line ${i} ✓${i % 3 ? '\r\n' : '\n'}`).join('');

/** Values of every kind 2.2.2 stores, including CR/LF, backslashes and bytes >= 0x80. */
const VALUES: Array<[string, unknown]> = [
  ['plain', 'hello world'],
  ['empty', ''],
  ['unicode', 'unicode ✓ π 🎉 ключ'],
  ['crlf', 'line1\r\nline2\nline3\rend'],
  ['trailing-cr', 'ends with CR\r'],
  ['only-lf', '\n'],
  ['backslashes', 'back\\slash \\\r\\\n \\\\n'],
  ['tabs', 'tab\tand  spaces'],
  ['json-object', { a: 1, nested: { s: 'x\r\ny', list: [1, 'two', null] } }],
  ['json-array', [1, 'two', null, { three: 3 }]],
  ['json-true', true],
  ['json-false', false],
  ['json-null', null],
  ['json-empty', {}],
  ['int', 42],
  ['zero', 0],
  ['negative', -7],
  ['float', 3.14159],
  ['huge', 1e21],
  ['buffer-256', all256],
  ['buffer-crlf', Buffer.from('a\r\nb\\\r\n\x00\xff', 'latin1')],
  ['buffer-empty', Buffer.alloc(0)],
  ['big-crlf', big],
];

describe('memcached 2.2.2, compat and Client+legacySerializer share items', () => {
  const servers = useMemcached(3);
  let legacy: any;
  let compat: any;
  let client: Client;
  beforeAll(() => {
    const locations = servers.map((s) => s.address);
    legacy = new Legacy(locations, { retries: 0 });
    compat = new Memcached(locations);
    client = new Client(locations, { serializer: legacySerializer });
  });
  afterAll(async () => {
    legacy?.end();
    compat?.end();
    await client?.close();
  });

  it('2.2.2 writes, compat reads (get and getMulti)', async () => {
    for (const [name, value] of VALUES) expect(await ok(legacy, 'set', `l2c:${name}`, value, 0)).toBe(true);
    for (const [name, value] of VALUES) expect(await ok(compat, 'get', `l2c:${name}`), name).toEqual(value);
    const multi = await ok(compat, 'getMulti', VALUES.map(([name]) => `l2c:${name}`));
    for (const [name, value] of VALUES) expect(multi[`l2c:${name}`], name).toEqual(value);
  });

  it('compat writes, 2.2.2 reads (get and getMulti)', async () => {
    for (const [name, value] of VALUES) expect(await ok(compat, 'set', `c2l:${name}`, value, 0)).toBe(true);
    for (const [name, value] of VALUES) expect(await ok(legacy, 'get', `c2l:${name}`), name).toEqual(value);
    const multi = await ok(legacy, 'getMulti', VALUES.filter(([n]) => n !== 'empty' && n !== 'buffer-empty').map(([name]) => `c2l:${name}`));
    for (const [name, value] of VALUES) if (name !== 'empty' && name !== 'buffer-empty') expect(multi[`c2l:${name}`], name).toEqual(value);
  });

  it('the item on the server is byte-for-byte what 2.2.2 writes (flags and escaped data)', async () => {
    const port = servers[0]!.port;
    const oneLegacy = new Legacy(servers[0]!.address, { retries: 0 });
    const oneCompat = new Memcached(servers[0]!.address);
    try {
      for (const [name, value] of VALUES) {
        await ok(oneLegacy, 'set', `bytes-l:${name}`, value, 0);
        await ok(oneCompat, 'set', `bytes-c:${name}`, value, 0);
        const l = await rawItem(port, `bytes-l:${name}`);
        const c = await rawItem(port, `bytes-c:${name}`);
        expect(l, name).toBeDefined();
        expect(c!.flags, name).toBe(l!.flags);
        expect(c!.data.equals(l!.data), `${name}: ${c!.data.toString('latin1').slice(0, 60)} vs ${l!.data.toString('latin1').slice(0, 60)}`).toBe(true);
      }
      const crlf = await rawItem(port, 'bytes-c:crlf');
      expect(crlf!.data.toString('latin1')).toBe('line1\\\r\\\nline2\\\nline3\\\rend');
      const bin = await rawItem(port, 'bytes-c:buffer-256');
      expect([bin!.flags, bin!.data.length]).toEqual([4, 128 + 2 * 128 + 2]); // >= 0x80 doubles; CR and LF gain a backslash
      expect((await rawItem(port, 'bytes-c:json-true'))!.flags).toBe(2);
      expect((await rawItem(port, 'bytes-c:float'))!.flags).toBe(8);
    } finally {
      oneLegacy.end();
      oneCompat.end();
    }
  });

  it('Client with legacySerializer reads what 2.2.2 wrote and writes what 2.2.2 reads', async () => {
    for (const [name, value] of VALUES) expect(await client.get(`l2c:${name}`), name).toEqual(value);
    for (const [name, value] of VALUES) await client.set(`m2l:${name}`, value);
    for (const [name, value] of VALUES) expect(await ok(legacy, 'get', `m2l:${name}`), name).toEqual(value);
    const m = await client.getMulti(VALUES.map(([name]) => `l2c:${name}`));
    expect(m.size).toBe(VALUES.length);
  });

  it('a warm cache stays warm: every key 2.2.2 wrote over 3 servers is on the server compat asks', async () => {
    const keys = Array.from({ length: 600 }, (_, i) => `warm:${i}:${'k'.repeat(i % 50)}`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((k, j) => ok(legacy, 'set', k, { i: i + j }, 0)));
    }
    const got = await ok(compat, 'getMulti', keys);
    expect(Object.keys(got)).toHaveLength(keys.length);
    const byPort = new Map(servers.map((s) => [s.address, s.port]));
    const counts = new Map<string, number>();
    for (const k of keys.slice(0, 150)) {
      const server = compat.fleet.nodeFor(k).server;
      counts.set(server, (counts.get(server) ?? 0) + 1);
      expect(await rawItem(byPort.get(server)!, k), k).toBeDefined(); // really stored there by 2.2.2
    }
    expect(counts.size).toBe(3);
  });

  it('with a namespace and over-long keys (md5-compressed), both clients find each other\'s items', async () => {
    const locations = servers.map((s) => s.address);
    const l = new Legacy(locations, { namespace: 'app:', retries: 0 });
    const c = new Memcached(locations, { namespace: 'app:' });
    try {
      const long = `long-${'x'.repeat(300)}`;
      await ok(l, 'set', long, 'from 2.2.2', 0);
      await ok(l, 'set', 'short', { from: '2.2.2' }, 0);
      expect(await ok(c, 'get', long)).toBe('from 2.2.2');
      expect(await ok(c, 'getMulti', ['short', long])).toEqual({ short: { from: '2.2.2' }, [long]: 'from 2.2.2' });
      await ok(c, 'set', `${long}-2`, 'from compat', 0);
      expect(await ok(l, 'get', `${long}-2`)).toBe('from compat');
      expect(await ok(l, 'get', 'short')).toEqual({ from: '2.2.2' });
    } finally {
      l.end();
      c.end();
    }
  });
});
