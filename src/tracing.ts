/**
 * Tracing on `node:diagnostics_channel` TracingChannels, the way ioredis, mysql2 and undici publish
 * theirs: APM agents (OpenTelemetry through `memcluster/otel`, Sentry, Datadog, New Relic)
 * subscribe by name, with no monkey-patching, under ESM and CJS alike.
 *
 * | trace | around | context |
 * | --- | --- | --- |
 * | `memcluster:command` | every public command call (`Client` and `memcluster/compat`) | {@link CommandTraceContext} |
 * | `memcluster:batch` | each multi-key request line sent to one server | {@link BatchTraceContext} |
 * | `memcluster:connect` | opening one socket (TCP/TLS connect and auth) | {@link ConnectTraceContext} |
 * | `memcluster:pool.wait` | borrowing a proven socket from a server's pool | {@link PoolWaitTraceContext} |
 *
 * Every trace publishes `start`, `end`, then `asyncStart` and `asyncEnd` once it settles, with
 * `error` (and `context.error`, the typed `MemclusterError`) before them on failure. Unlike
 * `TracingChannel#tracePromise`, the context never carries the call's `result`: results hold
 * values and, for multi-key calls, keys. Keys appear only with the `traceKeys` client option.
 *
 * With no subscriber the cost is one `hasSubscribers` check per call: no context is built.
 * This module sits below every layer (only `node:` imports), so connections and pools use it too.
 */
import diagnostics from 'node:diagnostics_channel';

/** Where a single-server request goes: the label used on every error and event, split as well. */
export interface TraceTarget {
  /** `host:port` (`[v6]:port`), as on every error and event. */
  server?: string;
  host?: string;
  port?: number;
}

/** Context of a `memcluster:command` trace: one public call. */
export interface CommandTraceContext extends TraceTarget {
  /** The memcached command: `get`, `gets`, `gat`, `gats`, `set`, `add`, `replace`, `append`, `prepend`, `cas`, `incr`, `decr`, `delete`, `touch`, `flush_all`, `version`, `stats`, `stats cachedump`. */
  command: string;
  /** The method called: `get`, `getMulti`, `setMulti`, ... (compat: the 2.2.2 command type). */
  method: string;
  /** `client` for `Client`, `compat` for `memcluster/compat`. */
  api: 'client' | 'compat';
  /** Keys in the call (0 for server-wide commands; for `setMulti` of a non-array iterable, counted when it settles). */
  keys: number;
  /** Multi-key methods only: the keys in the call (even 0 or 1). */
  batchSize?: number;
  /** With `traceKeys` only: the key of a single-key call. */
  key?: string;
  /** With `traceKeys` only: the keys of a multi-key call. */
  keyList?: readonly string[];
  /** Reads, once settled: keys found. */
  hits?: number;
  /** Reads, once settled: keys not found (a miss is not an error). */
  misses?: number;
  /** `getMultiSettled` only: keys that failed (the call itself resolves). */
  failures?: number;
  /** On failure: the error the call rejects with (a `MemclusterError`). */
  error?: unknown;
}

/** Context of a `memcluster:batch` trace: one multi-key request line to one server. */
export interface BatchTraceContext extends TraceTarget {
  /** `get`, `gets`, `gat` or `gats`. */
  command: string;
  /** Keys on this line. */
  keys: number;
  /** With `traceKeys` only: the keys on this line (as sent, key prefix included). */
  keyList?: readonly string[];
  /** Once settled: keys found / not found on this line. */
  hits?: number;
  misses?: number;
  error?: unknown;
}

/** Context of a `memcluster:connect` trace: opening one socket (connect, TLS handshake, auth). */
export interface ConnectTraceContext extends TraceTarget {
  tls: boolean;
  error?: unknown;
}

/** Context of a `memcluster:pool.wait` trace: borrowing a proven socket (may include a connect and validation). */
export interface PoolWaitTraceContext extends TraceTarget {
  error?: unknown;
}

/** The channel names, for subscribers. */
export const TRACE_CHANNELS = {
  command: 'memcluster:command',
  batch: 'memcluster:batch',
  connect: 'memcluster:connect',
  poolWait: 'memcluster:pool.wait',
} as const;

/** A TracingChannel with our context type. */
export type TraceChannel<C extends object> = diagnostics.TracingChannel<unknown, C>;

