import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';

describe('smoke', () => {
  const servers = useMemcached(3);
  let mc: Client;
  afterAll(() => mc?.close());
  it('sets and gets across 3 servers', async () => {
    mc = new Client(servers.map((s) => s.address));
    for (let i = 0; i < 50; i++) expect(await mc.set(`k${i}`, { i })).toBe(true);
    for (let i = 0; i < 50; i++) expect(await mc.get(`k${i}`)).toEqual({ i });
    expect(await mc.get('missing')).toBeUndefined();
    const m = await mc.getMulti(Array.from({ length: 60 }, (_, i) => `k${i}`));
    expect(m.size).toBe(50);
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => mc.get(`k${i}`)));
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
    console.log(mc.serverStats());
  });
});
