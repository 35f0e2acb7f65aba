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

describe('Ring lookups through the bucket table', () => {
  type Inside = { pointOf(h: number): number; find(h: number): number; values: Float64Array };
  const configs: Array<string[] | Record<string, number>> = [
    ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'],
    { 'a:1': 1, 'b:2': 3, 'c:3': 0.5 },
    Array.from({ length: 40 }, (_, i) => `10.1.${i >> 4}.${i}:${11211 + i}`),
  ];

  it('gives the point hashring\'s search gives, for every hash next to a point or a bucket edge and for random hashes', () => {
    for (const servers of configs) {
      const ring = new Ring(servers) as unknown as Inside;
      const hashes: number[] = [0, 1, 2 ** 32 - 1];
      for (const v of ring.values) for (let d = -2; d <= 2; d++) hashes.push(v + d);
      for (let b = 0; b < 2 ** 14; b++) for (const d of [-1, 0, 1]) hashes.push(b * 2 ** 18 + d);
      for (let i = 0; i < 200_000; i++) hashes.push(Math.floor(Math.random() * 2 ** 32));
      for (const h of hashes) {
        if (h < 0 || h >= 2 ** 32) continue;
        if (ring.pointOf(h) !== ring.find(h)) expect.fail(`hash ${h}: bucket table ${ring.pointOf(h)}, search ${ring.find(h)}`);
      }
    }
  });

  it('routes keys as hashring 3.2.0 does on weighted and 40-server rings, and after servers are added and removed', () => {
    for (const servers of configs.slice(1)) {
      const ours = new Ring(servers);
      const theirs = new HashRing(servers as never, 'md5', { compatibility: 'ketama', 'default port': 11211 } as never);
      for (let i = 0; i < 20_000; i++) expect(ours.get(`k${i}`)).toBe(theirs.get(`k${i}`));
    }
    const ours = new Ring(['a:1', 'b:2']);
    const theirs = new HashRing(['a:1', 'b:2'], 'md5', { compatibility: 'ketama', 'default port': 11211 } as never);
    ours.add('c:3');
    theirs.add('c:3');
    ours.remove('a:1');
    theirs.remove('a:1');
    for (let i = 0; i < 20_000; i++) expect(ours.get(`k${i}`)).toBe(theirs.get(`k${i}`));
  });
});
