/**
 * Request encoders for the memcached text protocol.
 *
 * Every function returns one `Wire` holding the whole request: a string (written as UTF-8) unless
 * a Buffer data block is in it, so the connection joins a tick's requests into one write with no
 * Buffer per request. Inputs are assumed to be validated already (keys by
 * `validateKey`, numbers by the caller): the encoder is on the hot path and does not re-check.
 * `noreply` is never used, because it silently hides failures such as
 * `SERVER_ERROR object too large for cache`.
 *
 */
import { InvalidArgumentError } from '../errors.js';
import type { StoreCommand, Wire } from './types.js';

/**
 * A stats group is one or more printable words. It goes into the request line unescaped, so a
 * stray `\r\n` would inject a command; stats is rare enough that checking costs nothing.
 */
const STATS_GROUP = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * `get|gets <key>*\r\n`. Keys must be validated and non-empty; keep batches small, since memcached
 * keeps the grown read buffer of a long multi-get line.
 */
export function encodeGet(cmd: 'get' | 'gets', keys: readonly string[]): string {
  // A bare `get\r\n` is answered with `ERROR`, which would poison the connection.
  if (keys.length === 0) throw new InvalidArgumentError(`${cmd} needs at least one key`);
  return `${cmd} ${keys.join(' ')}\r\n`;
}

/**
 * `gat|gats <exptime> <key>*\r\n`. Unlike `get`, memcached closes the connection when this line
 * exceeds 2048 bytes, so the caller must batch gat keys by bytes.
 */
export function encodeGat(cmd: 'gat' | 'gats', exptime: number, keys: readonly string[]): string {
  if (keys.length === 0) throw new InvalidArgumentError(`${cmd} needs at least one key`);
  return `${cmd} ${exptime} ${keys.join(' ')}\r\n`;
}

/**
 * `<cmd> <key> <flags> <exptime> <bytes>\r\n<data>\r\n` for set/add/replace/append/prepend. A string
 * data block (a text value; `dataBytes` its UTF-8 length when the caller has it) makes a string request.
 */
export function encodeStore(cmd: StoreCommand, key: string, flags: number, exptime: number, data: Buffer | string, dataBytes?: number): Wire {
  return withData(`${cmd} ${key} ${flags} ${exptime} `, '\r\n', data, dataBytes);
}

/** `cas <key> <flags> <exptime> <bytes> <cas>\r\n<data>\r\n`; `cas` is the uint64 from `gets`, as a decimal string. */
export function encodeCas(key: string, flags: number, exptime: number, data: Buffer | string, cas: string, dataBytes?: number): Wire {
  return withData(`cas ${key} ${flags} ${exptime} `, ` ${cas}\r\n`, data, dataBytes);
}

/** `incr|decr <key> <delta>\r\n`; `delta` is a decimal uint64 string (a JS number cannot hold every uint64). */
export function encodeArith(cmd: 'incr' | 'decr', key: string, delta: string): string {
  return `${cmd} ${key} ${delta}\r\n`;
}

/** `delete <key>\r\n`. */
export function encodeDelete(key: string): string {
  return `delete ${key}\r\n`;
}

/** `touch <key> <exptime>\r\n`. */
export function encodeTouch(key: string, exptime: number): string {
  return `touch ${key} ${exptime}\r\n`;
}

/** `flush_all [<delay>]\r\n`. */
export function encodeFlushAll(delaySeconds?: number): string {
  if (delaySeconds === undefined || delaySeconds === 0) return 'flush_all\r\n';
  return `flush_all ${delaySeconds}\r\n`;
}

/** `version\r\n`. Answered by `VERSION <x>` on every memcached and proxy. */
export function encodeVersion(): string {
  return 'version\r\n';
}

/**
 * `stats [<group>]\r\n`, e.g. group `items`, `slabs`, `settings`, `reset`, `detail dump`,
 * `cachedump 1 100`. Expect the reply kind {@link statsReplyKind} gives for the group.
 *
 * @throws {InvalidArgumentError} if the group holds anything but printable words.
 */
export function encodeStats(group?: string): string {
  if (group === undefined || group === '') return 'stats\r\n';
  if (!STATS_GROUP.test(group)) throw new InvalidArgumentError(`invalid stats group ${JSON.stringify(group)}`);
  return `stats ${group}\r\n`;
}

/**
 * The reply kind of `stats <group>`: `stats_line` for `sizes_enable` and `sizes_disable`, which
 * memcached 1.6.18 answers with one `STAT sizes_status ...` line and no `END` (two when the status
 * is `error`: `STAT sizes_error <why>` follows); `stats` for every
 * other group (`STAT`/`ITEM`/`PREFIX` lines then `END`, or `RESET`, or `OK`).
 */
export function statsReplyKind(group?: string): 'stats' | 'stats_line' {
  const first = group?.trim().split(' ', 1)[0];
  return first === 'sizes_enable' || first === 'sizes_disable' ? 'stats_line' : 'stats';
}

/** `mn\r\n`, the meta no-op: answered by exactly `MN\r\n` on memcached >= 1.6. */
export function encodeMn(): string {
  return 'mn\r\n';
}

/**
 * The key of the auth `set`. memcached's `-Y` handler ignores the key. The connection sends the
 * credentials only to a server that said it requires them; should a server without `-Y` ever get
 * them anyway, a key over 250 bytes makes it refuse the line instead of storing "user password"
 * as an item anyone could read.
 */
const AUTH_KEY = 'memcluster-auth-'.padEnd(251, '_');

/**
 * memcached ASCII auth (`-Y`): a `set` whose data block is `<username> <password>`. The server
 * answers `STORED` on success, `CLIENT_ERROR authentication failure` on bad credentials; a server
 * without `-Y` answers `CLIENT_ERROR bad command line format` (see `AUTH_KEY`).
 * The username must not contain a space (the server splits on the first one).
 */
export function encodeAuth(username: string, password: string): string {
  const data = `${username} ${password}`;
  return `set ${AUTH_KEY} 0 0 ${Buffer.byteLength(data, 'utf8')}\r\n${data}\r\n`;
}

/**
 * `<head><bytes><tail><data>\r\n`: a string when the data is a string (the connection joins it with
 * the tick's other requests), else header, data and trailing `\r\n` in one Buffer (one write).
 */
export function withData(head: string, tail: string, data: Buffer | string, dataBytes?: number): Wire {
  if (typeof data === 'string') return `${head}${dataBytes ?? Buffer.byteLength(data, 'utf8')}${tail}${data}\r\n`;
  const header = `${head}${data.length}${tail}`;
  const headerBytes = Buffer.byteLength(header, 'utf8');
  const total = headerBytes + data.length + 2;
  const out = Buffer.allocUnsafe(total);
  out.write(header, 0, headerBytes, 'utf8');
  data.copy(out, headerBytes);
  out[total - 2] = 13;
  out[total - 1] = 10;
  return out;
}
