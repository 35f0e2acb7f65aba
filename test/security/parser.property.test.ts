/**
 * Hostile or broken server bytes, at the parser: property-based tests that start from valid replies
 * of every kind, classic text and meta (mutate them: flip, overwrite, truncate, duplicate, delete,
 * insert bytes or `\r\n`, forge `VALUE`/`VA` lengths up to and past 4 GB, inject the refusal line) and feed the result split at
 * arbitrary points. Whatever arrives, `feed` never throws, returns quickly, allocates nothing
 * larger than its limits, and the parser ends in replies or in exactly one typed error.
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemclusterError, ProtocolError, TooManyConnectionsError } from '../../src/errors.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { MetaFlags, MetaReply, Reply, ReplyKind } from '../../src/protocol/types.js';
import { fcParams, PROPERTY_TIMEOUT } from './support.js';
import { expectWithinPromise } from '../support/timing.js';

const SERVER = '10.9.8.7:11211';
const MAX_LINE = 8192; // the parser default, and what connections use
const MiB = 1 << 20;
/** Wall-clock bound for one case (feeds plus a 1 MiB terminator); generous for a loaded 2-core box. */
const CASE_MS = 500;

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---------------------------------------------------------------------------------------------
// Valid replies of every kind, with the reply the parser must produce for them.
// ---------------------------------------------------------------------------------------------

type PlainValue = { key: string; flags: number; data: string; cas: string | undefined };
/** A meta reply with data as hex and only the flags that are set. */
type PlainMeta = { kind: 'meta'; code: string; data?: string; flags: Partial<MetaFlags> };
type Plain =
  | Exclude<Reply, { kind: 'values' | 'meta' | 'meta_batch' }>
  | { kind: 'values'; values: PlainValue[] }
  | PlainMeta
  | { kind: 'meta_batch'; replies: PlainMeta[]; errors: Array<{ kind: string; message: string; index: number }> };

const UNSET: MetaFlags = {
  opaque: undefined, key: undefined, cas: undefined, ttl: undefined, clientFlags: undefined, size: undefined,
  hitBefore: undefined, lastAccess: undefined, win: false, stale: false, otherWon: false,
};

function plainMeta(r: MetaReply): PlainMeta {
  const flags: Partial<MetaFlags> = {};
  for (const [k, v] of Object.entries(r.flags) as Array<[keyof MetaFlags, never]>) if (v !== UNSET[k]) flags[k] = v;
  return r.data === undefined ? { kind: 'meta', code: r.code, flags } : { kind: 'meta', code: r.code, data: r.data.toString('hex'), flags };
}

function plain(r: Reply): Plain {
  if (r.kind === 'stats') return { kind: 'stats', stats: r.stats.map(([k, v]) => [k, v]), lines: [...r.lines], end: r.end };
  if (r.kind === 'meta') return plainMeta(r);
  if (r.kind === 'meta_batch') return { kind: 'meta_batch', replies: r.replies.map(plainMeta), errors: r.errors.map((e) => ({ ...e })) };
  if (r.kind !== 'values') return { ...r };
  return { kind: 'values', values: r.values.map((v) => ({ key: v.key, flags: v.flags, data: v.data.toString('hex'), cas: v.cas })) };
}

/** What a request expects: a kind, or a kind and its maxValues. */
type Exp = ReplyKind | readonly [ReplyKind, number];
const kindOf = (e: Exp): ReplyKind => (typeof e === 'string' ? e : e[0]);

interface Wire {
  kind: Exp;
  bytes: Buffer;
  reply: Plain;
}

const printable = (min: number, max: number, withSpace = false): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: withSpace ? 0x20 : 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max });

/** Key bytes as memcached would send them: 1-250 bytes, none <= 0x20 or 0x7f (UTF-8 or not). */
const keyBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: printable(1, 24).map(b) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).map((s) => Buffer.from(s, 'utf8')).filter((k) => k.length <= 250 && k.every((c) => c > 0x20 && c !== 0x7f)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 250 }).map((a) => Buffer.from(a.map((c) => (c <= 0x20 || c === 0x7f ? 0x41 : c)))) },
  { weight: 1, arbitrary: fc.constant(b('k'.repeat(250))) },
);

const TRICKY_DATA = ['', '\r\n', 'END\r\n', '\r\nEND\r\n', 'VALUE k 0 1\r\nx\r\n', 'STORED\r\n', 'ERROR\r\n', '\n', '\r', 'STAT a b\r\n'];
const dataBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a)) },
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY_DATA).map(b) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3000 }).map((n) => Buffer.alloc(n, 0x61)) },
);

