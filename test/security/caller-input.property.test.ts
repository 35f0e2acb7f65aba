/**
 * Hostile caller input: keys, values and TTLs of every type, and result objects keyed by names
 * like `__proto__`. Nothing a caller passes can inject a command: whatever passes key validation
 * is one wire token, and whatever is refused is refused with a typed error before a byte is
 * written (proved on a real server: its `cmd_set` moves exactly once per accepted call).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Client, InvalidArgumentError, InvalidKeyError, InvalidValueError, MemclusterError,
} from '../../src/index.js';
import { encodeArith, encodeDelete, encodeGat, encodeGet, encodeStore, encodeTouch } from '../support/encoded.js';
import { validateKey } from '../../src/protocol/keys.js';
import { MAX_RELATIVE_TTL } from '../../src/client/ttl.js';
import { useMemcached } from '../support/memcached.js';
import { fcParams, PROPERTY_TIMEOUT } from './support.js';

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

const char = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((c) => String.fromCharCode(c));

/** Strings that probe every rule: control bytes, space, DEL, multi-byte characters, lone surrogates, 250-byte edges. */
const keyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: char(0x21, 0x7e), minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof({ weight: 8, arbitrary: char(0x21, 0x7e) }, { weight: 1, arbitrary: char(0, 0x7f) }), maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: char(0, 0xffff), maxLength: 30 }) }, // lone surrogates included
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  // Around the 250-byte limit, in 1-, 2-, 3- and 4-byte characters.
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('k', 'é', '日', '😀'), fc.integer({ min: 60, max: 260 }), fc.string({ unit: char(0x21, 0x7e), maxLength: 3 }))
    .map(([c, n, tail]) => c.repeat(Math.ceil(n / Buffer.byteLength(c))).slice(0, n) + tail) },
  // Command injection attempts.
  { weight: 1, arbitrary: fc.constantFrom('a 0 0 1\r\nx', 'k\r\nflush_all', 'k\nflush_all', 'k\rx', 'k\0x', 'k x', 'k\tx', 'k\x7f', 'k\u0085x', 'k\u2028x', '\ufeffk', 'get k', 'k\r\n') },
);

function wellFormedUtf16(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** The rule, stated on bytes: 1-250 UTF-8 bytes, none <= 0x20 or 0x7f, and the string survives UTF-8. */
function keyIsSafe(key: unknown): boolean {
  if (typeof key !== 'string' || !wellFormedUtf16(key)) return false;
  const bytes = Buffer.from(key, 'utf8');
  return bytes.length >= 1 && bytes.length <= 250 && bytes.every((c) => c > 0x20 && c !== 0x7f);
}

/** CR/LF positions in a buffer. */
function lineBreaks(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10 || buf[i] === 13) out.push(i);
  return out;
}

