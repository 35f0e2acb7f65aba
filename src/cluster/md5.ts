/**
 * The first 32-bit word of an MD5 digest, in JavaScript. The ketama ring needs only digest bytes
 * 0..3 read little-endian, which is MD5's final `A` register. For the short keys of a cache,
 * computing it here costs a fraction of a native `crypto` call (no Buffer, no C++ crossing), and
 * routing hashes every key of every request. Checked against `crypto` in test/cluster/md5.test.ts.
 */

const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;
const SHIFT = new Uint8Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

let bytes = new Uint8Array(320);
let words = new Int32Array(bytes.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** MD5(utf8(key)) bytes 0..3 as a little-endian uint32. */
export function md5Word0(key: string): number {
  let n = key.length;
  if (n + 72 > bytes.length) grow(n * 3 + 72);
  // ASCII fast path; anything else is encoded by Buffer (UTF-8, as hashring hashes it).
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) { ascii = false; break; }
    bytes[i] = c;
  }
  if (!ascii) {
    const encoded = Buffer.from(key, 'utf8');
    n = encoded.length;
    if (n + 72 > bytes.length) grow(n + 72);
    bytes.set(encoded);
  }
  const blocks = ((n + 8) >>> 6) + 1;
  const end = blocks * 64;
  bytes[n] = 0x80;
  bytes.fill(0, n + 1, end - 8);
  words[(end >> 2) - 2] = (n << 3) | 0;
  words[(end >> 2) - 1] = Math.floor(n / 0x20000000);

  let a0 = 0x67452301 | 0;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476 | 0;
  for (let blk = 0; blk < blocks; blk++) {
    const base = blk * 16;
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
      else { f = c ^ (b | ~d); g = (7 * i) & 15; }
      const x = (a + f + K[i]! + words[base + g]!) | 0;
      const s = SHIFT[((i >> 4) << 2) | (i & 3)]!;
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

function grow(size: number): void {
  const rounded = Math.ceil(size / 64) * 64;
  bytes = new Uint8Array(rounded);
  words = new Int32Array(bytes.buffer);
}

/** False on a big-endian machine, where the word view above would read bytes in the wrong order. */
export const md5Word0Supported = LITTLE_ENDIAN;
