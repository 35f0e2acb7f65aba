import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemclusterError, ProtocolError, TooManyConnectionsError } from '../../src/errors.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { ParserOptions, Reply, ReplyKind } from '../../src/protocol/types.js';

const SERVER = '127.0.0.1:11211';
const MAX_VALUE = 1 << 20;

/** A reply with value data turned into hex, so results compare with toEqual and print readably. */
type Plain = Exclude<Reply, { kind: 'values' }> | { kind: 'values'; values: Array<{ key: string; flags: number; data: string; cas: string | undefined }> };

interface Outcome {
  replies: Plain[];
  errors: MemclusterError[];
  parser: ReplyParser;
}

const b = (s: string) => Buffer.from(s, 'latin1');

function plain(r: Reply): Plain {
  if (r.kind !== 'values') return { ...r };
  return { kind: 'values', values: r.values.map((v) => ({ key: v.key, flags: v.flags, data: v.data.toString('hex'), cas: v.cas })) };
}

/** Feeds `chunks` to a fresh parser expecting `kinds`; `feed` must never throw. */
function run(kinds: readonly ReplyKind[], chunks: readonly Buffer[], opts: Partial<ParserOptions> = {}): Outcome {
  const raw: Reply[] = [];
  const errors: MemclusterError[] = [];
  const parser = new ReplyParser({ server: SERVER, maxValueBytes: MAX_VALUE, ...opts }, (r) => raw.push(r), (e) => errors.push(e));
  for (const k of kinds) parser.expect(k);
  for (const c of chunks) expect(() => parser.feed(c)).not.toThrow();
  // Converted only now, after every feed, so a view into a buffer the parser reused would show up.
  return { replies: raw.map(plain), errors, parser };
}

/** Every way of cutting `wire` in two, plus one byte at a time, plus whole. */
function splits(wire: Buffer): Buffer[][] {
  const out: Buffer[][] = [[wire]];
  for (let i = 0; i <= wire.length; i++) out.push([wire.subarray(0, i), wire.subarray(i)]);
  const bytewise: Buffer[] = [];
  for (let i = 0; i < wire.length; i++) bytewise.push(wire.subarray(i, i + 1));
  out.push(bytewise);
  return out;
}

function expectReplies(kinds: readonly ReplyKind[], wire: Buffer, expected: Plain[]): void {
  expectRepliesWith({}, kinds, wire, expected);
}

function expectRepliesWith(opts: Partial<ParserOptions>, kinds: readonly ReplyKind[], wire: Buffer, expected: Plain[]): void {
  for (const chunks of splits(wire)) {
    const o = run(kinds, chunks, opts);
    expect(o.errors).toEqual([]);
    expect(o.replies).toEqual(expected);
    expect(o.parser.pending).toBe(kinds.length - expected.length);
    expect(o.parser.failed).toBe(false);
  }
}

/** Exactly one error of `cls` at every split, after exactly the replies in `before`, and deafness afterwards. */
function expectFailure(
  kinds: readonly ReplyKind[], wire: Buffer, before: Plain[] = [], cls: abstract new (...args: never[]) => MemclusterError = ProtocolError,
  contains?: string, opts: Partial<ParserOptions> = {},
): void {
  for (const chunks of splits(wire)) {
    const o = run(kinds, chunks, opts);
    expect(o.errors).toHaveLength(1);
    expect(o.errors[0]).toBeInstanceOf(cls);
    expect(o.errors[0]!.server).toBe(SERVER);
    if (contains !== undefined) expect(o.errors[0]!.message).toContain(contains);
    expect(o.errors[0]!.message.length).toBeLessThan(400);
    expect(o.replies).toEqual(before);
    expect(o.parser.failed).toBe(true);
    o.parser.expect('mn');
    o.parser.feed(b('MN\r\nMN\r\n'));
    expect(o.errors).toHaveLength(1);
    expect(o.replies).toHaveLength(before.length);
  }
}

const st = (status: string): Plain => ({ kind: 'status', status } as Plain);
const val = (key: string, flags: number, data: Buffer | string, cas?: string) =>
  ({ key, flags, data: (typeof data === 'string' ? b(data) : data).toString('hex'), cas });