describe('key validation (property-based)', () => {
  it('validateKey accepts exactly the keys that are safe on the wire, and refuses the rest with InvalidKeyError', { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(fc.property(fc.oneof({ weight: 9, arbitrary: keyString }, { weight: 1, arbitrary: fc.anything() }), (key) => {
      let accepted: number | undefined;
      let error: unknown;
      try {
        accepted = validateKey(key);
      } catch (err) {
        error = err;
      }
      if (keyIsSafe(key)) {
        expect(error, `safe key refused: ${JSON.stringify(key)}`).toBeUndefined();
        expect(accepted).toBe(Buffer.byteLength(key as string, 'utf8'));
      } else {
        expect(error, `unsafe key accepted: ${JSON.stringify(key)}`).toBeInstanceOf(InvalidKeyError);
        expect((error as InvalidKeyError).code).toBe('MC_ERR_INVALID_KEY');
      }
    }), fcParams(6000));
  });

  it('whatever passes is one token: every request line built from accepted keys has exactly one \\r\\n, at its end', { timeout: PROPERTY_TIMEOUT }, () => {
    const valid = (k: string): boolean => { try { validateKey(k); return true; } catch { return false; } };
    // Mostly keys that pass (filtering keyString alone would discard most draws).
    const accepted = fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: char(0x21, 0x7e), minLength: 1, maxLength: 40 }) },
      { weight: 2, arbitrary: fc.string({ unit: fc.oneof(char(0x21, 0x7e), char(0x80, 0xd7ff), char(0xe000, 0xffff)), minLength: 1, maxLength: 40 }) },
      { weight: 1, arbitrary: keyString },
    ).filter(valid);
    fc.assert(fc.property(
      fc.array(accepted, { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0x7fffffff }),
      fc.uint8Array({ maxLength: 64 }), fc.constantFrom('set', 'add', 'replace', 'append', 'prepend') as fc.Arbitrary<'set'>,
      (keys, flags, exptime, data, cmd) => {
        const get = encodeGet('get', keys);
        expect(lineBreaks(get)).toEqual([get.length - 2, get.length - 1]);
        expect(get.toString('utf8', 0, get.length - 2).split(' ')).toEqual(['get', ...keys]);

        const gat = encodeGat('gat', exptime, keys);
        expect(lineBreaks(gat)).toEqual([gat.length - 2, gat.length - 1]);
        expect(gat.toString('utf8', 0, gat.length - 2).split(' ')).toEqual(['gat', String(exptime), ...keys]);

        const key = keys[0]!;
        const store = encodeStore(cmd, key, flags, exptime, Buffer.from(data));
        const eol = store.indexOf('\r\n');
        const header = store.subarray(0, eol);
        expect(lineBreaks(header), 'no CR/LF inside the command line').toEqual([]);
        expect(header.toString('utf8').split(' ')).toEqual([cmd, key, String(flags), String(exptime), String(data.length)]);
        expect(store.length).toBe(eol + 2 + data.length + 2);
        expect(store.subarray(eol + 2, eol + 2 + data.length).equals(Buffer.from(data))).toBe(true);
        expect(store.subarray(store.length - 2).toString('latin1')).toBe('\r\n');

        for (const line of [encodeDelete(key), encodeTouch(key, exptime), encodeArith('incr', key, '18446744073709551615')]) {
          expect(lineBreaks(line)).toEqual([line.length - 2, line.length - 1]);
          expect(line.toString('utf8').split(' ')[1]?.replace(/\r\n$/, '')).toBe(key);
        }
      },
    ), fcParams(2000));
  });
});

// ---------------------------------------------------------------------------------------------
// Values and TTLs through a real server
// ---------------------------------------------------------------------------------------------

const MAX_VALUE = 2048;

/** What the default serializer gives back for a value it accepted (its documented semantics). */
function roundTripped(v: unknown): unknown {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number(String(v)); // decimal text: -0 reads back as 0
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v);
  return JSON.parse(JSON.stringify(v) as string);
}

/** Which typed error the client must give for (key, value, ttl), or undefined when it must store. */
function expectedRefusal(key: unknown, value: unknown, ttl: unknown, nowMs: number): (new (...a: never[]) => MemclusterError) | undefined {
  if (!keyIsSafe(key)) return InvalidKeyError;
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0) return InvalidArgumentError;
    if (ttl > MAX_RELATIVE_TTL && Math.floor(nowMs / 1000) + ttl > 0x7fffffff) return InvalidArgumentError;
  }
  if (value === undefined) return InvalidValueError;
  let bytes: number;
  if (typeof value === 'string') bytes = Buffer.byteLength(value);
  else if (typeof value === 'number') bytes = String(value).length;
  else if (Buffer.isBuffer(value) || value instanceof Uint8Array) bytes = value.byteLength;
  else if (typeof value === 'object' || typeof value === 'boolean') {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      return InvalidValueError;
    }
    if (text === undefined) return InvalidValueError;
    bytes = Buffer.byteLength(text);
  } else return InvalidValueError; // bigint, symbol, function
  return bytes > MAX_VALUE ? InvalidValueError : undefined;
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
const deep = (() => {
  const root: unknown[] = [];
  let cur = root;
  for (let i = 0; i < 20_000; i++) {
    const next: unknown[] = [];
    cur.push(next);
    cur = next;
  }
  return root;
})();
const bigBacking = Buffer.alloc(4096, 0x62);
bigBacking.write('VIEW', 100);

