import crypto from 'node:crypto';
import HashRing from 'hashring';
import { describe, expect, it } from 'vitest';
import { md5Word0 } from '../../src/cluster/md5.js';
import { Ring } from '../../src/cluster/ring.js';

const reference = (key: string): number => {
  const x = crypto.createHash('md5').update(key).digest();
  return ((x[3]! << 24) | (x[2]! << 16) | (x[1]! << 8) | x[0]!) >>> 0;
};

describe('md5Word0 (the ketama point of a key)', () => {
  it('equals crypto md5 bytes 0..3 for every length across the block boundaries and for non-ASCII keys', () => {
    const keys: string[] = [];
    for (let len = 0; len <= 700; len++) keys.push('k'.repeat(len));
    keys.push('ünïcødé', '日本語キー', '😀x', 'a\u0000b', '\u007f\u0080\u00ff', 'é'.repeat(300), `${'x'.repeat(54)}é`);
    for (const k of keys) expect(md5Word0(k), JSON.stringify(k.slice(0, 20))).toBe(reference(k));
  });

  it('equals crypto md5 for 50,000 random keys (and after a long key grew its buffer)', () => {
    md5Word0('z'.repeat(5000));
    for (let i = 0; i < 50_000; i++) {
      const k = `user:${i}:${Math.random().toString(36).slice(2)}`;
      expect(md5Word0(k)).toBe(reference(k));
    }
  });

  it('routes every key to the server hashring 3.2.0 picks (ketama, default port 11211)', () => {
    for (const servers of [['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'], ['a:1', 'b:2', 'c:3', 'd:4', 'e:5']]) {
      const ours = new Ring(servers);
      const theirs = new HashRing(servers, 'md5', { compatibility: 'ketama', 'default port': 11211 } as never);
      for (let i = 0; i < 20_000; i++) {
        const k = `key:${i}:${(i * 7919) % 1013}`;
        expect(ours.get(k)).toBe(theirs.get(k));
      }
    }
  });
});
