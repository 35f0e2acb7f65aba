/**
 * With `validation: 'mn'` the pool proved sockets with `mn` only and never learned the server's
 * version, so `node.meta` stayed undefined: reads went out as classic `get`s (a lease placeholder
 * read as ''), and `invalidate` as a plain delete (no stale item left to serve). The first socket
 * now asks `version` once, in every validation mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { Client } from '../../src/index.js';
import { startServers, stopAll, type MemcachedServer } from '../support/memcached.js';

let server: MemcachedServer;
beforeAll(async () => { [server] = await startServers(1) as [MemcachedServer]; });
afterAll(stopAll);

function raw(address: string, line: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => s.write(line));
    let buf = '';
    s.on('data', (d) => { buf += d.toString('latin1'); if (/(EN|HD|NF|MN)\r\n$/.test(buf) || /\r\n.*\r\n$/s.test(buf) && buf.startsWith('VA')) { s.end(); resolve(buf); } });
    s.on('error', reject);
  });
}

describe("validation: 'mn' on memcached 1.6.18", () => {
  it('invalidate marks the item stale (md I), it does not delete it', async () => {
    const mc = new Client([server.address], { validation: 'mn' });
    try {
      await mc.set('mnstale', 'old', { ttl: 60 });
      expect(await mc.invalidate('mnstale', { staleTtl: 30 })).toBe(true);
      const reply = await raw(server.address, 'mg mnstale v\r\n');
      expect(reply, 'the item is still there, marked stale (X)').toMatch(/^VA 3 .*X/);
    } finally {
      await mc.close();
    }
  });

  it('get of a fresh mn-validated client never returns a lease placeholder', async () => {
    const a = new Client([server.address]);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let loading!: () => void;
    const started = new Promise<void>((r) => { loading = r; });
    const f = a.fetch('mnleased', async () => { loading(); await gate; return 'real'; }, { ttl: 60 });
    await started;
    const b = new Client([server.address], { validation: 'mn' });
    try {
      expect(await b.get('mnleased')).toBeUndefined();
    } finally {
      release();
      await f;
      await a.close();
      await b.close();
    }
  });
});
