/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * PartialFailureError messages, with one live and one unreachable server.
 *
 * 1. getMulti counts the keys the caller passed, duplicates included, while the per-key maps hold
 *    each key once: 40 distinct keys asked as 80 say "get failed for N of 80 keys" where N counts
 *    distinct keys. setMulti/deleteMulti count distinct keys ("of 40 keys") for the same input.
 * 2. getMulti's message names the failed servers ("(servers: host:port)"); setMulti's and
 *    deleteMulti's do not ("set failed for 6 of 10 keys"), so a logged setMulti failure does not
 *    say which server failed (the promise: a typed error naming the server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, PartialFailureError } from '../../src/index.js';
import { freePort, useMemcached } from '../support/memcached.js';

const servers = useMemcached(1);

for (const protocol of ['auto', 'text'] as const) {
  describe(`PartialFailureError messages (${protocol})`, () => {
    let mc: Client;
    let dead: string;
    const keys = Array.from({ length: 40 }, (_, i) => `pf-${protocol}-${i}`);
    beforeAll(async () => {
      dead = `127.0.0.1:${await freePort()}`;
      mc = new Client([servers[0]!.address, dead], { protocol, timeoutMs: 1000, failureThreshold: 1000 });
    });
    afterAll(() => mc.close());

    const failure = async (p: Promise<unknown>): Promise<PartialFailureError> => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(PartialFailureError);
      return err as PartialFailureError;
    };

    it('getMulti with every key given twice counts each key once', async () => {
      const err = await failure(mc.getMulti([...keys, ...keys]));
      const failed = err.errors.size;
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThan(40);
      expect(err.message).toContain(`failed for ${failed} of 40 keys`);
    });

    it('setMulti names the failed server in its message, as getMulti does', async () => {
      const err = await failure(mc.setMulti(keys.map((k) => [k, 'v'])));
      expect([...new Set([...err.errors.values()].map((e) => e.server))]).toEqual([dead]);
      expect(err.message).toContain(dead);
    });

    it('deleteMulti names the failed server in its message, as getMulti does', async () => {
      const err = await failure(mc.deleteMulti(keys));
      expect([...new Set([...err.errors.values()].map((e) => e.server))]).toEqual([dead]);
      expect(err.message).toContain(dead);
    });
  });
}