export const commandTrace: TraceChannel<CommandTraceContext> = diagnostics.tracingChannel(TRACE_CHANNELS.command);
export const batchTrace: TraceChannel<BatchTraceContext> = diagnostics.tracingChannel(TRACE_CHANNELS.batch);
export const connectTrace: TraceChannel<ConnectTraceContext> = diagnostics.tracingChannel(TRACE_CHANNELS.connect);
export const poolWaitTrace: TraceChannel<PoolWaitTraceContext> = diagnostics.tracingChannel(TRACE_CHANNELS.poolWait);

/**
 * True when anything listens to the trace. `TracingChannel#hasSubscribers` arrived in Node 20.13;
 * older 20.x releases ask the five sub-channels instead.
 */
export const isTraced: (ch: TraceChannel<object>) => boolean = 'hasSubscribers' in commandTrace
  ? (ch) => ch.hasSubscribers
  : (ch) => ch.start.hasSubscribers || ch.end.hasSubscribers || ch.asyncStart.hasSubscribers || ch.asyncEnd.hasSubscribers || ch.error.hasSubscribers;

/** `host:port` / `[v6]:port` split into a trace target (the label is kept as `server`). */
export function targetOf(server: string | undefined): TraceTarget {
  if (server === undefined) return {};
  const i = server.lastIndexOf(':');
  const host = i > 0 ? server.slice(0, i) : server;
  const port = i > 0 ? Number(server.slice(i + 1)) : NaN;
  return {
    server,
    host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host,
    ...(Number.isInteger(port) ? { port } : {}),
  };
}

/**
 * Runs `fn` inside a trace: `start` (through `runStores`, so stores bound to it follow the call's
 * async work), `end` when `fn` returns, then `asyncStart`/`asyncEnd` when its promise settles, with
 * `error` first on failure. `summarize` adds the outcome (counts, never values) to the context.
 * A synchronous throw is published the same way and rethrown. Call it only when `isTraced(ch)`.
 */
export function traceAsync<C extends { error?: unknown }, R>(
  ch: TraceChannel<C>,
  ctx: NoInfer<C>,
  fn: () => Promise<R>,
  summarize?: (result: R, ctx: C) => void,
): Promise<R> {
  return ch.start.runStores(ctx, () => {
    let promise: Promise<R>;
    try {
      promise = fn();
    } catch (err) {
      ctx.error = err;
      ch.error.publish(ctx);
      ch.end.publish(ctx);
      settleTrace(ch, ctx, err, false);
      throw err;
    }
    ch.end.publish(ctx);
    return promise.then(
      (result) => {
        if (summarize) {
          try {
            summarize(result, ctx);
          } catch {
            // A summary is best effort: it must never change the call's result.
          }
        }
        settleTrace(ch, ctx, undefined, false);
        return result;
      },
      (err: unknown) => {
        settleTrace(ch, ctx, err, true);
        throw err;
      },
    );
  });
}

/**
 * For work that settles through callbacks: publishes `start` (with stores), runs `fn`, publishes
 * `end`. Pair it with one `settleTrace` when the work settles. Call it only when `isTraced(ch)`.
 */
export function traceStart<C extends object>(ch: TraceChannel<C>, ctx: C, fn: () => void): void {
  try {
    ch.start.runStores(ctx, fn);
  } finally {
    ch.end.publish(ctx);
  }
}

/** Ends a trace begun with `traceStart` (or by `traceAsync`): `error` when `failed`, then `asyncStart`/`asyncEnd`. */
export function settleTrace<C extends { error?: unknown }>(ch: TraceChannel<C>, ctx: C, err: unknown, failed: boolean): void {
  if (failed) {
    ctx.error = err;
    ch.error.publish(ctx);
  }
  ch.asyncStart.publish(ctx);
  ch.asyncEnd.publish(ctx);
}

/** Publishes the start of a `memcluster:batch` trace for one request line; end it with `endBatchTrace`. */
export function beginBatchTrace(command: string, server: string, keys: readonly string[], withKeys: boolean | undefined): BatchTraceContext {
  const ctx: BatchTraceContext = { command, ...targetOf(server), keys: keys.length };
  if (withKeys) ctx.keyList = keys.slice();
  traceStart(batchTrace, ctx, () => {});
  return ctx;
}

/** Ends a batch trace: hits and misses from the VALUE blocks, or the error that lost the line. */
export function endBatchTrace(ctx: BatchTraceContext, values: readonly unknown[] | undefined, err: unknown): void {
  if (values) {
    ctx.hits = values.length;
    ctx.misses = ctx.keys - values.length;
  }
  settleTrace(batchTrace, ctx, err, values === undefined);
}
