/**
 * The meta encoders' bytes, written to a real memcached 1.6.18 on a raw socket, and its replies
 * read by the ReplyParser: proof that both sides match the server, not just each other.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemclusterError } from '../../src/errors.js';
import { encodeGet, encodeStats, encodeStore, statsReplyKind } from '../support/encoded.js';
import {
  encodeMetaArith, encodeMetaDelete, encodeMetaGet, encodeMetaGetBatch, encodeMetaNoop, encodeMetaSet,
} from '../support/encoded.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { MetaReply, Reply, ReplyKind } from '../../src/protocol/types.js';
import { LOOPBACK, rawCommand, startServers, type MemcachedServer } from '../../src/testing/memcached-server.js';
import { eventually } from '../support/timing.js';

/** One raw socket with one parser: requests are written as given, replies read in order. */
class Session {
  readonly #socket: net.Socket;
  readonly #parser: ReplyParser;
  readonly #waiting: Array<(r: Reply) => void> = [];
  error: MemclusterError | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#parser = new ReplyParser({ server: 'real', maxValueBytes: 2 << 20 }, (r) => this.#waiting.shift()!(r), (e) => { this.error = e; });
    socket.on('data', (chunk: Buffer) => this.#parser.feed(chunk));
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: LOOPBACK, port }, () => resolve(new Session(s)));
      s.once('error', reject);
    });
  }

  /** Writes `bytes` and resolves with the reply of each expectation (several for a pipeline). */
  send(bytes: Buffer, ...kinds: Array<ReplyKind | [ReplyKind, number]>): Promise<Reply[]> {
    const replies = kinds.map((k) => new Promise<Reply>((resolve) => {
      this.#waiting.push(resolve);
      if (typeof k === 'string') this.#parser.expect(k);
      else this.#parser.expect(k[0], k[1]);
    }));
    this.#socket.write(bytes);
    return Promise.all(replies);
  }

  async one(bytes: Buffer, kind: ReplyKind | [ReplyKind, number] = 'meta'): Promise<Reply> {
    return (await this.send(bytes, kind))[0]!;
  }

  close(): void {
    this.#socket.destroy();
  }
}

const asMeta = (r: Reply): MetaReply => {
  expect(r.kind).toBe('meta');
  return r as MetaReply;
};
const text = (r: MetaReply): string | undefined => r.data?.toString('utf8');

let server: MemcachedServer;
let s: Session;
let n = 0;
const uniq = (p: string): string => `${p}-${process.pid}-${++n}`;

beforeAll(async () => {
  [server] = await startServers(1);
  s = await Session.open(server.port);
});
afterAll(async () => {
  s?.close();
  await server?.stop();
});

