/**
 * Request encoders for the memcached meta protocol (`mg`, `ms`, `md`, `ma`, `mn`), in the syntax
 * of memcached >= 1.6.10 (checked on 1.6.18; see shared/meta-protocol.md).
 *
 * Each function returns one `Wire` holding the whole request (a string unless a Buffer data block is
 * in it; the connection joins a tick's requests into one write), and emits
 * exactly the flags the caller asked for, in a fixed order, never more: no base64 keys (`b`), no
 * `E` (1.6.18 refuses it), no `s` on `ms` (1.6.20). Unlike the text encoders, which trust their
 * caller, these check every input that reaches the request line (key, opaque, numbers, cas), since
 * a stray space or `\r\n` in any of them would inject a command: bad input throws a typed error
 * before a byte exists. The reply of a non-quiet request is a `meta` expectation; quiet requests
 * followed by `mn` are one `meta_batch` expectation.
 */
import { InvalidArgumentError } from '../errors.js';
import { validateKey } from './keys.js';
import { withData } from './encoder.js';
import type { Wire } from './types.js';

/** memcached 1.6.18 refuses an opaque token of 32 characters or more (`CLIENT_ERROR opaque token too long`). */
export const MAX_OPAQUE_LENGTH = 31;
const UINT64_MAX = 18446744073709551615n;
const INT32_MAX = 2 ** 31 - 1;

/** Flags shared by every meta command. */
export interface MetaCommonFlags {
  /** `O<token>`: echoed back in the reply, to match replies in a batch. 1-31 printable characters, no space. */
  opaque?: string | undefined;
  /** `k`: return the key. */
  returnKey?: boolean | undefined;
  /** `q`: quiet, the nominal reply is suppressed (`EN` for mg, `HD` for ms/md/ma); end the batch with `mn`. */
  quiet?: boolean | undefined;
}

/** `mg` flags. */
export interface MetaGetFlags extends MetaCommonFlags {
  /** `v`: return the value. */
  value?: boolean | undefined;
  /** `f`: return the client flags. */
  clientFlags?: boolean | undefined;
  /** `c`: return the cas unique. */
  cas?: boolean | undefined;
  /** `t`: return the remaining TTL (-1 = none). */
  ttl?: boolean | undefined;
  /** `s`: return the value's size. */
  size?: boolean | undefined;
  /** `h`: return whether the item was fetched before. */
  hitBefore?: boolean | undefined;
  /** `l`: return seconds since the last access. */
  lastAccess?: boolean | undefined;
  /** `u`: do not bump the item in the LRU. */
  noBump?: boolean | undefined;
  /** `N<ttl>`: on a miss, create an empty placeholder with this TTL; the caller who did gets `W` (a lease). */
  vivify?: number | undefined;
  /** `R<ttl>`: if the remaining TTL is below this, the first caller gets `W` (early recache). */
  recache?: number | undefined;
  /** `T<ttl>`: update the item's TTL (touch). */
  touch?: number | undefined;
}

/** `ms` modes: S set, E add, A append, P prepend, R replace. */
export type MetaSetMode = 'S' | 'E' | 'A' | 'P' | 'R';

/** `ms` flags. */
export interface MetaSetFlags extends MetaCommonFlags {
  /** `M<mode>` (default set). */
  mode?: MetaSetMode | undefined;
  /** `F<flags>`: client flags, 0 to 2^32-1. */
  clientFlags?: number | undefined;
  /** `T<ttl>`: TTL in seconds, as memcached reads exptime (0 = never, over 30 days = unix time). */
  ttl?: number | undefined;
  /** `C<cas>`: store only if the item's cas is this (decimal uint64), else `EX` (or `NF`). */
  compareCas?: string | undefined;
  /** `I`: with `C`, a cas older than the item's marks the item stale instead of failing. */
  invalidate?: boolean | undefined;
  /** `c`: return the new cas. */
  returnCas?: boolean | undefined;
}

/** `md` flags. */
export interface MetaDeleteFlags extends MetaCommonFlags {
  /** `C<cas>`: delete only if the item's cas is this. */
  compareCas?: string | undefined;
  /** `I`: mark the item stale instead of deleting it (the next `mg` gets `X` and one caller `W`). */
  invalidate?: boolean | undefined;
  /** `T<ttl>`: with `I`, the TTL the stale item keeps. */
  ttl?: number | undefined;
}

/** `ma` modes: I or + increment, D or - decrement. */
export type MetaArithMode = 'I' | '+' | 'D' | '-';

