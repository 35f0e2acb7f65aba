/**
 * An oversized value is answered `SERVER_ERROR object too large for cache`, and memcached swallows
 * its data block: the stream stays aligned, and the neighbours in the same pipeline are stored
 * (memcached-facts.md). On the text protocol, setMulti reports exactly that key as failed. On the
 * meta protocol (quiet `ms ... O<i> q` lines fenced by `mn`), the one error line is blamed on every
 * silent request of the batch, so keys that memcached stored are reported as failed too.
 *
 * Real memcached 1.6.18 (default -I 1m); the client allows values up to 4 MiB so the oversized
 * value reaches the server.
 */
import { describe, expect, it } from 'vitest';
import { Client, PartialFailureError } from '../../src/index.js';
import { rawCommand } from '../../src/testing/memcached-server.js';
import { useMemcached } from '../support/memcached.js';

describe('setMulti with one value over the server item size limit', () => {
  const servers = useMemcached(1);

  for (const protocol of ['text', 'meta'] as const) {
    it(`${protocol}: only the oversized key is reported failed; its neighbours are stored and reported true`, async () => {
      const client = new Client([servers[0]!.address], { protocol, maxValueBytes: 4 << 20 });
      const p = `${protocol}:${process.pid}`;
      try {
        await client.set(`${p}:warm`, 'x'); // the server's protocol is known before the batch
        const big = 'y'.repeat(1_500_000);
        const err = await client.setMulti([[`${p}:m1`, 'a'], [`${p}:m2`, big], [`${p}:m3`, 'c']]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(PartialFailureError);
        const pf = err as PartialFailureError<boolean>;
        // What the server really holds (read independently of the client under test).
        const stored = await rawCommand(servers[0]!.port, `get ${p}:m1 ${p}:m2 ${p}:m3\r\n`);
        expect(stored).toBe(`VALUE ${p}:m1 0 1\r\na\r\nVALUE ${p}:m3 0 1\r\nc\r\nEND\r\n`);
        expect({
          failed: [...pf.errors.keys()].sort(),
          succeeded: [...(pf.values as Map<string, boolean>).entries()].sort(),
        }).toEqual({
          failed: [`${p}:m2`],
          succeeded: [[`${p}:m1`, true], [`${p}:m3`, true]],
        });
      } finally {
        await client.close();
      }
    });
  }
});