describe('meta encoders and parser against memcached 1.6.18', () => {
  it('ms then mg hit with every return flag; mg miss; md; ms modes', async () => {
    const k = uniq('hit');
    const set = asMeta(await s.one(encodeMetaSet(k, Buffer.from('abc'), { clientFlags: 5, ttl: 60, returnCas: true, returnKey: true, opaque: 'o1' })));
    expect(set).toMatchObject({ code: 'HD', flags: { key: k, opaque: 'o1' } });
    expect(set.flags.cas).toMatch(/^\d+$/);
    const hit = asMeta(await s.one(encodeMetaGet(k, { value: true, clientFlags: true, cas: true, ttl: true, returnKey: true, size: true, hitBefore: true, lastAccess: true, opaque: 'o2' })));
    expect(hit).toMatchObject({ code: 'VA', flags: { clientFlags: 5, key: k, cas: set.flags.cas, size: 3, hitBefore: false, opaque: 'o2', win: false, stale: false, otherWon: false } });
    expect(text(hit)).toBe('abc');
    expect(hit.flags.ttl).toBeGreaterThan(55);
    expect(hit.flags.lastAccess).toBeGreaterThanOrEqual(0);

    expect(asMeta(await s.one(encodeMetaGet(uniq('miss'), { value: true, returnKey: true, opaque: 'm' })))).toMatchObject({ code: 'EN', flags: { opaque: 'm' } });
    expect(asMeta(await s.one(encodeMetaSet(k, Buffer.from('x'), { mode: 'E' })))).toMatchObject({ code: 'NS' });
    expect(asMeta(await s.one(encodeMetaSet(k, Buffer.from('x'), { compareCas: String(BigInt(set.flags.cas!) + 1n) })))).toMatchObject({ code: 'EX' });
    expect(asMeta(await s.one(encodeMetaSet(k, Buffer.from('d'), { mode: 'A' })))).toMatchObject({ code: 'HD' });
    expect(text(asMeta(await s.one(encodeMetaGet(k, { value: true }))))).toBe('abcd');
    expect(asMeta(await s.one(encodeMetaDelete(k, { returnKey: true })))).toMatchObject({ code: 'HD', flags: { key: k } });
    expect(asMeta(await s.one(encodeMetaDelete(k)))).toMatchObject({ code: 'NF' });
  });

  it('a quiet mg batch + mn: hits only, misses silent; quiet ms/md batches report only failures', async () => {
    const [a, b, c] = [uniq('a'), uniq('b'), uniq('c')];
    await s.one(Buffer.concat([encodeMetaSet(a, Buffer.from('A'), { quiet: true, clientFlags: 1 }), encodeMetaSet(c, Buffer.from(''), { quiet: true }), encodeMetaNoop()]), ['meta_batch', 2])
      .then((r) => expect(r).toEqual({ kind: 'meta_batch', replies: [], errors: [], hits: [] }));
    const r = await s.one(encodeMetaGetBatch([a, b, c], { value: true, clientFlags: true, returnKey: true, quiet: true }), ['meta_batch', 3]);
    expect(r.kind).toBe('meta_batch');
    const got = (r as Extract<Reply, { kind: 'meta_batch' }>).replies.map((m) => [m.code, m.flags.key, m.flags.clientFlags, text(m)]);
    expect(got).toEqual([['VA', a, 1, 'A'], ['VA', c, 0, '']]);
    const del = await s.one(Buffer.concat([encodeMetaDelete(a, { quiet: true, opaque: 'd1' }), encodeMetaDelete(b, { quiet: true, opaque: 'd2' }), encodeMetaNoop()]), ['meta_batch', 2]);
    expect(del).toMatchObject({ kind: 'meta_batch', replies: [{ code: 'NF', flags: { opaque: 'd2' } }], errors: [] });
  });

  it('an error line inside a quiet batch is collected apart, and the batch still ends at MN', async () => {
    const big = Buffer.alloc(2 << 20, 120);
    const k = uniq('in');
    await s.one(encodeMetaSet(k, Buffer.from('v')));
    const r = await s.one(Buffer.concat([encodeMetaSet(uniq('big'), big, { quiet: true, opaque: 'b' }), encodeMetaGet(k, { value: true, quiet: true, opaque: 'g' }), encodeMetaNoop()]), ['meta_batch', 2]);
    expect(r).toMatchObject({ kind: 'meta_batch', replies: [{ code: 'VA', flags: { opaque: 'g' } }], errors: [{ kind: 'server_error', message: 'object too large for cache', index: 0 }] });
    expect(s.error).toBeUndefined();
  });

  it('lease: the first mg N wins (W), the next sees Z; the winner fills with C<cas>', async () => {
    const k = uniq('lease');
    const flags = { value: true, cas: true, ttl: true, vivify: 30 };
    const [w, z] = (await s.send(Buffer.concat([encodeMetaGet(k, flags), encodeMetaGet(k, flags)]), 'meta', 'meta')).map(asMeta);
    expect(w).toMatchObject({ code: 'VA', flags: { win: true, otherWon: false, ttl: -1 } });
    expect(text(w!)).toBe('');
    expect(z).toMatchObject({ code: 'VA', flags: { win: false, otherWon: true, cas: w!.flags.cas } });
    expect(asMeta(await s.one(encodeMetaSet(k, Buffer.from('hello'), { compareCas: w!.flags.cas!, ttl: 60 })))).toMatchObject({ code: 'HD' });
    const after = asMeta(await s.one(encodeMetaGet(k, flags)));
    expect(after).toMatchObject({ code: 'VA', flags: { win: false, otherWon: false } });
    expect(text(after)).toBe('hello');
  });

  it('md I marks stale: the next mg gets X and W, the one after X and Z; a cas fill clears it', async () => {
    const k = uniq('stale');
    await s.one(encodeMetaSet(k, Buffer.from('old'), { ttl: 100 }));
    expect(asMeta(await s.one(encodeMetaDelete(k, { invalidate: true, ttl: 30 })))).toMatchObject({ code: 'HD' });
    const flags = { value: true, cas: true, ttl: true };
    const [first, second] = (await s.send(Buffer.concat([encodeMetaGet(k, flags), encodeMetaGet(k, flags)]), 'meta', 'meta')).map(asMeta);
    expect(first).toMatchObject({ code: 'VA', flags: { stale: true, win: true, otherWon: false } });
    expect(second).toMatchObject({ code: 'VA', flags: { stale: true, win: false, otherWon: true } });
    expect(text(first!)).toBe('old');
    expect(asMeta(await s.one(encodeMetaSet(k, Buffer.from('new'), { compareCas: first!.flags.cas!, ttl: 300 })))).toMatchObject({ code: 'HD' });
    const fresh = asMeta(await s.one(encodeMetaGet(k, flags)));
    expect(fresh.flags).toMatchObject({ stale: false, win: false, otherWon: false });
    expect(text(fresh)).toBe('new');
  });

  it('ma: create on miss with N J, then increment and decrement (floored at 0); a missing counter is NF', async () => {
    const k = uniq('ctr');
    const created = asMeta(await s.one(encodeMetaArith(k, { vivify: 60, initial: 10, delta: 5, value: true, returnTtl: true, returnCas: true })));
    expect(created).toMatchObject({ code: 'VA', flags: { ttl: 60 } });
    expect(text(created)).toBe('10');
    expect(text(asMeta(await s.one(encodeMetaArith(k, { delta: '5', value: true }))))).toBe('15');
    expect(text(asMeta(await s.one(encodeMetaArith(k, { mode: 'D', delta: 100, value: true }))))).toBe('0');
    expect(asMeta(await s.one(encodeMetaArith(uniq('nope'))))).toMatchObject({ code: 'NF' });
  });

  it('text and meta requests pipelined on one socket', async () => {
    const k = uniq('mix');
    const replies = await s.send(Buffer.concat([
      encodeStore('set', k, 3, 0, Buffer.from('t')), encodeMetaGet(k, { value: true, clientFlags: true }), encodeGet('get', [k]),
      encodeMetaGetBatch([k], { value: true, quiet: true, returnKey: true }), encodeMetaNoop(),
    ]), 'store', 'meta', 'retrieval', ['meta_batch', 1], 'mn');
    expect(replies.map((r) => r.kind)).toEqual(['status', 'meta', 'values', 'meta_batch', 'status']);
    expect(replies[1]).toMatchObject({ code: 'VA', flags: { clientFlags: 3 } });
    expect(s.error).toBeUndefined();
  });
});

