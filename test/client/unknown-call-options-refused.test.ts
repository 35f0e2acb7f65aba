/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * Options are "checked up front"; an unknown client option name throws, with a hint for names other
 * clients use (`expires` -> "a TTL is given per call: set(key, value, { ttl })"). The per-call
 * options argument is where a user actually writes a TTL or a timeout, yet unknown names there are
 * silently ignored: `set(key, value, { expires: 60 })` resolves `true` and stores an item that never
 * expires; `get(key, { timeout: 50 })` runs with the client's timeout. Bad input should get a clear
 * typed error before a byte is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, InvalidArgumentError } from '../../src/index.js';
import { rejection } from '../support/assert.js';
import { useMemcached } from '../support/memcached.js';

const servers = useMemcached(1);

for (const protocol of ['auto', 'text'] as const) {
  describe(`unknown per-call option names (${protocol})`, () => {
    let mc: Client;
    beforeAll(() => void (mc = new Client(servers.map((s) => s.address), { protocol })));
    afterAll(() => mc.close());

    it('set(key, value, { expires: 60 }) is refused, and nothing is stored', async () => {
      const key = `exp-${protocol}-${process.pid}`;
      const err = await rejection(() => mc.set(key, 'v', { expires: 60 } as never), 'set with { expires }');
      expect(err).toBeInstanceOf(InvalidArgumentError);
      // What the server holds, read raw: no item (and certainly not one without an expiry).
      expect(await servers[0]!.command(`mg ${key} t\r\n`)).toBe('EN\r\n');
    });

    it('setMulti(entries, { lifetime: 60 }) is refused, and nothing is stored', async () => {
      const key = `life-${protocol}-${process.pid}`;
      const err = await rejection(() => mc.setMulti([[key, 'v']], { lifetime: 60 } as never), 'setMulti with { lifetime }');
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(await servers[0]!.command(`mg ${key} t\r\n`)).toBe('EN\r\n');
    });

    it('get(key, { timeout: 50 }) is refused', async () => {
      const err = await rejection(() => mc.get('k', { timeout: 50 } as never), 'get with { timeout }');
      expect(err).toBeInstanceOf(InvalidArgumentError);
    });
  });
}
