/**
 * A quiet mg batch's reply as getMulti sees it (readBatchResult): plain hits (value entries from the
 * parser) and the other replies merged back into key order, and an error line blamed on the keys
 * between the entries around it, wherever those entries came from.
 */
import { describe, expect, it } from 'vitest';
import { ClientErrorReply } from '../../src/errors.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { Reply } from '../../src/protocol/types.js';
import { readBatchResult } from '../../src/client/meta-batch.js';

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
