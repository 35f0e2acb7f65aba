/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Keys 2.2.2 stores and reads on a real memcached, which compat refuses.
 *
 * 1. Keys holding a control byte that is not whitespace (0x01..0x1f minus \t\n\v\f\r, DEL 0x7f),
 *    e.g. a key built with a '\x1f' (unit separator) or '\x01' as field delimiter. 2.2.2
 *    validates only whitespace; memcached
 *    splits a text command on spaces only, so these items exist in a warm cache 2.2.2 filled.
 *    Compat refuses them with memcluster's own message (not one of 2.2.2's), so the item 2.2.2
 *    wrote can neither be read nor overwritten.
 * 2. A Buffer key (the key text as bytes) and a boolean key: 2.2.2 builds the key as
 *    `namespace + key`, so a Buffer reads as its text and `true` as "true". Compat refuses both
 *    with `Argument "key" is not a valid String.`, an error 2.2.2 never gives for them.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy } from './helpers.js';

describe('keys 2.2.2 serves', () => {
  const servers = useMemcached(1);

  it('control bytes: compat reads what 2.2.2 wrote, and writes it too', async () => {
    const legacy = new Legacy(servers[0]!.address, { retries: 0 }) as any;
    const compat = new Memcached(servers[0]!.address) as any;
    const keys = ['user\u001f42', 'a\u0001b', 'del\u007fkey'];
    try {
      for (const key of keys) {
        expect((await call(legacy, 'set', [key, `v:${key}`, 0])).data, JSON.stringify(key)).toBe(true); // the control
        expect((await call(legacy, 'get', [key])).data, JSON.stringify(key)).toBe(`v:${key}`);
      }
      const seen: Record<string, unknown> = {};
      for (const key of keys) {
        const r = await call(compat, 'get', [key]);
        seen[JSON.stringify(key)] = r.err ? `error: ${r.err.message}` : r.data;
      }
      expect(seen).toEqual(Object.fromEntries(keys.map((k) => [JSON.stringify(k), `v:${k}`])));
      const set = await call(compat, 'set', [keys[0], 'from compat', 0]);
      expect([set.err?.message, set.data]).toEqual([undefined, true]);
      expect((await call(legacy, 'get', [keys[0]])).data).toBe('from compat');
      const multi = await call(compat, 'getMulti', [keys]);
      expect(multi.err?.map((e: Error) => e.message)).toBeUndefined();
    } finally {
      legacy.end();
      compat.end();
    }
  });

  it('a Buffer key and a boolean key: as 2.2.2, the key is their text', async () => {
    const legacy = new Legacy(servers[0]!.address, { retries: 0 }) as any;
    const compat = new Memcached(servers[0]!.address) as any;
    try {
      // The control: 2.2.2 stores under the text of the key.
      expect((await call(legacy, 'set', [Buffer.from('bufkey'), 'buffer', 0])).data).toBe(true);
      expect((await call(legacy, 'get', ['bufkey'])).data).toBe('buffer');
      expect((await call(legacy, 'set', [true, 'boolean', 0])).data).toBe(true);
      expect((await call(legacy, 'get', ['true'])).data).toBe('boolean');

      const gb = await call(compat, 'get', [Buffer.from('bufkey')]);
      expect([gb.err?.message, gb.data]).toEqual([undefined, 'buffer']);
      const gt = await call(compat, 'get', [true]);
      expect([gt.err?.message, gt.data]).toEqual([undefined, 'boolean']);
      const sb = await call(compat, 'set', [Buffer.from('bufkey2'), 'x', 0]);
      expect([sb.err?.message, sb.data]).toEqual([undefined, true]);
    } finally {
      legacy.end();
      compat.end();
    }
  });
});