const uint64 = fc.oneof(fc.constantFrom('0', '1', '18446744073709551615'), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String));
const flagsArb = fc.oneof(fc.constantFrom(0, 1, 4294967295), fc.integer({ min: 0, max: 0xffffffff }));

const valueEntry = fc.record({ key: keyBytes, flags: flagsArb, data: dataBytes, cas: fc.option(uint64, { nil: undefined }) });

const retrieval: fc.Arbitrary<Wire> = fc.array(valueEntry, { maxLength: 4 }).map((vs) => ({
  kind: 'retrieval' as const,
  bytes: Buffer.concat([
    ...vs.flatMap((v) => [b('VALUE '), v.key, b(` ${v.flags} ${v.data.length}${v.cas === undefined ? '' : ` ${v.cas}`}\r\n`), v.data, b('\r\n')]),
    b('END\r\n'),
  ]),
  reply: { kind: 'values', values: vs.map((v) => ({ key: v.key.toString('utf8'), flags: v.flags, data: v.data.toString('hex'), cas: v.cas })) },
}));

const statLine = fc.tuple(printable(1, 20), fc.option(printable(0, 20, true), { nil: undefined }));
/** A non-STAT stats line: `ITEM ...` (cachedump) or `PREFIX ...` (detail dump). */
const otherLine = fc.tuple(fc.constantFrom('ITEM ', 'PREFIX '), printable(0, 30, true)).map(([w, rest]) => `${w}${rest}`);
const stats: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.array(statLine, { maxLength: 6 }), fc.array(otherLine, { maxLength: 3 })).map(([st, other]) => ({
    kind: 'stats' as const,
    bytes: b(`${st.map(([k, v]) => `STAT ${k}${v === undefined ? '' : ` ${v}`}\r\n`).join('')}${other.map((l) => `${l}\r\n`).join('')}END\r\n`),
    reply: { kind: 'stats', stats: st.map(([k, v]) => [k, v ?? '']), lines: other, end: 'END' } as Plain,
  })) },
  { weight: 1, arbitrary: fc.constantFrom('RESET', 'OK').map((w) => ({ kind: 'stats' as const, bytes: b(`${w}\r\n`), reply: { kind: 'stats', stats: [], lines: [], end: w } as Plain })) },
  { weight: 1, arbitrary: statLine.map(([k, v]) => ({
    kind: 'stats_line' as const, bytes: b(`STAT ${k}${v === undefined ? '' : ` ${v}`}\r\n`), reply: { kind: 'stats', stats: [[k, v ?? '']], lines: [], end: null } as Plain,
  })) },
);

/** Meta return flags in any order, each at most once, with the wire text and the parsed value. */
type F = [string, Buffer, Partial<MetaFlags>];
const metaFlag: fc.Arbitrary<F> = fc.oneof<fc.Arbitrary<F>[]>(
  printable(1, 31).map((o): F => ['O', b(`O${o}`), { opaque: o }]),
  keyBytes.map((k): F => ['k', Buffer.concat([b('k'), k]), { key: k.toString('utf8') }]),
  uint64.map((c): F => ['c', b(`c${c}`), { cas: c }]),
  fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map((t): F => ['t', b(`t${t}`), { ttl: t }]),
  flagsArb.map((f): F => ['f', b(`f${f}`), { clientFlags: f }]),
  fc.nat().map((n): F => ['s', b(`s${n}`), { size: n }]),
  fc.nat().map((n): F => ['l', b(`l${n}`), { lastAccess: n }]),
  fc.boolean().map((h): F => ['h', b(`h${h ? 1 : 0}`), { hitBefore: h }]),
  fc.constantFrom<F>(['W', b('W'), { win: true }], ['X', b('X'), { stale: true }], ['Z', b('Z'), { otherWon: true }]),
);
const metaFlags = fc.uniqueArray(metaFlag, { selector: (f) => f[0], maxLength: 6 });

/** One meta reply line (+ data for VA), as bytes and as the plain reply. */
const metaLine: fc.Arbitrary<{ bytes: Buffer; reply: PlainMeta }> = fc.tuple(fc.constantFrom('VA', 'VA', 'HD', 'EN', 'NF', 'NS', 'EX'), metaFlags, dataBytes)
  .map(([code, flags, data]) => {
    const head = code === 'VA' ? `VA ${data.length}` : code;
    const parts = [b(head), ...flags.flatMap(([, wire]) => [b(' '), wire]), b('\r\n'), ...(code === 'VA' ? [data, b('\r\n')] : [])];
    const parsed: Partial<MetaFlags> = Object.assign({}, ...flags.map(([, , v]) => v));
    const reply: PlainMeta = code === 'VA' ? { kind: 'meta', code, data: data.toString('hex'), flags: parsed } : { kind: 'meta', code, flags: parsed };
    return { bytes: Buffer.concat(parts), reply };
  });

