/**
 * A quiet mg batch's reply as getMulti sees it (readBatchResult): plain hits (value entries from the
 * parser) and the other replies merged back into key order, and an error line blamed on the keys
 * between the entries around it, wherever those entries came from.
 */
import { describe, expect, it } from 'vitest';
import { ClientErrorReply, DecodeError } from '../../src/errors.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { Reply } from '../../src/protocol/types.js';
import { readBatchResult } from '../../src/client/meta-batch.js';
import { decodeHit, defaultSerializer } from '../../src/client/values.js';
import { Hit } from '../../src/protocol/hit.js';

function batch(keys: string[], wire: string): Extract<Reply, { kind: 'meta_batch' }> {
  const replies: Reply[] = [];
  const p = new ReplyParser({ maxValueBytes: 1024 }, (r) => replies.push(r), (e) => { throw e; });
  p.expect('meta_batch', keys.length, keys);
  p.feed(Buffer.from(wire));
  return replies[0] as Extract<Reply, { kind: 'meta_batch' }>;
}

describe('readBatchResult', () => {
  const keys = ['a', 'b', 'c', 'd', 'e'];

  it('plain hits alone are the values as the parser gave them', () => {
    const r = batch(keys, 'VA 1 f0 ka\r\n1\r\nVA 1 f2 ke\r\n5\r\nMN\r\n');
    const out = readBatchResult(r, keys, 's');
    expect(out.values).toBe(r.hits);
    expect(out.values.map((v) => [v.key, v.flags])).toEqual([['a', 0], ['e', 2]]);
    expect(out.failed).toBeUndefined();
  });

  it('merges a recache win (general path) into key order and blames an error line on the silent keys around it', () => {
    const r = batch(keys, 'VA 1 f0 ka\r\n1\r\nCLIENT_ERROR bad\r\nVA 1 f0 kd W\r\n4\r\nVA 1 f0 ke\r\n5\r\nMN\r\n');
    expect(r.hits.map((h) => h.key)).toEqual(['a', 'e']);
    expect(r.replies.map((x) => x.flags.key)).toEqual(['d']);
    const out = readBatchResult(r, keys, 's');
    expect(out.values.map((v) => [v.key, v.data.toString()])).toEqual([['a', '1'], ['d', '4'], ['e', '5']]);
    expect(out.failed?.keys).toEqual(['b', 'c']);
    expect(out.failed?.err).toBeInstanceOf(ClientErrorReply);
  });

  it('an error line after the last entry takes the keys after it; leases and stale items are misses', () => {
    const r = batch(keys, 'VA 0 f0 ka W\r\n\r\nVA 1 f0 kb X\r\n2\r\nVA 1 f0 kc\r\n3\r\nSERVER_ERROR out of memory\r\nMN\r\n');
    const out = readBatchResult(r, keys, 's');
    expect(out.values.map((v) => v.key)).toEqual(['c']);
    expect(out.failed?.keys).toEqual(['d', 'e']);
  });
});

describe('decoding a plain hit (no view of the chunk unless a serializer asks for one)', () => {
  const keys = ['s', 'j', 'b', 'n', 'bad'];
  const wire = 'VA 2 f0 ks\r\né\r\nVA 7 f2 kj\r\n{"a":1}\r\nVA 3 f4 kb\r\n\x00\r\n\r\nVA 3 f8 kn\r\n1.5\r\nVA 1 f2 kbad\r\n{\r\nMN\r\n';

  it('the default serializer reads every flag straight from the chunk, at every split of the reply', () => {
    const bytes = Buffer.from(wire, 'utf8');
    for (let at = 1; at < bytes.length; at++) {
      const replies: Reply[] = [];
      const p = new ReplyParser({ maxValueBytes: 1024 }, (r) => replies.push(r), (e) => { throw e; });
      p.expect('meta_batch', keys.length, keys);
      p.feed(bytes.subarray(0, at));
      p.feed(bytes.subarray(at));
      const hits = (replies[0] as Extract<Reply, { kind: 'meta_batch' }>).hits as Hit[];
      expect(hits.every((h) => h instanceof Hit)).toBe(true);
      const got = hits.slice(0, 4).map((h) => decodeHit(defaultSerializer, h, h.key, 's'));
      expect(got).toEqual(['é', { a: 1 }, Buffer.from([0, 13, 10]), 1.5]);
      expect(() => decodeHit(defaultSerializer, hits[4]!, 'bad', 's')).toThrow(DecodeError);
    }
  });

  it('another serializer gets the bytes as a Buffer', () => {
    const seen: string[] = [];
    const custom = { serialize: defaultSerializer.serialize, deserialize: (d: Buffer, f: number) => { seen.push(`${f}:${d.toString('hex')}`); return 'x'; } };
    const r = batch(keys, wire);
    expect(decodeHit(custom, r.hits[2] as Hit, 'b', 's')).toBe('x');
    expect(seen).toEqual(['4:000d0a']);
    expect(r.hits[0]!.data.toString()).toBe('é');
  });
});
