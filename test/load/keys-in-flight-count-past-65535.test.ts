/**
 * `Connection#carries` answers "is a request for this key in flight here?" from per-bucket counts
 * (keys-in-flight.ts) before scanning. The counts were Uint16Array cells, so they wrapped: with 65,536
 * keys of one bucket in flight the cell read 0 and `carries` said "no" while they are all still
 * pending. The bucket is a hash of the key's length and last 12 characters, so keys like
 * `<id>:profile:settings` (ids of one length) all share one bucket; 65,536 of them are in flight
 * with one large multi-get (maxBatchKeys goes to 1,000,000) or a deep pipeline (maxPipeline goes to
 * 1,000,000). `pickSocket` then lets a write of such a key go to another socket, ahead of the
 * requests for it still in flight, which is the call-order guarantee `carries` exists for.
 *
 * Real memcached; the connection is opened as the pool opens it.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { now } from '../../src/connection/request.js';
import type { Reply } from '../../src/protocol/types.js';
import { useMemcached } from '../support/memcached.js';

describe('KeysInFlight counts', () => {
  const servers = useMemcached(1);

  it('carries() still sees a key while 65,536 requests for keys of its bucket are in flight', async () => {
    const s = servers[0]!;
    const conn = await Connection.open({ host: '127.0.0.1', port: s.port, server: s.address, connectTimeoutMs: 2000, maxValueBytes: 1 << 20 });
    try {
      conn.trackKeys(true); // as a server node does once it has several sockets
      const N = 65_536;
      const settled: Array<Promise<Reply>> = [];
      // Writes of one key (call order matters for them); the same holds for N distinct keys of one bucket.
      for (let i = 0; i < N; i++) {
        settled.push(new Promise<Reply>((resolve, reject) => conn.request({
          bytes: 'touch kif:profile:settings 0\r\n', kind: 'touch', deadline: now() + 20_000, key: 'kif:profile:settings', resolve, reject,
        })));
      }
      const seenWhileInFlight = conn.carries('kif:profile:settings', undefined, false);
      const seenWritesWhileInFlight = conn.carries('kif:profile:settings', undefined, true);
      expect(conn.inFlight).toBe(N);
      await Promise.all(settled);
      expect({ seenWhileInFlight, seenWritesWhileInFlight }).toEqual({ seenWhileInFlight: true, seenWritesWhileInFlight: true });
    } finally {
      conn.destroy(new (await import('../../src/errors.js')).ConnectionError('test done', { server: s.address }));
    }
  });
});