const metaErrorLine = fc.tuple(fc.constantFrom('ERROR', 'CLIENT_ERROR', 'SERVER_ERROR'), fc.option(printable(0, 40, true), { nil: undefined }))
  .map(([word, msg]) => ({ line: `${word}${msg === undefined ? '' : ` ${msg}`}\r\n`, kind: word === 'ERROR' ? 'error' : word === 'CLIENT_ERROR' ? 'client_error' : 'server_error', message: msg ?? '' }));

const metaOne: fc.Arbitrary<Wire> = metaLine.map((m) => ({ kind: 'meta' as const, bytes: m.bytes, reply: m.reply }));

/** A quiet batch: reply lines and error lines in any order, then MN; maxValues = replies + errors (+ slack). */
const metaBatch: fc.Arbitrary<Wire> = fc.tuple(fc.array(fc.oneof({ weight: 4, arbitrary: metaLine }, { weight: 1, arbitrary: metaErrorLine }), { maxLength: 5 }), fc.nat({ max: 3 }))
  .map(([items, slack]) => {
    const replies: PlainMeta[] = [];
    const errors: Array<{ kind: string; message: string; index: number }> = [];
    for (const it of items) {
      if ('reply' in it) replies.push(it.reply);
      else errors.push({ kind: it.kind, message: it.message, index: replies.length });
    }
    return {
      kind: ['meta_batch', Math.max(1, replies.length + errors.length + slack)] as const,
      bytes: Buffer.concat([...items.map((it) => ('bytes' in it ? it.bytes : b(it.line))), b('MN\r\n')]),
      reply: { kind: 'meta_batch', replies, errors },
    };
  });

const status = (kind: ReplyKind, ...words: string[]): fc.Arbitrary<Wire> =>
  fc.constantFrom(...words).map((w) => ({ kind, bytes: b(`${w}\r\n`), reply: { kind: 'status', status: w } as Plain }));

const version: fc.Arbitrary<Wire> = fc.oneof(fc.constant('1.6.18'), printable(1, 30, true).filter((s) => s.trim() === s && s.length > 0))
  .map((v) => ({ kind: 'version' as const, bytes: b(`VERSION ${v}\r\n`), reply: { kind: 'version', version: v } }));

const arith: fc.Arbitrary<Wire> = fc.oneof(
  uint64.map((n) => ({ kind: 'arith' as const, bytes: b(`${n}\r\n`), reply: { kind: 'number', value: n } as Plain })),
  status('arith', 'NOT_FOUND'),
);

const KINDS: ReplyKind[] = ['retrieval', 'store', 'delete', 'touch', 'arith', 'ok', 'version', 'stats', 'stats_line', 'mn', 'auth', 'meta', 'meta_batch'];

/** `ERROR`, `CLIENT_ERROR <msg>` or `SERVER_ERROR <msg>`, as the reply to a request of any kind but a meta batch (which collects them). */
const errorReply: fc.Arbitrary<Wire> = fc.tuple(fc.constantFrom(...KINDS.filter((k) => k !== 'meta_batch')), fc.constantFrom('ERROR', 'CLIENT_ERROR', 'SERVER_ERROR'), fc.option(printable(0, 40, true), { nil: undefined }))
  .map(([kind, word, msg]) => ({
    kind,
    bytes: b(`${word}${msg === undefined ? '' : ` ${msg}`}\r\n`),
    reply: { kind: word === 'ERROR' ? 'error' : word === 'CLIENT_ERROR' ? 'client_error' : 'server_error', message: msg ?? '' } as Plain,
  }));

/** One valid reply of any kind. */
const wireReply: fc.Arbitrary<Wire> = fc.oneof(
  { weight: 6, arbitrary: retrieval },
  { weight: 1, arbitrary: status('store', 'STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND') },
  { weight: 1, arbitrary: status('delete', 'DELETED', 'NOT_FOUND') },
  { weight: 1, arbitrary: status('touch', 'TOUCHED', 'NOT_FOUND') },
  { weight: 1, arbitrary: arith },
  { weight: 1, arbitrary: status('ok', 'OK') },
  { weight: 1, arbitrary: version },
  { weight: 2, arbitrary: stats },
  { weight: 1, arbitrary: status('mn', 'MN') },
  { weight: 1, arbitrary: status('auth', 'STORED') },
  { weight: 2, arbitrary: errorReply },
  { weight: 4, arbitrary: metaOne },
  { weight: 3, arbitrary: metaBatch },
);