const values = (...v: Array<ReturnType<typeof val>>): Plain => ({ kind: 'values', values: v });
const sts = (stats: Array<[string, string]>, lines: string[] = [], end: 'END' | 'RESET' | 'OK' | null = 'END'): Plain => ({ kind: 'stats', stats, lines, end });

const ALL_BYTES = Buffer.alloc(256);
for (let i = 0; i < 256; i++) ALL_BYTES[i] = i;

describe('ReplyParser: every reply type at every split', () => {
  const cases: Array<[string, ReplyKind, Buffer, Plain]> = [
    ['empty retrieval', 'retrieval', b('END\r\n'), values()],
    ['one value', 'retrieval', b('VALUE k 5 3\r\nabc\r\nEND\r\n'), values(val('k', 5, 'abc'))],
    ['several values, max flags', 'retrieval', b('VALUE a 0 1\r\nx\r\nVALUE bb 4294967295 2\r\nyz\r\nEND\r\n'),
      values(val('a', 0, 'x'), val('bb', 4294967295, 'yz'))],
    ['gets with uint64 max cas', 'retrieval', b('VALUE k 1 2 18446744073709551615\r\nhi\r\nVALUE j 0 1 0\r\n!\r\nEND\r\n'),
      values(val('k', 1, 'hi', '18446744073709551615'), val('j', 0, '!', '0'))],
    ['binary value with all 256 bytes', 'retrieval', Buffer.concat([b('VALUE bin 0 256\r\n'), ALL_BYTES, b('\r\nEND\r\n')]),
      values(val('bin', 0, ALL_BYTES))],
    ['value containing protocol text', 'retrieval', b('VALUE t 0 25\r\n\r\nEND\r\nVALUE k 0 1\r\nEND\r\n\r\nEND\r\n'),
      values(val('t', 0, '\r\nEND\r\nVALUE k 0 1\r\nEND\r\n'))],
    ['empty values', 'retrieval', b('VALUE e 0 0\r\n\r\nVALUE f 3 0 7\r\n\r\nEND\r\n'), values(val('e', 0, ''), val('f', 3, '', '7'))],
    ['UTF-8 key', 'retrieval', Buffer.concat([b('VALUE '), Buffer.from('日本é'), b(' 0 1\r\nx\r\nEND\r\n')]), values(val('日本é', 0, 'x'))],
    ['STORED', 'store', b('STORED\r\n'), st('STORED')],
    ['NOT_STORED', 'store', b('NOT_STORED\r\n'), st('NOT_STORED')],
    ['EXISTS', 'store', b('EXISTS\r\n'), st('EXISTS')],
    ['store NOT_FOUND', 'store', b('NOT_FOUND\r\n'), st('NOT_FOUND')],
    ['DELETED', 'delete', b('DELETED\r\n'), st('DELETED')],
    ['delete NOT_FOUND', 'delete', b('NOT_FOUND\r\n'), st('NOT_FOUND')],
    ['TOUCHED', 'touch', b('TOUCHED\r\n'), st('TOUCHED')],
    ['touch NOT_FOUND', 'touch', b('NOT_FOUND\r\n'), st('NOT_FOUND')],
    ['incr 0', 'arith', b('0\r\n'), { kind: 'number', value: '0' }],
    ['incr 42', 'arith', b('42\r\n'), { kind: 'number', value: '42' }],
    ['incr uint64 max', 'arith', b('18446744073709551615\r\n'), { kind: 'number', value: '18446744073709551615' }],
    ['arith NOT_FOUND', 'arith', b('NOT_FOUND\r\n'), st('NOT_FOUND')],
    ['OK', 'ok', b('OK\r\n'), st('OK')],
    ['VERSION', 'version', b('VERSION 1.6.18\r\n'), { kind: 'version', version: '1.6.18' }],
    ['MN', 'mn', b('MN\r\n'), st('MN')],
    ['auth STORED', 'auth', b('STORED\r\n'), st('STORED')],
    ['empty stats', 'stats', b('END\r\n'), sts([])],
    ['general stats', 'stats', b('STAT pid 1234\r\nSTAT version 1.6.18\r\nSTAT rusage_user 0.012345\r\nSTAT libevent 2.1.12-stable\r\nEND\r\n'),
      sts([['pid', '1234'], ['version', '1.6.18'], ['rusage_user', '0.012345'], ['libevent', '2.1.12-stable']])],
    ['settings stats with spaces in values', 'stats',
      b('STAT maxbytes 67108864\r\nSTAT domain_socket NULL\r\nSTAT evictions on\r\nSTAT ext_path /tmp/a b c\r\nSTAT empty\r\nEND\r\n'),
      sts([['maxbytes', '67108864'], ['domain_socket', 'NULL'], ['evictions', 'on'], ['ext_path', '/tmp/a b c'], ['empty', '']])],
    ['slabs stats', 'stats', b('STAT 1:chunk_size 96\r\nSTAT 1:chunks_per_page 10922\r\nSTAT active_slabs 1\r\nSTAT total_malloced 1048576\r\nEND\r\n'),
      sts([['1:chunk_size', '96'], ['1:chunks_per_page', '10922'], ['active_slabs', '1'], ['total_malloced', '1048576']])],
    ['items stats', 'stats', b('STAT items:1:number 5\r\nSTAT items:1:age 12\r\nSTAT items:1:evicted 0\r\nEND\r\n'),
      sts([['items:1:number', '5'], ['items:1:age', '12'], ['items:1:evicted', '0']])],
  ];
  it.each(cases)('%s', (_name, kind, wire, reply) => {
    expectReplies([kind], wire, [reply]);
  });

  const KINDS: ReplyKind[] = ['retrieval', 'store', 'delete', 'touch', 'arith', 'ok', 'version', 'stats', 'mn', 'auth'];
  it.each(KINDS)('error lines answer a %s request', (kind) => {
    expectReplies([kind], b('ERROR\r\n'), [{ kind: 'error', message: '' }]);
    expectReplies([kind], b('ERROR unknown command\r\n'), [{ kind: 'error', message: 'unknown command' }]);
    expectReplies([kind], b('CLIENT_ERROR bad data chunk\r\n'), [{ kind: 'client_error', message: 'bad data chunk' }]);
    expectReplies([kind], b('SERVER_ERROR object too large for cache\r\n'), [{ kind: 'server_error', message: 'object too large for cache' }]);
  });

  it('SERVER_ERROR in the middle of a retrieval drops the partial values and is the reply', () => {
    const wire = b('VALUE a 0 1\r\nx\r\nVALUE b 0 2\r\nyy\r\nSERVER_ERROR out of memory writing get response\r\nMN\r\n');
    expectReplies(['retrieval', 'mn'], wire, [{ kind: 'server_error', message: 'out of memory writing get response' }, st('MN')]);
    // The next retrieval starts from an empty list.
    expectReplies(['retrieval', 'retrieval'], b('VALUE a 0 1\r\nx\r\nSERVER_ERROR oom\r\nVALUE c 0 1\r\nz\r\nEND\r\n'),
      [{ kind: 'server_error', message: 'oom' }, values(val('c', 0, 'z'))]);
  });

  it('an error in the middle of stats drops the partial stats', () => {
    expectReplies(['stats', 'stats'], b('STAT a 1\r\nCLIENT_ERROR nope\r\nSTAT b 2\r\nEND\r\n'),
      [{ kind: 'client_error', message: 'nope' }, sts([['b', '2']])]);
  });

  it('solicited "ERROR Too many open connections" is an error reply to the pending mn', () => {
    expectReplies(['mn'], b('ERROR Too many open connections\r\n'), [{ kind: 'error', message: 'Too many open connections' }]);
  });

  it('pipelined replies of every kind in one chunk, split at every pair of boundaries', () => {
    const wire = b('VALUE k 0 3 9\r\nabc\r\nEND\r\nSTORED\r\nDELETED\r\nTOUCHED\r\n18446744073709551615\r\nOK\r\n'
      + 'VERSION 1.6.18\r\nSTAT pid 1\r\nEND\r\nMN\r\nSTORED\r\nEND\r\nNOT_FOUND\r\n');
    const kinds: ReplyKind[] = ['retrieval', 'store', 'delete', 'touch', 'arith', 'ok', 'version', 'stats', 'mn', 'auth', 'retrieval', 'arith'];
    const expected: Plain[] = [values(val('k', 0, 'abc', '9')), st('STORED'), st('DELETED'), st('TOUCHED'),
      { kind: 'number', value: '18446744073709551615' }, st('OK'), { kind: 'version', version: '1.6.18' },
      sts([['pid', '1']]), st('MN'), st('STORED'), values(), st('NOT_FOUND')];
    expectReplies(kinds, wire, expected);
    for (let i = 0; i <= wire.length; i++) {
      for (let j = i; j <= wire.length; j++) {
        const o = run(kinds, [wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)]);
        if (o.errors.length !== 0 || o.replies.length !== expected.length) expect([i, j, o.errors]).toEqual([i, j, []]);
      }
    }
    expect(run(kinds, [wire]).replies).toEqual(expected);
  });

  it('random pipelines of the cases above, cut into random chunks, give the same replies', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const picked = Array.from({ length: 1 + rand(12) }, () => cases[rand(cases.length)]!);
      const wire = Buffer.concat(picked.map((c) => c[2]));
      const chunks: Buffer[] = [];
      for (let i = 0; i < wire.length;) {
        const step = 1 + rand(rand(4) === 0 ? wire.length : 16);
        chunks.push(wire.subarray(i, i + step));
        i += step;
      }
      const o = run(picked.map((c) => c[1]), chunks);
      expect(o.errors).toEqual([]);
      expect(o.replies).toEqual(picked.map((c) => c[3]));
    }
  });

  it('reports pending and answers expectations registered from inside onReply', () => {
    const replies: Reply[] = [];
    const p: ReplyParser = new ReplyParser({ maxValueBytes: 10 }, (r) => {
      replies.push(r);
      if (replies.length === 1) p.expect('ok');
    }, () => expect.fail('no error expected'));
    p.expect('mn');
    p.expect('mn');
    expect(p.pending).toBe(2);
    p.feed(b('MN\r\n'));
    expect(p.pending).toBe(2);
    p.feed(b('MN\r\nOK\r\n'));
    expect(p.pending).toBe(0);
    expect(replies.map((r) => r.kind === 'status' && r.status)).toEqual(['MN', 'MN', 'OK']);
  });

  it('shares frozen status objects and hands out zero-copy views for values inside one chunk', () => {
    const out: Reply[] = [];
    const p = new ReplyParser({ maxValueBytes: 100 }, (r) => out.push(r), () => expect.fail('no error expected'));
    p.expect('store');
    p.expect('store');
    p.expect('retrieval');
    const chunk = b('STORED\r\nSTORED\r\nVALUE k 0 3\r\nabc\r\nEND\r\n');
    p.feed(chunk);
    expect(out[0]).toBe(out[1]);
    expect(Object.isFrozen(out[0])).toBe(true);
    const v = out[2]!;
    expect(v.kind === 'values' && v.values[0]!.data.buffer).toBe(chunk.buffer);
  });

  it('handles a long queue of expectations (compaction keeps order)', () => {
    const n = 5000;
    const kinds: ReplyKind[] = [];
    let wire = '';
    for (let i = 0; i < n; i++) {
      kinds.push(i % 2 === 0 ? 'mn' : 'arith');
      wire += i % 2 === 0 ? 'MN\r\n' : `${i}\r\n`;
    }
    const o = run(kinds, [b(wire)]);
    expect(o.errors).toEqual([]);
    expect(o.replies).toHaveLength(n);
    expect(o.replies[4999]).toEqual({ kind: 'number', value: '4999' });
    expect(o.replies[4998]).toEqual(st('MN'));
  });
});

