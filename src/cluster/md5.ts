/**
 * The first 32-bit word of an MD5 digest, in JavaScript. The ketama ring needs only digest bytes
 * 0..3 read little-endian, which is MD5's final `A` register. Routing hashes every key of every
 * request; here that costs no Hash object, digest Buffer or C++ crossing. Checked against `crypto`
 * in test/cluster/md5.test.ts.
 *
 * Cost per key (node 20 on this project's 2.6 GHz Xeon, medians of 3 rounds): ~100 ns for `gm:123`,
 * ~140 ns for a 25-28-character key, ~350 ns for a 92-95-character (two-block) one; the loop-and-table
 * MD5 this replaced took ~225 / ~300 / ~600 ns, and a `crypto` MD5 digest takes ~1.2-1.5 µs.
 * The 64 MD5 steps are written out (no loop, branch or table lookup: the unrolled form of Joseph
 * Myers' md5cycle), and each step adds its message word, constant and oldest register before the
 * register computed by the step just before, so the CPU's dependency chain per step is as short as
 * MD5 allows. An ASCII key of up to 250 characters (memcached's limit) goes straight from its char
 * codes into 32-bit words of a fixed scratch; other keys are UTF-8 encoded by Buffer (as hashring
 * hashes them) into a scratch that grows as needed.
 */

/** Five 64-byte blocks: a padded key of up to 311 bytes (a 250-byte key, memcached's limit, needs 5). */
const words = new Int32Array(80);
const bytes = new Uint8Array(words.buffer);
/** Scratch for UTF-8 keys longer than `words` holds; replaced by a larger one when outgrown. */
let bigWords = new Int32Array(0);
let bigBytes = new Uint8Array(0);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** MD5(utf8(key)) bytes 0..3 as a little-endian uint32. */
export function md5Word0(key: string): number {
  const n = key.length;
  if (n <= 250) {
    // Little-endian words built arithmetically from the char codes (independent of the machine's
    // byte order); `or` collects the codes, so one test at the end catches any non-ASCII one.
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
    // The last 0-3 characters and the 0x80 that ends the message share the next word.
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
  return md5Word0Utf8(key);
}

/** Keys with non-ASCII characters or over 250 characters: UTF-8 bytes through a byte view. */
function md5Word0Utf8(key: string): number {
  const encoded = Buffer.from(key, 'utf8');
  const n = encoded.length;
  const end = (((n + 8) >>> 6) + 1) << 4;
  let x = words;
  if (end > words.length) {
    if (end > bigWords.length) {
      bigWords = new Int32Array(end * 2);
      bigBytes = new Uint8Array(bigWords.buffer);
    }
    x = bigWords;
  }
  const b = x === words ? bytes : bigBytes;
  b.set(encoded);
  b[n] = 0x80;
  b.fill(0, n + 1, (end << 2) - 8);
  x[end - 2] = (n << 3) | 0;
  x[end - 1] = Math.floor(n / 0x20000000);
  return md5A(x, end);
}

/**
 * MD5 over the padded message in `x[0..end)` (`end` a multiple of 16 words); returns the final
 * `A` register as a uint32.
 */
function md5A(x: Int32Array, end: number): number {
  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  for (let o = 0; o < end; o += 16) {
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    let t: number;
    // Step: t = x[g] + K + a + f(b, c, d); a = b + (t <<< s), registers rotating a, d, c, b.
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
    // Round 2, G = (b & d) | (c & ~d); its halves share no bits, so they are added one by one,
    // `c & ~d` early and `b & d` (b is the register just computed) last.
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

/** False on a big-endian machine, where the byte view of the UTF-8 path would misread words. */
export const md5Word0Supported = LITTLE_ENDIAN;
