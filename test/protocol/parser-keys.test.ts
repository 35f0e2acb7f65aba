/**
 * Hits matched to the keys a request asked for (`expect(kind, maxValues, keys)`): the parser
 * compares a reply's key bytes with the request's keys in order, without decoding them, and hands
 * out the request's own key strings. A key that was not asked for, or comes out of order, is a
 * protocol error, as before (it used to be caught after parsing, by the caller's verify).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { Reply, ReplyKind } from '../../src/protocol/types.js';

function run(kind: ReplyKind, keys: readonly string[], wire: string, splitAt?: number): { replies: Reply[]; errors: Error[] } {
  const replies: Reply[] = [];
  const errors: Error[] = [];
  const p = new ReplyParser({ maxValueBytes: 1024 }, (r) => replies.push(r), (e) => errors.push(e));
  p.expect(kind, keys.length, keys);
  const bytes = Buffer.from(wire, 'utf8');
  if (splitAt === undefined) p.feed(bytes);
  else {
    p.feed(bytes.subarray(0, splitAt));
    p.feed(bytes.subarray(splitAt));
  }
  return { replies, errors };
}

const hitKeys = (r: Reply): string[] => (r.kind === 'values' ? r.values.map((v) => v.key) : r.kind === 'meta_batch' ? [...r.hits.map((v) => v.key), ...r.replies.map((m) => m.flags.key!)] : []);

describe('text VALUE lines matched to the request keys', () => {
  const keys = ['a:1', 'é日本', 'a:10', 'b'];
  const wire = 'VALUE a:1 0 1\r\nx\r\nVALUE é日本 0 1\r\ny\r\nVALUE b 0 1\r\nz\r\nEND\r\n';

  it('hands out the very key strings of the request (non-ASCII included), at every split', () => {
    for (let at = 1; at < Buffer.byteLength(wire); at++) {
      const { replies, errors } = run('retrieval', keys, wire, at);
      expect(errors).toEqual([]);
      expect(hitKeys(replies[0]!)).toEqual(['a:1', 'é日本', 'b']);
      const values = (replies[0] as Extract<Reply, { kind: 'values' }>).values;
      expect(values[0]!.key).toBe(keys[0]); // same string, not merely equal
      expect(values[1]!.key).toBe(keys[1]);
    }
  });

  it('refuses a key that was not asked for, one that is a prefix or extension of a requested key, and one out of order', () => {
    for (const bad of [
      'VALUE zz 0 1\r\nx\r\nEND\r\n',
      'VALUE a: 0 1\r\nx\r\nEND\r\n',
      'VALUE a:100 0 1\r\nx\r\nEND\r\n',
      'VALUE b 0 1\r\nx\r\nVALUE a:1 0 1\r\nx\r\nEND\r\n',
      'VALUE a:1 0 1\r\nx\r\nVALUE a:1 0 1\r\nx\r\nEND\r\n',
      'VALUE é日 0 1\r\nx\r\nEND\r\n',
    ]) {
      const { replies, errors } = run('retrieval', keys, bad);
      expect(replies, bad).toEqual([]);
      expect(errors[0], bad).toBeInstanceOf(ProtocolError);
      expect(errors[0]!.message).toMatch(/not requested \(or out of order\)/);
    }
  });

  it('decodes keys as before when no keys are given', () => {
    const replies: Reply[] = [];
    const p = new ReplyParser({ maxValueBytes: 1024 }, (r) => replies.push(r), (e) => { throw e; });
    p.expect('retrieval', 5);
    p.feed(Buffer.from('VALUE anything 0 1\r\nx\r\nVALUE é 0 1\r\ny\r\nEND\r\n'));
    expect(hitKeys(replies[0]!)).toEqual(['anything', 'é']);
  });
});

describe('meta k flags matched to the request keys', () => {
  const keys = ['k1', 'k2', 'ключ'];

  it('in a quiet batch, plain hits come as value entries carrying the request key strings', () => {
    const wire = 'VA 1 f0 kk1\r\nx\r\nVA 1 f7 kключ c99\r\ny\r\nMN\r\n';
    for (let at = 1; at < Buffer.byteLength(wire); at++) {
      const { replies, errors } = run('meta_batch', keys, wire, at);
      expect(errors).toEqual([]);
      expect(hitKeys(replies[0]!)).toEqual(['k1', 'ключ']);
      const batch = replies[0] as Extract<Reply, { kind: 'meta_batch' }>;
      expect(batch.replies).toEqual([]);
      expect(batch.hits[1]!.key).toBe(keys[2]);
      expect(batch.hits.map((h) => [h.flags, h.data.toString(), h.cas])).toEqual([[0, 'x', undefined], [7, 'y', '99']]);
    }
  });

  it('leaves hits with other flags (a lease won, a stale item) to the general path, in arrival order with the plain ones', () => {
    const wire = 'VA 1 f0 kk1\r\nx\r\nVA 0 f0 kk2 W\r\n\r\nVA 1 f0 kключ\r\ny\r\nCLIENT_ERROR bad\r\nMN\r\n';
    const { replies, errors } = run('meta_batch', keys, wire);
    expect(errors).toEqual([]);
    const batch = replies[0] as Extract<Reply, { kind: 'meta_batch' }>;
    expect(batch.hits.map((h) => h.key)).toEqual(['k1', 'ключ']);
    expect(batch.replies.map((r) => [r.flags.key, r.flags.win])).toEqual([['k2', true]]);
    expect(batch.errors).toEqual([{ kind: 'client_error', message: 'bad', index: 3 }]);
  });

  it('refuses a hit for another key, out of order, or with two k flags', () => {
    for (const bad of ['VA 1 kk3\r\nx\r\nMN\r\n', 'VA 1 kk2\r\nx\r\nVA 1 kk1\r\ny\r\nMN\r\n', 'HD kk1 kk2\r\nMN\r\n']) {
      const { replies, errors } = run('meta_batch', keys, bad);
      expect(replies, bad).toEqual([]);
      expect(errors[0], bad).toBeInstanceOf(ProtocolError);
    }
  });

  it('a single meta reply names its one key', () => {
    expect((run('meta', ['k1'], 'HD kk1\r\n').replies[0] as Extract<Reply, { kind: 'meta' }>).flags.key).toBe('k1');
    expect(run('meta', ['k1'], 'HD kk2\r\n').errors[0]).toBeInstanceOf(ProtocolError);
  });
});

describe('meta opaque tokens', () => {
  it('are printable ASCII, as the encoder sends them: a byte outside 0x21-0x7e in one is a protocol error (found by the property test: NBSP)', () => {
    const replies: Reply[] = [];
    const errors: Error[] = [];
    const p = new ReplyParser({ maxValueBytes: 1024 }, (r) => replies.push(r), (e) => errors.push(e));
    p.expect('meta');
    p.expect('meta');
    p.feed(Buffer.from('HD O!!!\r\n', 'latin1'));
    p.feed(Buffer.from('HD O\xa0!!\r\n', 'latin1'));
    expect(replies).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0]!.message).toMatch(/bad opaque/);
  });
});
