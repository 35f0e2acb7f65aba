/**
 * Shows: a server at its connection limit (`-c`) that refuses every extra socket
 * (`ERROR Too many open connections`) while the one socket this client has keeps answering is
 * never counted down. A burst of 1,000 sets makes the client try to open more sockets; every
 * refusal is real (the server's `rejected_connections` grows), none counts as a failure, and every
 * call completes on the socket that answers. The rule does not shield a server that refuses every
 * socket: with no live socket, refusals count, and a burst marks it down.
 *
 * Found in review: each refused extra socket counted as a consecutive failure, so a burst marked
 * the healthy server down and 744 of 1,000 calls failed with ServerUnavailableError.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, MemclusterError } from '../../src/index.js';
import { MemcachedServer } from '../support/memcached.js';
import { describeError, fillConnections, recordEvents, settle } from './helpers.js';

/** One `stats` counter, read on a raw socket this test holds. */
function stat(sock: net.Socket, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('no stats reply')), 2000);
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (!buf.endsWith('END\r\n')) return;
      clearTimeout(timer);
      sock.off('data', onData);
      const m = new RegExp(`^STAT ${name} (\\d+)\\r$`, 'm').exec(buf);
      if (!m) reject(new Error(`no ${name} in stats`));
      else resolve(Number(m[1]));
    };
    sock.on('data', onData);
    sock.write('stats\r\n');
  });
}

describe('a server at its connection limit', () => {
  let server: MemcachedServer | undefined;
  let mc: Client | undefined;
  const held: net.Socket[] = [];
  afterEach(async () => {
    await mc?.close().catch(() => {});
    for (const s of held.splice(0)) s.destroy();
    await server?.stop();
  });

  /** Fills the server's slots with raw sockets (each answering `version`), leaving `free` of them. */
  async function fill(free: number): Promise<void> {
    server = await MemcachedServer.start({ args: ['-c', '32'] });
    await fillConnections(server.port, held);
    for (let i = 0; i < free; i++) held.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }

  it('is never marked down by refused extra sockets while the socket it has answers: every call of a burst succeeds', async () => {
    await fill(1); // exactly one slot left, for the client
    mc = new Client([server!.address], { timeoutMs: 1000, failureThreshold: 3, maxConnections: 8 }); // default maxPipeline (128)
    const events = recordEvents(mc);
    expect(await mc.set('cl:warm', 'v')).toBe(true); // the client's one socket, proven and answering
    const rejectedBefore = await stat(held[0]!, 'rejected_connections');

    const burst = await Promise.all(Array.from({ length: 1000 }, (_, i) => settle(mc!.set(`cl:${i}`, i), 1000)));
    const failed = burst.filter((o) => !o.ok).map((o) => describeError(o.error));
    const down = events.filter((e) => e.name === 'serverDown').map((e) => (e.payload as { reason: MemclusterError }).reason.message);
    const refused = (await stat(held[0]!, 'rejected_connections')) - rejectedBefore;
    expect(refused, 'the burst tried to open extra sockets and the server refused them').toBeGreaterThan(0);
    expect({ down, failed: failed.slice(0, 3), failedCount: failed.length, failures: mc.serverStats()[0]!.failures })
      .toEqual({ down: [], failed: [], failedCount: 0, failures: 0 });
  }, 20_000);

  it('a fresh client\'s first burst (sockets refused before the one taken is proven) is not marked down: every call succeeds', async () => {
    await fill(1);
    mc = new Client([server!.address], { timeoutMs: 1000, failureThreshold: 3, maxConnections: 8 });
    const events = recordEvents(mc);
    const rejectedBefore = await stat(held[0]!, 'rejected_connections');
    const burst = await Promise.all(Array.from({ length: 1000 }, (_, i) => settle(mc!.set(`cold:${i}`, i), 1000)));
    const failed = burst.filter((o) => !o.ok).map((o) => describeError(o.error));
    const down = events.filter((e) => e.name === 'serverDown').map((e) => (e.payload as { reason: MemclusterError }).reason.message);
    const refused = (await stat(held[0]!, 'rejected_connections')) - rejectedBefore;
    expect(refused, 'the burst opened several sockets and the server refused some').toBeGreaterThan(0);
    expect({ down, failed: failed.slice(0, 3), failedCount: failed.length }).toEqual({ down: [], failed: [], failedCount: 0 });
  }, 20_000);

  it('is still marked down when it refuses every socket (no live socket): a burst fails, naming the server', async () => {
    await fill(0);
    mc = new Client([server!.address], { timeoutMs: 1000, failureThreshold: 3, maxConnections: 8, retryDelayMs: 10_000, maxRetryDelayMs: 10_000 });
    const events = recordEvents(mc);
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => settle(mc!.set(`all:${i}`, i), 1000)));
    for (const o of burst) {
      expect(o.ok).toBe(false);
      expect((o.error as MemclusterError).server, describeError(o.error)).toBe(server!.address);
    }
    // Sequential calls after the burst each refused again, until the failures mark it down.
    for (let i = 0; i < 10 && !events.some((e) => e.name === 'serverDown'); i++) await settle(mc.get(`all:after${i}`), 1000);
    expect(events.filter((e) => e.name === 'serverDown').map((e) => e.server)).toEqual([server!.address]);
  }, 20_000);
});
