/**
 * flush() converts a delay like a TTL: over 30 days it sends the absolute time it means (memcached
 * reads such a number as a unix time), and it refuses one past 2038.
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
