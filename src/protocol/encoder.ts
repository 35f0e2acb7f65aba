/**
 * Request encoders for the memcached text protocol.
 *
 * Every function returns exactly one `Buffer` holding the whole request, so the connection can
 * write it with a single `socket.write()`. Inputs are assumed to be validated already (keys by
 * `validateKey`, numbers by the caller): the encoder is on the hot path and does not re-check.
 * `noreply` is never used, because it silently hides failures such as
 * `SERVER_ERROR object too large for cache`.
 *
 * Constant requests (`mn`, `version`, `flush_all`, `stats`) return shared buffers: do not mutate them.
 */
import { InvalidArgumentError } from '../errors.js';
import type { StoreCommand } from './types.js';

const MN = Buffer.from('mn\r\n', 'latin1');
const VERSION = Buffer.from('version\r\n', 'latin1');
const FLUSH_ALL = Buffer.from('flush_all\r\n', 'latin1');
const STATS = Buffer.from('stats\r\n', 'latin1');

/**
 * A stats group is one or more printable words. It goes into the request line unescaped, so a
 * stray `\r\n` would inject a command; stats is rare enough that checking costs nothing.
 */
const STATS_GROUP = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/**
 * `get|gets <key>*\r\n`. Keys must be validated and non-empty; keep batches small, since memcached
 * keeps the grown read buffer of a long multi-get line.
 */
export function encodeGet(cmd: 'get' | 'gets', keys: readonly string[]): Buffer {
  // A bare `get\r\n` is answered with `ERROR`, which would poison the connection.
  if (keys.length === 0) throw new InvalidArgumentError(`${cmd} needs at least one key`);
  return Buffer.from(`${cmd} ${keys.join(' ')}\r\n`, 'utf8');
}

/**
 * `gat|gats <exptime> <key>*\r\n`. Unlike `get`, memcached closes the connection when this line
 * exceeds 2048 bytes, so the caller must batch gat keys by bytes.
 */
export function encodeGat(cmd: 'gat' | 'gats', exptime: number, keys: readonly string[]): Buffer {
  if (keys.length === 0) throw new InvalidArgumentError(`${cmd} needs at least one key`);
  return Buffer.from(`${cmd} ${exptime} ${keys.join(' ')}\r\n`, 'utf8');
}

/** `<cmd> <key> <flags> <exptime> <bytes>\r\n<data>\r\n` for set/add/replace/append/prepend. */
export function encodeStore(cmd: StoreCommand, key: string, flags: number, exptime: number, data: Buffer): Buffer {
  return withData(`${cmd} ${key} ${flags} ${exptime} ${data.length}\r\n`, data);
}

/** `cas <key> <flags> <exptime> <bytes> <cas>\r\n<data>\r\n`; `cas` is the uint64 from `gets`, as a decimal string. */
export function encodeCas(key: string, flags: number, exptime: number, data: Buffer, cas: string): Buffer {
  return withData(`cas ${key} ${flags} ${exptime} ${data.length} ${cas}\r\n`, data);
}

/** `incr|decr <key> <delta>\r\n`; `delta` is a decimal uint64 string (a JS number cannot hold every uint64). */
export function encodeArith(cmd: 'incr' | 'decr', key: string, delta: string): Buffer {
  return Buffer.from(`${cmd} ${key} ${delta}\r\n`, 'utf8');
}

/** `delete <key>\r\n`. */
export function encodeDelete(key: string): Buffer {
  return Buffer.from(`delete ${key}\r\n`, 'utf8');
}

/** `touch <key> <exptime>\r\n`. */
export function encodeTouch(key: string, exptime: number): Buffer {
  return Buffer.from(`touch ${key} ${exptime}\r\n`, 'utf8');
}

/** `flush_all [<delay>]\r\n`; without a delay (or with 0) the shared constant buffer is returned. */
export function encodeFlushAll(delaySeconds?: number): Buffer {
  if (delaySeconds === undefined || delaySeconds === 0) return FLUSH_ALL;
  return Buffer.from(`flush_all ${delaySeconds}\r\n`, 'latin1');
}

/** `version\r\n` (shared constant buffer). Answered by `VERSION <x>` on every memcached and proxy. */
export function encodeVersion(): Buffer {
  return VERSION;
}

/**
 * `stats [<group>]\r\n`, e.g. group `items`, `slabs`, `settings`, `reset`, `detail dump`,
 * `cachedump 1 100`. Expect the reply kind {@link statsReplyKind} gives for the group.
 *
 * @throws {InvalidArgumentError} if the group holds anything but printable words.
 */
export function encodeStats(group?: string): Buffer {
  if (group === undefined || group === '') return STATS;
  if (!STATS_GROUP.test(group)) throw new InvalidArgumentError(`invalid stats group ${JSON.stringify(group)}`);
  return Buffer.from(`stats ${group}\r\n`, 'latin1');
}

/**
 * The reply kind of `stats <group>`: `stats_line` for `sizes_enable` and `sizes_disable`, which
 * memcached 1.6.18 answers with one `STAT sizes_status ...` line and no `END`; `stats` for every
 * other group (`STAT`/`ITEM`/`PREFIX` lines then `END`, or `RESET`, or `OK`).
 */
export function statsReplyKind(group?: string): 'stats' | 'stats_line' {
  const first = group?.trim().split(' ', 1)[0];
  return first === 'sizes_enable' || first === 'sizes_disable' ? 'stats_line' : 'stats';
}

/** `mn\r\n` (shared constant buffer), the meta no-op: answered by exactly `MN\r\n` on memcached >= 1.6. */
export function encodeMn(): Buffer {
  return MN;
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
export function encodeAuth(username: string, password: string): Buffer {
  const data = `${username} ${password}`;
  return Buffer.from(`set ${AUTH_KEY} 0 0 ${Buffer.byteLength(data, 'utf8')}\r\n${data}\r\n`, 'utf8');
}

/** Header, data and trailing `\r\n` in one allocation, so a store is one buffer and one write. */
export function withData(header: string, data: Buffer): Buffer {
  const headerBytes = Buffer.byteLength(header, 'utf8');
  const total = headerBytes + data.length + 2;
  const out = Buffer.allocUnsafe(total);
  out.write(header, 0, headerBytes, 'utf8');
  data.copy(out, headerBytes);
  out[total - 2] = 13;
  out[total - 1] = 10;
  return out;
}
