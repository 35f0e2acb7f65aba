/**
 * The quiet ms/md batch setMulti/deleteMulti write (encodeWriteBatch) is byte for byte what the
 * checked meta encoders give for the same writes: text values as one string, Buffer values as they
 * are, deletes, non-ASCII keys and values; items over QUIET_MAX_BYTES ask for their reply. And how
 * the batch's replies are read back: an error line is blamed on a request that had to answer, not
 * on its quiet neighbours, unless the error lines outnumber such requests.
 */
import { describe, expect, it } from 'vitest';
import { encodeWriteBatch, QUIET_MAX_BYTES, writeBatchResult, type MetaWrite } from '../../src/client/meta-batch.js';
import type { MetaBatchError, MetaReply } from '../../src/protocol/types.js';
import { encodeItem, defaultSerializer } from '../../src/client/values.js';
import { encodeMetaDelete, encodeMetaNoop, encodeMetaSet } from '../support/encoded.js';
import { wireBuffer } from '../../src/protocol/types.js';

const item = (v: unknown) => encodeItem(defaultSerializer, v, 'k', 1 << 20);

describe('encodeWriteBatch', () => {
  it('equals the meta encoders, key by key, for text, Buffer, JSON and number values and deletes', () => {
    const writes: MetaWrite[] = [
      { routed: 'a', item: item('plain') },
      { routed: 'ключ', item: item('é日本\r\nmn\r\n') },
      { routed: 'b', item: undefined },
      { routed: 'c', item: item(Buffer.from([0, 13, 10, 255])) },
      { routed: 'd', item: item({ x: 1 }) },
      { routed: 'e', item: item(42) },
      { routed: 'f', item: item('') },
      { routed: 'g', item: item('x'.repeat(QUIET_MAX_BYTES)) },
      { routed: 'h', item: item('x'.repeat(QUIET_MAX_BYTES + 1)) },
      { routed: 'i', item: item(Buffer.alloc(QUIET_MAX_BYTES + 1)) },
    ];
    const expected = Buffer.concat([
      ...writes.map((w, i) => (w.item
        ? encodeMetaSet(w.routed, typeof w.item.data === 'string' ? Buffer.from(w.item.data) : w.item.data, { clientFlags: w.item.flags, ttl: 60, quiet: w.item.bytes <= QUIET_MAX_BYTES, opaque: String(i) })
        : encodeMetaDelete(w.routed, { quiet: true, opaque: String(i) }))),
      encodeMetaNoop(),
    ]);
    expect(wireBuffer(encodeWriteBatch(writes, 60)).equals(expected)).toBe(true);
    expect(typeof encodeWriteBatch(writes.filter((w) => typeof w.item?.data !== 'object'), 0)).toBe('string');
  });
});

describe('writeBatchResult', () => {
  const small = { routed: 's', item: item('a') };
  const big = { routed: 'b', item: item('y'.repeat(QUIET_MAX_BYTES + 1)) };
  const hd = (i: number): MetaReply => ({ code: 'HD', flags: { opaque: String(i) } } as unknown as MetaReply);
  const tooLarge = (index: number): MetaBatchError => ({ kind: 'server_error', message: 'object too large for cache', index });
  const read = (writes: MetaWrite[], replies: MetaReply[], errors: MetaBatchError[]) =>
    writeBatchResult({ kind: 'meta_batch', replies, errors, hits: [] }, writes, 's1').map((r) => (typeof r === 'boolean' ? r : r.constructor.name));

  it('an error where a loud request should have answered is its own: the quiet neighbours stored', () => {
    expect(read([small, big, small], [], [tooLarge(0)])).toEqual([true, 'ServerErrorReply', true]);
    // The loud one before it answered HD: the error belongs to a quiet request after it.
    expect(read([small, big, small, small], [hd(1)], [tooLarge(1)])).toEqual([true, true, 'ServerErrorReply', 'ServerErrorReply']);
  });

  it('more error lines than loud requests left unanswered: every unanswered request of the stretch fails', () => {
    expect(read([small, big, small], [], [tooLarge(0), tooLarge(0)])).toEqual(['ServerErrorReply', 'ServerErrorReply', 'ServerErrorReply']);
    expect(read([small, small], [], [tooLarge(0)])).toEqual(['ServerErrorReply', 'ServerErrorReply']);
  });
});
