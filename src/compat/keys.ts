import crypto from 'node:crypto';
import { InvalidArgumentError, InvalidKeyError } from '../errors.js';
import { MAX_KEY_BYTES, validateKey } from '../protocol/keys.js';

/** memcached reads an exptime above this (30 days, in seconds) as a unix time. */
const RELATIVE_LIMIT = 2_592_000;

/** A caller key made ready the way 2.2.2 does it, then validated the way memcluster does. */
export interface CompatKey {
  /** The caller's key as given (a number stays a number). */
  key: unknown;
  /** `namespace + key`: what the ring routes on (2.2.2 routes before compressing). */
  full: string;
  /** What goes on the wire: `full`, or its md5 hex when it is over `maxKeySize`. */
  wire: string;
  /** UTF-8 length of `wire`. */
  bytes: number;
}

/** The key options of 2.2.2. */
export interface KeyOptions {
  namespace: string;
  maxKeySize: number;
  keyCompression: boolean;
}

/**
 * Builds the routed and the wire key exactly as 2.2.2: `namespace + key` (numbers are turned into
 * their decimal text, as 2.2.2's string concatenation does), and an over-long key becomes the md5
 * hex of the whole namespaced key when `keyCompression` is on. Unlike 2.2.2 the wire key is then
 * validated byte by byte (no spaces or control bytes, at most 250 UTF-8 bytes), and a key that is
 * short in characters but over 250 bytes is compressed too, since the server would refuse it.
 *
 * @throws {InvalidKeyError} before anything is written.
 */
export function compatKey(key: unknown, o: KeyOptions): CompatKey {
  if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') {
    throw new InvalidKeyError('Argument "key" is not a valid String.', String(typeof key));
  }
  const full = o.namespace + String(key);
  let wire = full;
  if (full.length > o.maxKeySize || (full.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(full) > MAX_KEY_BYTES)) {
    if (!o.keyCompression) {
      throw new InvalidKeyError(`Argument "key" is longer than the maximum allowed length of ${o.maxKeySize}`, full);
    }
    wire = crypto.createHash('md5').update(full).digest('hex');
  }
  return { key, full, wire, bytes: validateKey(wire) };
}

/**
 * A 2.2.2 `lifetime` as memcached's exptime, with `maxExpiration` enforced (2.2.2 ignored it):
 *
 * - 0..2592000: seconds from now, as memcached reads them; over `maxExpiration` is refused.
 * - a unix time in the future (what memcached reads any value over 30 days as): kept as is, and
 *   refused when it lies more than `maxExpiration` seconds ahead.
 * - over 30 days but before now (e.g. 3456000 meant as 40 days): memcached would read it as a date
 *   in 1970 and drop the item at once. It is taken as seconds from now instead, which only
 *   `maxExpiration` above 30 days allows.
 *
 * @throws {InvalidArgumentError} for anything else (non-numbers, fractions, negatives).
 */
export function compatExptime(lifetime: unknown, maxExpiration: number, nowMs: number = Date.now()): number {
  if (typeof lifetime !== 'number' || Number.isNaN(lifetime)) {
    throw new InvalidArgumentError('Argument "lifetime" is not a valid Number.');
  }
  if (!Number.isSafeInteger(lifetime) || lifetime < 0) {
    throw new InvalidArgumentError(`lifetime must be a whole number of seconds >= 0, got ${lifetime}`);
  }
  const nowSec = Math.floor(nowMs / 1000);
  let relative = lifetime;
  let exptime = lifetime;
  if (lifetime > RELATIVE_LIMIT) {
    if (lifetime > nowSec) {
      relative = lifetime - nowSec;
    } else {
      exptime = nowSec + lifetime;
    }
  }
  if (relative > maxExpiration) {
    throw new InvalidArgumentError(`lifetime of ${relative} s exceeds maxExpiration (${maxExpiration} s)`);
  }
  if (exptime > 0x7fffffff) throw new InvalidArgumentError(`lifetime ${lifetime} reaches past January 2038, which memcached cannot represent`);
  return exptime;
}