/** `ma` flags. */
export interface MetaArithFlags extends MetaCommonFlags {
  /** `M<mode>` (default increment). */
  mode?: MetaArithMode | undefined;
  /** `D<delta>` (default 1): a uint64, as a decimal string or a safe non-negative integer. */
  delta?: string | number | undefined;
  /** `N<ttl>`: on a miss, create the counter with `initial` and this TTL. */
  vivify?: number | undefined;
  /** `J<initial>`: the value a vivified counter starts at (default 0). */
  initial?: string | number | undefined;
  /** `T<ttl>`: update the TTL. */
  ttl?: number | undefined;
  /** `C<cas>`: apply only if the item's cas is this. */
  compareCas?: string | undefined;
  /** `v`: return the new value (as a `VA` data block). */
  value?: boolean | undefined;
  /** `t`: return the remaining TTL. */
  returnTtl?: boolean | undefined;
  /** `c`: return the new cas. */
  returnCas?: boolean | undefined;
}

/**
 * `mg <key> <flags>*\r\n`. Flag order: v f c t k s h l u N R T O q.
 * @throws {InvalidKeyError} for a key `validateKey` refuses; {@link InvalidArgumentError} for a bad opaque or TTL.
 */
export function encodeMetaGet(key: string, flags: MetaGetFlags = {}): string {
  return `${getLine(key, flags)}\r\n`;
}

/**
 * A quiet multi-get: one `mg <key> <flags>*` line per key, then `mn`, in one buffer; one
 * `meta_batch` expectation (maxValues = keys.length) reads its reply. Pass `quiet: true` (and
 * `returnKey` or an opaque to match hits) in `flags`: nothing is added for you. Every key gets the
 * same flags, so an `opaque` here would be the same on every line; leave it out.
 * @throws {InvalidArgumentError} for an empty key list, and as {@link encodeMetaGet}.
 */
export function encodeMetaGetBatch(keys: readonly string[], flags: MetaGetFlags): string {
  for (const key of keys) validateKey(key);
  return encodeMetaGetBatchValidated(keys, flags);
}

/**
 * {@link encodeMetaGetBatch} for keys that already passed `validateKey` (a multi-key call checks
 * every key before anything is sent; checking them again per batch is pure cost on its hot path).
 * The flags are still checked, and an empty list still throws.
 */
export function encodeMetaGetBatchValidated(keys: readonly string[], flags: MetaGetFlags): string {
  if (keys.length === 0) throw new InvalidArgumentError('a meta get batch needs at least one key');
  const tail = getFlags(flags) + '\r\n';
  // One join: a flat string built at once, not a rope of three pieces per key.
  return `mg ${keys.join(`${tail}mg `)}${tail}mn\r\n`;
}

/**
 * The flags of an `mg` line and its `\r\n` (flags checked here, once): `'mg ' + key + tail` is then
 * the request for a key that already passed `validateKey`, with nothing rebuilt per call.
 */
export function metaGetTail(flags: MetaGetFlags): string {
  return `${getFlags(flags)}\r\n`;
}

/**
 * `ms <key> <datalen> <flags>*\r\n<data>\r\n`. Flag order: M F T C I c k O q.
 * @throws {InvalidKeyError} / {@link InvalidArgumentError} for bad input.
 */
export function encodeMetaSet(key: string, data: Buffer | string, flags: MetaSetFlags = {}, dataBytes?: number): Wire {
  validateKey(key);
  let s = '';
  if (flags.mode !== undefined) {
    if (!'SEAPR'.includes(flags.mode) || flags.mode.length !== 1) throw new InvalidArgumentError(`invalid ms mode ${JSON.stringify(flags.mode)} (S, E, A, P or R)`);
    s += ` M${flags.mode}`;
  }
  if (flags.clientFlags !== undefined) s += ` F${intIn('client flags', flags.clientFlags, 0, 0xffffffff)}`;
  if (flags.ttl !== undefined) s += ` T${ttlArg('ttl', flags.ttl, -1)}`;
  if (flags.compareCas !== undefined) s += ` C${uint64Arg('compareCas', flags.compareCas)}`;
  if (flags.invalidate) s += ' I';
  if (flags.returnCas) s += ' c';
  s += common(flags);
  return withData(`ms ${key} `, `${s}\r\n`, data, dataBytes);
}

/**
 * `md <key> <flags>*\r\n`. Flag order: C I T k O q.
 * @throws {InvalidKeyError} / {@link InvalidArgumentError} for bad input.
 */
