/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * 2.2.2's getMulti with an empty string among its keys (an optional id that was blank)
 * sends `get a ` and memcached ignores the empty token: the other keys' values come back and `err`
 * is undefined. compat puts `key must not be empty` into the errors array (src/compat/multi.ts
 * getMultiCompat -> compatKey -> validateKey), so code written `if (err) return fallback()` against
 * 2.2.2 now treats every such call as a failure. An empty key can never hold a value: it is a miss.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy } from './helpers.js';

describe('getMulti with an empty key among others', () => {
  const servers = useMemcached(1);

  it('2.2.2 (the control): the other keys come back, no error', async () => {
    const legacy = new Legacy([servers[0]!.address], { retries: 0 }) as any;
    try {
      expect((await call(legacy, 'set', ['a', 'A', 0])).data).toBe(true);
      const r = await call(legacy, 'getMulti', [['a', '']], 3000);
      expect([r.err, r.data]).toEqual([undefined, { a: 'A' }]);
    } finally {
      legacy.end();
    }
  });

  it('compat: the same (err undefined, data { a })', async () => {
    const compat = new Memcached([servers[0]!.address], { timeout: 2000 } as never) as any;
    try {
      expect((await call(compat, 'set', ['a', 'A', 0])).data).toBe(true);
      const r = await call(compat, 'getMulti', [['a', '']], 3000);
      expect([r.err?.map((e: Error) => e.message), r.data]).toEqual([undefined, { a: 'A' }]);
    } finally {
      compat.end();
    }
  });
});
