/**
 * Bad input never reaches a server: keys, TTLs, deltas, cas tokens and options are refused with a
 * typed error before a byte is written. The proof is on the servers themselves: a sentinel item
 * survives, no stray item appears, and the servers' command counters do not move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client, InvalidArgumentError, InvalidKeyError, InvalidOptionError, MemclusterError, NoServersError,
  type ClientOptions,
} from '../../src/index.js';
import { rejection } from '../support/assert.js';
import { useMemcached, type MemcachedServer } from '../support/memcached.js';

/** The error a constructor throws (fails the test if it does not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

/** The counters that would move if any command reached the server. */
const COUNTERS = [
  'cmd_get', 'cmd_set', 'cmd_flush', 'cmd_touch', 'get_hits', 'get_misses', 'delete_hits', 'delete_misses',
  'incr_hits', 'incr_misses', 'decr_hits', 'decr_misses', 'cas_hits', 'cas_misses', 'cas_badval',
  'touch_hits', 'touch_misses', 'total_items', 'curr_items',
] as const;

async function snapshot(servers: MemcachedServer[]): Promise<Array<Record<string, string>>> {
  return Promise.all(servers.map(async (s) => {
    const st = await s.stats();
    return Object.fromEntries(COUNTERS.map((c) => [c, st[c]!]));
  }));
}

type Call = [name: string, fn: (mc: Client, key: unknown) => Promise<unknown>];

/** Every key-taking method, with otherwise valid arguments. */
const KEY_CALLS: Call[] = [
  ['get', (mc, k) => mc.get(k as string)],
  ['gets', (mc, k) => mc.gets(k as string)],
  ['gat', (mc, k) => mc.gat(k as string, 10)],
  ['gats', (mc, k) => mc.gats(k as string, 10)],
  ['set', (mc, k) => mc.set(k as string, 'v')],
  ['add', (mc, k) => mc.add(k as string, 'v')],
  ['replace', (mc, k) => mc.replace(k as string, 'v')],
  ['append', (mc, k) => mc.append(k as string, 'v')],
  ['prepend', (mc, k) => mc.prepend(k as string, 'v')],
  ['cas', (mc, k) => mc.cas(k as string, 'v', '1')],
  ['incr', (mc, k) => mc.incr(k as string, 1)],
  ['decr', (mc, k) => mc.decr(k as string, 1)],
  ['delete', (mc, k) => mc.delete(k as string)],
  ['touch', (mc, k) => mc.touch(k as string, 10)],
  ['getMulti', (mc, k) => mc.getMulti(['good1', k as string, 'good2'])],
  ['getMultiSettled', (mc, k) => mc.getMultiSettled(['good1', k as string])],
  ['getsMulti', (mc, k) => mc.getsMulti([k as string, 'good1'])],
  ['gatMulti', (mc, k) => mc.gatMulti(['good1', k as string], 10)],
  ['gatsMulti', (mc, k) => mc.gatsMulti(['good2', k as string], 10)],
  ['setMulti', (mc, k) => mc.setMulti([['good1', 'v'], [k as string, 'v']])],
  ['deleteMulti', (mc, k) => mc.deleteMulti(['good1', k as string])],
];

