/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * Locations 2.2.2 accepts and serves: the same server listed twice (a config merge, an env var
 * concatenated with a default), a `{ 'host:port': weight }` object whose weights came from a
 * config file as strings, or that gives a server weight 0. 2.2.2 builds the client and every call
 * works. Compat builds the client too, but then every method throws synchronously from inside the
 * call (the lazily built cluster refuses the location), so no callback ever runs and the throw
 * lands in the caller's request handler.
 */
import { describe, expect, it } from 'vitest';
import Memcached from '../../src/compat/index.js';
import { useMemcached } from '../support/memcached.js';
import { call, Legacy } from './helpers.js';

describe('location forms 2.2.2 serves', () => {
  const servers = useMemcached(2);

  const cases = (): Array<[string, unknown]> => {
    const [a, b] = [servers[0]!.address, servers[1]!.address];
    return [
      ['the same server twice', [a, a]],
      ['weights given as strings', { [a]: '1', [b]: '2' }],
      ['a server with weight 0', { [a]: 0, [b]: 1 }],
    ];
  };

  it('2.2.2 (the control): set and get work for every form', async () => {
    for (const [name, loc] of cases()) {
      const legacy = new Legacy(loc as never, { retries: 0 }) as any;
      try {
        expect((await call(legacy, 'set', ['k', name, 0])).data, name).toBe(true);
        expect((await call(legacy, 'get', ['k'])).data, name).toBe(name);
      } finally {
        legacy.end();
      }
    }
  });

  for (const [i, name] of ['the same server twice', 'weights given as strings', 'a server with weight 0'].entries()) {
    it(`compat: ${name}: set and get call back (no synchronous throw) and work as in 2.2.2`, async () => {
      const loc = cases()[i]![1];
      const compat = new Memcached(loc as never, { timeout: 2000 }) as any;
      try {
        let thrown: unknown;
        let set: Awaited<ReturnType<typeof call>> | undefined;
        try {
          set = await call(compat, 'set', ['k', name, 0], 3000);
        } catch (e) {
          thrown = e;
        }
        expect(thrown, `set threw: ${String(thrown)}`).toBeUndefined();
        expect([set!.err, set!.data]).toEqual([undefined, true]);
        expect((await call(compat, 'get', ['k'], 3000)).data).toBe(name);
      } finally {
        try { compat.end(); } catch { /* end() of a client that never worked */ }
      }
    });
  }
});
