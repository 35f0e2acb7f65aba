import type { ConnectionOptions } from 'node:tls';
import type { Locations } from '../cluster/ring.js';
import { InvalidOptionError } from '../errors.js';
import { MAX_KEY_BYTES, validateKey } from '../protocol/keys.js';
import { describeValue } from '../text.js';
import type { Serializer } from './values.js';
import { defaultSerializer } from './values.js';

/** Every option of `Client`; each has a default (see `DEFAULTS`). */
export interface ClientOptions {
  /** Bound on one call, from the call to its settlement: queueing, borrowing (connect + validation) and the reply. @default 1000 */
  timeoutMs?: number;
  /** Bound on opening one TCP/TLS connection. @default 500 */
  connectTimeoutMs?: number;
  /** Bound on the validation request (`mn`/`version`) of a new or borrowed socket. @default 250 */
  validateTimeoutMs?: number;
  /** Sockets per server at most. @default 8 */
  maxConnections?: number;
  /** Sockets per server kept open even when idle. @default 0 */
  minConnections?: number;
  /** Close sockets idle this long (0 keeps them). @default 30000 */
  idleTimeoutMs?: number;
  /** Requests that may wait for a socket, per server; more get `PoolFullError`. @default 10000 */
  maxQueue?: number;
  /**
   * Requests in flight on one socket before another is borrowed. Requests fill the first socket
   * first (one key's requests stay on one socket), so a deeper pipeline means fewer sockets and writes.
   * @default 128
   */
  maxPipeline?: number;
  /** The request that proves a socket: `mn`, `version`, or `auto` (`mn` on memcached >= 1.6). @default 'auto' */
  validation?: 'auto' | 'mn' | 'version';
  /** Skip the borrow-time validation for sockets that answered a request within this many ms. 0 validates every borrow. @default 0 */
  trustRecentMs?: number;
  /** Consecutive failures that mark a server down. @default 3 */
  failureThreshold?: number;
  /** First re-probe delay of a down server; doubles per failed probe (with jitter) up to `maxRetryDelayMs`. @default 250 */
  retryDelayMs?: number;
  /** @default 10000 */
  maxRetryDelayMs?: number;
  /** While a server is down, send its keys to the next server on the ring (stale reads possible on flapping). @default false */
  failover?: boolean;
  /** Largest value (serialized bytes) accepted; larger ones are refused before writing. Raise it with the server's `-I`. @default 1048000 */
  maxValueBytes?: number;
  /** Prepended to every key on the wire (and in routing); results use your keys. @default '' */
  keyPrefix?: string;
  /** Multi-key reads: keys per request line. @default 100 */
  maxBatchKeys?: number;
  /** Multi-key reads: bytes per request line (memcached closes non-get lines over 2048 bytes; old servers cut get lines too). @default 2000 */
  maxBatchBytes?: number;
  /** Merge single `get`s issued in the same tick for the same server into one request. @default true */
  coalesce?: boolean;
  /** Put keys in the `memcluster:command` / `memcluster:batch` trace contexts (keys can be personal data). @default false */
  traceKeys?: boolean;
  /**
   * How to talk to each server. `auto`: the meta protocol where the server proves it speaks it
   * (memcached >= 1.6.10 by its version, and `mn` answered rather than refused), classic text
   * elsewhere (older servers, twemproxy, mcrouter); re-learned as sockets are replaced. `meta` or
   * `text` forces one. Leases and serve-stale (`fetch`) need meta; on text they use an `add` lock.
   * @default 'auto'
   */
  protocol?: 'auto' | 'meta' | 'text';
  /**
   * Let idle sockets stop keeping the process alive (like pg's `allowExitOnIdle`): a script that
   * never calls `close()` exits once its work is done. Sockets carrying requests still keep it alive.
   * @default false
   */
  allowExitOnIdle?: boolean;
  /** How values become bytes. @default flags-compatible JSON/string/Buffer/number serializer */
  serializer?: Serializer;
  /** TLS for every connection: `true` or Node `tls.ConnectionOptions`. @default undefined */
  tls?: boolean | ConnectionOptions;
  /** ASCII-protocol credentials (memcached `-Y`). @default undefined */
  auth?: { username: string; password: string };
}