const pipeline = fc.array(wireReply, { minLength: 1, maxLength: 6 });

// ---------------------------------------------------------------------------------------------
// Mutations and splits.
// ---------------------------------------------------------------------------------------------

/** Lengths a broken or hostile server might put in a VALUE line. */
const forgedLength: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('4294967295', '4294967296', '4294967297', '2147483648', '18446744073709551615', '18446744073709551616',
    '99999999999999999999999999', '0', '-1', '1e9', '0x10', '', '+5', '00000000000000000000001', '1.5', ' 7', '9007199254740993'),
  fc.bigInt({ min: 0n, max: 2n ** 33n }).map(String),
  fc.integer({ min: 0, max: 5000 }).map(String),
);

type Mutation =
  | { t: 'flip'; at: number; bit: number }
  | { t: 'set'; at: number; byte: number }
  | { t: 'truncate'; at: number }
  | { t: 'duplicate'; at: number; len: number }
  | { t: 'delete'; at: number; len: number }
  | { t: 'insert'; at: number; bytes: Uint8Array }
  | { t: 'crlf'; at: number; what: string }
  | { t: 'forge'; nth: number; len: string }
  | { t: 'refusal'; at: number };

const at = fc.nat({ max: 1 << 16 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ t: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ t: fc.constant('set' as const), at, byte: fc.oneof(fc.constantFrom(0, 10, 13, 32, 0x7f, 0xff), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ t: fc.constant('truncate' as const), at }),
  fc.record({ t: fc.constant('duplicate' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ t: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ t: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ t: fc.constant('crlf' as const), at, what: fc.constantFrom('\r\n', '\n', '\r', '\r\n\r\n', 'END\r\n', 'VALUE x 0 1\r\n', 'MN\r\n', 'VA 1 W\r\n', 'HD k\r\n') }),
  { arbitrary: fc.record({ t: fc.constant('forge' as const), nth: fc.nat({ max: 5 }), len: forgedLength }), weight: 3 },
  fc.record({ t: fc.constant('refusal' as const), at }),
);

/** Offsets of `VALUE ` or `VA ` at the start of a line. */
function valueLines(buf: Buffer): number[] {
  const out: number[] = [];
  for (const word of ['VALUE ', 'VA ']) {
    for (let i = buf.indexOf(word); i >= 0; i = buf.indexOf(word, i + 1)) if (i === 0 || buf[i - 1] === 10) out.push(i);
  }
  return out.sort((x, y) => x - y);
}

function mutate(input: Buffer, m: Mutation): Buffer {
  const n = input.length;
  const pos = n === 0 ? 0 : m.t === 'forge' ? 0 : m.at % (n + 1);
  const cat = (...parts: Array<Buffer | Uint8Array>) => Buffer.concat(parts);
  switch (m.t) {
    case 'flip':
    case 'set': {
      if (n === 0) return input;
      const out = Buffer.from(input);
      const i = pos % n;
      out[i] = m.t === 'flip' ? out[i]! ^ (1 << m.bit) : m.byte;
      return out;
    }
    case 'truncate':
      return input.subarray(0, pos);
    case 'duplicate':
      return cat(input.subarray(0, pos), input.subarray(pos, pos + m.len), input.subarray(pos));
    case 'delete':
      return cat(input.subarray(0, pos), input.subarray(pos + m.len));
    case 'insert':
      return cat(input.subarray(0, pos), m.bytes, input.subarray(pos));
    case 'crlf':
      return cat(input.subarray(0, pos), b(m.what), input.subarray(pos));
    case 'refusal':
      return cat(input.subarray(0, pos), b('ERROR Too many open connections\r\n'), input.subarray(pos));
    case 'forge': {
      const lines = valueLines(input);
      if (lines.length === 0) return cat(b(`VALUE k 0 ${m.len}\r\n`), input);
      const start = lines[m.nth % lines.length]!;
      const eol = input.indexOf('\r\n', start);
      const end = eol < 0 ? n : eol;
      const words = input.subarray(start, end).toString('latin1').split(' ');
      if (words[0] === 'VA') {
        words[1] = m.len;
      } else {
        if (words.length < 4) return cat(input.subarray(0, start), b(`VALUE k 0 ${m.len}`), input.subarray(end));
        words[3] = m.len;
      }
      return cat(input.subarray(0, start), b(words.join(' ')), input.subarray(end));
    }
  }
}

/** Cut points (any values, reduced modulo the length) or one byte at a time. */
const splitPlan = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant('bytewise' as const) },
);