describe('stats groups against memcached 1.6.18', () => {
  const stats = async (group: string): Promise<Reply> => s.one(encodeStats(group), statsReplyKind(group));

  it('reset, detail on/dump/off, cachedump, sizes, sizes_enable/disable, settings', async () => {
    expect(await stats('reset')).toEqual({ kind: 'stats', stats: [], lines: [], end: 'RESET' });
    expect(await stats('detail on')).toEqual({ kind: 'stats', stats: [], lines: [], end: 'OK' });
    const k = uniq('pfx:key');
    await s.one(encodeMetaSet(k, Buffer.from('abc'), { ttl: 0 }));
    await s.one(encodeGet('get', [k]), 'retrieval');
    const dump = await stats('detail dump');
    expect(dump).toMatchObject({ kind: 'stats', stats: [], end: 'END' });
    expect((dump as { lines: string[] }).lines).toContain('PREFIX pfx get 1 hit 1 set 0 del 0');
    expect(await stats('detail off')).toMatchObject({ end: 'OK' });
    // An item alone in its slab class (found with `me`), so the dump holds at most it. cachedump
    // walks one LRU segment, which a new item joins when memcached's LRU thread moves it: poll.
    const solo = uniq('solo');
    await s.one(encodeMetaSet(solo, Buffer.alloc(5000, 1)));
    const cls = /cls=(\d+)/.exec(await rawCommand(server.port, `me ${solo}\r\n`))![1];
    const dumps: Reply[] = [];
    await eventually(async () => {
      dumps.push(await stats(`cachedump ${cls} 0`));
      return (dumps.at(-1) as { lines?: string[] }).lines?.length === 1;
    }, 3000, 'the new item shows in stats cachedump');
    for (const d of dumps.slice(0, -1)) expect(d).toEqual({ kind: 'stats', stats: [], lines: [], end: 'END' });
    expect(dumps.at(-1)).toEqual({ kind: 'stats', stats: [], lines: [`ITEM ${solo} [5000 b; 0 s]`], end: 'END' });
    expect(await stats('sizes_enable')).toEqual({ kind: 'stats', stats: [['sizes_status', 'enabled']], lines: [], end: null });
    expect(await stats('sizes')).toMatchObject({ kind: 'stats', end: 'END' });
    expect(await stats('sizes_disable')).toEqual({ kind: 'stats', stats: [['sizes_status', 'disabled']], lines: [], end: null });
    expect(await stats('settings')).toMatchObject({ kind: 'stats', end: 'END', stats: expect.arrayContaining([['item_size_max', '1048576']]) });
    expect(await stats('cachedump 99 1')).toEqual({ kind: 'client_error', message: 'Illegal slab id' });
    // The stream is still aligned after all of them.
    expect(await s.one(encodeMetaNoop(), 'mn')).toEqual({ kind: 'status', status: 'MN' });
    expect(s.error).toBeUndefined();
  });

  it('a stats reply over the parser cap is answered oversize and the socket stays usable', async () => {
    // A parser with a cap of 5 lines, reading the real `stats settings` (dozens of lines), then mn.
    const replies: Reply[] = [];
    const errors: unknown[] = [];
    const parser = new ReplyParser({ maxValueBytes: 1024, maxStatsLines: 5 }, (r) => replies.push(r), (e) => errors.push(e));
    const sock = await new Promise<net.Socket>((resolve) => { const c = net.connect({ host: LOOPBACK, port: server.port }, () => resolve(c)); });
    try {
      const done = new Promise<void>((resolve) => sock.on('data', (c: Buffer) => { parser.feed(c); if (replies.length === 2) resolve(); }));
      parser.expect('stats');
      parser.expect('mn');
      sock.write(Buffer.concat([encodeStats('settings'), encodeMetaNoop()]));
      await done;
    } finally {
      sock.destroy();
    }
    expect(errors).toEqual([]);
    expect(replies[0]).toMatchObject({ kind: 'oversize', message: expect.stringMatching(/^stats reply exceeds 5 lines/) });
    expect(replies[1]).toEqual({ kind: 'status', status: 'MN' });
  });
});
