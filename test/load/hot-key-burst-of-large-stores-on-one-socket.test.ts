/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * A burst of stores of one hot key (a stampede recomputing the same ~1 MB page and storing it; the
 * value is one string reused, so the caller holds 1 MB, not the burst's total). With defaults, the
 * first socket takes maxPipeline of them; once a second socket joins, every later request of that
 * key goes to the socket that carries it ("whatever its load"), past maxPipeline, past congestion
 * and past maxQueue, into one tick's write buffer. Promised: each call settles with a value or a typed
 * error naming the server, replies stay matched in order, and a socket's buffer does not grow
 * without bound.
 */
import { describe, expect, it } from 'vitest';
import { Client, MemclusterError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

describe('a burst of 1 MB stores of one key on a client with default pool options', () => {
  const servers = useMemcached(1);

  it('every store settles true (or a typed MemclusterError), no socket evicted, nothing thrown out of the client', async () => {
    const unhandled: string[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(`${(err as Error)?.name}: ${(err as Error)?.message}`);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    const mc = new Client([servers[0]!.address], { timeoutMs: 20_000 });
    const evicted: string[] = [];
    mc.on('connectionEvicted', (e) => evicted.push(String((e as { reason?: Error }).reason?.message)));
    try {
      const value = 'v'.repeat(1_000_000);
      const outcomes = await Promise.all(Array.from({ length: 800 }, () => mc.set('hot', value).then(
        (ok) => (ok === true ? 'true' : `resolved ${String(ok)}`),
        (err: unknown) => (err instanceof MemclusterError ? 'typed error' : `untyped ${(err as Error)?.name}: ${(err as Error)?.message}`),
      )));
      const counts: Record<string, number> = {};
      for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
      expect({ counts, evicted, unhandled }).toEqual({ counts: { true: 800 }, evicted: [], unhandled: [] });
    } finally {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
      await mc.close();
    }
  }, 120_000);
});
