/**
 * Issue 12, finding 9: no `MaxListenersExceededWarning` at any pool size (a burst opening dozens of
 * sockets at `maxConnections: 64`), and `deleteMulti(['a', 'a'])` reports `true` for a key it
 * deleted (the key is sent once and reported with that one result). Real memcached; a delay proxy
 * makes the burst need many sockets at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { closeWithin } from '../failure/helpers.js';
import { recordWarnings, tally } from './support.js';

describe('small things under load', () => {
  const servers = useMemcached(1);
  let proxy: DelayProxy;
  beforeAll(async () => { proxy = await DelayProxy.start(servers[0]!, { replyDelayMs: 20 }); });
  afterAll(async () => { await proxy.close(); });

  it('no MaxListenersExceededWarning with maxConnections: 64 under a burst', async () => {
    const rec = recordWarnings();
    const client = new Client([proxy.address], { maxConnections: 64, maxPipeline: 4, timeoutMs: 5000, validateTimeoutMs: 2000 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => client.set(`warn:${i}`, 'v')));
      expect(tally(results)).toEqual({ ok: 2000 });
      expect(client.serverStats()[0]!.created, 'the burst opened more than 10 sockets at once').toBeGreaterThan(10);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
      expect(rec.warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      await closeWithin(client, 7000);
      rec.stop();
    }
    expect(rec.warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), 'none while closing either').toEqual([]);
  });

  it("deleteMulti(['a', 'a']) reports true for a key it deleted; setMulti duplicates store the last value", async () => {
    const client = new Client([servers[0]!.address]);
    try {
      expect(await client.set('dup:a', 'v')).toBe(true);
      const deleted = await client.deleteMulti(['dup:a', 'dup:a']);
      expect([...deleted]).toEqual([['dup:a', true]]);
      expect(await client.get('dup:a')).toBeUndefined();
      expect([...(await client.deleteMulti(['dup:a', 'dup:a']))]).toEqual([['dup:a', false]]);

      const stored = await client.setMulti([['dup:b', 'first'], ['dup:b', 'last']]);
      expect([...stored]).toEqual([['dup:b', true]]);
      expect(await client.get('dup:b')).toBe('last');
    } finally {
      await closeWithin(client, 3000);
    }
  });
});
