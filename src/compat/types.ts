/**
 * The public shapes of the `memcached` 2.2.2 drop-in, kept assignable to `@types/memcached` so code
 * written against those declarations type-checks unchanged against `memcluster/compat`.
 */

/** One server (`'host:port'`), several, or `{ 'host:port': weight }`, as `memcached` 2.2.2 takes them. */
export type CompatLocation = string | string[] | { [server: string]: number };

/** Names of the events the client emits (it never emits `error`). */
export type CompatEventNames = 'issue' | 'failure' | 'reconnecting' | 'reconnect' | 'remove';

/** The payload of every event: the server, `[port, host]`, the messages so far, and counters. */
export interface CompatIssueData {
  server: string;
  tokens: [string, string];
  messages: string[];
  failures?: number | undefined;
  totalFailures?: number | undefined;
  totalReconnectsAttempted?: number | undefined;
  totalReconnectsSuccess?: number | undefined;
  totalReconnectsFailed?: number | undefined;
  totalDownTime?: number | undefined;
}

/** `this` inside a single-key callback: the query that produced the result. */
export interface CompatCommandData {
  start: number;
  execution: number;
  callback(...args: any[]): any;
  type: string;
  command: string;
  validate: Array<[string, (...args: any[]) => any]>;
  cas?: string | undefined;
  redundancyEnabled?: boolean | undefined;
  /** The key as sent to routing: `namespace + key`. */
  key?: string | undefined;
  value?: any;
  lifetime?: number | undefined;
}

/** One server's `stats` / `stats settings|slabs|items` result, with `server` set. */
export interface CompatStatusData {
  server?: string | undefined;
  [key: string]: string | boolean | number | undefined;
}

/** One server's `version` result. */
export interface CompatVersionData extends CompatStatusData {
  version: string;
  major: string;
  minor: string;
  bugfix: string;
}

/** One `stats cachedump` item: key, size in bytes (`b`) and expiry (`s`, unix seconds). */
export interface CompatCacheDumpData {
  key: string;
  b: number;
  s: number;
}

/**
 * Options of `memcached` 2.2.2 (see src/compat/README.md for how each maps onto memcluster).
 * Options 2.2.2 read but that have no meaning here are accepted and ignored, as documented.
 */
export interface CompatOptions {
  /** Keys longer than this (after the namespace) are md5-hashed when `keyCompression`, else refused. @default 250 */
  maxKeySize?: number | undefined;
  /** Longest lifetime accepted, in seconds; longer ones are refused with an error. @default 2592000 */
  maxExpiration?: number | undefined;
  /** Largest value (escaped bytes) accepted; larger ones are refused before writing. @default 1048576 */
  maxValue?: number | undefined;
  /** Sockets per server at most (memcluster `maxConnections`). @default 10 */
  poolSize?: number | undefined;
  /** Accepted; the ring is always hashring's md5 ketama ring (2.2.2's default), whatever the value. @default 'md5' */
  algorithm?: string | undefined;
  /** A dead server (no `failures` left, `remove` false) is retried every this many ms (at most 60 s apart here). @default 18000000 */
  reconnect?: number | undefined;
  /** Bound on every call (and on connecting), ms (memcluster `timeoutMs`); 0 or less: the default. @default 5000 */
  timeout?: number | undefined;
  /** Failed connects a call waiting for a socket sits through before it fails with the last one's error (memcluster's 50 ms doubling backoff, within `timeout`). @default 5 */
  retries?: number | undefined;
  /** Failures a server may have (one per `retry` window) before the next marks it dead; 0: dead at its first failure. @default 5 */
  failures?: number | undefined;
  /** After a failure, the server's calls fail at once ("Server at <server> not available") for this many ms. @default 30000 */
  retry?: number | undefined;
  /** When a server is marked dead, take it out of the ring (or swap in a `failOverServers` entry). @default false */
  remove?: boolean | undefined;
  /** Servers that replace, in order, servers removed by `remove: true` (they take over the dead server's keys). */
  failOverServers?: string | string[] | undefined;
  /** md5-hash keys longer than `maxKeySize` instead of refusing them. @default true */
  keyCompression?: boolean | undefined;
  /** Close sockets idle this long, ms (memcluster `idleTimeoutMs`). @default 5000 */
  idle?: number | undefined;
  /** Prepended to every key (and routed with it); results use your keys. @default '' */
  namespace?: string | undefined;
}

/** Every option 2.2.2's `Memcached.config` holds, including the ones it never documented. */
export interface CompatConfig extends CompatOptions {
  activeQueries?: number | undefined;
  /** Requests waiting per server beyond this fail at once (memcluster `maxQueue`); -1: default. @default -1 */
  maxQueueSize?: number | undefined;
  /** Accepted; the ring is always the ketama ring (2.2.2's default). @default 'ketama' */
  compatibility?: string | undefined;
  /** Accepted and ignored (2.2.2's socket-allocation backoff). */
  factor?: number | undefined;
  minTimeout?: number | undefined;
  maxTimeout?: number | undefined;
  randomize?: boolean | undefined;
  /** `failures` is reset this long after a server's first failure, as in 2.2.2. @default 300000 */
  failuresTimeout?: number | undefined;
  /** Accepted; keys are not replicated (2.2.2 threw on first use of it with several servers). @default false */
  redundancy?: boolean | number | undefined;
  /** Accepted and ignored; use `DEBUG=memcluster:*`. @default false */
  debug?: boolean | undefined;
}

/** `(err, data)` with `this` = the query object. */
export type QueryCallback<T> = (this: CompatCommandData, err: any, data: T) => void;
