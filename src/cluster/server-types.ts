import type { MemclusterError } from '../errors.js';
import type { ServerPoolOptions, ServerPoolStats } from '../pool/server-pool.js';
import type { HealthOptions, HealthState } from './health.js';

/** The shapes a `ServerNode` is built with and reports (re-exported by server-node.ts). */

export interface ServerNodeOptions {
  pool: ServerPoolOptions;
  health: HealthOptions;
  /** Requests waiting for a socket beyond this are refused with `PoolFullError`. */
  maxQueue: number;
  /** Requests in flight on one socket before another socket is borrowed. */
  maxPipeline: number;
  /** `auto`: meta where the server proves it speaks it (see `ServerTraits.speaksMeta`). */
  protocol: 'auto' | 'meta' | 'text';
}

/** The client options the cluster reads (the client's resolved options are one). */
export interface ClusterOptions {
  /** A down server's keys go to the next server on the ring. */
  failover: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  maxValueBytes: number;
  tls: ServerPoolOptions['tls'];
  auth: ServerPoolOptions['auth'];
  maxConnections: number;
  minConnections: number;
  idleTimeoutMs: number;
  validation: ServerPoolOptions['validation'];
  validateTimeoutMs: number;
  trustRecentMs: number;
  allowExitOnIdle: boolean;
  failureThreshold: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  maxQueue: number;
  maxPipeline: number;
  protocol: ServerNodeOptions['protocol'];
}

/** What a server reports to its cluster. */
export interface ServerNodeHooks {
  onDown(server: string, reason: MemclusterError, failures: number): void;
  onUp(server: string, downForMs: number): void;
  /** A failure counted against the server (`failures` in a row so far), before any resulting `onDown`. */
  onFailure?(server: string, reason: MemclusterError, failures: number): void;
  onEvicted(server: string, connId: number, reason: MemclusterError): void;
}

/** A server's state as seen by `Client#serverStats()`. */
export interface ServerStats extends ServerPoolStats {
  server: string;
  state: HealthState;
  /** Requests waiting for a socket. */
  queued: number;
  /** Requests written and awaiting replies. */
  inFlight: number;
  failures: number;
  lastError: string | undefined;
}
