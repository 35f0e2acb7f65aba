/**
 * memcached 1.6.18 answers `stats sizes_enable` with ONE line (`STAT sizes_status enabled`) on a
 * default server, but with TWO lines and still no END on a server started with `-C` (CAS disabled):
 *
 *   STAT sizes_status error\r\n
 *   STAT sizes_error cas_support_disabled\r\n
 *
 * (memcached items.c, item_stats_sizes_enable; the `no_memory` error path is two lines too.)
 * The `stats_line` reply kind took exactly one STAT line, so the second line was read as the reply
 * to whatever request came next on that socket: a `get` pipelined behind the stats call failed with
 * a ProtocolError and the socket was dropped (or, with nothing behind it, the line arrived
 * unsolicited and the socket was dropped). Both lines now make the reply.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { ReplyParser } from '../../src/protocol/parser.js';
import type { Reply } from '../../src/protocol/types.js';
import type { MemclusterError } from '../../src/errors.js';
import { LOOPBACK } from '../../src/testing/memcached-server.js';
import { useMemcached } from '../support/memcached.js';

/** Raw bytes the real server sends for `req` (read until `until` is seen). */
function rawReply(port: number, req: string, until: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: LOOPBACK, port }, () => s.write(req));
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).toString('latin1').endsWith(until)) {
        s.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    s.on('error', reject);
  });
}

describe('stats sizes_enable on a memcached started with -C (no CAS)', () => {
  const servers = useMemcached(1, { args: ['-C'] });

  it('the real server answers two STAT lines and no END (the shape the parser must take)', async () => {
    const wire = await rawReply(servers[0]!.port, 'stats sizes_enable\r\nmn\r\n', 'MN\r\n');
    expect(wire.toString('latin1')).toBe('STAT sizes_status error\r\nSTAT sizes_error cas_support_disabled\r\nMN\r\n');
  });

  it('parser: the two-line reply to stats sizes_enable, then a pipelined mn, parse as two replies without a protocol error', async () => {
    const wire = await rawReply(servers[0]!.port, 'stats sizes_enable\r\nmn\r\n', 'MN\r\n');
    const replies: Reply[] = [];
    const errors: MemclusterError[] = [];
    const parser = new ReplyParser({ maxValueBytes: 1 << 20 }, (r) => replies.push(r), (e) => errors.push(e));
    parser.expect('stats_line');
    parser.expect('mn');
    parser.feed(wire);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(replies.map((r) => r.kind)).toEqual(['stats', 'status']);
  });

  it('client: stats("sizes_enable") and a get issued in the same tick both succeed, on one socket that stays', async () => {
    const client = new Client([servers[0]!.address], { maxConnections: 1 });
    try {
      expect(await client.set('sz:k', 'v')).toBe(true);
      const created = client.serverStats()[0]!.created;
      const [stats, got] = await Promise.allSettled([client.stats('sizes_enable'), client.get('sz:k')]);
      const show = (o: PromiseSettledResult<unknown>) => (o.status === 'fulfilled' ? 'ok' : `${(o.reason as Error).name}: ${(o.reason as Error).message}`);
      expect({ stats: show(stats!), get: show(got!) }).toEqual({ stats: 'ok', get: 'ok' });
      expect((got as PromiseFulfilledResult<unknown>).value).toBe('v');
      expect(client.serverStats()[0]!.created, 'the socket was not dropped').toBe(created);
    } finally {
      await client.close();
    }
  });
});
