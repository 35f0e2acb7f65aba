/**
 * The quiet ms/md batch setMulti/deleteMulti write (encodeWriteBatch) is byte for byte what the
 * checked meta encoders give for the same writes: text values as one string, Buffer values as they
 * are, deletes, non-ASCII keys and values.
 */
import { describe, expect, it } from 'vitest';
import { encodeWriteBatch, type MetaWrite } from '../../src/client/meta-batch.js';
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
    ];
    const expected = Buffer.concat([
      ...writes.map((w, i) => (w.item
        ? encodeMetaSet(w.routed, typeof w.item.data === 'string' ? Buffer.from(w.item.data) : w.item.data, { clientFlags: w.item.flags, ttl: 60, quiet: true, opaque: String(i) })
        : encodeMetaDelete(w.routed, { quiet: true, opaque: String(i) }))),
      encodeMetaNoop(),
    ]);
    expect(wireBuffer(encodeWriteBatch(writes, 60)).equals(expected)).toBe(true);
    expect(typeof encodeWriteBatch(writes.filter((w) => typeof w.item?.data !== 'object'), 0)).toBe('string');
  });
});