describe('ReplyParser: large values', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a 1,048,000-byte value split in 64 KiB chunks is allocated once and arrives intact', () => {
    const size = 1_048_000;
    const data = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
    const wire = Buffer.concat([b(`VALUE big 9 ${size} 77\r\n`), data, b('\r\nEND\r\nMN\r\n')]);
    for (const step of [65536, 65537, 1000, 333_333]) {
      const spy = vi.spyOn(Buffer, 'allocUnsafe');
      const chunks: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) chunks.push(wire.subarray(i, i + step));
      const o = run(['retrieval', 'mn'], chunks);
      const big = spy.mock.calls.filter(([n]) => n >= 4096);
      spy.mockRestore();
      expect(big).toEqual([[size]]);
      expect(o.errors).toEqual([]);
      expect(o.replies).toHaveLength(2);
      const r = o.replies[0]!;
      expect(r.kind === 'values' && r.values.length).toBe(1);
      expect(r.kind === 'values' && r.values[0]!.data === data.toString('hex')).toBe(true);
      expect(r.kind === 'values' && r.values[0]!.cas).toBe('77');
    }
  });

  it('a value exactly at maxValueBytes is accepted, one byte more is refused', () => {
    expectReplies(['retrieval'], b('VALUE k 0 4\r\nabcd\r\nEND\r\n'), [values(val('k', 0, 'abcd'))]);
    const o = run(['retrieval'], [b('VALUE k 0 4\r\nabcd\r\nEND\r\n')], { maxValueBytes: 4 });
    expect(o.errors).toEqual([]);
    const p = run(['retrieval'], [b('VALUE k 0 5\r\nabcde\r\nEND\r\n')], { maxValueBytes: 4 });
    expect(p.errors[0]).toBeInstanceOf(ProtocolError);
  });

  it('a forged 4 GB VALUE length is a protocol error and allocates nothing', () => {
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    expectFailure(['retrieval'], b('VALUE k 0 4294967296\r\nxxxx'), [], ProtocolError, 'maxValueBytes');
    expectFailure(['retrieval'], b('VALUE k 0 99999999999999999999999999\r\n'), [], ProtocolError, 'maxValueBytes',
      { maxValueBytes: Number.MAX_SAFE_INTEGER });
    expect(spy.mock.calls.filter(([n]) => n >= 4096)).toEqual([]);
    expect(alloc.mock.calls.filter(([n]) => n >= 4096)).toEqual([]);
  });
});

