import crypto from 'node:crypto';
import { InvalidArgumentError, InvalidKeyError, InvalidOptionError } from '../errors.js';
import { MAX_KEY_BYTES, validateKey } from '../protocol/keys.js';
import { DEFAULTS, resolveOptions, type ResolvedOptions } from '../client/options.js';
import { TEXT } from './errors.js';
import { legacySerializer } from './legacy-serializer.js';
import type { CompatConfig as Config } from './types.js';
import type { Locations } from '../cluster/ring.js';

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

/** A dead server is re-probed at least this often, whatever `reconnect` says (2.2.2: every 5 h, by `ping`). */
export const MAX_RECONNECT_MS = 60_000;

/** Node timers take at most this many ms. */
const MAX_MS = 2 ** 31 - 1;

/** The 2.2.2 options the compat layer acts on, each reduced to a value that works. */
export interface CompatSettings {
  namespace: string;
  maxKeySize: number;
  keyCompression: boolean;
  maxExpiration: number;
  maxValue: number;
  remove: boolean;
  failOverServers: string[];
  /** 2.2.2's IssueLog settings: `failures` left before a server is dead, the windows in ms. */
  failures: number;
  retry: number;
  reconnect: number;
  failuresTimeout: number;
  /** Failed connects a call waiting for a socket sits through before it fails (2.2.2's `retries`). */
  retries: number;
  client: ResolvedOptions;
}

/**
 * Merges `Memcached.config` (read at construction, as 2.2.2 does) with the caller's options and maps
 * them onto memcluster's options. It never throws for an option value: 2.2.2 accepted every value
 * at construction, so every value is taken, with its 2.2.2 meaning where it has a safe one and the
 * nearest safe meaning otherwise (src/compat/README.md, "Options", lists each). `options` that is
 * not an object gives no option, as in 2.2.2.
 */
export function mergeConfig(config: Config, options: unknown): Record<string, unknown> {
  // 2.2.2 copied the enumerable keys of whatever it was given: a string, number, boolean or
  // function (a config value passed through unchecked) gave no option, and a working client.
  const given = options !== null && typeof options === 'object' ? options : {};
  const o: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const src of [config ?? {}, given] as Array<Record<string, unknown>>) {
    for (const [k, v] of Object.entries(src)) if (v !== undefined) o[k] = v;
  }
  return o;
}

/** See {@link mergeConfig}; `o` is its result. */
export function resolveCompat(o: Record<string, unknown>): CompatSettings {
  // 0 or less (2.2.2: no connect timeout at all) or junk: the default, so every call stays bounded.
  const timeout = typeof o.timeout === 'number' && o.timeout > 0 ? num(o.timeout, 1, MAX_MS)! : 5000;
  const reconnect = num(o.reconnect, 1, MAX_MS) ?? DEFAULT_CONFIG.reconnect!;
  const maxValue = num(o.maxValue, 0, 2 ** 31 - 1) ?? 1_048_576;
  const failOver = o.failOverServers;
  const maxQueueSize = typeof o.maxQueueSize === 'number' && o.maxQueueSize > 0 ? num(o.maxQueueSize, 1, 2 ** 30) : undefined; // -1: no limit
  const poolSize = num(Number(o.poolSize) || 20, 1, 10_000)!; // jackpot, 2.2.2's pool: `+limit || 20`
  // 2.2.2 counted `failures` down with `if (this.failures)`: 0 marks a server dead at its first
  // failure; a negative or fractional count never reaches 0, so the server is never marked dead.
  const failuresRaw = typeof o.failures === 'number' ? o.failures : Number(o.failures);
  const failures = Number.isNaN(failuresRaw) ? 5 : failuresRaw;
  const retries = num(o.retries, 0, 1000);
  return {
    namespace: o.namespace === null || o.namespace === undefined ? '' : String(o.namespace),
    maxKeySize: num(o.maxKeySize, 1, MAX_MS) ?? 250,
    keyCompression: Boolean(o.keyCompression),
    maxExpiration: num(o.maxExpiration, 0, MAX_MS) ?? 2_592_000,
    maxValue,
    remove: Boolean(o.remove),
    failOverServers: typeof failOver === 'string' ? [failOver]
      : Array.isArray(failOver) ? failOver.filter((s): s is string => typeof s === 'string') : [],
    failures,
    retry: num(o.retry, 0, MAX_MS) ?? 30_000,
    reconnect,
    failuresTimeout: num(o.failuresTimeout, 0, MAX_MS) ?? 300_000,
    retries: retries === undefined ? 5 : Math.floor(retries),
    client: resolveOptions({
      timeoutMs: timeout,
      connectTimeoutMs: timeout,
      // 2.2.2's timeout bounded the whole connect: a server slower than 250 ms to answer the new
      // socket's first request is not a failed server. A tenth is left so that a socket that never
      // answers fails its validation (a failure of the server) before the call's own deadline.
      validateTimeoutMs: Math.max(1, Math.floor(timeout * 0.9)),
      maxConnections: poolSize,
      idleTimeoutMs: num(o.idle, 0, MAX_MS) ?? 5000,
      // The compat layer decides when a server is dead (2.2.2's IssueLog, src/compat/issues.ts);
      // memcluster's own count must never take a server out behind its back.
      failureThreshold: 1_000_000,
      retryDelayMs: Math.min(reconnect, MAX_RECONNECT_MS),
      maxRetryDelayMs: Math.min(reconnect, MAX_RECONNECT_MS),
      maxQueue: maxQueueSize ?? DEFAULTS.maxQueue,
      // Reads accept items as large as a server can hold (`-I` goes up to 1 GiB), as 2.2.2 read
      // any size: maxValue caps only our writes, and `store` checks it itself.
      maxValueBytes: MAX_ITEM_BYTES,
      serializer: legacySerializer,
      failover: false,
      coalesce: true,
    }),
  };
}

