/**
 * addServer(location, weight) does not check the weight (the constructor requires weights > 0).
 */
import { describe, expect, it } from 'vitest';
import { Client, InvalidOptionError } from '../../src/index.js';
import { Ring } from '../../src/cluster/ring.js';

describe('addServer weight', () => {
  // BUG: src/client/client.ts:217-219 / src/cluster/cluster.ts:52-56 / src/cluster/ring.ts:61-65
  // pass any weight to hashring. A negative weight is kept by connection-parse (`-1 || 1` is -1):
  // the new server gets no ring points and the total weight drops, so every existing server gets
  // more points and keys move between servers that did not change (measured below).
  // Fix: in Cluster.add, refuse a weight that is not a finite number > 0 with InvalidOptionError,
  // as validateLocations does for the constructor.
  it.fails('refuses a negative weight instead of reshuffling the existing servers', () => {
    const r = new Ring(['10.0.0.1:11211', '10.0.0.2:11211']);
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const before = keys.map((k) => r.get(k));
    r.add('10.0.0.3:11211', -1);
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