export function encodeMetaDelete(key: string, flags: MetaDeleteFlags = {}): string {
  validateKey(key);
  let s = `md ${key}`;
  if (flags.compareCas !== undefined) s += ` C${uint64Arg('compareCas', flags.compareCas)}`;
  if (flags.invalidate) s += ' I';
  if (flags.ttl !== undefined) s += ` T${ttlArg('ttl', flags.ttl, -1)}`;
  return `${s}${common(flags)}\r\n`;
}

/**
 * `ma <key> <flags>*\r\n`. Flag order: M D N J T C v t c k O q.
 * @throws {InvalidKeyError} / {@link InvalidArgumentError} for bad input.
 */
export function encodeMetaArith(key: string, flags: MetaArithFlags = {}): string {
  validateKey(key);
  let s = `ma ${key}`;
  if (flags.mode !== undefined) {
    if (!['I', '+', 'D', '-'].includes(flags.mode)) throw new InvalidArgumentError(`invalid ma mode ${JSON.stringify(flags.mode)} (I, +, D or -)`);
    s += ` M${flags.mode}`;
  }
  if (flags.delta !== undefined) s += ` D${uint64Arg('delta', flags.delta)}`;
  if (flags.vivify !== undefined) s += ` N${ttlArg('vivify', flags.vivify, 0)}`;
  if (flags.initial !== undefined) s += ` J${uint64Arg('initial', flags.initial)}`;
  if (flags.ttl !== undefined) s += ` T${ttlArg('ttl', flags.ttl, -1)}`;
  if (flags.compareCas !== undefined) s += ` C${uint64Arg('compareCas', flags.compareCas)}`;
  if (flags.value) s += ' v';
  if (flags.returnTtl) s += ' t';
  if (flags.returnCas) s += ' c';
  return `${s}${common(flags)}\r\n`;
}

/** `mn\r\n`: the fence that ends a quiet batch; answered `MN`. */
export function encodeMetaNoop(): string {
  return 'mn\r\n';
}

function getLine(key: string, flags: MetaGetFlags): string {
  validateKey(key);
  return `mg ${key}${getFlags(flags)}`;
}

function getFlags(f: MetaGetFlags): string {
  let s = '';
  if (f.value) s += ' v';
  if (f.clientFlags) s += ' f';
  if (f.cas) s += ' c';
  if (f.ttl) s += ' t';
  if (f.returnKey) s += ' k';
  if (f.size) s += ' s';
  if (f.hitBefore) s += ' h';
  if (f.lastAccess) s += ' l';
  if (f.noBump) s += ' u';
  if (f.vivify !== undefined) s += ` N${ttlArg('vivify', f.vivify, 0)}`;
  if (f.recache !== undefined) s += ` R${ttlArg('recache', f.recache, 0)}`;
  if (f.touch !== undefined) s += ` T${ttlArg('touch', f.touch, -1)}`;
  if (f.opaque !== undefined) s += ` O${opaqueArg(f.opaque)}`;
  if (f.quiet) s += ' q';
  return s;
}

/** `k`, `O<opaque>`, `q` (everything but mg puts them last, after the command's own flags). */
function common(f: MetaCommonFlags): string {
  let s = '';
  if (f.returnKey) s += ' k';
  if (f.opaque !== undefined) s += ` O${opaqueArg(f.opaque)}`;
  if (f.quiet) s += ' q';
  return s;
}

function opaqueArg(o: unknown): string {
  if (typeof o !== 'string' || o.length === 0 || o.length > MAX_OPAQUE_LENGTH || !/^[\x21-\x7e]+$/.test(o)) {
    throw new InvalidArgumentError(`opaque must be 1-${MAX_OPAQUE_LENGTH} printable ASCII characters without spaces, got ${JSON.stringify(String(o)).slice(0, 80)}`);
  }
  return o;
}

function intIn(name: string, n: unknown, min: number, max: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(n)}`);
  }
  return n;
}

/** A TTL-like argument: an integer from `min` to 2^31-1 (memcached reads these as 32-bit ints). */
function ttlArg(name: string, n: unknown, min: number): number {
  return intIn(name, n, min, INT32_MAX);
}

/** A uint64 as a decimal string, from a digit string or a safe non-negative integer. */
function uint64Arg(name: string, v: unknown): string {
  const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
  if (typeof s !== 'string' || !/^\d{1,20}$/.test(s) || BigInt(s) > UINT64_MAX) {
    throw new InvalidArgumentError(`${name} must be a uint64 (decimal string or safe non-negative integer), got ${JSON.stringify(String(v)).slice(0, 80)}`);
  }
  return s;
}

