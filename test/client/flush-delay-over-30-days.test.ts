/**
 * memcached reads a flush_all delay above 30 days as a unix time (as it does exptimes), so a long
 * delay sent as is would flush at the wrong moment: one close to the current unix time within a
 * second or two, one just over 30 days (a date in 1970) never. flush() converts the delay like a
 * TTL (over 30 days: the absolute time it means) and refuses one past 2038.
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidArgumentError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { sleep } from '../failure/helpers.js';

describe('flush delay over 30 days', () => {
  const servers = useMemcached(1);

  it('refuses a delay that reaches past 2038, and a 40-day delay does not flush now', async () => {
    const s = servers[0]!;
    const mc = new Client([s.address], { timeoutMs: 400 });
    try {
      await mc.set('flush-k', 'v');
      const delay = Math.floor(Date.now() / 1000) + 1; // ~1.8e9 s, i.e. about 56 years from now
      await expect(mc.flush(delay)).rejects.toBeInstanceOf(InvalidArgumentError);
      await mc.flush(40 * 86_400);
      await sleep(1500);
      expect(await mc.get('flush-k')).toBe('v');
    } finally {
      await mc.close();
    }
  });
});
