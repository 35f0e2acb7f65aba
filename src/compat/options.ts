import crypto from 'node:crypto';
import { InvalidArgumentError, InvalidKeyError, InvalidOptionError } from '../errors.js';
import { MAX_KEY_BYTES, validateKey } from '../protocol/keys.js';
import { DEFAULTS, resolveOptions, type ResolvedOptions } from '../client/options.js';
import { legacySerializer } from './legacy-serializer.js';
import type { CompatConfig as Config } from './types.js';

/** `memcached` 2.2.2's `Memcached.config`, value for value. */
export const DEFAULT_CONFIG: Config = {
  maxKeySize: 250,
  maxExpiration: 2_592_000,
  maxValue: 1_048_576,
  activeQueries: 0,
  maxQueueSize: -1,
  algorithm: 'md5',
  compatibility: 'ketama',
  poolSize: 10,
  retries: 5,
  factor: 3,
  minTimeout: 1000,
  maxTimeout: 60_000,
  randomize: false,
  reconnect: 18_000_000,
  timeout: 5000,
  failures: 5,
  failuresTimeout: 300_000,
  retry: 30_000,
  idle: 5000,
  remove: false,
  redundancy: false,
  keyCompression: true,
  namespace: '',
  debug: false,
};

/** The probe backoff of a down server never grows past this, whatever `reconnect` says. */
export const MAX_PROBE_DELAY_MS = 60_000;

/** The 2.2.2 options the compat layer acts on, validated. */
export interface CompatSettings {
  namespace: string;
  maxKeySize: number;
  keyCompression: boolean;
  maxExpiration: number;
  maxValue: number;
  remove: boolean;
  failOverServers: string[];
  client: ResolvedOptions;
}

/**
 * Merges `Memcached.config` (read at construction, as 2.2.2 does) with the caller's options and maps
 * them onto memcluster's options. Anything that cannot work is refused here, naming the option.
 */
export function resolveCompat(config: Config, options: unknown): CompatSettings {
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new InvalidOptionError(`options must be an object, got ${typeof options}`);
  }
  const o: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const src of [config, options ?? {}] as Array<Record<string, unknown>>) {
    for (const [k, v] of Object.entries(src)) if (v !== undefined) o[k] = v;
  }
  if (o.redundancy) {
    throw new InvalidOptionError('option redundancy is not supported by memcluster/compat (memcached 2.2.2 threw on first use of it); remove it');
  }
  if (o.algorithm !== 'md5') {
    throw new InvalidOptionError(`option algorithm must be 'md5' (the ring memcached 2.2.2 builds by default), got ${JSON.stringify(o.algorithm)}`);
  }
  const compatibility = o.compatiblity ?? o.compatibility; // 2.2.2 also read the misspelling
  if (compatibility !== 'ketama') {
    throw new InvalidOptionError(`option compatibility must be 'ketama' (memcached 2.2.2's default), got ${JSON.stringify(compatibility)}`);
  }
  const timeout = ms(o, 'timeout', 1);
  const retry = Math.max(1, ms(o, 'retry', 0));
  const failOver = o.failOverServers;
  if (failOver !== undefined && failOver !== null && typeof failOver !== 'string'
    && !(Array.isArray(failOver) && failOver.every((s) => typeof s === 'string'))) {
    throw new InvalidOptionError(`option failOverServers must be a string or an array of strings, got ${JSON.stringify(failOver)}`);
  }
  for (const name of ['remove', 'keyCompression'] as const) {
    if (typeof o[name] !== 'boolean') throw new InvalidOptionError(`option ${name} must be a boolean, got ${JSON.stringify(o[name])}`);
  }
  if (typeof o.namespace !== 'string') throw new InvalidOptionError(`option namespace must be a string, got ${JSON.stringify(o.namespace)}`);
  const maxValue = ms(o, 'maxValue', 1);
  const maxQueueSize = typeof o.maxQueueSize === 'number' && o.maxQueueSize > 0 ? Math.ceil(o.maxQueueSize) : DEFAULTS.maxQueue;
  return {
    namespace: o.namespace,
    maxKeySize: ms(o, 'maxKeySize', 1),
    keyCompression: o.keyCompression as boolean,
    maxExpiration: ms(o, 'maxExpiration', 0),
    maxValue,
    remove: o.remove as boolean,
    failOverServers: failOver == null ? [] : typeof failOver === 'string' ? [failOver] : [...(failOver as string[])],
    client: resolveOptions({
      timeoutMs: timeout,
      connectTimeoutMs: timeout,
      validateTimeoutMs: Math.min(DEFAULTS.validateTimeoutMs, timeout),
      maxConnections: ms(o, 'poolSize', 1),
      idleTimeoutMs: ms(o, 'idle', 0),
      failureThreshold: ms(o, 'failures', 1),
      retryDelayMs: retry,
      maxRetryDelayMs: Math.max(retry, Math.min(ms(o, 'reconnect', 0), MAX_PROBE_DELAY_MS)),
      maxQueue: maxQueueSize,
      // Reads must accept items as large as the servers hold, even when maxValue caps our writes lower.
      maxValueBytes: Math.max(maxValue, 1_048_576),
      serializer: legacySerializer,
      failover: false,
      coalesce: true,
    }),
  };
}

/** A finite number option >= `min`, rounded up to a whole number. */
function ms(o: Record<string, unknown>, name: string, min: number): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new InvalidOptionError(`option ${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  }
  return Math.ceil(v);
}

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
