/**
 * Shows what adding a server to the ring really does (Ring#add, so Client#addServer). Every key
 * routes afterwards exactly as hashring (so `memcached` 2.2.2) routes it on the same fleet, which
 * keeps a warm cache warm for a mixed fleet of old and new clients. Exactly as there:
 * - with equal weights, the only keys that move are the ones going to the new server;
 * - except at the ring sizes where hashring's floating-point vnode count rounds from 40 down to 39
 *   (7, 14, 28, ... equal servers): growing to or from such a size also moves ~2% of keys between
 *   the servers already there;
 * - with weights (a weighted fleet, or a new server whose weight is not the others'), each server's
 *   share of points is relative to the total weight, so a few % of keys (here under 10%) also move
 *   between the servers already there.
 *
 * Found in review: the comments promised "only the keys the new server takes over move" for every
 * ring, which is false on a weighted ring; the routing is right (it must be hashring's), the promise
 * was not.
 */
import HashRing from 'hashring';
import { describe, expect, it } from 'vitest';
import { Ring, type Locations } from '../../src/cluster/ring.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `wk:${i}`);

interface Moves {
  /** Keys that moved to the new server. */
  toNew: number;
  /** Keys that moved from one existing server to another. */
  between: number;
  /** Keys whose server differs from hashring's on the grown fleet (must be none). */
  notAsHashring: string[];
}

function add(locations: Locations, server: string, weight?: number): Moves {
  const ring = new Ring(locations);
  const before = KEYS.map((k) => ring.get(k));
  ring.add(server, weight);
  const reference = new HashRing(locations as never, 'md5', { compatibility: 'ketama', 'default port': 11211 } as never);
  reference.add(weight === undefined ? server : ({ [server]: weight } as never));
  const moves: Moves = { toNew: 0, between: 0, notAsHashring: [] };
  KEYS.forEach((k, i) => {
    const now = ring.get(k);
    if (now === server) moves.toNew++;
    else if (now !== before[i]) moves.between++;
    const expected = reference.get(k);
    if (now !== expected && moves.notAsHashring.length < 3) moves.notAsHashring.push(`${k}: ${now} (hashring: ${expected})`);
  });
  return moves;
}

const servers = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:11211`);

describe('adding a server to the ring', () => {
  it('equal weights: only the keys going to the new server move, and every key routes as hashring routes it', () => {
    for (const n of [2, 3, 5, 9]) {
      const m = add(servers(n), '10.0.1.1:11211');
      expect({ n, between: m.between, notAsHashring: m.notAsHashring }).toEqual({ n, between: 0, notAsHashring: [] });
      // The new server takes about its share, 1 / (n + 1).
      expect(m.toNew / KEYS.length, `share of the new server at ${n} -> ${n + 1}`).toBeGreaterThan(0.5 / (n + 1));
      expect(m.toNew / KEYS.length, `share of the new server at ${n} -> ${n + 1}`).toBeLessThan(1.5 / (n + 1));
    }
  });

  it('equal weights, growing to 7 servers (hashring rounds every server to 39 vnodes): a few % of keys also move between the others, as in hashring', () => {
    const m = add(servers(6), '10.0.1.1:11211');
    expect(m.notAsHashring).toEqual([]);
    expect(m.between, 'keys moved between the six existing servers').toBeGreaterThan(0);
    expect(m.between / KEYS.length).toBeLessThan(0.05);
  });

  it('weights: a small share of keys (under 10%) also moves between existing servers; every key routes as hashring routes it', () => {
    const cases: Array<[string, Locations, number | undefined]> = [
      ['weighted fleet, new server with the default weight', { '10.0.0.1:11211': 2, '10.0.0.2:11211': 2 }, undefined],
      ['equal fleet, new server with its own weight', servers(2), 2],
      ['uneven weights, new server at the average weight', { '10.0.0.1:11211': 1, '10.0.0.2:11211': 2, '10.0.0.3:11211': 3 }, 2],
    ];
    for (const [what, locations, weight] of cases) {
      const m = add(locations, '10.0.1.1:11211', weight);
      expect(m.notAsHashring, what).toEqual([]);
      expect(m.between / KEYS.length, `${what}: share of keys moved between existing servers`).toBeLessThan(0.1);
      expect(m.toNew, `${what}: the new server takes keys`).toBeGreaterThan(0);
    }
    // Both review cases do move keys between existing servers: the comments must not deny it.
    expect(add(cases[0]![1], '10.0.1.1:11211', cases[0]![2]).between).toBeGreaterThan(0);
    expect(add(cases[1]![1], '10.0.1.1:11211', cases[1]![2]).between).toBeGreaterThan(0);
  });
});