/** Values crafted to break serializers: throwing hooks, proxies, cycles, depth, views. */
const HOSTILE_VALUES: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['a bigint', 10n],
  ['a symbol', Symbol('s')],
  ['a function', () => 1],
  ['a circular object', circular],
  ['20,000 nested arrays (JSON.stringify overflows the stack)', deep],
  ['an object whose toJSON throws', { toJSON() { throw new Error('boom'); } }],
  ['an object whose toJSON returns undefined', { toJSON: () => undefined }],
  ['a getter that throws', Object.defineProperty({}, 'x', { enumerable: true, get() { throw new Error('getter'); } })],
  ['a Proxy that throws on every trap', new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getOwnPropertyDescriptor() { throw new Error('trap'); } })],
  ['a bigint inside an object', { n: 1n }],
  ['a string one byte over maxValueBytes', 'x'.repeat(MAX_VALUE + 1)],
  ['a multi-byte string over maxValueBytes in bytes but not in characters', 'é'.repeat(MAX_VALUE / 2 + 1)],
  ['a Buffer over maxValueBytes', Buffer.alloc(MAX_VALUE + 1)],
  ['a Uint8Array view into a larger buffer', new Uint8Array(bigBacking.buffer, bigBacking.byteOffset + 100, 10)],
  ['a value with the protocol in it', 'x\r\nEND\r\nset y 0 0 1\r\nz\r\n'],
  ['a string exactly maxValueBytes long', 'y'.repeat(MAX_VALUE)],
  ['NaN', NaN],
  ['-Infinity', -Infinity],
  ['an object with a __proto__ key', JSON.parse('{"__proto__":{"polluted":true},"a":1}')],
  ['a null-prototype object', Object.assign(Object.create(null), { a: 1 })],
];

const ttlArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, MAX_RELATIVE_TTL, MAX_RELATIVE_TTL + 1, -1, 1.5, NaN, Infinity, 2 ** 53, -0, '60', null, [60], { ttl: 1 }, Object.create(null)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 31 - 1 }) },
  // Around the January 2038 limit of an absolute exptime (kept 5 s clear of the exact edge).
  { weight: 1, arbitrary: fc.integer({ min: 5, max: 1000 }).chain((d) => fc.constantFrom(0x7fffffff - Math.floor(Date.now() / 1000) - d, 0x7fffffff - Math.floor(Date.now() / 1000) + d)) },
  { weight: 1, arbitrary: fc.anything() },
).filter(describable);

/**
 * The TTL check builds its message with JSON.stringify, which throws on a BigInt or a cycle (see the
 * tests below); the property leaves those to them.
 */
function describable(v: unknown): boolean {
  try {
    JSON.stringify(v);
    return true;
  } catch {
    return false;
  }
}

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withObjectString: true, withBigInt: true }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 50 }) },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.boolean()) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_VALUE - 8, max: MAX_VALUE + 8 }).map((n) => 'v'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_VALUES.map(([, v]) => v)) },
);

/** Strings whose UTF-8 encoding round-trips (no lone surrogates); see the known-gap test below. */
const storesFaithfully = (v: unknown): boolean => typeof v !== 'string' || wellFormedUtf16(v);

async function settled(p: () => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; err: unknown }> {
  let promise: Promise<unknown>;
  try {
    promise = p();
  } catch (err) {
    throw new Error(`threw synchronously instead of rejecting: ${String(err)}`);
  }
  return promise.then((value) => ({ ok: true as const, value }), (err: unknown) => ({ ok: false as const, err }));
}

