/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * setMulti's entries are checked before a byte is written, and bad input must reject with a typed
 * MemclusterError (InvalidArgumentError), as every other bad argument does (getMulti(new Set()),
 * deleteMulti('k'), setMulti([['k']]) all do). A plain object, null or a number instead of a Map /
 * array of pairs — a common JS mistake (`setMulti({ a: 1 })`) — rejects with a bare TypeError
 * ("entries is not iterable") that carries no `code`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, InvalidArgumentError, MemclusterError } from '../../src/index.js';
import { rejection } from '../support/assert.js';
import { useMemcached } from '../support/memcached.js';

const servers = useMemcached(1);

for (const protocol of ['auto', 'text'] as const) {
  describe(`setMulti with a non-iterable (${protocol})`, () => {
    let mc: Client;
    beforeAll(() => void (mc = new Client(servers.map((s) => s.address), { protocol })));
    afterAll(() => mc.close());

    for (const [label, entries] of [['a plain object', { a: 1 }], ['null', null], ['a number', 42], ['undefined', undefined]] as const) {
      it(`rejects ${label} with InvalidArgumentError`, async () => {
        const err = await rejection(() => mc.setMulti(entries as never), `setMulti(${label})`);
        expect(err, `setMulti(${label}) rejected with ${String(err)}`).toBeInstanceOf(MemclusterError);
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as MemclusterError).code).toBe('MC_ERR_INVALID_ARGUMENT');
      });
    }
  });
}
