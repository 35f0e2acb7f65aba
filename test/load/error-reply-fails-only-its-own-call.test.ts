/**
 * Issue 12, finding 2: `incr` on an item holding JSON is answered `CLIENT_ERROR cannot increment or
 * decrement non-numeric value`. That line is the whole reply to a request without a data block, so
 * the `incr` alone fails; the 30 `touch`es pipelined behind it on the same socket resolve, the
 * socket stays, and nothing is counted against the server. Real memcached.
 */
import { describe, expect, it } from 'vitest';
import { Client, ClientErrorReply } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';

describe('an error line answering a request without a data block', () => {
  const servers = useMemcached(1);

  it('incr on a JSON item fails alone (ClientErrorReply with the server text); 30 touches pipelined behind it resolve true; no eviction', async () => {
    const client = new Client([servers[0]!.address], { failureThreshold: 1 });
    try {
      const events = recordEvents(client);
      expect(await client.set('err:json', { n: 1 })).toBe(true);
      const touched = Array.from({ length: 30 }, (_, i) => `err:t${i}`);
      expect([...(await client.setMulti(touched.map((k) => [k, k] as const))).values()].every(Boolean)).toBe(true);
      const before = client.serverStats()[0]!;

      // Same tick: one socket, the incr first, the touches behind it.
      const incr = client.incr('err:json', 1);
      const touches = touched.map((k) => client.touch(k, 60));
      const [incrOut, ...touchOuts] = await Promise.allSettled([incr, ...touches]);

      expect(incrOut!.status).toBe('rejected');
      const err = (incrOut as PromiseRejectedResult).reason;
      expect(err, describeError(err)).toBeInstanceOf(ClientErrorReply);
      expect((err as ClientErrorReply).message).toContain('cannot increment or decrement non-numeric value');
      expect((err as ClientErrorReply).server).toBe(servers[0]!.address);
      expect(touchOuts.map((o) => (o.status === 'fulfilled' ? o.value : describeError(o.reason)))).toEqual(touched.map(() => true));

      expect(events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`)).toEqual([]);
      const after = client.serverStats()[0]!;
      expect(after.evicted).toBe(before.evicted);
      expect(after.created, 'the socket stayed: no new socket was opened').toBe(before.created);
      expect(after.state).toBe('up');
      expect(after.failures).toBe(0);
      // The item is untouched by the failed incr, and the socket still serves.
      expect(await client.get('err:json')).toEqual({ n: 1 });
    } finally {
      await closeWithin(client, 3000);
    }
  });

  it('the other error lines to requests without a data block fail their call alone too (incr with a bad delta, stats bogus)', async () => {
    const client = new Client([servers[0]!.address], { failureThreshold: 1 });
    try {
      const events = recordEvents(client);
      expect(await client.set('err:n', '5')).toBe(true);
      const bogus = client.stats('bogus');
      const gets = Array.from({ length: 10 }, () => client.get('err:n'));
      const results = await Promise.allSettled([bogus, ...gets]);
      expect(results[0]!.status).toBe('rejected');
      expect(results.slice(1).map((r) => (r.status === 'fulfilled' ? r.value : describeError(r.reason)))).toEqual(gets.map(() => '5'));
      expect(events.map((e) => e.name)).toEqual([]);
      expect(await client.incr('err:n', 2)).toBe(7);
    } finally {
      await closeWithin(client, 3000);
    }
  });
});
