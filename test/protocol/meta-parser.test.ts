import { describe, expect, it } from 'vitest';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { Reply, ReplyKind } from '../../src/protocol/types.js';
import { b, batch, expectFailure, expectReplies, meta, type Plain, run, st, sts } from './support.js';

const ALL_BYTES = Buffer.alloc(256);
for (let i = 0; i < 256; i++) ALL_BYTES[i] = i;

// Reply lines exactly as memcached 1.6.18 wrote them (see shared/meta-protocol.md and meta-real.test.ts).
describe('meta replies at every split', () => {
  const cases: Array<[string, Buffer, Plain]> = [
    ['mg hit with every return flag', b('VA 3 f5 kfoo c1 t-1 s3 h1 l43 Oabc\r\nabc\r\n'),
      meta('VA', { clientFlags: 5, key: 'foo', cas: '1', ttl: -1, size: 3, hitBefore: true, lastAccess: 43, opaque: 'abc' }, 'abc')],
    ['mg hit, no flags', b('VA 2\r\nhi\r\n'), meta('VA', {}, 'hi')],
    ['mg hit, h0, max flags and cas', b('VA 1 h0 f4294967295 c18446744073709551615 t2147483647\r\nx\r\n'),
      meta('VA', { hitBefore: false, clientFlags: 4294967295, cas: '18446744073709551615', ttl: 2147483647 }, 'x')],
    ['binary value with all 256 bytes', Buffer.concat([b('VA 256 kbin\r\n'), ALL_BYTES, b('\r\n')]), meta('VA', { key: 'bin' }, ALL_BYTES)],
    ['value containing protocol text', b('VA 16 Oq\r\n\r\nMN\r\nHD\r\nEN W\r\n\r\n'), meta('VA', { opaque: 'q' }, '\r\nMN\r\nHD\r\nEN W\r\n')],
    ['31-character opaque, UTF-8 key', Buffer.concat([b('HD k'), Buffer.from('日本é'), b(` O${'o'.repeat(31)}\r\n`)]),
      meta('HD', { key: '日本é', opaque: 'o'.repeat(31) })],
    ['control bytes in a key (memcached stores them; 2.2.2 wrote such keys)', b('VA 1 ka\x01b\x7f\r\nx\r\n'), meta('VA', { key: 'a\x01b\x7f' }, 'x')],
    ['mg miss', b('EN\r\n'), meta('EN')],
    ['mg miss with k and O', b('EN knope Oabc\r\n'), meta('EN', { key: 'nope', opaque: 'abc' })],
    ['mg hit without v', b('HD kfoo Ox\r\n'), meta('HD', { key: 'foo', opaque: 'x' })],
    ['ms stored with cas', b('HD km1 Oz c6\r\n'), meta('HD', { key: 'm1', opaque: 'z', cas: '6' })],
    ['ms not stored (add mode)', b('NS km1 Oz\r\n'), meta('NS', { key: 'm1', opaque: 'z' })],
    ['ms cas mismatch', b('EX km1 Oz\r\n'), meta('EX', { key: 'm1', opaque: 'z' })],
    ['md not found', b('NF km1 Oz\r\n'), meta('NF', { key: 'm1', opaque: 'z' })],
    ['lease won', b('VA 0 c12 t-1 klk Oa W\r\n\r\n'), meta('VA', { cas: '12', ttl: -1, key: 'lk', opaque: 'a', win: true }, '')],
    ['lease held by another', b('VA 0 c12 t30 klk Ob Z\r\n\r\n'), meta('VA', { cas: '12', ttl: 30, key: 'lk', opaque: 'b', otherWon: true }, '')],
    ['lease seen without v', b('HD c12 t30 Z\r\n'), meta('HD', { cas: '12', ttl: 30, otherWon: true })],
    ['stale, this caller wins', b('VA 3 t30 c15 X W\r\nabc\r\n'), meta('VA', { ttl: 30, cas: '15', stale: true, win: true }, 'abc')],
    ['stale, another won', b('VA 3 t30 c15 kst Z X\r\nabc\r\n'), meta('VA', { ttl: 30, cas: '15', key: 'st', otherWon: true, stale: true }, 'abc')],
    ['ma counter created', b('VA 2 t60 c7 kctr Oq\r\n10\r\n'), meta('VA', { ttl: 60, cas: '7', key: 'ctr', opaque: 'q' }, '10')],
  ];
  it.each(cases)('%s', (_name, wire, reply) => {
    expectReplies(['meta'], wire, [reply]);
  });

  it.each(['ERROR', 'CLIENT_ERROR opaque token too long', 'SERVER_ERROR out of memory storing object'])('%s answers a meta request', (line) => {
    const [word, ...rest] = line.split(' ');
    const kind = word === 'ERROR' ? 'error' : word === 'CLIENT_ERROR' ? 'client_error' : 'server_error';
    expectReplies(['meta', 'meta'], b(`${line}\r\nHD\r\n`), [{ kind, message: rest.join(' ') }, meta('HD')]);
  });
});

