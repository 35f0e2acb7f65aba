/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Text path (`protocol: 'text'`, twemproxy, memcached < 1.6.10): the lock is `add <key>~lease`.
 * When that `add` call gives up (a per-call `timeoutMs` below the client's, so the socket stays and
 * the reply is still read) but the server did store it, this client holds the lock and falls back
 * to calling the loader, storing nothing. The late `STORED` is read and dropped: nobody fills the
 * key or deletes the lock, and every other client in the fleet waits on it until `leaseTtl` (30 s
 * by default), each getting LeaseWaitTimeoutError after `waitMs`. The meta path releases a lease won
 * late (`giveBackLate`, `md <key> C<cas>`); the text path should delete its late lock the same way.
 *
 * A scripted server stands in for memcached: a real one cannot delay one reply on demand.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { Fake } from '../support/fake-memcached.js';
import { eventually } from '../support/timing.js';
import { OPTS } from './helpers.js';

describe('fetch (text): a lock won after its add call timed out', () => {
  let fake: Fake;
  beforeAll(async () => { fake = await Fake.start(); });
  afterAll(async () => { await fake?.close(); });
  const open: Client[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });

  it('is released (delete <key>~lease) when the late STORED is read', async () => {
    let swallowData = false;
    fake.onLine = (line, sock) => {
      if (swallowData) { swallowData = false; return true; } // the add's data block
      if (/^add \S+~lease /.test(line)) {
        swallowData = true;
        setTimeout(() => sock.write('STORED\r\n'), 1000); // stored, but answered after the call's 200 ms
        return true;
      }
      if (line.startsWith('delete ')) { sock.write('DELETED\r\n'); return true; }
      return false;
    };
    const mc = new Client([fake.address], { ...OPTS, protocol: 'text', timeoutMs: 5000, trustRecentMs: 60_000, failureThreshold: 100 });
    open.push(mc);
    const key = `late-lock:${Date.now()}`;
    const fallbacks: string[] = [];
    mc.on('fetchFallback', (e) => fallbacks.push(e.reason.name));
    expect(await mc.fetch(key, async () => 'loaded directly', { ttl: 60, timeoutMs: 200 })).toBe('loaded directly');
    expect(fallbacks).toEqual(['TimeoutError']);
    expect(fake.lines.some((l) => l.startsWith(`add ${key}~lease `)), 'the lock add was sent').toBe(true);
    // The late STORED arrives ~1 s after the add; give the client 4 s more to release what it won.
    const released = await eventually(() => fake.lines.includes(`delete ${key}~lease`), 5000, 'the lock won late is deleted').then(() => true, () => false);
    expect(mc.serverStats()[0]!.evicted, 'the socket stayed: the late STORED was read on it').toBe(0);
    expect(released, `lines the server saw: ${JSON.stringify(fake.lines.filter((l) => l.includes(key)))}`).toBe(true);
  });
});
