/**
 * Helpers for the parser tests: run a fresh parser over chunks, cut a reply at every byte
 * boundary, and compare replies as plain data (buffers as hex) so they print readably.
 */
import { expect } from 'vitest';
import { MemclusterError, ProtocolError } from '../../src/errors.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { MetaFlags, ParserOptions, Reply, ReplyKind } from '../../src/protocol/types.js';

export const SERVER = '127.0.0.1:11211';
export const MAX_VALUE = 1 << 20;
export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A meta reply with its data as hex and only the flags that were set. */
export interface PlainMeta { kind: 'meta'; code: string; data?: string; flags: Partial<MetaFlags> }
/** Any reply as plain data: buffers as hex, meta flags reduced to those present. */
export type Plain = Record<string, unknown> & { kind: string };

const NO_FLAGS: MetaFlags = {
  opaque: undefined, key: undefined, cas: undefined, ttl: undefined, clientFlags: undefined, size: undefined,
  hitBefore: undefined, lastAccess: undefined, win: false, stale: false, otherWon: false,
};

function plainMeta(r: Extract<Reply, { kind: 'meta' }>): PlainMeta {
  // Every field must be present (stable shape); only the set ones are kept for comparison.
  expect(Object.keys(r.flags).sort()).toEqual(Object.keys(NO_FLAGS).sort());
  const flags: Partial<MetaFlags> = {};
  for (const [k, v] of Object.entries(r.flags) as Array<[keyof MetaFlags, never]>) if (v !== NO_FLAGS[k]) flags[k] = v;
  expect(r.data === undefined).toBe(r.code !== 'VA');
  return r.data === undefined ? { kind: 'meta', code: r.code, flags } : { kind: 'meta', code: r.code, data: r.data.toString('hex'), flags };
}

export function plain(r: Reply): Plain {
  if (r.kind === 'values') {
    return { kind: 'values', values: r.values.map((v) => ({ key: v.key, flags: v.flags, data: v.data.toString('hex'), cas: v.cas })) };
  }
  if (r.kind === 'meta') return plainMeta(r) as unknown as Plain;
  if (r.kind === 'meta_batch') return { kind: 'meta_batch', replies: r.replies.map(plainMeta), errors: r.errors.map((e) => ({ ...e })) };
  return { ...r };
}

export interface Outcome {
  replies: Plain[];
  errors: MemclusterError[];
  parser: ReplyParser;
}

/** Feeds `chunks` to a fresh parser expecting `kinds` ([kind, maxValues] for a bound); `feed` must never throw. */
export function run(kinds: ReadonlyArray<ReplyKind | [ReplyKind, number]>, chunks: readonly Buffer[], opts: Partial<ParserOptions> = {}): Outcome {
  const raw: Reply[] = [];
  const errors: MemclusterError[] = [];
  const parser = new ReplyParser({ server: SERVER, maxValueBytes: MAX_VALUE, ...opts }, (r) => raw.push(r), (e) => errors.push(e));
  for (const k of kinds) {
    if (typeof k === 'string') parser.expect(k);
    else parser.expect(k[0], k[1]);
  }
  for (const c of chunks) expect(() => parser.feed(c)).not.toThrow();
  // Converted only now, after every feed, so a view into a buffer the parser reused would show up.
  return { replies: raw.map(plain), errors, parser };
}

/** Every way of cutting `wire` in two, plus one byte at a time, plus whole. */
export function splits(wire: Buffer): Buffer[][] {
  const out: Buffer[][] = [[wire]];
  for (let i = 0; i <= wire.length; i++) out.push([wire.subarray(0, i), wire.subarray(i)]);
  const bytewise: Buffer[] = [];
  for (let i = 0; i < wire.length; i++) bytewise.push(wire.subarray(i, i + 1));
  out.push(bytewise);
  return out;
}

/** Exactly `expected` at every split, no error, and `kinds.length - expected.length` still pending. */
export function expectReplies(
  kinds: ReadonlyArray<ReplyKind | [ReplyKind, number]>, wire: Buffer, expected: Plain[], opts: Partial<ParserOptions> = {},
): void {
  for (const chunks of splits(wire)) {
    const o = run(kinds, chunks, opts);
    expect(o.errors).toEqual([]);
    expect(o.replies).toEqual(expected);
    expect(o.parser.pending).toBe(kinds.length - expected.length);
    expect(o.parser.failed).toBe(false);
  }
}

/** Exactly one ProtocolError at every split, after exactly the replies in `before`, and deafness afterwards. */
export function expectFailure(
  kinds: ReadonlyArray<ReplyKind | [ReplyKind, number]>, wire: Buffer, before: Plain[] = [], contains?: string | RegExp,
  opts: Partial<ParserOptions> = {},
): void {
  for (const chunks of splits(wire)) {
    const o = run(kinds, chunks, opts);
    expect(o.errors).toHaveLength(1);
    expect(o.errors[0]).toBeInstanceOf(ProtocolError);
    expect(o.errors[0]!.server).toBe(SERVER);
    if (contains !== undefined) expect(o.errors[0]!.message).toMatch(contains);
    expect(o.errors[0]!.message.length).toBeLessThan(400);
    expect(o.replies).toEqual(before);
    expect(o.parser.failed).toBe(true);
    o.parser.expect('mn');
    o.parser.feed(b('MN\r\nMN\r\n'));
    expect(o.errors).toHaveLength(1);
    expect(o.replies).toHaveLength(before.length);
  }
}

/** A plain meta reply; `data` as text (turned to hex). */
export const meta = (code: string, flags: Partial<MetaFlags> = {}, data?: string | Buffer): Plain =>
  (data === undefined ? { kind: 'meta', code, flags } : { kind: 'meta', code, data: (typeof data === 'string' ? b(data) : data).toString('hex'), flags });
export const batch = (replies: Plain[], errors: Array<{ kind: string; message: string; index: number }> = []): Plain =>
  ({ kind: 'meta_batch', replies, errors });
export const st = (status: string): Plain => ({ kind: 'status', status });
export const sts = (stats: Array<[string, string]>, lines: string[] = [], end: 'END' | 'RESET' | 'OK' | null = 'END'): Plain =>
  ({ kind: 'stats', stats, lines, end });
