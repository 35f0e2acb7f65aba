import type tls from 'node:tls';
import { InvalidOptionError } from '../errors.js';
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
  /** Requests pipelined on one socket before another is borrowed. @default 32 */
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
  /** How values become bytes. @default flags-compatible JSON/string/Buffer/number serializer */
  serializer?: Serializer;
  /** TLS for every connection: `true` or Node `tls.ConnectionOptions`. @default undefined */
  tls?: boolean | tls.ConnectionOptions;
  /** ASCII-protocol credentials (memcached `-Y`). @default undefined */
  auth?: { username: string; password: string };
}

/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<ClientOptions, 'tls' | 'auth'>> & {
  tls: tls.ConnectionOptions | undefined;
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
  maxPipeline: 32,
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
  serializer: defaultSerializer,
} satisfies Required<Omit<ClientOptions, 'tls' | 'auth'>>;

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
  if (typeof r.keyPrefix !== 'string') throw new InvalidOptionError(`option keyPrefix must be a string, got ${describeValue(r.keyPrefix)}`);
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

/** A server location split into host and port (`host`, `host:port`, `[v6]:port`; port 11211 by default). */
export function parseAddress(location: string): { host: string; port: number; label: string } {
  if (typeof location !== 'string' || location.trim() === '') throw new InvalidOptionError(`server location must be a non-empty string, got ${describeValue(location)}`);
  let host = location;
  let port = 11211;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(location);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else {
    const i = location.lastIndexOf(':');
    if (i >= 0 && location.indexOf(':') === i) {
      host = location.slice(0, i);
      port = Number(location.slice(i + 1));
    }
  }
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidOptionError(`server location ${describeValue(location)} is not host[:port]`);
  const label = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, label };
}
