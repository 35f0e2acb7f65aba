import crypto from 'node:crypto';
import HashRing from 'hashring';
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../text.js';
import { md5Word0, md5Word0Supported } from './md5.js';

/** Ring lookups by the top bits of a key's hash (a 64 KB table per ring): 16,384 buckets of 2^18 hashes. */
const BUCKET_BITS = 14;
const BUCKET_SHIFT = 32 - BUCKET_BITS;
const BUCKETS = 2 ** BUCKET_BITS;
const BUCKET_SPAN = 2 ** BUCKET_SHIFT;

/** Servers as `memcached` 2.2.2 takes them: one string, an array, or `{ 'host:port': weight }`. */
export type Locations = string | readonly string[] | Readonly<Record<string, number>>;

interface RingNode {
  value: number;
  server: string;
}

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object per call.
const md5: (key: string) => Buffer = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (key) => (crypto as unknown as { hash(alg: string, data: string, enc: 'buffer'): Buffer }).hash('md5', key, 'buffer')
  : (key) => crypto.createHash('md5').update(key).digest();

/** The ketama point of a key: MD5 bytes 0..3, little-endian (pure JS where the machine is little-endian: ~3x faster). */
const hashValue: (key: string) => number = md5Word0Supported
  ? md5Word0
  : (key) => {
    const x = md5(key);
    return ((x[3]! << 24) | (x[2]! << 16) | (x[1]! << 8) | x[0]!) >>> 0;
  };

/**
 * The consistent-hash ring, built exactly as `memcached` 2.2.2 builds it (hashring, md5, ketama
 * compatibility, default port 11211, from the raw locations) so every key lands on the server the
 * old client picked and a warm cache stays warm. hashring builds the continuum; lookups read it
 * directly with the same search, without hashring's per-key LRU (which thrashes on large multi-gets).
 */
export class Ring {
  private readonly ring: HashRing;
  /** The continuum as two parallel arrays: each point's hash, and its server's index in `ids`. */
  private values = new Float64Array(0);
  private owners = new Int32Array(0);
  /**
   * The continuum's point for every hash in a bucket (the top BUCKET_BITS bits of the hash), or -1
   * where `find` must search. A bucket that holds no point (and is not bucket 0, where `find`
   * compares against 0) sees every comparison of the search come out the same for all its hashes,
   * so `find` gives all of them one answer: looked up once here, not searched per key.
   */
  private buckets = new Int32Array(0);
  private ids: string[];

  constructor(locations: Locations) {
    this.ring = new HashRing(locations as never, 'md5', { compatibility: 'ketama', 'default port': 11211 } as never);
    // A server listed twice (only the compat layer lets one through) is one server, as in hashring.
    this.ids = [...new Set(serverIds(locations))];
    this.refresh();
  }

  /** Ring ids (the location strings as given). */
  get servers(): readonly string[] {
    return this.ids;
  }

  /** The server for a key; `undefined` only when the ring is empty. With one server, no hashing at all (as 2.2.2). */
  get(key: string): string | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.ids[i];
  }

  /** The index in `servers` of the key's server; -1 only when the ring is empty. */
  indexOf(key: string): number {
    if (this.ids.length <= 1) return this.ids.length - 1;
    if (this.values.length === 0) return -1;
    return this.owners[this.pointOf(hashValue(key))]!;
  }

  /** `find(hash)`, from the bucket table where it can be (a uint32 hash, on a ring with points). */
  private pointOf(hash: number): number {
    const point = this.buckets[hash >>> BUCKET_SHIFT]!;
    return point >= 0 ? point : this.find(hash);
  }

  /** Up to `n` distinct servers in ring order from the key's position: failover candidates. */
  range(key: string, n: number): string[] {
    return this.ring.range(key, n, true);
  }

  /**
   * Adds a server (with an optional weight) and rebuilds the ring exactly as hashring does, so keys
   * route as a freshly built `memcached` 2.2.2 ring of the new list routes them. Not every moved key
   * goes to the new server: hashring gives each server floor(weight / total weight x 40 x servers)
   * vnodes (4 points each), so every server's share is relative to the total weight. With equal
   * weights that stays 40 and only the keys the new server takes over move, except where the
   * floating-point product rounds down to 39 (7, 14, 28, 49, 56, 98, ... equal servers): growing
   * to or from such a size moves about 2% of keys between the other servers too. With weights, a
   * new server whose weight differs from the average changes every server's point count, so a few
   * % of keys (more, the further its weight is from the average) move between the existing servers.
   */
  add(id: string, weight?: number): void {
    // hashring keeps a negative or NaN weight, which reshuffles keys between the other servers.
    if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight > 0)) {
      throw new InvalidOptionError(`server weight must be a number > 0, got ${describeValue(weight)}`);
    }
    this.ring.add(weight === undefined ? id : ({ [id]: weight } as never));
    this.ids = [...this.ids.filter((s) => s !== id), id];
    this.refresh();
  }

  /**
   * Removes a server and rebuilds as hashring does. Its keys move to the others; as with `add`, other
   * keys move between the remaining servers too when their point counts change (weights, or an
   * equal-weight size where hashring's rounding changes; see `add`).
   */
  remove(id: string): void {
    this.ring.remove(id);
    this.ids = this.ids.filter((s) => s !== id);
    this.refresh();
  }

  /**
   * Puts `to` in `from`'s place: the same ring points, so `to` takes exactly `from`'s keys and no
   * other key moves (hashring's `swap`, which `memcached` 2.2.2 uses for `failOverServers`).
   */
  swap(from: string, to: string): void {
    this.ring.swap(from, to);
    // `to` may be in the ring already (the compat layer lets hashring merge them): listed once.
    this.ids = [...new Set(this.ids.map((s) => (s === from ? to : s)))];
    this.refresh();
  }

  private refresh(): void {
    const points = (this.ring as unknown as { ring: RingNode[] }).ring;
    const at = new Map(this.ids.map((id, i) => [id, i]));
    this.values = new Float64Array(points.length);
    this.owners = new Int32Array(points.length);
    for (let i = 0; i < points.length; i++) {
      this.values[i] = points[i]!.value;
      this.owners[i] = at.get(points[i]!.server) ?? -1;
    }
    const buckets = new Int32Array(BUCKETS);
    for (let b = 0; b < BUCKETS; b++) buckets[b] = this.values.length === 0 ? -1 : this.find(b * BUCKET_SPAN);
    buckets[0] = -1;
    for (const v of this.values) if (v >= 0 && v < 2 ** 32) buckets[Math.floor(v / BUCKET_SPAN)] = -1;
    this.buckets = buckets;
  }

  /** hashring 3.2.0's `find`, kept verbatim (its edge cases decide which server a key gets). */
  private find(hash: number): number {
    const ring = this.values;
    const size = ring.length;
    let high = size;
    let low = 0;
    for (;;) {
      const mid = (low + high) >> 1;
      if (mid === size) return 0;
      const middle = ring[mid]!;
      const prev = mid === 0 ? 0 : ring[mid - 1]!;
      if (hash <= middle && hash > prev) return mid;
      if (middle < hash) low = mid + 1;
      else high = mid - 1;
      if (low > high) return 0;
    }
  }
}

/** The location strings of any accepted form, in order. */
export function serverIds(locations: Locations): string[] {
  if (typeof locations === 'string') return [locations];
  if (Array.isArray(locations)) return [...(locations as readonly string[])];
  return Object.keys(locations);
}
