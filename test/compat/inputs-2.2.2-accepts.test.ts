/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * Two inputs 2.2.2 accepts that compat refuses:
 *
 * 1. An `options` argument that is not an object (a string, a number, `true`, a function, e.g. a
 *    config value passed through unchecked): 2.2.2's `Utils.merge` copies its enumerable keys
 *    (none, or string indices) and builds a working client. Compat's constructor throws
 *    `options must be an object`; README claims 2.2.2 "then failed in hashring", but hashring
 *    only ever sees the location.
 * 2. An incr/decr amount that is a whole number above 2^53 (memcached takes any 64-bit delta):
 *    2.2.2 sends `Number#toString()` and gets the new value; compat answers
 *    `invalid numeric delta argument` (README: refused only when negative or fractional).
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy } from './helpers.js';

describe('inputs 2.2.2 accepts', () => {
  const servers = useMemcached(1);

  it('options that are not an object: the client is built and works', async () => {
    for (const options of ['fast', 42, true, function opts() {}] as unknown[]) {
      const legacy = new Legacy(servers[0]!.address, options as never) as any; // the control: no throw
      expect((await call(legacy, 'set', ['o', 'legacy', 0])).data, typeof options).toBe(true);
      legacy.end();
      let compat: any;
      expect(() => { compat = new Memcached(servers[0]!.address, options as never); }, `options ${typeof options}`).not.toThrow();
      try {
        expect((await call(compat, 'get', ['o'])).data).toBe('legacy');
      } finally {
        compat?.end();
      }
    }
  });

  it('incr by a whole number above 2^53 is sent, as 2.2.2 sends it', async () => {
    const legacy = new Legacy(servers[0]!.address, { retries: 0 }) as any;
    const compat = new Memcached(servers[0]!.address) as any;
    const amount = 2 ** 60; // a safe double for "1152921504606846976"
    try {
      for (const [name, mc] of [['legacy', legacy], ['compat', compat]] as const) {
        expect((await call(mc, 'set', [`big-${name}`, 0, 0])).data).toBe(true);
      }
      const l = await call(legacy, 'incr', ['big-legacy', amount]);
      expect([l.err, l.data]).toEqual([undefined, amount]); // the control
      const c = await call(compat, 'incr', ['big-compat', amount]);
      expect([c.err?.message, c.data]).toEqual([undefined, amount]);
    } finally {
      legacy.end();
      compat.end();
    }
  });
});