describe('ReplyParser: protocol errors', () => {
  const garbage: Array<[string, ReplyKind, string]> = [
    ['unknown word', 'store', 'HELLO\r\n'],
    ['status of the wrong kind', 'retrieval', 'STORED\r\n'],
    ['DELETED to a store', 'store', 'DELETED\r\n'],
    ['END to an mn', 'mn', 'END\r\n'],
    ['number to a store', 'store', '42\r\n'],
    ['VALUE to a store', 'store', 'VALUE k 0 1\r\nx\r\nEND\r\n'],
    ['ERROR glued to a word', 'mn', 'ERRORS\r\n'],
    ['lower case status', 'store', 'stored\r\n'],
    ['trailing space', 'mn', 'MN \r\n'],
    ['binary junk', 'ok', '\x00\xff\x80junk\r\n'],
    ['empty line', 'ok', '\r\n'],
    ['HTTP', 'version', 'HTTP/1.1 400 Bad Request\r\n'],
    ['VERSION without a version', 'version', 'VERSION\r\n'],
    ['STAT without a name', 'stats', 'STAT \r\nEND\r\n'],
    ['arith with a sign', 'arith', '-1\r\n'],
    ['arith with 21 digits', 'arith', '123456789012345678901\r\n'],
    ['arith above uint64 max', 'arith', '18446744073709551616\r\n'],
    ['arith padded', 'arith', '42  \r\n'],
    ['non-numeric VALUE flags', 'retrieval', 'VALUE k x 1\r\na\r\nEND\r\n'],
    ['negative VALUE length', 'retrieval', 'VALUE k 0 -1\r\nEND\r\n'],
    ['hex VALUE length', 'retrieval', 'VALUE k 0 0x1\r\na\r\nEND\r\n'],
    ['flags above uint32', 'retrieval', 'VALUE k 4294967296 1\r\na\r\nEND\r\n'],
    ['non-numeric cas', 'retrieval', 'VALUE k 0 1 abc\r\na\r\nEND\r\n'],
    ['cas above uint64', 'retrieval', 'VALUE k 0 1 18446744073709551616\r\na\r\nEND\r\n'],
    ['empty cas', 'retrieval', 'VALUE k 0 1 \r\na\r\nEND\r\n'],
    ['empty key', 'retrieval', 'VALUE  0 1\r\na\r\nEND\r\n'],
    ['missing length', 'retrieval', 'VALUE k 0\r\nEND\r\n'],
    ['double space', 'retrieval', 'VALUE k 0  1\r\na\r\nEND\r\n'],
    ['extra field', 'retrieval', 'VALUE k 0 1 2 3\r\na\r\nEND\r\n'],
    ['data longer than claimed', 'retrieval', 'VALUE k 0 3\r\nabcd\r\nEND\r\n'],
    ['data shorter than claimed', 'retrieval', 'VALUE k 0 5\r\nabc\r\nEND\r\n'],
    ['data followed by bare LF', 'retrieval', 'VALUE k 0 3\r\nabc\nEND\r\n'],
    ['data followed by CR junk', 'retrieval', 'VALUE k 0 3\r\nabc\rXEND\r\n'],
  ];
  it.each(garbage)('%s', (_name, kind, wire) => {
    expectFailure([kind], b(wire));
  });

  it('names the expected kind and quotes an escaped, bounded snippet of the line', () => {
    const o = run(['store'], [b(`BOGUS\t${'z'.repeat(5000)}\r\n`)]);
    expect(o.errors[0]!.message).toContain('store');
    expect(o.errors[0]!.message).toContain('"BOGUS\\x09zzz');
    expect(o.errors[0]!.message).not.toContain('z'.repeat(100));
    expect(o.errors[0]!.message).toContain(`[${SERVER}]`);
  });

  it('garbage after good replies keeps the good replies and fails once', () => {
    expectFailure(['store', 'delete', 'mn'], b('STORED\r\nDELETED\r\nWAT\r\nMN\r\n'), [st('STORED'), st('DELETED')], ProtocolError, 'mn');
  });

  it('unsolicited data is a protocol error', () => {
    expectFailure([], b('STORED\r\n'), [], ProtocolError, 'unsolicited');
    expectFailure([], b('ERROR\r\n'), [], ProtocolError, 'unsolicited');
    expectFailure(['mn'], b('MN\r\nMN\r\n'), [st('MN')], ProtocolError, 'unsolicited');
    expectFailure(['retrieval'], b('END\r\nVALUE k 0 1\r\nx\r\nEND\r\n'), [values()], ProtocolError, 'unsolicited');
    expectFailure([], b('ERROR Too many open connectionz\r\n'), [], ProtocolError, 'unsolicited');
  });

  it('unsolicited "ERROR Too many open connections" is a TooManyConnectionsError', () => {
    expectFailure([], b('ERROR Too many open connections\r\n'), [], TooManyConnectionsError);
    expectFailure(['mn'], b('MN\r\nERROR Too many open connections\r\n'), [st('MN')], TooManyConnectionsError);
  });

  it('a partial unsolicited line stays unsolicited when a request is registered meanwhile', () => {
    const errors: MemclusterError[] = [];
    const p = new ReplyParser({ maxValueBytes: 10 }, () => expect.fail('no reply expected'), (e) => errors.push(e));
    p.feed(b('ERROR Too many'));
    p.expect('mn');
    p.feed(b(' open connections\r\n'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TooManyConnectionsError);
  });

  it('unsolicited junk is rejected at its first byte, without waiting for a line end', () => {
    const o = run([], [b('X')]);
    expect(o.errors).toHaveLength(1);
  });

  it('an over-long line fails as soon as the buffered part exceeds maxLineBytes', () => {
    expectFailure(['store'], b(`${'S'.repeat(100)}\r\n`), [], ProtocolError, 'maxLineBytes', { maxLineBytes: 64 });
    expect(run(['store'], [b(`${'S'.repeat(9000)}\r\n`)]).errors[0]!.message).toContain('maxLineBytes (8192)');
    expectFailure(['stats'], b(`STAT x ${'v'.repeat(100)}\r\nEND\r\n`), [], ProtocolError, 'maxLineBytes', { maxLineBytes: 64 });
    // No line end at all: bytes beyond the limit are enough.
    for (const step of [1, 100, 8193, 8194]) {
      const chunks: Buffer[] = [];
      const wire = b('S'.repeat(8194));
      for (let i = 0; i < wire.length; i += step) chunks.push(wire.subarray(i, i + step));
      const o = run(['store'], chunks);
      expect(o.errors).toHaveLength(1);
      expect(o.errors[0]!.message).toContain('maxLineBytes');
    }
    // The limit itself is fine.
    const ok = run(['stats'], [b(`STAT x ${'v'.repeat(64 - 7)}\r\nEND\r\n`)], { maxLineBytes: 64 });
    expect(ok.errors).toEqual([]);
  });

  it('a line ending with a bare LF is a protocol error', () => {
    expectFailure(['store'], b('STORED\n'), [], ProtocolError, 'bare');
    expectFailure(['store'], b('\n'), [], ProtocolError, 'bare');
    expectFailure(['retrieval'], b('VALUE k 0 1\r\nx\r\nEND\n'), [], ProtocolError, 'bare');
    expectFailure(['arith', 'mn'], b('5\r\nMN\n'), [{ kind: 'number', value: '5' }], ProtocolError, 'bare');
  });

  it('an exception in onReply becomes one ProtocolError with a cause; feed does not throw', () => {
    const errors: MemclusterError[] = [];
    const boom = new Error('boom');
    const p = new ReplyParser({ maxValueBytes: 10 }, () => { throw boom; }, (e) => errors.push(e));
    p.expect('mn');
    p.expect('mn');
    expect(() => p.feed(b('MN\r\nMN\r\n'))).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0]!.cause).toBe(boom);
  });

  it('a nested feed from inside onReply is refused with one ProtocolError', () => {
    const errors: MemclusterError[] = [];
    const p: ReplyParser = new ReplyParser({ maxValueBytes: 10 }, () => p.feed(b('MN\r\n')), (e) => errors.push(e));
    p.expect('mn');
    p.expect('mn');
    expect(() => p.feed(b('MN\r\n'))).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('inside onReply');
  });

  it('an exception in onError is swallowed', () => {
    const p = new ReplyParser({ maxValueBytes: 10 }, () => {}, () => { throw new Error('handler bug'); });
    expect(() => p.feed(b('junk\r\n'))).not.toThrow();
    expect(p.failed).toBe(true);
  });

  it('rejects invalid options and unknown kinds', () => {
    expect(() => new ReplyParser({ maxValueBytes: -1 }, () => {}, () => {})).toThrow(RangeError);
    expect(() => new ReplyParser({ maxValueBytes: 10, maxLineBytes: 0 }, () => {}, () => {})).toThrow(RangeError);
    const p = new ReplyParser({ maxValueBytes: 10 }, () => {}, () => {});
    expect(() => p.expect('nope' as ReplyKind)).toThrow(TypeError);
  });
});