describe('quiet meta batches (meta_batch) at every split', () => {
  it('an empty batch: only MN', () => {
    expectReplies([['meta_batch', 3]], b('MN\r\n'), [batch([])]);
  });

  it('hits, misses (no line), failures and a non-quiet miss, in order', () => {
    const wire = b('VA 2 f3 kfoo Oa\r\nab\r\nHD kbar Ob\r\nNF kx Oc\r\nNS ky\r\nEX kz\r\nEN kw\r\nMN\r\n');
    expectReplies([['meta_batch', 8]], wire, [batch([
      meta('VA', { clientFlags: 3, key: 'foo', opaque: 'a' }, 'ab'), meta('HD', { key: 'bar', opaque: 'b' }),
      meta('NF', { key: 'x', opaque: 'c' }), meta('NS', { key: 'y' }), meta('EX', { key: 'z' }), meta('EN', { key: 'w' }),
    ])]);
  });

  it('error lines inside a batch are collected apart, with their position, and do not end it', () => {
    // As 1.6.18 answers `mg foo v q k Oa`, `mg <251-byte key> ...`, `mg bar v q k Oc`, `mn`.
    expectReplies([['meta_batch', 3]], b('VA 2 kfoo Oa\r\nab\r\nCLIENT_ERROR bad command line format\r\nVA 1 kbar Oc\r\nx\r\nMN\r\n'), [batch(
      [meta('VA', { key: 'foo', opaque: 'a' }, 'ab'), meta('VA', { key: 'bar', opaque: 'c' }, 'x')],
      [{ kind: 'client_error', message: 'bad command line format', index: 1 }],
    )]);
    expectReplies([['meta_batch', 2]], b('SERVER_ERROR object too large for cache\r\nVA 2 kfoo Ob\r\nab\r\nMN\r\n'), [batch(
      [meta('VA', { key: 'foo', opaque: 'b' }, 'ab')], [{ kind: 'server_error', message: 'object too large for cache', index: 0 }],
    )]);
    expectReplies([['meta_batch', 1]], b('CLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n'), [batch([], [
      { kind: 'client_error', message: 'bad data chunk', index: 0 }, { kind: 'error', message: '', index: 0 },
    ])]);
  });

  it('a lease race inside one batch: W then Z', () => {
    expectReplies([['meta_batch', 2]], b('VA 0 c16 klq Oa W\r\n\r\nVA 0 c16 klq Ob Z\r\n\r\nMN\r\n'), [batch([
      meta('VA', { cas: '16', key: 'lq', opaque: 'a', win: true }, ''), meta('VA', { cas: '16', key: 'lq', opaque: 'b', otherWon: true }, ''),
    ])]);
  });

  it('consecutive batches start empty', () => {
    expectReplies([['meta_batch', 2], ['meta_batch', 2]], b('HD ka\r\nCLIENT_ERROR x\r\nMN\r\nNF kb\r\nMN\r\n'), [
      batch([meta('HD', { key: 'a' })], [{ kind: 'client_error', message: 'x', index: 1 }]), batch([meta('NF', { key: 'b' })]),
    ]);
  });
});

