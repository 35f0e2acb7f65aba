/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * memcached 2.2.2's `maxValue` only limits what it WRITES: it reads an item of any size the server
 * holds. Servers run with `-I 2m` (or larger) are common, and during a rollout another process (a
 * 2.2.2 client configured with a larger `maxValue`) writes items over 1 MiB. A compat client with
 * default options must read them as 2.2.2 with default options does.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy } from './helpers.js';

describe('reading an item over 1 MiB that another client wrote (server started with -I 4m)', () => {
  const servers = useMemcached(1, { args: ['-I', '4m'] });

  it('get / getMulti / gets return the 2 MiB value, as 2.2.2 with default options does', async () => {
    const address = servers[0]!.address;
    const writer = new Legacy(address, { retries: 0, maxValue: 4 * 1024 * 1024 }) as any;
    const legacy = new Legacy(address, { retries: 0 }) as any;
    const compat = new Memcached(address) as any;
    try {
      const big = 'x'.repeat(2 * 1024 * 1024);
      expect((await call(writer, 'set', ['big', big, 0])).data).toBe(true);

      // The control: 2.2.2 with default options reads it.
      const lg = await call(legacy, 'get', ['big']);
      expect([lg.err, (lg.data as string).length]).toEqual([undefined, big.length]);

      const g = await call(compat, 'get', ['big']);
      expect(g.err, String(g.err)).toBeUndefined();
      expect((g.data as string)?.length).toBe(big.length);

      const m = await call(compat, 'getMulti', [['big', 'other']]);
      expect(m.err, String(m.err)).toBeUndefined();
      expect(Object.keys(m.data)).toEqual(['big']);

      const gs = await call(compat, 'gets', ['big']);
      expect(gs.err, String(gs.err)).toBeUndefined();
      expect((gs.data?.big as string)?.length).toBe(big.length);
    } finally {
      writer.end();
      legacy.end();
      compat.end();
    }
  });
});
