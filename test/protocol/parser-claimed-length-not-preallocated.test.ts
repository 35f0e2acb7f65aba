/**
 * (Left open in session 7's read, fixed now.) A `VALUE`/`VA` line whose data spans chunks used to
 * get a buffer of its claimed size at once (`Buffer.allocUnsafe(size)`). Under the compat layer's
 * 1 GiB read cap (memcached's largest `-I`), a forged or out-of-step length made the process account
 * for up to 1 GiB on the strength of one line. A large value's buffer now grows with the bytes that
 * arrive; values up to a few MB are still read into one buffer of their exact size.
 */
import { describe, expect, it } from 'vitest';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { Reply } from '../../src/protocol/types.js';

const GIB = 1024 * 1024 * 1024;

function parser(): { p: ReplyParser; replies: Reply[]; errors: Error[] } {
  const replies: Reply[] = [];
  const errors: Error[] = [];
  const p = new ReplyParser({ maxValueBytes: GIB }, (r) => replies.push(r), (e) => errors.push(e));
  return { p, replies, errors };
}

describe('a value spanning chunks', () => {
  it('a line claiming 768 MiB followed by a few bytes does not allocate 768 MiB', () => {
    const { p, replies, errors } = parser();
    p.expect('retrieval', 1, ['k']);
    const before = process.memoryUsage().arrayBuffers;
    p.feed(Buffer.from(`VALUE k 0 ${768 * 1024 * 1024}\r\n${'x'.repeat(1000)}`, 'latin1'));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect({ replies: replies.length, errors: errors.length }).toEqual({ replies: 0, errors: 0 });
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  });

  for (const [size, chunk] of [[3 * 1024 * 1024, 65_536], [9 * 1024 * 1024 + 7, 65_536], [20 * 1024 * 1024 + 3, 1_000_003]] as const) {
    it(`a value of ${size} bytes in chunks of ${chunk} arrives whole and exact, in text and meta`, () => {
      const data = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 13)) & 0xff;
      for (const [kind, head, tail] of [
        ['retrieval', `VALUE k 5 ${size}\r\n`, '\r\nEND\r\n'],
        ['meta', `VA ${size} kk\r\n`, '\r\n'],
      ] as const) {
        const { p, replies, errors } = parser();
        if (kind === 'retrieval') p.expect(kind, 1, ['k']);
        else p.expect(kind);
        const wire = Buffer.concat([Buffer.from(head, 'latin1'), data, Buffer.from(tail, 'latin1')]);
        for (let at = 0; at < wire.length; at += chunk) p.feed(wire.subarray(at, Math.min(wire.length, at + chunk)));
        expect(errors).toEqual([]);
        expect(replies.length).toBe(1);
        const r = replies[0]!;
        const got = r.kind === 'values' ? r.values[0]!.data : r.kind === 'meta' ? r.data! : undefined;
        expect(got?.length).toBe(size);
        expect(got!.equals(data)).toBe(true);
      }
    });
  }
});
