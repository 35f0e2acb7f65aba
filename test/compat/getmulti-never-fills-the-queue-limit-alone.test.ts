/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * one getMulti's batches fill the per-server queue (`maxQueue`) by themselves when no
 * socket is open yet (the first call, or any call after `idle`/`idleTimeoutMs` closed the sockets),
 * and the batches over it fail with PoolFullError although nothing else is queued.
 *
 * - compat: 2.2.2's `maxQueueSize` counted queries (a getMulti is ONE query per server); compat maps
 *   it onto memcluster's per-server `maxQueue` (src/compat/options.ts resolveCompat), and every
 *   100-key batch is one queued request (src/client/batch.ts BatchWriter.submit -> node.submit,
 *   src/cluster/server-node.ts submit: PoolFullError). With `maxQueueSize: 10`, a 2,000-key
 *   getMulti that 2.2.2 serves calls back with `over queue limit` errors and missing hits.
 * - modern: README ("Limits": keys per multi-key call) says a call keeps at most 1,024 batches
 *   outstanding "so a huge call never ... fills maxQueue"; with `maxQueue` set under 1,024 it does.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy, sleep } from './helpers.js';

describe('a getMulti on a client with no open socket yet, with a queue limit', () => {
  const servers = useMemcached(1);
  const keys = (p: string) => Array.from({ length: 2000 }, (_, i) => `${p}${i}`);

  it('2.2.2 (the control): maxQueueSize 10, a 2,000-key getMulti is served', async () => {
    await servers[0]!.command('set mq-legacy-1999 0 0 1\r\nv\r\n');
    const legacy = new Legacy([servers[0]!.address], { maxQueueSize: 10, retries: 0, timeout: 3000 } as never) as any;
    try {
      const r = await call(legacy, 'getMulti', [keys('mq-legacy-')], 10_000);
      expect([r.err, r.data]).toEqual([undefined, { 'mq-legacy-1999': 'v' }]);
    } finally {
      legacy.end();
    }
  });

  /** A 2,000-key compat getMulti with maxQueueSize 10 (after `before`): no error, the one hit. */
  async function compatGetMulti(prefix: string, opts: object, before?: (compat: any) => Promise<void>): Promise<void> {
    await servers[0]!.command(`set ${prefix}1999 0 0 1\r\nv\r\n`);
    const compat = new Memcached([servers[0]!.address], { maxQueueSize: 10, timeout: 3000, ...opts } as never) as any;
    try {
      await before?.(compat);
      const r = await call(compat, 'getMulti', [keys(prefix)], 10_000);
      expect([r.err?.map((e: Error) => e.message).slice(0, 2), r.data]).toEqual([undefined, { [`${prefix}1999`]: 'v' }]);
    } finally {
      compat.end();
    }
  }

  it('compat: maxQueueSize 10, the same getMulti is served (no "over queue limit")', () => compatGetMulti('mq-compat-', {}));

  it('compat: maxQueueSize 10, a getMulti after the pool went idle (idle 300 ms) is served', () => compatGetMulti('mq-idle-', { idle: 300 }, async (compat) => {
    expect((await call(compat, 'get', ['mq-idle-1999'], 5000)).data).toBe('v'); // warm: a socket is open
    await sleep(1500); // idle sockets close
  }));

  it('modern: maxQueue 100, a 20,000-key getMulti resolves (README: a huge call never fills maxQueue)', async () => {
    await servers[0]!.command('set mq-modern-19999 0 0 1\r\nv\r\n');
    const mc = new Client([servers[0]!.address], { maxQueue: 100, timeoutMs: 10_000 });
    try {
      const all = Array.from({ length: 20_000 }, (_, i) => `mq-modern-${i}`);
      const got = await mc.getMulti(all).catch((e: Error) => e);
      expect(got instanceof Error ? `${got.constructor.name}: ${got.message} / ${[...((got as any).errors?.values() ?? [])][0]?.message}` : [...got.entries()])
        .toEqual([['mq-modern-19999', 'v']]);
    } finally {
      await mc.close();
    }
  });

  for (const protocol of ['text', 'meta'] as const) {
    it(`modern (${protocol}): maxQueue 20, setMulti and deleteMulti of 5,000 keys on a fresh client succeed`, async () => {
      const mc = new Client([servers[0]!.address], { protocol, maxQueue: 20, maxBatchKeys: 10, timeoutMs: 10_000 });
      try {
        const entries = Array.from({ length: 5000 }, (_, i) => [`mq-w-${protocol}-${i}`, 'v'] as [string, string]);
        expect((await mc.setMulti(entries)).size).toBe(5000);
        expect(await mc.get(`mq-w-${protocol}-4999`)).toBe('v');
        const deleted = await mc.deleteMulti(entries.map(([k]) => k));
        expect([...deleted.values()].every((v) => v === true)).toBe(true);
      } finally {
        await mc.close();
      }
    });
  }
});