describe('values, TTLs and keys through Client#set against a real server', () => {
  const servers = useMemcached(1);

  async function cmdSet(): Promise<number> {
    return Number((await servers[0]!.stats()).cmd_set);
  }

  it.each(HOSTILE_VALUES)('%s: stored faithfully, or refused with a typed error before anything is written', async (_name, value) => {
    const client = new Client([servers[0]!.address], { maxValueBytes: MAX_VALUE });
    try {
      const before = await cmdSet();
      const o = await settled(() => client.set('hostile', value));
      const refusal = expectedRefusal('hostile', value, undefined, Date.now());
      if (refusal) {
        expect(o.ok).toBe(false);
        expect((o as { err: unknown }).err).toBeInstanceOf(refusal);
        expect(await cmdSet(), 'nothing reached the server').toBe(before);
      } else {
        expect(o).toEqual({ ok: true, value: true });
        expect(await client.get('hostile')).toEqual(roundTripped(value));
        expect(await cmdSet()).toBe(before + 1);
      }
    } finally {
      await client.close();
    }
  });

  it('property: any key, value and TTL either round-trips or is refused with the right typed error, and refusals write nothing', { timeout: PROPERTY_TIMEOUT }, async () => {
    const client = new Client([servers[0]!.address], { maxValueBytes: MAX_VALUE });
    const key = fc.oneof({ weight: 3, arbitrary: fc.string({ unit: char(0x21, 0x7e), minLength: 1, maxLength: 30 }) }, { weight: 1, arbitrary: keyString }, { weight: 1, arbitrary: fc.anything() });
    let stored = 0;
    let refused = 0;
    const before = await cmdSet();
    try {
      await fc.assert(fc.asyncProperty(key, valueArb.filter(storesFaithfully), ttlArb, async (k, v, ttl) => {
        const refusal = expectedRefusal(k, v, ttl, Date.now());
        const o = await settled(() => client.set(k as string, v, { ttl: ttl as number }));
        if (refusal) {
          refused++;
          expect(o.ok, `expected ${refusal.name}`).toBe(false);
          expect((o as { err: unknown }).err).toBeInstanceOf(refusal);
          return;
        }
        stored++;
        expect(o, `set(${JSON.stringify(k)}) should store`).toEqual({ ok: true, value: true });
        const read = await client.get(k as string);
        // A TTL of a second or two may pass between set and get on a loaded machine.
        if (read === undefined && typeof ttl === 'number' && ttl > 0 && ttl <= 2) return;
        expect(read).toEqual(roundTripped(v));
      }), fcParams(500, {}, true));
      expect(await cmdSet() - before, 'cmd_set moved once per accepted set, never for a refused one').toBe(stored);
      expect(refused).toBeGreaterThan(0);
      expect(stored).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  // A lone UTF-16 surrogate cannot be encoded as UTF-8 (Buffer.from would put U+FFFD in its place):
  // such a string value is refused, as such a key is.
  it('a string value with a lone surrogate is refused or read back unchanged', async () => {
    const client = new Client([servers[0]!.address]);
    try {
      const value = 'a\ud800b';
      const o = await settled(() => client.set('lone-surrogate', value));
      if (o.ok) expect(await client.get('lone-surrogate')).toBe(value);
      else expect((o as { err: unknown }).err).toBeInstanceOf(InvalidValueError);
    } finally {
      await client.close();
    }
  });
});

describe('arguments whose error message is hard to build', () => {
  // Validation refuses these before writing, and the message must be built without JSON.stringify,
  // String() or template literals that throw on a BigInt, a cycle, a Symbol or a null-prototype
  // object (src/text.ts describeValue), so the caller gets a MemclusterError, not a raw TypeError.
  const servers = useMemcached(1);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const cases: Array<[string, (c: Client) => Promise<unknown>]> = [
    ['set with a BigInt ttl', (c) => c.set('k', 1, { ttl: 60n as unknown as number })],
    ['set with a cyclic ttl', (c) => c.set('k', 1, { ttl: cycle as unknown as number })],
    ['touch with a BigInt ttl', (c) => c.touch('k', 5n as unknown as number)],
    ['cas with a BigInt token', (c) => c.cas('k', 1, 5n as unknown as string)],
    ['stats with a BigInt group', (c) => c.stats(1n as unknown as string)],
    ['flush with a Symbol delay', (c) => c.flush(Symbol('d') as unknown as number)],
    ['incr with a null-prototype delta', (c) => c.incr('k', Object.create(null) as number)],
    ['new Client with a BigInt option', async () => new Client(['127.0.0.1:1'], { timeoutMs: 5n as unknown as number })],
    ['new Client with a cyclic server list', async () => new Client(cycle as unknown as string[])],
  ];
  it.each(cases)('%s rejects with a MemclusterError', async (_name, call) => {
    const client = new Client([servers[0]!.address]);
    try {
      const before = Number((await servers[0]!.stats()).cmd_set);
      const o = await settled(() => call(client));
      expect(o.ok).toBe(false);
      expect(Number((await servers[0]!.stats()).cmd_set)).toBe(before); // nothing is written
      expect((o as { err: unknown }).err).toBeInstanceOf(MemclusterError);
    } finally {
      await client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Result objects
// ---------------------------------------------------------------------------------------------

const PROTO_KEYS = [
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable',
  'toLocaleString', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'then', 'get', 'set', 'size',
];

function noPollution(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  expect(typeof probe.hasOwnProperty).toBe('function');
  expect(typeof probe.toString).toBe('function');
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

describe('multi-key results with prototype-named keys', () => {
  const servers = useMemcached(1);

  it('keys like __proto__ and constructor are stored and read back as plain Map entries, with no prototype pollution', async () => {
    const client = new Client([servers[0]!.address]);
    try {
      const values = new Map<string, unknown>(PROTO_KEYS.map((k, i) => [k, i % 3 === 0 ? { polluted: true, key: k } : `value of ${k}`]));
      values.set('__proto__', JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'));
      for (const [k, v] of values) expect(await client.set(k, v)).toBe(true);

      const got = await client.getMulti(PROTO_KEYS);
      expect(got).toBeInstanceOf(Map);
      expect(got.size).toBe(PROTO_KEYS.length);
      for (const [k, v] of values) expect(got.get(k), k).toEqual(v);
      expect(typeof got.get).toBe('function'); // the keys did not shadow Map methods
      noPollution();

      const settled = await client.getMultiSettled(PROTO_KEYS);
      expect(settled.errors.size).toBe(0);
      expect([...settled.values.keys()].sort()).toEqual([...PROTO_KEYS].sort());
      const withCas = await client.getsMulti(['__proto__', 'constructor']);
      expect(withCas.get('__proto__')?.value).toEqual(values.get('__proto__'));
      expect(withCas.get('constructor')?.cas).toMatch(/^\d+$/);
      const written = await client.setMulti(PROTO_KEYS.map((k) => [k, 1] as const));
      expect(written).toBeInstanceOf(Map);
      expect([...written.values()].every((x) => x === true)).toBe(true);
      const deleted = await client.deleteMulti(PROTO_KEYS);
      expect(deleted.get('__proto__')).toBe(true);
      noPollution();
    } finally {
      await client.close();
    }
  });

  it('property: any mix of prototype-named and ordinary keys, with a key prefix or without, reads back exactly', { timeout: PROPERTY_TIMEOUT }, async () => {
    const clients = [new Client([servers[0]!.address]), new Client([servers[0]!.address], { keyPrefix: '__proto__:' })];
    const keyArb = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ unit: char(0x21, 0x7e), minLength: 1, maxLength: 12 }));
    try {
      await fc.assert(fc.asyncProperty(fc.uniqueArray(keyArb, { minLength: 1, maxLength: 12 }), fc.nat({ max: 1 }), fc.func(fc.boolean()), async (keys, which, present) => {
        const client = clients[which]!;
        const expected = new Map<string, unknown>();
        for (const k of keys) {
          if (present(k)) {
            const v = { k, polluted: true, __proto__: null };
            await client.set(k, v);
            expected.set(k, JSON.parse(JSON.stringify(v)));
          } else {
            await client.delete(k);
          }
        }
        const got = await client.getMulti(keys);
        expect(got).toEqual(expected);
        noPollution();
      }), fcParams(100, {}, true));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
