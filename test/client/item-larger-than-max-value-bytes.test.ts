/**
 * (Found in review, session 8: reading such an item failed the parser as a forged length, destroyed the socket with every request on it, and counted against the server: three reads marked it down. Now the value is read and dropped, that key fails with ReplyTooLargeError, and its neighbours are served.)
 * An item this very client wrote with `append` (each piece within maxValueBytes, the whole within
 * the server's item size limit) can be larger than maxValueBytes. Reading it must not end the
 * socket as a "forged" reply, and must never count against the server's health: three reads of that
 * one item must not mark a healthy server down. Wanted: the value read exactly, or a typed
 * ReplyTooLargeError for that call alone, with the socket and the server left in service.
 */
import { describe, expect, it } from 'vitest';
import { Client, ReplyTooLargeError, type ClientOptions } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

async function scenario(address: string, opts: ClientOptions, head: string, tail: string) {
  const mc = new Client([address], { timeoutMs: 5000, failureThreshold: 3, ...opts });
  const evicted: string[] = [];
  const down: string[] = [];
  mc.on('connectionEvicted', (e) => evicted.push(String((e as { reason?: Error }).reason?.message)));
  mc.on('serverDown', (e) => down.push(String((e as { reason?: Error }).reason?.message)));
  const outcome = async (p: Promise<unknown>, want: unknown): Promise<string> => {
    try {
      const v = await p;
      return v === want ? 'ok' : `unexpected ${typeof v} of length ${(v as string | undefined)?.length}`;
    } catch (err) {
      return (err as Error).name === 'ReplyTooLargeError' ? 'ok (ReplyTooLargeError)' : `${(err as Error).name}: ${(err as Error).message}`;
    }
  };
  try {
    expect(await mc.set('grown', head)).toBe(true);
    expect(await mc.append('grown', tail)).toBe(true);
    const reads: string[] = [];
    for (let i = 0; i < 3; i++) reads.push(await outcome(mc.get('grown'), head + tail));
    const afterwards = await outcome(mc.set('other', 'x'), true);
    return { reads: reads.map((r) => (r.startsWith('ok') ? 'ok' : r)), afterwards, evicted, down, state: mc.serverStats()[0]!.state };
  } finally {
    await mc.close();
  }
}

const WANTED = { reads: ['ok', 'ok', 'ok'], afterwards: 'ok', evicted: [], down: [], state: 'up' };

describe('an item grown past maxValueBytes by append', () => {
  const servers = useMemcached(1);
  const big = useMemcached(1, { args: ['-I', '2m'] });

  it('maxValueBytes 100,000: a 150,000-byte item read three times neither evicts a socket nor marks the server down', async () => {
    const r = await scenario(servers[0]!.address, { maxValueBytes: 100_000 }, 'a'.repeat(90_000), 'b'.repeat(60_000));
    expect(r).toEqual(WANTED);
  });

  it('default maxValueBytes, server -I 2m: a 1.5 MB item read three times neither evicts a socket nor marks the server down', async () => {
    const r = await scenario(big[0]!.address, {}, 'a'.repeat(900_000), 'b'.repeat(600_000));
    expect(r).toEqual(WANTED);
  });

  it('getMulti: the oversized key fails with ReplyTooLargeError naming its server, its neighbours are read, the socket stays', async () => {
    const mc = new Client([big[0]!.address], { timeoutMs: 5000, failureThreshold: 1 });
    const evicted: string[] = [];
    mc.on('connectionEvicted', (e) => evicted.push(e.reason.message));
    try {
      expect(await mc.set('n1', 'one')).toBe(true);
      // This client refuses to write it whole; another client (or appends) can make it.
      await expect(mc.set('huge', 'h'.repeat(1_500_000))).rejects.toThrow(/maxValueBytes/);
      await mc.set('huge', 'h'.repeat(900_000));
      await mc.append('huge', 'i'.repeat(600_000));
      await mc.set('n2', 'two');
      for (let round = 0; round < 3; round++) {
        const { values, errors } = await mc.getMultiSettled(['n1', 'huge', 'n2', 'absent']);
        expect(Object.fromEntries(values)).toEqual({ n1: 'one', n2: 'two' });
        expect([...errors.keys()]).toEqual(['huge']);
        const e = errors.get('huge')!;
        expect(e).toBeInstanceOf(ReplyTooLargeError);
        expect(e.server).toBe(big[0]!.address);
      }
      const single = await mc.get('huge').then(() => 'resolved', (err: Error) => err);
      expect(single).toBeInstanceOf(ReplyTooLargeError);
      expect(await mc.get('n1')).toBe('one');
      expect({ evicted, state: mc.serverStats()[0]!.state }).toEqual({ evicted: [], state: 'up' });
    } finally {
      await mc.close();
    }
  });
});
