/**
 * A cas token above 2^64-1 is refused before anything is written (memcached would refuse the
 * command line without swallowing the data block, and then run the data block as a command).
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidArgumentError } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { settle } from '../failure/helpers.js';

describe('cas token range', () => {
  const servers = useMemcached(1);

  // Was a bug (fixed; this test guards it): src/client/client.ts:128 checks only /^\d{1,20}$/ (README, Limits: "cas token — 0 to
  // 2^64 - 1 ... Refused before anything is written"). '99999999999999999999' passes, is written,
  // memcached's safe_strtoull fails -> `CLIENT_ERROR bad command line format` with NO swallow of the
  // data block, so the value's bytes are then executed as a command line: here the value
  // "delete victim" deletes another key (any command fits: flush_all, set ...). The caller gets
  // ClientErrorReply instead of InvalidArgumentError.
  // Fix: also require `BigInt(cas) <= 2n ** 64n - 1n` (as isUint64 does in the parser) before writing.
  it('refuses a cas token above 2^64-1 before writing anything', async () => {
    const s = servers[0]!;
    const mc = new Client([s.address], { timeoutMs: 400 });
    try {
      await mc.set('victim', 'still here');
      const o = await settle(mc.cas('k', 'delete victim', '99999999999999999999'), 2000, 'cas');
      const raw = await s.command('get victim\r\n');
      expect({ error: o.error instanceof InvalidArgumentError ? 'InvalidArgumentError' : String(o.error), victim: raw })
        .toEqual({ error: 'InvalidArgumentError', victim: 'VALUE victim 0 10\r\nstill here\r\nEND\r\n' });
    } finally {
      await mc.close();
    }
  });
});