/** memcached's largest item size limit (`-I 1024m`). */
const MAX_ITEM_BYTES = 1 << 30;

/** A finite number within [min, max] (rounded up to a whole number), or undefined for anything else. */
function num(v: unknown, min: number, max: number): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return undefined;
  return Math.min(max, Math.max(min, Math.ceil(n)));
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
 * validated byte by byte (no whitespace or NUL, at most 250 UTF-8 bytes), and a key that is short
 * in characters but over 250 bytes is compressed too, since the server would refuse it.
 *
 * @throws {InvalidKeyError} before anything is written.
 */
export function compatKey(key: unknown, o: KeyOptions, index?: number): CompatKey {
  const text = keyText(key);
  if (text === undefined) throw new InvalidKeyError(TEXT.notA('key', 'String'), String(typeof key));
  const full = o.namespace + text;
  let wire = full;
  if (full.length > o.maxKeySize || (full.length > MAX_KEY_BYTES / 3 && Buffer.byteLength(full) > MAX_KEY_BYTES)) {
    if (!o.keyCompression) {
      // 2.2.2 named the argument by its position in a getMulti array: `Argument "3" is longer ...`.
      throw new InvalidKeyError(TEXT.keyTooLong(o.maxKeySize, index === undefined ? 'key' : String(index)), full);
    }
    wire = crypto.createHash('md5').update(full).digest('hex');
  } else if (/\s/.test(full)) {
    throw new InvalidKeyError(TEXT.whitespace, full);
  }
  return { key, full, wire, bytes: wireKeyBytes(wire) };
}

/**
 * The text of a key as 2.2.2's `namespace + key` makes it: strings, numbers, bigints, booleans,
 * and a Buffer's UTF-8 text. `undefined` for anything else (null, undefined, objects: 2.2.2 made
 * "null", "undefined", "[object Object]" of them, which only a bug in the caller would mean).
 */
export function keyText(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  if (Buffer.isBuffer(key)) return key.toString('utf8');
  return undefined;
}

/**
 * The UTF-8 length of a wire key, checked as memcluster checks every key, except that control
 * bytes other than whitespace (refused before, as 2.2.2 did) are allowed: memcached splits command
 * lines on spaces only and stores them, and 2.2.2 wrote such keys. NUL is refused (it ends the line).
 */
function wireKeyBytes(wire: string): number {
  if (!CONTROL.test(wire)) return validateKey(wire);
  if (wire.includes('\0')) throw new InvalidKeyError('key contains a NUL byte (memcached would end the command line there)', wire);
  // Each control byte is one UTF-8 byte, as its stand-in: length, surrogates and the rest are checked as usual.
  return validateKey(wire.replace(CONTROL_ALL, '_'));
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\x00-\x1f\x7f]/g;

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
 * - negative: -1, which memcached reads as already expired (2.2.2 sent it as given).
 *
 * @throws {InvalidArgumentError} for anything else (non-numbers, fractions).
 */
export function compatExptime(lifetime: unknown, maxExpiration: number, nowMs: number = Date.now()): number {
  if (typeof lifetime !== 'number' || Number.isNaN(lifetime)) {
    throw new InvalidArgumentError('Argument "lifetime" is not a valid Number.');
  }
  if (!Number.isSafeInteger(lifetime)) {
    throw new InvalidArgumentError(`lifetime must be a whole number of seconds, got ${lifetime}`);
  }
  if (lifetime < 0) return -1; // as 2.2.2 sent it: memcached expires the item at once
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

/** 2.2.2's location handling: an empty array or nothing means `localhost:11211`. */
export function normalizeLocations(location: unknown): Locations {
  if (Array.isArray(location)) return location.length > 0 ? [...(location as string[])] : ['localhost:11211'];
  if (location !== null && typeof location === 'object') return { ...(location as Record<string, number>) };
  if (location === undefined || location === null || location === '') return 'localhost:11211';
  if (typeof location !== 'string') throw new InvalidOptionError(`location must be a string, an array of strings or { 'host:port': weight }, got ${typeof location}`);
  return location;
}
