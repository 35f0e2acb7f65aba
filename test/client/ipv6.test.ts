/**
 * IPv6 locations (`[::1]:port`): parsed, connected and routed like any other. The server listens on
 * both loopbacks, so the test can check through 127.0.0.1 what the client wrote through ::1.
 */
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

const v6 = await new Promise<boolean>((resolve) => {
  const srv = net.createServer().once('error', () => resolve(false));
  srv.listen(0, '::1', () => srv.close(() => resolve(true)));
});

describe.skipIf(!v6)('IPv6 server locations', () => {
  if (!v6) console.log('skipped: this machine has no IPv6 loopback (::1)');
  const servers = useMemcached(1, { args: ['-l', '::1'] });
  let mc: Client | undefined;
  afterAll(() => mc?.close());

  it('stores and reads through [::1]:port, and errors name the server that way', async () => {
    const s = servers[0]!;
    mc = new Client([`[::1]:${s.port}`]);
    expect(await mc.set('v6:k', 'hello')).toBe(true);
    expect(await mc.get('v6:k')).toBe('hello');
    expect(await s.command('get v6:k\r\n')).toBe('VALUE v6:k 0 5\r\nhello\r\nEND\r\n');
    expect([...(await mc.version()).keys()]).toEqual([`[::1]:${s.port}`]);
    expect(mc.serverStats()[0]!.server).toBe(`[::1]:${s.port}`);
  });
});
