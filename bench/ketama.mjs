// @ts-check
/**
 * The floor's ring: the continuum `memcached` 2.2.2 builds, looked up as cheaply as a client can.
 *
 * `hashring` builds it, with exactly 2.2.2's options (`new HashRing(servers, 'md5', {
 * compatibility: 'ketama', 'default port': 11211 })`); a lookup then reads hashring's sorted points
 * directly, with hashring 3.2.0's own search, and hashes the key with a pure-JS MD5 of which only
 * the first digest word is kept (ketama reads digest bytes 0..3 little-endian): the 64 steps written
 * out (Joseph Myers' md5cycle, unrolled), an ASCII key's char codes packed straight into 32-bit
 * words; ~100 ns for a key like `gm:123` (node 20, 2.6 GHz Xeon; the loop-and-table MD5 before it
 * took ~200 ns, a `crypto` MD5 ~1.2-1.5 µs). Keys with non-ASCII characters or over 250 characters
 * go to `crypto`. What that saves per key over `hashring.get()`: a `crypto` Hash object and digest
 * Buffer, and hashring's 5,000-entry LRU (which thrashes on large multi-gets).
 * bench/baseline-check.mjs checks that every one of 100,000 keys maps to the server hashring picks.
 * memcluster's own ring does the same.
 */
import crypto from 'node:crypto';
import HashRing from 'hashring';

/** Five 64-byte blocks: room for a padded ASCII key of up to 250 bytes (memcached's limit). */
const words = new Int32Array(80);

/** MD5(key) bytes 0..3 as a little-endian uint32, for ASCII keys; crypto otherwise. @param {string} key */
export function ketamaHash(key) {
  const n = key.length;
  if (n <= 250) {
    // Little-endian words built from the char codes (so independent of the machine's byte order);
    // `or` gathers every code, one test at the end catches a non-ASCII one.
    const full = n >> 2;
    let or = 0;
    for (let w = 0, i = 0; w < full; w++, i += 4) {
      const c0 = key.charCodeAt(i);
      const c1 = key.charCodeAt(i + 1);
      const c2 = key.charCodeAt(i + 2);
      const c3 = key.charCodeAt(i + 3);
      or |= c0 | c1 | c2 | c3;
      words[w] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    }
    // The last 0-3 characters share a word with the 0x80 that ends the message.
    let last = 0x80;
    for (let i = n - 1; i >= full << 2; i--) {
      const c = key.charCodeAt(i);
      or |= c;
      last = (last << 8) | c;
    }
    if (or < 0x80) {
      const end = (((n + 8) >>> 6) + 1) << 4;
      words[full] = last;
      for (let w = full + 1; w < end - 2; w++) words[w] = 0;
      words[end - 2] = n << 3;
      words[end - 1] = 0;
      return md5A(words, end);
    }
  }
  const x = crypto.createHash('md5').update(key).digest();
  return ((x[3] << 24) | (x[2] << 16) | (x[1] << 8) | x[0]) >>> 0;
}