describe('ReplyParser: 100,000-value multi-get', () => {
  it('parses a synthetic 100,000-value reply fed in 64 KiB chunks', () => {
    const n = 100_000;
    // Regenerated on demand instead of kept in arrays, so the measured pass does not share the heap with 200k test objects.
    const keyOf = (i: number) => `memcluster:bench:user:${String(i).padStart(8, '0')}:profile`.padEnd(40, 'x');
    const dataOf = (i: number) => `${i}:`.padEnd(90 + (i % 21), String.fromCharCode(97 + (i % 26)));
    const text: string[] = [];
    for (let i = 0; i < n; i++) {
      const data = dataOf(i);
      text.push(`VALUE ${keyOf(i)} ${i % 7} ${data.length}\r\n${data}\r\n`);
    }
    text.push('END\r\n');
    const wire = b(text.join(''));
    text.length = 0;
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));

    // Twice: the first pass includes JIT warm-up, the second is the steady state of a live client.
    for (const pass of ['cold', 'warm']) {
      let result: Reply | undefined;
      const p = new ReplyParser({ maxValueBytes: MAX_VALUE }, (r) => { result = r; }, (e) => { throw e; });
      p.expect('retrieval');
      const t0 = performance.now();
      for (const c of chunks) p.feed(c);
      const ms = performance.now() - t0;
      console.log(`${pass}: parsed ${n} values (${(wire.length / 1048576).toFixed(1)} MiB in ${chunks.length} chunks) in ${ms.toFixed(1)} ms`);

      expect(p.failed).toBe(false);
      expect(p.pending).toBe(0);
      expect(result?.kind).toBe('values');
      const got = result!.kind === 'values' ? result!.values : [];
      expect(got).toHaveLength(n);
      let bad = 0;
      for (let i = 0; i < n; i++) {
        const v = got[i]!;
        if (v.key !== keyOf(i) || v.flags !== i % 7 || v.cas !== undefined || v.data.toString('latin1') !== dataOf(i)) bad++;
      }
      expect(bad).toBe(0);
    }
  });
});