describe('bad input against 3 real memcached servers', () => {
  const servers = useMemcached(3);
  let all: MemcachedServer[];
  let mc: Client;
  const clients: Client[] = [];

  beforeAll(() => {
    all = [...servers];
    mc = new Client(all.map((s) => s.address), { timeoutMs: 2000 });
  });
  afterAll(async () => {
    await Promise.all([mc, ...clients].map((c) => c?.close()));
  });

  describe('invalid keys', () => {
    const badKeys: Array<[string, unknown]> = [
      ['251 ASCII bytes', 'a'.repeat(251)],
      ['126 x "é" (252 UTF-8 bytes, 126 characters)', 'é'.repeat(126)],
      ['63 emoji (252 UTF-8 bytes)', '😀'.repeat(63)],
      ['249 ASCII + one 2-byte character (251 bytes)', 'a'.repeat(249) + 'é'],
      ['empty', ''],
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
      ['an object', { toString: () => 'k' }],
      ['an array', ['k']],
      ['a space', 'a b'],
      ['a tab', 'a\tb'],
      ['CR', 'a\rb'],
      ['LF', 'a\nb'],
      ['CRLF', 'a\r\nb'],
      ['NUL', 'a\u0000b'],
      ['DEL', 'a\u007fb'],
      ['control byte 0x01', '\u0001abc'],
      ['control byte 0x1f', 'abc\u001f'],
      ['a trailing space', 'abc '],
      ['a lone surrogate', 'a\ud800b'],
    ];

    for (const [name, key] of badKeys) {
      it(`a key with ${name} is refused with InvalidKeyError by every method, before anything is written`, async () => {
        const before = await snapshot(all);
        for (const [method, call] of KEY_CALLS) {
          const err = await rejection(() => call(mc, key), method);
          expect(err, method).toBeInstanceOf(InvalidKeyError);
          expect((err as MemclusterError).code, method).toBe('MC_ERR_INVALID_KEY');
          expect((err as MemclusterError).server, method).toBeUndefined();
        }
        expect(await snapshot(all)).toEqual(before);
      });
    }

    it('the limits are exact: 250 bytes (ASCII, 2-byte and 4-byte characters) are accepted and stored', async () => {
      for (const key of ['k'.repeat(250), 'é'.repeat(125), '😀'.repeat(62) + 'ab', 'x'.repeat(248) + 'é']) {
        expect(Buffer.byteLength(key)).toBe(250);
        expect(await mc.set(key, 'ok')).toBe(true);
        expect(await mc.get(key)).toBe('ok');
        const held = await Promise.all(all.map((s) => s.command(`get ${key}\r\n`)));
        expect(held.filter((r) => r.startsWith('VALUE ')).length).toBe(1);
        expect(await mc.delete(key)).toBe(true);
      }
    });

    it('with keyPrefix, the limit applies to prefix + key', async () => {
      const pmc = new Client(all.map((s) => s.address), { keyPrefix: 'pre:' });
      clients.push(pmc);
      const before = await snapshot(all);
      const err = await rejection(() => pmc.set('a'.repeat(247), 'v')); // 4 + 247 = 251 bytes
      expect(err).toBeInstanceOf(InvalidKeyError);
      expect(await rejection(() => pmc.get('a b'))).toBeInstanceOf(InvalidKeyError);
      expect(await rejection(() => pmc.getMulti(['ok', 'a\r\nflush_all']))).toBeInstanceOf(InvalidKeyError);
      expect(await snapshot(all)).toEqual(before);
      expect(await pmc.set('a'.repeat(246), 'v')).toBe(true); // exactly 250
      expect(await pmc.get('a'.repeat(246))).toBe('v');
    });

    it('with keyPrefix, an empty or non-string caller key is still refused', async () => {
      const pmc = new Client(all.map((s) => s.address), { keyPrefix: 'pre:' });
      clients.push(pmc);
      const before = await snapshot(all);
      for (const key of ['', 42, null, undefined]) {
        for (const [method, call] of KEY_CALLS) {
          const err = await rejection(() => call(pmc, key), `${method}(${JSON.stringify(key)}) with keyPrefix`);
          expect(err, `${method}(${JSON.stringify(key)})`).toBeInstanceOf(InvalidKeyError);
        }
      }
      expect(await snapshot(all)).toEqual(before);
    });
  });

  describe('injection is impossible', () => {
    const SENTINEL = 'sentinel';
    const injections = [
      'a\r\nflush_all',
      'a\r\nflush_all\r\n',
      'x 0 0 1\r\ny',
      'x 0 0 1\r\ny\r\n',
      `k\r\ndelete ${SENTINEL}`,
      `k\r\ndelete ${SENTINEL}\r\n`,
      'y\r\nset y 0 0 1\r\nz',
      'a\nflush_all',
      'a\u0000\r\nflush_all',
      `k delete ${SENTINEL}`,
    ];
    const STRAY = ['a', 'x', 'y', 'z', 'k', 'flush_all', 'delete', 'good1', 'good2'];

    beforeAll(async () => {
      for (const s of all) {
        expect(await s.command(`set ${SENTINEL} 0 0 5\r\nalive\r\n`)).toBe('STORED\r\n');
        for (const k of STRAY) await s.command(`delete ${k}\r\n`);
      }
    });

    it('get/set/delete/getMulti/touch/incr (and every other key method) refuse injected keys; nothing reaches any server', async () => {
      const before = await snapshot(all);
      let calls = 0;
      for (const key of injections) {
        for (const [method, call] of KEY_CALLS) {
          const err = await rejection(() => call(mc, key), `${method}(${JSON.stringify(key)})`);
          expect(err, `${method}(${JSON.stringify(key)})`).toBeInstanceOf(InvalidKeyError);
          calls++;
        }
      }
      expect(calls).toBe(injections.length * KEY_CALLS.length);
      // Counters first (the raw gets below move cmd_get themselves).
      expect(await snapshot(all)).toEqual(before);
      for (const s of all) {
        expect(await s.command(`get ${SENTINEL}\r\n`)).toBe(`VALUE ${SENTINEL} 0 5\r\nalive\r\nEND\r\n`);
        for (const k of STRAY) expect(await s.command(`get ${k}\r\n`), `${k} on ${s.address}`).toBe('END\r\n');
      }
    });

    it('a cas token, a delta or a stats group cannot smuggle a command either', async () => {
      const before = await snapshot(all);
      const errs = [
        await rejection(() => mc.cas('good1', 'v', '1\r\nflush_all')),
        await rejection(() => mc.cas('good1', 'v', '1 noreply')),
        await rejection(() => mc.cas('good1', 'v', 'abc')),
        await rejection(() => mc.cas('good1', 'v', '')),
        await rejection(() => mc.cas('good1', 'v', 5 as unknown as string)),
        await rejection(() => mc.incr('good1', '1\r\nflush_all' as unknown as number)),
        await rejection(() => mc.incr('good1', -1)),
        await rejection(() => mc.incr('good1', 1.5)),
        await rejection(() => mc.decr('good1', Number.NaN)),
        await rejection(() => mc.incr('good1', 2n ** 64n)),
        await rejection(() => mc.decr('good1', -1n)),
        await rejection(() => mc.stats('items\r\nflush_all')),
        await rejection(() => mc.stats('items flush_all')),
        await rejection(() => mc.flush(-1)),
        await rejection(() => mc.flush(1.5)),
        await rejection(() => mc.flush('0\r\nflush_all' as unknown as number)),
        await rejection(() => mc.append('good1', 42 as unknown as string)),
      ];
      for (const err of errs) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_ARGUMENT');
      }
      expect(await snapshot(all)).toEqual(before);
      for (const s of all) expect(await s.command(`get ${SENTINEL}\r\n`)).toBe(`VALUE ${SENTINEL} 0 5\r\nalive\r\nEND\r\n`);
    });

    it('getMulti with one bad key among good ones rejects without sending anything (cmd_get unchanged)', async () => {
      const good = Array.from({ length: 30 }, (_, i) => `gm-good-${i}`);
      await mc.setMulti(good.map((k) => [k, k] as const));
      const before = await snapshot(all);
      for (const bad of ['gm bad', 'gm\r\nflush_all', '', 'b'.repeat(251)]) {
        for (const at of [0, 15, 30]) {
          const keys = [...good.slice(0, at), bad, ...good.slice(at)];
          for (const call of [() => mc.getMulti(keys), () => mc.getsMulti(keys), () => mc.gatMulti(keys, 100), () => mc.getMultiSettled(keys)]) {
            expect(await rejection(call)).toBeInstanceOf(InvalidKeyError);
          }
        }
      }
      expect(await snapshot(all)).toEqual(before);
      // The good keys really are there: a partial send would have been counted.
      expect((await mc.getMulti(good)).size).toBe(good.length);
      const after = await snapshot(all);
      expect(after.reduce((n, s) => n + Number(s.get_hits), 0) - before.reduce((n, s) => n + Number(s.get_hits), 0)).toBe(good.length);
    });
  });

  describe('invalid TTLs', () => {
    const badTtls: Array<[string, unknown]> = [
      ['negative', -1],
      ['fractional', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['a string', '10'],
      ['null', null],
      ['past 2038', 2 ** 31],
    ];
    const TTL_CALLS: Array<[string, (mc: Client, ttl: number) => Promise<unknown>]> = [
      ['set', (mc, ttl) => mc.set('ttl-k', 'v', { ttl })],
      ['add', (mc, ttl) => mc.add('ttl-k', 'v', { ttl })],
      ['replace', (mc, ttl) => mc.replace('ttl-k', 'v', { ttl })],
      ['cas', (mc, ttl) => mc.cas('ttl-k', 'v', '1', { ttl })],
      ['touch', (mc, ttl) => mc.touch('ttl-k', ttl)],
      ['gat', (mc, ttl) => mc.gat('ttl-k', ttl)],
      ['gats', (mc, ttl) => mc.gats('ttl-k', ttl)],
      ['gatMulti', (mc, ttl) => mc.gatMulti(['ttl-k'], ttl)],
      ['gatsMulti', (mc, ttl) => mc.gatsMulti(['ttl-k'], ttl)],
      ['setMulti', (mc, ttl) => mc.setMulti([['ttl-k', 'v']], { ttl })],
    ];
    for (const [method, call] of TTL_CALLS) {
      it(`${method} with a negative, fractional, NaN, infinite, string, null or post-2038 ttl rejects with InvalidArgumentError and writes nothing`, async () => {
        const before = await snapshot(all);
        for (const [name, ttl] of badTtls) {
          const err = await rejection(() => call(mc, ttl as number), `${method} with ttl ${name}`);
          expect(err, `${method} ttl ${name}`).toBeInstanceOf(InvalidArgumentError);
          expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_ARGUMENT');
          expect((err as Error).message).toMatch(/ttl/i);
        }
        expect(await snapshot(all)).toEqual(before);
      });
    }
  });

  describe('invalid options and server lists', () => {
    const badOptions: Array<[keyof ClientOptions, unknown]> = [
      ['maxConnections', 0],
      ['maxConnections', 1.5],
      ['timeoutMs', -1],
      ['timeoutMs', 0],
      ['timeoutMs', Number.NaN],
      ['timeoutMs', '100'],
      ['connectTimeoutMs', Number.POSITIVE_INFINITY],
      ['validation', 'ping'],
      ['maxValueBytes', -1],
      ['maxBatchKeys', 0],
      ['maxQueue', 0],
      ['failover', 'yes'],
      ['coalesce', 1],
      ['keyPrefix', 5],
      ['serializer', {}],
      ['tls', 'yes'],
    ];
    for (const [option, value] of badOptions) {
      it(`${option}: ${String(value)} -> InvalidOptionError naming ${option}`, () => {
        const err = thrown(() => new Client(all.map((s) => s.address), { [option]: value } as ClientOptions));
        expect(err).toBeInstanceOf(InvalidOptionError);
        expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_OPTION');
        expect((err as Error).message).toContain(option);
      });
    }

    it('minConnections above maxConnections -> InvalidOptionError naming both', () => {
      const err = thrown(() => new Client(all.map((s) => s.address), { minConnections: 5, maxConnections: 2 }));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toContain('minConnections');
      expect((err as Error).message).toContain('maxConnections');
    });

    it('options that are not an object -> InvalidOptionError', () => {
      expect(thrown(() => new Client(all[0]!.address, 'fast' as unknown as ClientOptions))).toBeInstanceOf(InvalidOptionError);
    });

    it('an empty server list -> NoServersError', () => {
      const err = thrown(() => new Client([]));
      expect(err).toBeInstanceOf(NoServersError);
      expect((err as MemclusterError).code).toBe('MC_ERR_NO_SERVERS');
    });

    const badLists: Array<[string, unknown]> = [
      ['host:notaport', ['127.0.0.1:notaport']],
      ['port 0', ['127.0.0.1:0']],
      ['port 70000', ['127.0.0.1:70000']],
      ['an empty location', ['']],
      ['a non-string location', [11211]],
      ['a null list', null],
      ['a weight map with a zero weight', { '127.0.0.1:11211': 0 }],
    ];
    for (const [name, list] of badLists) {
      it(`a server list with ${name} -> InvalidOptionError`, () => {
        const err = thrown(() => new Client(list as string[]));
        expect(err).toBeInstanceOf(InvalidOptionError);
        expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_OPTION');
      });
    }

    it('a server listed twice -> InvalidOptionError naming it', () => {
      const a = all[0]!.address;
      const err = thrown(() => new Client([a, all[1]!.address, a]));
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toContain(a);
    });

    it('a bad option leaves no sockets or timers behind (nothing connects)', async () => {
      const before = await Promise.all(all.map(async (s) => Number((await s.stats()).total_connections)));
      for (let i = 0; i < 5; i++) thrown(() => new Client(all.map((s) => s.address), { timeoutMs: -1 }));
      const after = await Promise.all(all.map(async (s) => Number((await s.stats()).total_connections)));
      // Each raw `stats` above opened exactly one connection of its own.
      after.forEach((n, i) => expect(n).toBe(before[i]! + 1));
    });
  });
});
