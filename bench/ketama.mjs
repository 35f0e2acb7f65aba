// @ts-check
/**
 * The floor's ring: the continuum `memcached` 2.2.2 builds, looked up as cheaply as a client can.
 *
 * `hashring` builds it, with exactly 2.2.2's options (`new HashRing(servers, 'md5', {
 * compatibility: 'ketama', 'default port': 11211 })`); a lookup then reads hashring's sorted points
 * directly, with hashring 3.2.0's own search, and hashes the key with a pure-JS MD5 of which only
 * the first digest word is kept (ketama reads digest bytes 0..3 little-endian). What that saves per
 * key over `hashring.get()`: a `crypto` Hash object and digest Buffer, and hashring's 5,000-entry
 * LRU (which thrashes on large multi-gets). bench/baseline-check.mjs checks that every one of
 * 100,000 keys maps to the server hashring picks. memcluster's own ring does the same.
 */
import crypto from 'node:crypto';
import HashRing from 'hashring';

const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Room for keys up to 250 bytes (memcached's limit) plus padding; longer keys use crypto. */
const bytes = new Uint8Array(320);
const words = new Int32Array(bytes.buffer);

/** MD5(key) bytes 0..3 as a little-endian uint32, for ASCII keys; crypto otherwise. @param {string} key */
export function ketamaHash(key) {
  const n = key.length;
  let ascii = LITTLE_ENDIAN && n <= 250;
  for (let i = 0; ascii && i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) ascii = false;
    else bytes[i] = c;
  }
  if (!ascii) {
    const x = crypto.createHash('md5').update(key).digest();
    return ((x[3] << 24) | (x[2] << 16) | (x[1] << 8) | x[0]) >>> 0;
  }
  const blocks = ((n + 8) >>> 6) + 1;
  const end = blocks * 64;
  bytes[n] = 0x80;
  bytes.fill(0, n + 1, end - 8);
  words[(end >> 2) - 2] = n << 3;
  words[(end >> 2) - 1] = 0;
  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  for (let base = 0; base < end >> 2; base += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f;
      let g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
      else { f = c ^ (b | ~d); g = (7 * i) & 15; }
      const x = (a + f + K[i] + words[base + g]) | 0;
      const s = S[((i >> 4) << 2) | (i & 3)];
      a = d;
      d = c;
      c = b;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
    }
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
  }

  /** @param {string} key @returns {string} */
  get(key) {
    if (this.single !== undefined) return this.single;
    return this.points[this.find(ketamaHash(key))].server;
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