/** MD5's final `A` register (uint32) over the padded message in `x[0..end)`, `end` a multiple of 16. @param {Int32Array} x @param {number} end */
function md5A(x, end) {
  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  for (let o = 0; o < end; o += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    let t;
    // t = x[g] + K + a + f(b, c, d); a = b + (t <<< s); the register just computed is added last.
    // Round 1, F = (b & c) | (~b & d), written d ^ (b & (c ^ d)).
    t = (x[o] + -680876936 + a + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (x[o + 1] + -389564586 + d + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (x[o + 2] + 606105819 + c + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (x[o + 3] + -1044525330 + b + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = (x[o + 4] + -176418897 + a + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (x[o + 5] + 1200080426 + d + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (x[o + 6] + -1473231341 + c + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (x[o + 7] + -45705983 + b + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = (x[o + 8] + 1770035416 + a + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (x[o + 9] + -1958414417 + d + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (x[o + 10] + -42063 + c + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (x[o + 11] + -1990404162 + b + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    t = (x[o + 12] + 1804603682 + a + (d ^ (b & (c ^ d)))) | 0; a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (x[o + 13] + -40341101 + d + (c ^ (a & (b ^ c)))) | 0; d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (x[o + 14] + -1502002290 + c + (b ^ (d & (a ^ b)))) | 0; c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (x[o + 15] + 1236535329 + b + (a ^ (c & (d ^ a)))) | 0; b = (c + ((t << 22) | (t >>> 10))) | 0;
    // Round 2, G = (b & d) | (c & ~d), its two halves (no bits in common) added one by one.
    t = (x[o + 1] + -165796510 + a + (c & ~d) + (b & d)) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (x[o + 6] + -1069501632 + d + (b & ~c) + (a & c)) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (x[o + 11] + 643717713 + c + (a & ~b) + (d & b)) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (x[o] + -373897302 + b + (d & ~a) + (c & a)) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = (x[o + 5] + -701558691 + a + (c & ~d) + (b & d)) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (x[o + 10] + 38016083 + d + (b & ~c) + (a & c)) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (x[o + 15] + -660478335 + c + (a & ~b) + (d & b)) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (x[o + 4] + -405537848 + b + (d & ~a) + (c & a)) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = (x[o + 9] + 568446438 + a + (c & ~d) + (b & d)) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (x[o + 14] + -1019803690 + d + (b & ~c) + (a & c)) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (x[o + 3] + -187363961 + c + (a & ~b) + (d & b)) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (x[o + 8] + 1163531501 + b + (d & ~a) + (c & a)) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    t = (x[o + 13] + -1444681467 + a + (c & ~d) + (b & d)) | 0; a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (x[o + 2] + -51403784 + d + (b & ~c) + (a & c)) | 0; d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (x[o + 7] + 1735328473 + c + (a & ~b) + (d & b)) | 0; c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (x[o + 12] + -1926607734 + b + (d & ~a) + (c & a)) | 0; b = (c + ((t << 20) | (t >>> 12))) | 0;
    // Round 3, H = b ^ c ^ d.
    t = (x[o + 5] + -378558 + a + (b ^ (c ^ d))) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (x[o + 8] + -2022574463 + d + (a ^ (b ^ c))) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (x[o + 11] + 1839030562 + c + (d ^ (a ^ b))) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (x[o + 14] + -35309556 + b + (c ^ (d ^ a))) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = (x[o + 1] + -1530992060 + a + (b ^ (c ^ d))) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (x[o + 4] + 1272893353 + d + (a ^ (b ^ c))) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (x[o + 7] + -155497632 + c + (d ^ (a ^ b))) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (x[o + 10] + -1094730640 + b + (c ^ (d ^ a))) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = (x[o + 13] + 681279174 + a + (b ^ (c ^ d))) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (x[o] + -358537222 + d + (a ^ (b ^ c))) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (x[o + 3] + -722521979 + c + (d ^ (a ^ b))) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (x[o + 6] + 76029189 + b + (c ^ (d ^ a))) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    t = (x[o + 9] + -640364487 + a + (b ^ (c ^ d))) | 0; a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (x[o + 12] + -421815835 + d + (a ^ (b ^ c))) | 0; d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (x[o + 15] + 530742520 + c + (d ^ (a ^ b))) | 0; c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (x[o + 2] + -995338651 + b + (c ^ (d ^ a))) | 0; b = (c + ((t << 23) | (t >>> 9))) | 0;
    // Round 4, I = c ^ (b | ~d).
    t = (x[o] + -198630844 + a + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (x[o + 7] + 1126891415 + d + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (x[o + 14] + -1416354905 + c + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (x[o + 5] + -57434055 + b + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = (x[o + 12] + 1700485571 + a + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (x[o + 3] + -1894986606 + d + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (x[o + 10] + -1051523 + c + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (x[o + 1] + -2054922799 + b + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = (x[o + 8] + 1873313359 + a + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (x[o + 15] + -30611744 + d + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (x[o + 6] + -1560198380 + c + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (x[o + 13] + 1309151649 + b + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    t = (x[o + 4] + -145523070 + a + (c ^ (b | ~d))) | 0; a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (x[o + 11] + -1120210379 + d + (b ^ (a | ~c))) | 0; d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (x[o + 2] + 718787259 + c + (a ^ (d | ~b))) | 0; c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (x[o + 9] + -343485551 + b + (d ^ (c | ~a))) | 0; b = (c + ((t << 21) | (t >>> 11))) | 0;
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  return a0 >>> 0;
}

export class KetamaRing {
  /** @param {string[]} servers */
  constructor(servers) {
    this.hashring = new HashRing(servers, 'md5', { compatibility: 'ketama', 'default port': 11211 });
    /** @type {Array<{ value: number, server: string }>} */
    this.points = /** @type {any} */ (this.hashring).ring;
    this.single = servers.length === 1 ? servers[0] : undefined;
    // As memcluster's Ring: the point for every hash of a bucket (top 14 bits) that holds no point
    // (nor is bucket 0), where `find` gives all its hashes one answer; -1 where it must search.
    this.buckets = new Int32Array(2 ** 14);
    for (let b = 0; b < this.buckets.length; b++) this.buckets[b] = this.points.length === 0 ? -1 : this.find(b * 2 ** 18);
    this.buckets[0] = -1;
    for (const p of this.points) if (p.value >= 0 && p.value < 2 ** 32) this.buckets[Math.floor(p.value / 2 ** 18)] = -1;
  }

  /** @param {string} key @returns {string} */
  get(key) {
    if (this.single !== undefined) return this.single;
    const hash = ketamaHash(key);
    const point = this.buckets[hash >>> 18];
    return this.points[point >= 0 ? point : this.find(hash)].server;
  }

  /** hashring 3.2.0's `find`, verbatim in behaviour (its edge cases decide the server). @param {number} hash */
  find(hash) {
    const ring = this.points;
    const size = ring.length;
    let high = size;
    let low = 0;
    for (;;) {
      const mid = (low + high) >> 1;
      if (mid === size) return 0;
      const middle = ring[mid].value;
      const prev = mid === 0 ? 0 : ring[mid - 1].value;
      if (hash <= middle && hash > prev) return mid;
      if (middle < hash) low = mid + 1;
      else high = mid - 1;
      if (low > high) return 0;
    }
  }
}
