/**
 * memcluster: a memcached client for sharded fleets. Consistent hashing (the ring `memcached` 2.2.2
 * builds), a validated socket pool per server, capped multi-get batches, and no request that fails
 * silently or hangs.
 */
export { Client } from './client/client.js';
export type { CasValue, ClientEvents, StoreOptions } from './client/client.js';
export type { MultiResult } from './client/multi.js';
export type { CallOptions } from './client/call.js';
export type { FetchOptions, FetchStats, Loader } from './client/fetch.js';
export type { CounterOptions, InvalidateOptions } from './client/lease-ops.js';
export { DEFAULTS } from './client/options.js';
export type { ClientOptions } from './client/options.js';
export { defaultSerializer, FLAGS } from './client/values.js';
export { legacySerializer } from './compat/legacy-serializer.js';
export type { Serializer } from './client/values.js';
export type { Locations } from './cluster/ring.js';
export type { ServerStats } from './cluster/server-node.js';
export * from './errors.js';
export { TRACE_CHANNELS } from './tracing.js';
export type { BatchTraceContext, CommandTraceContext, ConnectTraceContext, PoolWaitTraceContext, TraceTarget } from './tracing.js';