/** The options that have no default (absent means off); every other option has one in `DEFAULTS`. */
const NO_DEFAULT = ['tls', 'auth'] as const satisfies ReadonlyArray<keyof ClientOptions>;
type NoDefault = typeof NO_DEFAULT[number];

/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<ClientOptions, NoDefault>> & {
  tls: ConnectionOptions | undefined;
  auth: { username: string; password: string } | undefined;
};

export const DEFAULTS = {
  timeoutMs: 1000,
  connectTimeoutMs: 500,
  validateTimeoutMs: 250,
  maxConnections: 8,
  minConnections: 0,
  idleTimeoutMs: 30_000,
  maxQueue: 10_000,
  maxPipeline: 128,
  validation: 'auto',
  trustRecentMs: 0,
  failureThreshold: 3,
  retryDelayMs: 250,
  maxRetryDelayMs: 10_000,
  failover: false,
  maxValueBytes: 1_048_000,
  keyPrefix: '',
  maxBatchKeys: 100,
  maxBatchBytes: 2000,
  coalesce: true,
  traceKeys: false,
  allowExitOnIdle: false,
  protocol: 'auto',
  serializer: defaultSerializer,
} satisfies Required<Omit<ClientOptions, NoDefault>>;

/**
 * Every option name `resolveOptions` accepts: derived from `DEFAULTS` (which `satisfies` forces to
 * hold every option but the `NO_DEFAULT` ones), so a new option is known as soon as it has a default.
 */
const KNOWN = new Set<string>([...Object.keys(DEFAULTS), ...NO_DEFAULT]);

/** Node timers overflow past 2^31-1 ms (and then fire after 1 ms). */
const MAX_MS = 2 ** 31 - 1;

const INTEGER_OPTIONS: Array<[keyof typeof DEFAULTS, number, number]> = [
  ['timeoutMs', 1, MAX_MS], ['connectTimeoutMs', 1, MAX_MS], ['validateTimeoutMs', 1, MAX_MS],
  ['maxConnections', 1, 10_000], ['minConnections', 0, 10_000], ['idleTimeoutMs', 0, MAX_MS], ['maxQueue', 1, 2 ** 30],
  ['maxPipeline', 1, 1_000_000], ['trustRecentMs', 0, MAX_MS], ['failureThreshold', 1, 1_000_000],
  ['retryDelayMs', 1, MAX_MS], ['maxRetryDelayMs', 1, MAX_MS], ['maxValueBytes', 0, 2 ** 31 - 1],
  ['maxBatchKeys', 1, 1_000_000], ['maxBatchBytes', 64, 2 ** 31 - 1],
];

