/**
 * `memcluster/otel`: OpenTelemetry spans and metrics for memcluster, from its diagnostics channels.
 * Needs `@opentelemetry/api` and `@opentelemetry/instrumentation` (peer dependencies).
 */
export { MemclusterInstrumentation, errorType } from './instrumentation.js';
export type { MemclusterInstrumentationConfig } from './instrumentation.js';
export type { StatsSource } from './pool-metrics.js';
export { TRACE_CHANNELS } from '../tracing.js';
export type { BatchTraceContext, CommandTraceContext, ConnectTraceContext, PoolWaitTraceContext } from '../tracing.js';
