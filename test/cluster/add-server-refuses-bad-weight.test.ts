/**
 * addServer(location, weight) refuses a weight that is not a finite number > 0, as the constructor
 * does, so a bad weight can never reshuffle the keys of the servers already in the ring.
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidOptionError } from '../../src/index.js';
import { Ring } from '../../src/cluster/ring.js';

describe('addServer weight', () => {
  // hashring keeps a negative weight (connection-parse: `-1 || 1` is -1): the new server would get
  // no ring points and the total weight would drop, so keys would move between servers that did
  // not change. Ring.add (and so addServer) refuses a weight that is not a finite number > 0.
  it('refuses a negative weight instead of reshuffling the existing servers', () => {
    const r = new Ring(['10.0.0.1:11211', '10.0.0.2:11211']);
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const before = keys.map((k) => r.get(k));
    expect(() => r.add('10.0.0.3:11211', -1)).toThrow(InvalidOptionError);
    expect(() => r.add('10.0.0.3:11211', Number.NaN)).toThrow(InvalidOptionError);
    const moved = keys.filter((k, i) => r.get(k) !== before[i]).length;
    const mc = new Client(['10.0.0.1:11211', '10.0.0.2:11211']);
    let thrown: unknown;
    try {
      mc.addServer('10.0.0.3:11211', -1);
    } catch (err) {
      thrown = err;
    }
    void mc.close();
    expect({ thrown: thrown instanceof InvalidOptionError, moved }).toEqual({ thrown: true, moved: 0 });
  });
});