describe('text and meta expectations on one parser', () => {
  it('a pipeline mixing every grammar, split at every boundary', () => {
    const wire = b('VALUE k 1 3 9\r\nabc\r\nEND\r\nVA 3 f1 c9\r\nabc\r\nSTORED\r\nHD ka\r\nVA 1 kb\r\nz\r\nMN\r\nMN\r\n'
      + 'STAT pid 1\r\nEND\r\nEN\r\nRESET\r\n7\r\nNF\r\n');
    const kinds: Array<ReplyKind | [ReplyKind, number]> = ['retrieval', 'meta', 'store', ['meta_batch', 2], 'mn', 'stats', 'meta', 'stats', 'arith', 'meta'];
    expectReplies(kinds, wire, [
      { kind: 'values', values: [{ key: 'k', flags: 1, data: b('abc').toString('hex'), cas: '9' }] },
      meta('VA', { clientFlags: 1, cas: '9' }, 'abc'), st('STORED'),
      batch([meta('HD', { key: 'a' }), meta('VA', { key: 'b' }, 'z')]), st('MN'), sts([['pid', '1']]), meta('EN'),
      sts([], [], 'RESET'), { kind: 'number', value: '7' }, meta('NF'),
    ]);
  });

  it('the lease flows of meta-protocol.md as one pipeline', () => {
    // mg k v c t N30 (W) ; mg k v c t N30 (Z) ; ms k 5 C1 T60 (HD) ; ms k 5 ME T60 (NS) ; md I T30 (HD) ;
    // mg (X W) ; mg (Z X) ; ms C.. (HD) ; ma N J D (VA 10) ; ma (VA 15) ; ma MD (VA 0) ; ma missing (NF)
    const wire = b('VA 0 c1 t-1 W\r\n\r\nVA 0 c1 t29 Z\r\n\r\nHD\r\nNS\r\nHD\r\nVA 3 t29 c5 X W\r\nold\r\nVA 3 t28 c5 Z X\r\nold\r\nHD\r\n'
      + 'VA 2 t60 c11\r\n10\r\nVA 2\r\n15\r\nVA 1\r\n0\r\nNF\r\n');
    expectReplies(Array(12).fill('meta') as ReplyKind[], wire, [
      meta('VA', { cas: '1', ttl: -1, win: true }, ''), meta('VA', { cas: '1', ttl: 29, otherWon: true }, ''), meta('HD'), meta('NS'), meta('HD'),
      meta('VA', { ttl: 29, cas: '5', stale: true, win: true }, 'old'), meta('VA', { ttl: 28, cas: '5', otherWon: true, stale: true }, 'old'),
      meta('HD'), meta('VA', { ttl: 60, cas: '11' }, '10'), meta('VA', {}, '15'), meta('VA', {}, '0'), meta('NF'),
    ]);
  });

  it('hands out zero-copy views for VA data inside one chunk, own buffers across chunks', () => {
    const replies: Reply[] = [];
    const p = new ReplyParser({ maxValueBytes: 100 }, (r) => replies.push(r), (e) => { throw e; });
    p.expect('meta');
    p.expect('meta_batch', 1);
    const chunk = b('VA 3\r\nabc\r\nVA 2 ka\r\nxy\r\nMN\r\n');
    p.feed(chunk);
    const one = replies[0] as Extract<Reply, { kind: 'meta' }>;
    const two = replies[1] as Extract<Reply, { kind: 'meta_batch' }>;
    expect(one.data!.buffer).toBe(chunk.buffer);
    expect(two.replies[0]!.data!.buffer).toBe(chunk.buffer);
    p.expect('meta');
    p.feed(b('VA 4\r\nab'));
    p.feed(b('cd\r\n'));
    expect((replies[2] as Extract<Reply, { kind: 'meta' }>).data!.toString()).toBe('abcd');
  });

  it('a 1,048,000-byte VA value in 64 KiB chunks arrives intact', () => {
    const data = Buffer.alloc(1_048_000, 7);
    const wire = Buffer.concat([b(`VA ${data.length} f1\r\n`), data, b('\r\nMN\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));
    const o = run(['meta', 'mn'], chunks);
    expect(o.errors).toEqual([]);
    expect(o.replies).toEqual([meta('VA', { clientFlags: 1 }, data), st('MN')]);
  });
});

describe('meta protocol errors', () => {
  it.each([
    ['unknown flag', 'HD Q1'], ['base64 key flag (never asked)', 'VA 1 b\r\nx'], ['empty key', 'HD k'], ['double space', 'HD  kfoo'],
    ['trailing space', 'HD kfoo '], ['negative cas', 'HD c-1'], ['cas over uint64', 'HD c18446744073709551616'], ['ttl -2', 'HD t-2'],
    ['empty ttl', 'HD t'], ['ttl junk', 'HD t1x'], ['h2', 'HD h2'], ['W with a token', 'HD Wx'], ['client flags over uint32', 'HD f4294967296'],
    ['size junk', 'HD s-3'], ['opaque of 33 bytes', `HD O${'o'.repeat(33)}`], ['key of 251 bytes', `HD k${'k'.repeat(251)}`],
    ['NUL in key', 'HD ka\x00b'], ['VA without length', 'VA'], ['VA with empty length', 'VA '], ['VA length junk', 'VA 3x\r\nabc'],
    ['VA length then double space', 'VA 3  f1\r\nabc'], ['code glued to a flag', 'HDc1'], ['lowercase code', 'hd'], ['unknown code', 'OK'],
  ])('%s', (_name, line) => {
    expectFailure(['meta'], b(`${line}\r\n`), [], /malformed meta reply line|unexpected reply to a meta request/);
    expectFailure([['meta_batch', 5]], b(`${line}\r\nMN\r\n`), [], /malformed meta reply line|unexpected reply to a meta_batch request/);
  });

  it('a reply that does not fit the expectation is a protocol error, both ways', () => {
    expectFailure(['meta'], b('STORED\r\n'), [], 'unexpected reply to a meta request');
    expectFailure(['meta'], b('MN\r\n'), [], 'unexpected reply to a meta request');
    expectFailure(['meta'], b('VALUE k 0 1\r\nx\r\nEND\r\n'), [], 'unexpected reply to a meta request');
    expectFailure(['meta_batch'], b('END\r\n'), [], 'unexpected reply to a meta_batch request');
    expectFailure(['store'], b('HD\r\n'), [], 'unexpected reply to a store request');
    expectFailure(['retrieval'], b('VA 1\r\nx\r\n'), [], 'unexpected reply to a retrieval request');
    expectFailure(['mn'], b('HD\r\n'), [], 'unexpected reply to a mn request');
    expectFailure(['meta', 'meta'], b('HD\r\nHD\r\nHD\r\n'), [meta('HD'), meta('HD')], 'unsolicited');
  });

  it('forged VA lengths are refused before anything is allocated', () => {
    expectFailure(['meta'], b('VA 4294967296 f1\r\nxxxx'), [], 'maxValueBytes');
    expectFailure(['meta'], b('VA 99999999999999999999999999\r\n'), [], 'maxValueBytes');
    expectFailure([['meta_batch', 2]], b('VA 101\r\n'), [], 'maxValueBytes', { maxValueBytes: 100 });
    expectReplies(['meta'], b(`VA 100\r\n${'x'.repeat(100)}\r\n`), [meta('VA', {}, 'x'.repeat(100))], { maxValueBytes: 100 });
  });

  it('a data block not followed by \\r\\n is a protocol error', () => {
    expectFailure(['meta'], b('VA 3\r\nabcX\r\n'), [], 'not followed by');
    expectFailure([['meta_batch', 2]], b('VA 3 ka\r\nabcd\r\nMN\r\n'), [], 'not followed by');
  });

  it('a batch with more replies than requests, or more error lines than they can cause, is a protocol error', () => {
    expectFailure([['meta_batch', 2]], b('VA 1 ka\r\nx\r\nVA 1 kb\r\ny\r\nVA 1 kc\r\nz\r\nMN\r\n'), [], 'more meta replies than the 2 request');
    expectFailure([['meta_batch', 1]], b('HD\r\nNF\r\nMN\r\n'), [], 'more meta replies than the 1 request');
    expectFailure([['meta_batch', 1]], b('ERROR\r\nERROR\r\nERROR\r\nMN\r\n'), [], 'more error lines');
    expectReplies([['meta_batch', 2]], b('VA 1 ka\r\nx\r\nHD kb\r\nMN\r\n'), [batch([meta('VA', { key: 'a' }, 'x'), meta('HD', { key: 'b' })])]);
  });

  it('an over-long meta line fails as soon as it exceeds maxLineBytes', () => {
    expectFailure(['meta'], b(`HD O${'o'.repeat(100)}\r\n`), [], 'maxLineBytes', { maxLineBytes: 64 });
  });
});