describe('reply size caps', () => {
  it('a stats reply over maxStatsLines or maxStatsBytes is read to its end and answered oversize, the stream stays aligned', () => {
    const wire = b(`${'STAT a 1\r\nITEM k [1 b; 0 s]\r\n'.repeat(3)}END\r\nSTAT pid 7\r\nEND\r\nMN\r\n`);
    for (const opts of [{ maxStatsLines: 5 }, { maxStatsBytes: 50 }]) {
      for (const chunks of splits(wire)) {
        const o = run(['stats', 'stats', 'mn'], chunks, opts);
        expect(o.errors).toEqual([]);
        expect(o.replies).toHaveLength(3);
        expect(o.replies[0]).toMatchObject({ kind: 'oversize' });
        expect((o.replies[0] as { message: string }).message).toMatch(/^stats reply exceeds .*\(6 lines, 75 bytes\); read to its end/);
        expect(o.replies.slice(1)).toEqual([sts([['pid', '7']]), st('MN')]);
      }
    }
    // At the cap exactly, the reply is kept.
    expectRepliesWith({ maxStatsLines: 6, maxStatsBytes: 75 }, ['stats'], wire.subarray(0, wire.indexOf('STAT pid')),
      [sts([['a', '1'], ['a', '1'], ['a', '1']], ['ITEM k [1 b; 0 s]', 'ITEM k [1 b; 0 s]', 'ITEM k [1 b; 0 s]'])]);
    // The default cap is far above any real reply: 100,000 lines pass.
    const many = run(['stats'], [Buffer.from(`${'STAT a 1\r\n'.repeat(100_000)}END\r\n`)]);
    expect(many.errors).toEqual([]);
    expect((many.replies[0] as { stats: unknown[] }).stats).toHaveLength(100_000);
    // An oversize reply still ends at an error line, and junk inside it is still a protocol error.
    expectRepliesWith({ maxStatsLines: 1 }, ['stats', 'mn'], b('STAT a 1\r\nSTAT b 2\r\nSERVER_ERROR oom\r\nMN\r\n'),
      [{ kind: 'server_error', message: 'oom' }, st('MN')]);
    expectFailure(['stats'], b('STAT a 1\r\nSTAT b 2\r\nBOGUS\r\nEND\r\n'), [], ProtocolError, 'unexpected reply to a stats', { maxStatsLines: 1 });
  });

  it('fails a retrieval with more VALUE blocks than keys asked', () => {
    const e2: unknown[] = [];
    const r2: unknown[] = [];
    const q = new ReplyParser({ maxValueBytes: 100 }, (r) => r2.push(r), (e) => e2.push(e));
    q.expect('retrieval', 2);
    q.feed(Buffer.from('VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\n'));
    expect(e2).toEqual([]);
    q.feed(Buffer.from('VALUE c 0 1\r\nz\r\nEND\r\n'));
    expect(r2).toEqual([]);
    expect(e2).toHaveLength(1);
    expect(String((e2[0] as Error).message)).toMatch(/more VALUE blocks than the 2 key/);
  });
});