function split(wire: Buffer, plan: number[] | 'bytewise'): Buffer[] {
  if (plan === 'bytewise') return Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1));
  const cuts = [...new Set(plan.map((p) => (wire.length === 0 ? 0 : p % (wire.length + 1))))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(wire.subarray(prev, c));
    prev = c;
  }
  out.push(wire.subarray(prev));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driving the parser and checking what it did.
// ---------------------------------------------------------------------------------------------

/** Largest `Buffer.allocUnsafe` size requested while `measuring` (only around `feed`). */
let measuring = false;
let largestAlloc = 0;
beforeEach(() => {
  const original = Buffer.allocUnsafe;
  vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
    if (measuring && size > largestAlloc) largestAlloc = size;
    return original.call(Buffer, size);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

type Event = { t: 'reply'; reply: Reply } | { t: 'error'; err: MemclusterError };

interface Outcome {
  events: Event[];
  replies: Plain[];
  errors: MemclusterError[];
  parser: ReplyParser;
  ms: number;
  largestAlloc: number;
}

/**
 * Feeds `chunks` to a fresh parser expecting `kinds`. `feed` must never throw. With `terminate`,
 * a final chunk of zero bytes longer than any value plus any line follows: a parser that is still
 * waiting must then fail (a NUL can complete no line and no data trailer), so every case ends in
 * replies plus exactly one error.
 */
function drive(kinds: readonly Exp[], chunks: readonly Buffer[], maxValueBytes: number, terminate: boolean): Outcome {
  const events: Event[] = [];
  const parser = new ReplyParser({ server: SERVER, maxValueBytes }, (reply) => events.push({ t: 'reply', reply }), (err) => events.push({ t: 'error', err }));
  for (const k of kinds) {
    if (typeof k === 'string') parser.expect(k);
    else parser.expect(k[0], k[1]);
  }
  largestAlloc = 0;
  const started = performance.now();
  const feed = (c: Buffer): void => {
    measuring = true;
    try {
      parser.feed(c);
    } catch (err) {
      throw new Error(`feed() threw: ${String(err)}`);
    } finally {
      measuring = false;
    }
  };
  for (const c of chunks) feed(c);
  if (terminate) feed(terminator(maxValueBytes));
  const ms = performance.now() - started;
  const replies = events.flatMap((e) => (e.t === 'reply' ? [plain(e.reply)] : []));
  const errors = events.flatMap((e) => (e.t === 'error' ? [e.err] : []));
  return { events, replies, errors, parser, ms, largestAlloc };
}

const terminators = new Map<number, Buffer>();
function terminator(maxValueBytes: number): Buffer {
  let t = terminators.get(maxValueBytes);
  if (!t) terminators.set(maxValueBytes, (t = Buffer.alloc(maxValueBytes + MAX_LINE + 16, 0)));
  return t;
}

/**
 * Shape of a reply that may answer a request of `kind` (before or after mutation). Text fields never
 * hold `\n` (it ends every line); they may hold a bare `\r` or other control bytes, which the parser
 * passes through (the connection, not the parser, escapes server text in error messages).
 */
function fitsKind(exp: Exp, r: Reply, maxValueBytes: number): boolean {
  if (r.kind === 'error' || r.kind === 'client_error' || r.kind === 'server_error') return typeof r.message === 'string' && !r.message.includes('\n');
  const kind = kindOf(exp);
  switch (kind) {
    case 'retrieval':
      return r.kind === 'values' && r.values.every((v) => v.key.length > 0 && Buffer.byteLength(v.key) <= 250 * 3 && !/[ \n]/.test(v.key)
        && Number.isInteger(v.flags) && v.flags >= 0 && v.flags <= 0xffffffff && v.data.length <= maxValueBytes
        && (v.cas === undefined || (/^\d{1,20}$/.test(v.cas) && BigInt(v.cas) < 2n ** 64n)));
    case 'stats':
      return r.kind === 'stats' && r.stats.every(([k, v]) => k.length > 0 && !/[ \n]/.test(k) && !v.includes('\n'))
        && r.lines.every((l) => /^(ITEM|PREFIX) /.test(l) && !l.includes('\n'))
        && (r.end === 'END' || (r.stats.length === 0 && r.lines.length === 0 && (r.end === 'RESET' || r.end === 'OK')));
    case 'stats_line':
      return r.kind === 'stats' && r.stats.length === 1 && r.lines.length === 0 && r.end === null && r.stats[0]![0].length > 0 && !/[ \n]/.test(r.stats[0]![0]);
    case 'meta':
      return r.kind === 'meta' && metaFits(r, maxValueBytes);
    case 'meta_batch': {
      const requests = typeof exp === 'string' ? Number.MAX_SAFE_INTEGER : exp[1];
      return r.kind === 'meta_batch' && r.replies.length <= requests && r.replies.length + r.errors.length <= 2 * requests
        && r.replies.every((m) => metaFits(m, maxValueBytes))
        && r.errors.every((e, i) => ['error', 'client_error', 'server_error'].includes(e.kind) && !e.message.includes('\n')
          && e.index <= r.replies.length && (i === 0 || e.index >= r.errors[i - 1]!.index));
    }
    case 'version':
      return r.kind === 'version' && r.version.length > 0 && !r.version.includes('\n');
    case 'arith':
      return (r.kind === 'number' && /^\d{1,20}$/.test(r.value) && BigInt(r.value) < 2n ** 64n) || (r.kind === 'status' && r.status === 'NOT_FOUND');
    case 'store':
      return r.kind === 'status' && ['STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND'].includes(r.status);
    case 'delete':
      return r.kind === 'status' && ['DELETED', 'NOT_FOUND'].includes(r.status);
    case 'touch':
      return r.kind === 'status' && ['TOUCHED', 'NOT_FOUND'].includes(r.status);
    case 'ok':
      return r.kind === 'status' && r.status === 'OK';
    case 'mn':
      return r.kind === 'status' && r.status === 'MN';
    case 'auth':
      return r.kind === 'status' && r.status === 'STORED';
  }
}

/** A meta reply line as the grammar promises it: known code, data exactly for VA, flags in range. */
function metaFits(m: MetaReply, maxValueBytes: number): boolean {
  const f = m.flags;
  return ['VA', 'HD', 'EN', 'NF', 'NS', 'EX'].includes(m.code) && (m.data === undefined) === (m.code !== 'VA')
    && (m.data === undefined || m.data.length <= maxValueBytes)
    && Object.keys(f).length === Object.keys(UNSET).length
    && (f.opaque === undefined || (f.opaque.length >= 1 && f.opaque.length <= 32 && !/[\s]/.test(f.opaque)))
    && (f.key === undefined || (f.key.length > 0 && !/[ \n]/.test(f.key)))
    && (f.cas === undefined || (/^\d{1,20}$/.test(f.cas) && BigInt(f.cas) < 2n ** 64n))
    && (f.ttl === undefined || (Number.isInteger(f.ttl) && f.ttl >= -1))
    && (f.clientFlags === undefined || (Number.isInteger(f.clientFlags) && f.clientFlags >= 0 && f.clientFlags <= 0xffffffff))
    && [f.size, f.lastAccess].every((n) => n === undefined || (Number.isSafeInteger(n) && n >= 0))
    && [f.win, f.stale, f.otherWon].every((x) => typeof x === 'boolean');
}

/** Every guarantee that holds whatever the input was. */
function checkInvariants(kinds: readonly Exp[], o: Outcome, maxValueBytes: number, terminated: boolean): void {
  expectWithinPromise(o.ms, CASE_MS, 'one case completes (no runaway or quadratic work)');
  expect(o.largestAlloc, 'no allocation beyond maxValueBytes or one line').toBeLessThanOrEqual(Math.max(maxValueBytes, MAX_LINE + 2));
  expect(o.errors.length).toBeLessThanOrEqual(1);
  if (terminated) expect(o.errors, 'a case always ends in exactly one error once junk follows').toHaveLength(1);
  const errAt = o.events.findIndex((e) => e.t === 'error');
  if (errAt >= 0) {
    expect(errAt, 'nothing after the error').toBe(o.events.length - 1);
    const err = o.errors[0]!;
    expect(err instanceof ProtocolError || err instanceof TooManyConnectionsError, `typed error, got ${err?.constructor?.name}`).toBe(true);
    expect(err.server).toBe(SERVER);
    expect(err.message.length).toBeLessThan(500);
    expect(o.parser.failed).toBe(true);
  }
  expect(o.replies.length).toBeLessThanOrEqual(kinds.length);
  let i = 0;
  for (const e of o.events) {
    if (e.t !== 'reply') continue;
    expect(fitsKind(kinds[i]!, e.reply, maxValueBytes), `reply ${i} ${JSON.stringify(plain(e.reply)).slice(0, 200)} does not fit a ${kinds[i]} request`).toBe(true);
    i++;
  }
  expect(o.parser.pending).toBe(kinds.length - o.replies.length);
}

/** A random expectation: any kind; a meta_batch with a small bound. */
const anyExp: fc.Arbitrary<Exp> = fc.oneof(fc.constantFrom(...KINDS), fc.integer({ min: 1, max: 4 }).map((n) => ['meta_batch', n] as const));

const maxValueArb = fc.oneof({ weight: 1, arbitrary: fc.constant(64) }, { weight: 2, arbitrary: fc.constant(4096) }, { weight: 2, arbitrary: fc.constant(MiB) });

describe('ReplyParser against hostile bytes (property-based)', () => {
  it('valid pipelines of every reply kind, split anywhere, give exactly the expected replies', { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(fc.property(pipeline, splitPlan, (wires, plan) => {
      const wire = Buffer.concat(wires.map((w) => w.bytes));
      const kinds = wires.map((w) => w.kind);
      const o = drive(kinds, split(wire, plan), MiB, false);
      expect(o.errors).toEqual([]);
      expect(o.replies).toEqual(wires.map((w) => w.reply));
      expect(o.parser.pending).toBe(0);
      // The bytes are consumed exactly: anything more is unsolicited and fails the parser.
      checkInvariants(kinds, drive(kinds, split(wire, plan), 4096, true), 4096, true);
    }), fcParams(1000));
  });

  it('mutated valid replies, split anywhere: never throw, never hang, bounded allocation, replies or exactly one typed error', { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(fc.property(pipeline, fc.array(mutation, { minLength: 1, maxLength: 4 }), splitPlan, maxValueArb, fc.boolean(), (wires, muts, plan, maxValue, extraExpect) => {
      const wire = muts.reduce(mutate, Buffer.concat(wires.map((w) => w.bytes)));
      // Sometimes the client expects one reply more than the server sends (or the mutation removed).
      const kinds = [...wires.map((w) => w.kind), ...(extraExpect ? ['retrieval' as const] : [])];
      const o = drive(kinds, split(wire, plan), maxValue, true);
      checkInvariants(kinds, o, maxValue, true);
    }), fcParams(2000));
  });

  it('the outcome does not depend on how the bytes were split', { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(fc.property(pipeline, fc.array(mutation, { maxLength: 3 }), splitPlan, maxValueArb, (wires, muts, plan, maxValue) => {
      const wire = muts.reduce(mutate, Buffer.concat(wires.map((w) => w.bytes)));
      const kinds = wires.map((w) => w.kind);
      const whole = drive(kinds, [wire], maxValue, false);
      const pieces = drive(kinds, split(wire, plan), maxValue, false);
      expect(pieces.replies).toEqual(whole.replies);
      expect(pieces.errors.map((e) => e.constructor.name)).toEqual(whole.errors.map((e) => e.constructor.name));
      expect(pieces.parser.pending).toBe(whole.parser.pending);
    }), fcParams(1000));
  });

  it('random bytes against random expectations: same guarantees', { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(fc.property(fc.array(anyExp, { maxLength: 4 }), fc.uint8Array({ maxLength: 600 }), splitPlan, maxValueArb, (kinds, bytes, plan, maxValue) => {
      const wire = Buffer.from(bytes);
      checkInvariants(kinds, drive(kinds, split(wire, plan), maxValue, true), maxValue, true);
    }), fcParams(1000));
  });

  it('random lines built from protocol words (closer to valid than random bytes): same guarantees', { timeout: PROPERTY_TIMEOUT }, () => {
    const word = fc.oneof(
      fc.constantFrom('VALUE', 'END', 'STAT', 'VERSION', 'STORED', 'NOT_FOUND', 'DELETED', 'TOUCHED', 'OK', 'MN', 'ERROR', 'CLIENT_ERROR', 'SERVER_ERROR', 'EXISTS', 'NOT_STORED',
        'ITEM', 'PREFIX', 'RESET', 'VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'W', 'X', 'Z', 'h1', 't-1', 'kfoo', 'Oabc', 'c1', 'f0', 's3', 'l0', 'b', 'q'),
      forgedLength, printable(1, 8), uint64,
    );
    const line = fc.tuple(fc.array(word, { minLength: 1, maxLength: 6 }), fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '', ' \r\n'))
      .map(([ws, eol]) => `${ws.join(' ')}${eol}`);
    fc.assert(fc.property(fc.array(anyExp, { minLength: 1, maxLength: 4 }), fc.array(line, { minLength: 1, maxLength: 8 }), splitPlan, maxValueArb, (kinds, lines, plan, maxValue) => {
      const wire = b(lines.join(''));
      checkInvariants(kinds, drive(kinds, split(wire, plan), maxValue, true), maxValue, true);
    }), fcParams(1000));
  });
});

describe('ReplyParser: meta batches hold no more than their requests', () => {
  it('one reply line more than the requests in the batch is a protocol error, wherever it lands and however split', { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(fc.property(fc.array(metaLine, { minLength: 1, maxLength: 5 }), metaLine, fc.nat(), splitPlan, (lines, extra, where, plan) => {
      const all = [...lines];
      all.splice(where % (lines.length + 1), 0, extra);
      const wire = Buffer.concat([...all.map((l) => l.bytes), b('MN\r\n')]);
      const o = drive([['meta_batch', lines.length]], split(wire, plan), MiB, false);
      expect(o.replies).toEqual([]);
      expect(o.errors).toHaveLength(1);
      expect(o.errors[0]).toBeInstanceOf(ProtocolError);
      expect(o.errors[0]!.message).toContain(`more meta replies than the ${lines.length} request(s)`);
      // The same lines with a bound that fits are one reply.
      const ok = drive([['meta_batch', all.length]], split(wire, plan), MiB, false);
      expect(ok.errors).toEqual([]);
      expect(ok.replies).toEqual([{ kind: 'meta_batch', replies: all.map((l) => l.reply), errors: [] }]);
    }), fcParams(300));
  });
});

describe('ReplyParser: forged lengths cost nothing', () => {
  it.each(['4294967295', '4294967296', '18446744073709551615', '99999999999999999999999999999999'])('VA claiming %s bytes fails at once without allocating, alone or in a batch, at any split', (len) => {
    for (const exp of ['meta', ['meta_batch', 3]] as const) {
      const wire = b(`VA ${len} f1 kk\r\n`);
      for (let cut = 0; cut <= wire.length; cut++) {
        const o = drive([exp], [wire.subarray(0, cut), wire.subarray(cut)], 1_049_024, false);
        expect(o.errors).toHaveLength(1);
        expect(o.errors[0]!.message).toContain('maxValueBytes');
        expect(o.largestAlloc).toBeLessThanOrEqual(MAX_LINE + 2);
      }
    }
  });

  const FORGED = ['4294967295', '4294967296', '18446744073709551615', '99999999999999999999999999999999'];

  it.each(FORGED)('VALUE claiming %s bytes fails at once without allocating, at any split', (len) => {
    const wire = b(`VALUE k 0 ${len}\r\n`);
    for (let cut = 0; cut <= wire.length; cut++) {
      const o = drive(['retrieval'], [wire.subarray(0, cut), wire.subarray(cut)], 1_049_024, false);
      expect(o.errors).toHaveLength(1);
      expect(o.errors[0]).toBeInstanceOf(ProtocolError);
      expect(o.errors[0]!.message).toMatch(/maxValueBytes|malformed VALUE/);
      expect(o.errors[0]!.server).toBe(SERVER);
      expect(o.largestAlloc).toBeLessThanOrEqual(MAX_LINE + 2);
    }
  });

  it('a 4 GB claim followed by 64 MiB of data leaves memory flat: the data is ignored, not buffered', () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const head = b('VALUE k 0 4294967295\r\n');
    const errors: MemclusterError[] = [];
    const parser = new ReplyParser({ server: SERVER, maxValueBytes: 1_049_024 }, () => expect.fail('no reply expected'), (e) => errors.push(e));
    parser.expect('retrieval');
    globalThis.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    measuring = true;
    largestAlloc = 0;
    parser.feed(head);
    for (let i = 0; i < 1024; i++) parser.feed(chunk);
    measuring = false;
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(largestAlloc).toBeLessThanOrEqual(MAX_LINE + 2);
    expect(grown).toBeLessThan(8 * MiB);
  });

  it('a plausible length is allocated once at its size, never more, even when the data never comes', () => {
    const o = drive(['retrieval'], [b('VALUE k 0 1000000\r\nab'), b('c')], 1_049_024, false);
    expect(o.errors).toEqual([]);
    expect(o.largestAlloc).toBe(1_000_000);
    expect(o.parser.pending).toBe(1); // waiting: the connection's request timeout ends this
  });
});
