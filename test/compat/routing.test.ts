/**
 * Same key -> same server: for the same locations, memcluster/compat and memcluster's `Client`
 * route every key to the server the real `memcached` 2.2.2 picks (its `HashRing.get`, or its
 * single-server shortcut), over 100,000 keys per fleet shape. Servers need not be reachable:
 * routing is computed, not sent.
 */
import HashRing from 'hashring';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { parseAddress } from '../../src/cluster/address.js';
import Memcached from '../../src/compat/index.js';
import { compatKey } from '../../src/compat/options.js';
import { Legacy } from './helpers.js';

const N = 100_000;

/** Keys of many shapes: short, numeric-looking, unicode, with separators, and a few over 250 characters. */
function keyAt(i: number): string {
  switch (i % 7) {
    case 0: return `user:${i}`;
    case 1: return String(i * 7919);
    case 2: return `sess_${(i * 2654435761 >>> 0).toString(36)}`;
    case 3: return `π-ключ-${i}-キー`;
    case 4: return `a/b/c?d=${i}&e=${i % 13}`;
    case 5: return i % 5000 === 5 ? `long-${i}-${'x'.repeat(300)}` : `k${i}`;
    default: return `${i}:${'z'.repeat(i % 40)}`;
  }
}

const labels = new Map<string, string>();
const label = (location: string): string => {
  let l = labels.get(location);
  if (l === undefined) labels.set(location, (l = parseAddress(location).label));
  return l;
};

type Locations = string | string[] | Record<string, number>;

/** 2.2.2's choice for a routed key: the one server, or its ring's answer. */
function legacyServerFor(legacy: any, routed: string): string {
  return label(legacy.servers.length === 1 ? legacy.servers[0] : legacy.HashRing.get(routed));
}

function compare(locations: Locations, namespace = ''): { compatMismatches: number; clientMismatches: number; spread: Map<string, number> } {
  const legacy = new Legacy(locations as never, { namespace });
  const compat = new Memcached(locations, { namespace }) as any;
  const client = new Client(locations, { keyPrefix: namespace }) as any;
  const spread = new Map<string, number>();
  let compatMismatches = 0;
  let clientMismatches = 0;
  try {
    for (let i = 0; i < N; i++) {
      const key = keyAt(i);
      const expected = legacyServerFor(legacy, namespace + key); // 2.2.2 routes namespace + key, before hashing long keys
      spread.set(expected, (spread.get(expected) ?? 0) + 1);
      const k = compatKey(key, compat.compat);
      if (compat.fleet.nodeFor(k.full).server !== expected) compatMismatches++;
      if (key.length <= 250 && Buffer.byteLength(namespace + key) <= 250) {
        if (client.core.cluster.nodeFor(client.core.prepare(key).routed).server !== expected) clientMismatches++;
      }
    }
  } finally {
    compat.end();
    void client.close();
  }
  return { compatMismatches, clientMismatches, spread };
}

describe('every key goes to the server memcached 2.2.2 picks (100,000 keys per fleet)', () => {
  const fleets: Array<[string, Locations, number]> = [
    ['a single server (2.2.2 skips the ring)', '10.0.0.1:11211', 1],
    ['a single server given as an array', ['cache-1.internal:11299'], 1],
    ['three :11211 servers (hashed as host-i, libketama style)', ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'], 3],
    ['ten :11211 servers', Array.from({ length: 10 }, (_, i) => `10.0.1.${i + 1}:11211`), 10],
    ['non-default ports and host names', ['10.0.0.1:11212', '10.0.0.1:11213', '10.0.0.2:22122', 'cache-4.internal:11211'], 4],
    ['host names without a port', ['cache-a', 'cache-b', 'cache-c'], 3],
    ['weights', { '10.0.0.1:11211': 1, '10.0.0.2:11211': 2, '10.0.0.3:11311': 5 }, 3],
  ];

  for (const [name, locations, servers] of fleets) {
    it(name, () => {
      const r = compare(locations);
      expect(r.spread.size).toBe(servers);
      expect(r.compatMismatches).toBe(0);
      expect(r.clientMismatches).toBe(0);
    });
  }

  it('with a namespace (routed as namespace + key) and with over-long keys (routed before md5)', () => {
    const r = compare(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11400'], 'app:v2:');
    expect(r.spread.size).toBe(4);
    expect(r.compatMismatches).toBe(0);
    expect(r.clientMismatches).toBe(0);
  });

  it('weights give servers shares in proportion (the ring really is weighted)', () => {
    const { spread } = compare({ 'w1:11211': 1, 'w3:11211': 3 });
    const share = spread.get('w3:11211')! / N;
    expect(share).toBeGreaterThan(0.65);
    expect(share).toBeLessThan(0.85);
  });

  it('the comparison can fail: a ring built without 2.2.2\'s options disagrees on most keys', () => {
    const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
    const legacy = new Legacy(servers) as any;
    const naive = new HashRing(servers);
    let differ = 0;
    for (let i = 0; i < 20_000; i++) if (naive.get(keyAt(i)) !== legacy.HashRing.get(keyAt(i))) differ++;
    expect(differ / 20_000).toBeGreaterThan(0.4);
  });
});
