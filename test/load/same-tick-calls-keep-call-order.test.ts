/**
 * Issue 12, finding 3: with default options (coalescing on), calls made in order for one key are
 * run by the server in that order. `get(k)` then `delete(k)` in the same tick reads the old value;
 * `get(k)` then `set(k, 'new')` reads 'old', and a later get reads 'new'. Under load (maxPipeline 2,
 * several sockets busy with other keys' requests, coalesced gets sharing a line with other keys),
 * every get of the key reads the value written by the calls made just before it. Real memcached.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { closeWithin, describeError } from '../failure/helpers.js';

describe('same-tick calls for one key', () => {
  const servers = useMemcached(1);

  it('default options: get then delete reads old; get then set reads old; a later get reads new', async () => {
    const client = new Client([servers[0]!.address]);
    try {
      expect(await client.set('ord:k', 'old')).toBe(true);
      const g1 = client.get('ord:k');
      const d = client.delete('ord:k');
      expect(await g1).toBe('old');
      expect(await d).toBe(true);
      expect(await client.get('ord:k')).toBeUndefined();

      expect(await client.set('ord:k', 'old')).toBe(true);
      const g2 = client.get('ord:k');
      const s = client.set('ord:k', 'new');
      expect(await g2).toBe('old');
      expect(await s).toBe(true);
      expect(await client.get('ord:k')).toBe('new');

      // Coalesced: two gets in the tick share one line, then the write.
      expect(await client.set('ord:k', 'old')).toBe(true);
      const g3 = client.get('ord:other');
      const g4 = client.get('ord:k');
      const s2 = client.set('ord:k', 'new');
      expect(await g3).toBeUndefined();
      expect(await g4).toBe('old');
      expect(await s2).toBe(true);
    } finally {
      await closeWithin(client, 3000);
    }
  });

  it('under load (maxPipeline 2, sockets busy with other keys): get/delete/set of one key keep call order', async () => {
    const client = new Client([servers[0]!.address], { maxPipeline: 2, maxConnections: 8, timeoutMs: 5000 });
    try {
      const noise = Array.from({ length: 50 }, (_, i) => `ord:noise:${i}`);
      await client.setMulti(noise.map((k) => [k, 'x'.repeat(2000)] as const));
      const wrong: string[] = [];
      for (let round = 0; round < 150; round++) {
        const k = `ord:key:${round % 5}`;
        expect(await client.set(k, `a${round}`)).toBe(true);
        // Busy sockets: many concurrent requests for other keys, in the same tick as the sequence.
        const load = noise.flatMap((n, i) => (i % 3 === 0 ? [client.set(n, 'y'.repeat(2000))] : [client.get(n)]));
        const before = client.get(k);          // may share a coalesced line with the noise gets
        const del = client.delete(k);
        const missing = client.get(k);
        const set = client.set(k, `b${round}`);
        const after = client.get(k);
        const more = noise.map((n) => client.get(n));
        const [b, dl, m, st, a] = await Promise.all([before, del, missing, set, after].map((p) => p.then((v) => v, (e: unknown) => `error: ${describeError(e)}`)));
        await Promise.allSettled([...load, ...more]);
        const got = JSON.stringify([b, dl, m, st, a]);
        const want = JSON.stringify([`a${round}`, true, undefined, true, `b${round}`]);
        if (got !== want) wrong.push(`round ${round}: got ${got}, want ${want}`);
      }
      expect(wrong, `calls for one key ran out of call order in ${wrong.length} of 150 rounds`).toEqual([]);
    } finally {
      await closeWithin(client, 7000);
    }
  });
});