/** Merges with `??` (never `||`: 0 is a real value) and validates; the error names the option and value. */
export function resolveOptions(options: ClientOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError(`options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new InvalidOptionError(unknownOptionMessage(key));
  const out = { ...DEFAULTS } as Record<string, unknown>;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  for (const [name, min, max] of INTEGER_OPTIONS) {
    const v = out[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidOptionError(`option ${name} must be an integer from ${min} to ${max}, got ${describeValue(v)}`);
    }
  }
  const r = out as unknown as Omit<ResolvedOptions, 'tls'> & { tls: unknown };
  if (r.minConnections > r.maxConnections) throw new InvalidOptionError(`option minConnections (${r.minConnections}) exceeds maxConnections (${r.maxConnections})`);
  if (!['auto', 'mn', 'version'].includes(r.validation)) throw new InvalidOptionError(`option validation must be 'auto', 'mn' or 'version', got ${describeValue(r.validation)}`);
  if (typeof r.failover !== 'boolean') throw new InvalidOptionError(`option failover must be a boolean, got ${describeValue(r.failover)}`);
  if (typeof r.coalesce !== 'boolean') throw new InvalidOptionError(`option coalesce must be a boolean, got ${describeValue(r.coalesce)}`);
  if (typeof r.traceKeys !== 'boolean') throw new InvalidOptionError(`option traceKeys must be a boolean, got ${describeValue(r.traceKeys)}`);
  if (!['auto', 'meta', 'text'].includes(r.protocol)) throw new InvalidOptionError(`option protocol must be 'auto', 'meta' or 'text', got ${describeValue(r.protocol)}`);
  if (typeof r.allowExitOnIdle !== 'boolean') throw new InvalidOptionError(`option allowExitOnIdle must be a boolean, got ${describeValue(r.allowExitOnIdle)}`);
  if (typeof r.keyPrefix !== 'string') throw new InvalidOptionError(`option keyPrefix must be a string, got ${describeValue(r.keyPrefix)}`);
  if (r.keyPrefix !== '') {
    // Checked as a key, so a bad prefix is named here rather than blamed on every key later.
    let bytes: number;
    try {
      bytes = validateKey(r.keyPrefix);
    } catch (err) {
      throw new InvalidOptionError(`option keyPrefix ${describeValue(r.keyPrefix, 60)} cannot start a key: ${(err as Error).message.replace(/^key /, '')}`);
    }
    if (bytes >= MAX_KEY_BYTES) throw new InvalidOptionError(`option keyPrefix is ${bytes} bytes: a key must be at most ${MAX_KEY_BYTES} bytes with it`);
  }
  const s = r.serializer as Serializer;
  if (!s || typeof s.serialize !== 'function' || typeof s.deserialize !== 'function') throw new InvalidOptionError('option serializer must have serialize() and deserialize()');
  if (r.tls === true) r.tls = {};
  else if (r.tls === false || r.tls === undefined) r.tls = undefined;
  else if (typeof r.tls !== 'object') throw new InvalidOptionError(`option tls must be true or tls.ConnectionOptions, got ${describeValue(r.tls)}`);
  const auth = r.auth as unknown;
  if (auth !== undefined) {
    const a = auth as { username?: unknown; password?: unknown };
    if (typeof a !== 'object' || typeof a.username !== 'string' || typeof a.password !== 'string' || !a.username || /[\s]/.test(a.username) || /[\r\n]/.test(a.password)) {
      throw new InvalidOptionError('option auth must be { username, password } strings (username without spaces, password without CR/LF)');
    }
  }
  return r as unknown as ResolvedOptions;
}

/** Said after a hint for a `memcached` 2.2.2 option name. */
const COMPAT = "memcluster/compat takes memcached 2.2.2's options as they are";

/**
 * Names other clients (memcached 2.2.2, memjs, pg, ioredis, undici) use, lower-cased without `_`/`-`,
 * with what to write instead: a migrating user types these first.
 */
const FOREIGN: Record<string, string> = {
  timeout: `did you mean timeoutMs? (durations are in ms; ${COMPAT})`,
  commandtimeout: 'did you mean timeoutMs?',
  requesttimeout: 'did you mean timeoutMs?',
  conntimeout: 'did you mean connectTimeoutMs?',
  connecttimeout: 'did you mean connectTimeoutMs?',
  connectiontimeout: 'did you mean connectTimeoutMs?',
  connectiontimeoutmillis: 'did you mean connectTimeoutMs?',
  poolsize: `did you mean maxConnections? (sockets per server; ${COMPAT})`,
  maxpoolsize: 'did you mean maxConnections? (sockets per server)',
  max: 'did you mean maxConnections? (sockets per server)',
  maxsockets: 'did you mean maxConnections? (sockets per server)',
  connectionlimit: 'did you mean maxConnections? (sockets per server)',
  min: 'did you mean minConnections?',
  minpoolsize: 'did you mean minConnections?',
  idle: `did you mean idleTimeoutMs? (${COMPAT})`,
  idletimeout: 'did you mean idleTimeoutMs?',
  idletimeoutmillis: 'did you mean idleTimeoutMs?',
  namespace: `did you mean keyPrefix? (${COMPAT})`,
  prefix: 'did you mean keyPrefix?',
  retry: `did you mean retryDelayMs? (first re-probe delay of a down server; ${COMPAT})`,
  retrydelay: 'did you mean retryDelayMs?',
  failovertime: 'did you mean retryDelayMs? (first re-probe delay of a down server)',
  reconnect: `did you mean maxRetryDelayMs? (${COMPAT})`,
  failures: `did you mean failureThreshold? (${COMPAT})`,
  retries: `memcluster does not retry a failed call (a retried write could apply twice): a server is marked down after failureThreshold failures, and failover: true sends its keys to the next server (${COMPAT})`,
  maxretries: 'memcluster does not retry a failed call (a retried write could apply twice); see failureThreshold and failover',
  maxvalue: `did you mean maxValueBytes? (${COMPAT})`,
  maxqueuesize: `did you mean maxQueue? (waiting requests per server; ${COMPAT})`,
  expires: 'a TTL is given per call: set(key, value, { ttl })',
  ttl: 'a TTL is given per call: set(key, value, { ttl })',
  username: 'credentials go in auth: { username, password }',
  password: 'credentials go in auth: { username, password }',
  ssl: 'did you mean tls?',
  debug: 'memcluster logs through the debug module: run with DEBUG=memcluster:*',
  logger: 'memcluster logs through the debug module: run with DEBUG=memcluster:*',
  servers: "servers are the first argument: new Client(['host:port', ...], options)",
};
for (const name of ['remove', 'failoverservers', 'redundancy', 'algorithm', 'compatibility', 'maxexpiration', 'maxkeysize', 'keycompression', 'activequeries', 'factor', 'mintimeout', 'maxtimeout', 'randomize', 'failurestimeout']) {
  FOREIGN[name] = `a memcached 2.2.2 option: ${COMPAT}`;
}

const squash = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/** The message for an unknown option: its name, and the likely intended option when one is close. */
function unknownOptionMessage(key: string): string {
  const name = describeValue(key, 60);
  const sq = squash(key);
  const exact = [...KNOWN].find((k) => squash(k) === sq);
  if (exact) return `unknown option ${name}: did you mean ${exact}?`;
  const foreign = Object.hasOwn(FOREIGN, sq) ? FOREIGN[sq] : undefined;
  if (foreign) return `unknown option ${name}: ${foreign}`;
  const near = key.length >= 5 ? [...KNOWN].find((k) => editDistance(sq, squash(k)) <= 2) : undefined;
  if (near) return `unknown option ${name}: did you mean ${near}?`;
  return `unknown option ${name} (options: ${[...KNOWN].join(', ')})`;
}

/** Levenshtein distance, for "did you mean" on typos (option names are short). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The constructor's server list with the forms other clients take rewritten into the plain forms
 * the ring was built from: `'h1:11211,h2:11211'` (memjs, `MEMCACHIER_SERVERS`) becomes an array, and
 * `memcached://host:port` becomes `host:port`. Plain forms pass through unchanged, so a fleet keeps
 * routing every key exactly as `memcached` 2.2.2 does. Anything else is left for the cluster's checks.
 */
export function normalizeServers(servers: Locations): Locations {
  if (typeof servers === 'string') {
    if (!servers.includes(',')) return normalizeLocation(servers);
    return servers.split(',').map((part, i) => {
      if (part.trim() === '') throw new InvalidOptionError(`servers ${describeValue(servers, 200)} has an empty entry at position ${i + 1}`);
      return normalizeLocation(part.trim());
    });
  }
  if (Array.isArray(servers)) return (servers as readonly unknown[]).map((s) => (typeof s === 'string' ? normalizeLocation(s) : s)) as string[];
  if (servers !== null && typeof servers === 'object') {
    return Object.fromEntries(Object.entries(servers).map(([location, weight]) => [normalizeLocation(location), weight]));
  }
  return servers;
}

/** One location: a `memcached://host[:port]` URL becomes `host[:port]`; any other string is returned as is. */
export function normalizeLocation(location: string): string {
  if (typeof location !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  const bad = (why: string): InvalidOptionError => new InvalidOptionError(`server location ${describeValue(location)} ${why}`);
  if (!/^memcached:\/\//i.test(location)) throw bad("has a scheme other than memcached:// (write 'host:port' or 'memcached://host:port')");
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw bad('is not a valid memcached://host[:port] URL');
  }
  if (url.username || url.password) throw bad('carries credentials: pass them as the auth option instead');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) throw bad('has a path, query or fragment: only memcached://host[:port] is meaningful');
  if (!url.hostname) throw bad('has no host');
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}
