import { InvalidArgumentError } from '../errors.js';
import { describeValue } from '../text.js';

/** memcached reads an exptime above this many seconds (30 days) as a unix timestamp. */
export const MAX_RELATIVE_TTL = 2_592_000;

/**
 * A TTL in seconds from now (0 = no expiry) as memcached's exptime. A TTL over 30 days is sent as
 * the absolute unix time it means, because memcached would read the number itself as a date in 1970
 * and expire the item at once. Negative, fractional or non-number TTLs are refused.
 */
export function toExptime(ttl: unknown, what = 'ttl', nowMs?: number): number {
  if (ttl === undefined) return 0;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0) {
    throw new InvalidArgumentError(`${what} must be a whole number of seconds >= 0, got ${describeValue(ttl)}`);
  }
  if (ttl <= MAX_RELATIVE_TTL) return ttl;
  const absolute = Math.floor((nowMs ?? Date.now()) / 1000) + ttl;
  if (absolute > 0x7fffffff) throw new InvalidArgumentError(`${what} ${ttl} s reaches past January 2038, which memcached's exptime cannot represent`);
  return absolute;
}
