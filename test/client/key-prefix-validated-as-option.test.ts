/**
 * (Found in review; where the text below says what the code does wrong, it describes the code before the fix. The assertions are the behaviour wanted.)
 * `keyPrefix` is only checked to be a string. A prefix no key can carry (a space, a newline, or
 * longer than 249 bytes) is accepted by the constructor, and then every call rejects with an
 * InvalidKeyError that blames the caller's key ("key contains forbidden byte 0x20 (space) at byte
 * index 2" for key 'k') — the key the user passed is valid. Option mistakes should be reported as
 * InvalidOptionError naming the option, at construction (as every other option is), or at the very
 * least the per-call error should name keyPrefix.
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidOptionError, MemclusterError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

const servers = useMemcached(1);

const BAD_PREFIXES: Array<[string, string]> = [
  ['a space', 'my app:'],
  ['a newline', 'app\n'],
  ['a DEL byte', 'app\x7f'],
  ['300 bytes', 'p'.repeat(300)],
];

for (const protocol of ['auto', 'text'] as const) {
  describe(`keyPrefix that no key can carry (${protocol})`, () => {
    for (const [label, keyPrefix] of BAD_PREFIXES) {
      it(`a prefix with ${label} is reported as a keyPrefix problem, not as a bad key`, async () => {
        let mc: Client | undefined;
        try {
          mc = new Client(servers.map((s) => s.address), { protocol, keyPrefix });
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidOptionError);
          expect((err as Error).message).toMatch(/keyPrefix/);
          return;
        }
        try {
          const err = await mc.set('k', 1).then(() => undefined, (e: unknown) => e);
          // If the constructor lets it through, the call's error must at least say the prefix is at fault.
          expect(err).toBeInstanceOf(MemclusterError);
          expect((err as Error).message, `set('k') with keyPrefix ${JSON.stringify(keyPrefix.slice(0, 20))}`).toMatch(/keyPrefix|prefix/i);
        } finally {
          await mc.close();
        }
      });
    }
  });
}
