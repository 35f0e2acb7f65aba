import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Histogram, type Span } from '@opentelemetry/api';
import { InstrumentationBase, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import {
  TRACE_CHANNELS, type BatchTraceContext, type CommandTraceContext, type ConnectTraceContext, type PoolWaitTraceContext,
} from '../tracing.js';
import { PoolMetrics, type StatsSource } from './pool-metrics.js';
import { VERSION } from './version.js';

/** Options of `MemclusterInstrumentation` (plus `enabled`, as every instrumentation has). */
export interface MemclusterInstrumentationConfig extends InstrumentationConfig {
  /** Make spans only for calls made inside another span (as most database instrumentations offer). @default false */
  requireParentSpan?: boolean;
  /** A span per multi-key request line (`memcluster:batch`), under the call's span. @default true */
  batchSpans?: boolean;
}

type Handlers<C extends object> = diagnostics.TracingChannelSubscribers<C>;
const noop = (): void => {};

/** The span name and attributes the database conventions ask for. */
function operationName(command: string, batchSize: number | undefined): string {
  return batchSize !== undefined && batchSize >= 2 ? `BATCH ${command}` : command;
}

function baseAttributes(op: string, c: { host?: string; port?: number }, batchSize: number | undefined): Attributes {
  const a: Attributes = { 'db.system.name': 'memcached', 'db.operation.name': op };
  if (batchSize !== undefined && batchSize >= 2) a['db.operation.batch.size'] = batchSize;
  if (c.host !== undefined) a['server.address'] = c.host;
  if (c.port !== undefined) a['server.port'] = c.port;
  return a;
}

/** `error.type`: the MemclusterError code (low cardinality, documented), else the error's class name. */
export function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('MC_ERR_')) return code;
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name ? name : '_OTHER';
}

const seconds = (startMs: number): number => (performance.now() - startMs) / 1000;

/** Bucket boundaries (s) the database client conventions give for their duration histograms. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * OpenTelemetry for memcluster, built on the `memcluster:*` diagnostics channels (no patching):
 * a CLIENT span per call of `Client` and of `memcluster/compat`, a child span per multi-key request
 * line, `db.client.operation.duration`, and pool metrics (`db.client.connection.*`).
 *
 * @example
 * import { registerInstrumentations } from '@opentelemetry/instrumentation';
 * import { MemclusterInstrumentation } from 'memcluster/otel';
 * const memcluster = new MemclusterInstrumentation();
 * registerInstrumentations({ instrumentations: [memcluster] });
 * memcluster.observeClient(client); // optional: pool metrics from client.serverStats()
 */
export class MemclusterInstrumentation extends InstrumentationBase<MemclusterInstrumentationConfig> {
  // Assigned after super(): the base constructor calls overridable methods before fields exist.
  private spans!: WeakMap<object, Span>;
  private started!: WeakMap<object, number>;
  /** A command's batch size when it started (a setMulti of an iterable learns it as it settles). */
  private startSize!: WeakMap<object, number | undefined>;
  /** The command context a batch request line was sent from (bound to the command trace's start). */
  private current!: AsyncLocalStorage<CommandTraceContext | undefined>;
  private subscribed!: boolean;
  private handlers!: {
    command: Handlers<CommandTraceContext>;
    batch: Handlers<BatchTraceContext>;
    connect: Handlers<ConnectTraceContext>;
    poolWait: Handlers<PoolWaitTraceContext>;
  };
  private duration: Histogram | undefined;
  private createTime: Histogram | undefined;
  private waitTime: Histogram | undefined;
  private pool!: PoolMetrics;

  constructor(config: MemclusterInstrumentationConfig = {}) {
    super('memcluster', VERSION, { ...config, enabled: false });
    this.setConfig(config);
    this.spans = new WeakMap();
    this.started = new WeakMap();
    this.startSize = new WeakMap();
    this.current = new AsyncLocalStorage();
    this.subscribed = false;
    this.pool = new PoolMetrics();
    this.handlers = {
      command: { start: (c) => this.commandStart(c), end: noop, asyncStart: noop, asyncEnd: (c) => this.commandEnd(c), error: noop },
      batch: { start: (c) => this.batchStart(c), end: noop, asyncStart: noop, asyncEnd: (c) => this.batchEnd(c), error: noop },
      connect: { start: (c) => this.started.set(c, performance.now()), end: noop, asyncStart: noop, asyncEnd: (c) => this.connectEnd(c), error: noop },
      poolWait: { start: (c) => this.started.set(c, performance.now()), end: noop, asyncStart: noop, asyncEnd: (c) => this.poolWaitEnd(c), error: noop },
    };
    this._updateMetricInstruments();
    if (this._config.enabled) this.enable();
  }

  /** No module to patch: memcluster publishes on diagnostics channels. */
  protected init(): [] {
    return [];
  }

  override enable(): void {
    super.enable();
    if (!this.handlers || this.subscribed) return;
    this.subscribed = true;
    const command = diagnostics.tracingChannel<unknown, CommandTraceContext>(TRACE_CHANNELS.command);
    command.start.bindStore(this.current, (c) => c);
    command.subscribe(this.handlers.command);
    diagnostics.tracingChannel<unknown, BatchTraceContext>(TRACE_CHANNELS.batch).subscribe(this.handlers.batch);
    diagnostics.tracingChannel<unknown, ConnectTraceContext>(TRACE_CHANNELS.connect).subscribe(this.handlers.connect);
    diagnostics.tracingChannel<unknown, PoolWaitTraceContext>(TRACE_CHANNELS.poolWait).subscribe(this.handlers.poolWait);
  }

  override disable(): void {
    super.disable();
    if (!this.subscribed) return;
    this.subscribed = false;
    const command = diagnostics.tracingChannel<unknown, CommandTraceContext>(TRACE_CHANNELS.command);
    command.unsubscribe(this.handlers.command);
    command.start.unbindStore(this.current);
    diagnostics.tracingChannel<unknown, BatchTraceContext>(TRACE_CHANNELS.batch).unsubscribe(this.handlers.batch);
    diagnostics.tracingChannel<unknown, ConnectTraceContext>(TRACE_CHANNELS.connect).unsubscribe(this.handlers.connect);
    diagnostics.tracingChannel<unknown, PoolWaitTraceContext>(TRACE_CHANNELS.poolWait).unsubscribe(this.handlers.poolWait);
  }

  /**
   * Reports a client's pools (`serverStats()`) as `db.client.connection.count` (idle/used) and
   * `db.client.connection.pending_requests`, per server (`db.client.connection.pool.name`).
   * Returns a function that stops reporting it.
   */
  observeClient(client: StatsSource): () => void {
    return this.pool.observe(client);
  }

  protected override _updateMetricInstruments(): void {
    if (!this.pool) return; // called by the base constructor, before this one has run
    // The semantic conventions' bucket boundaries for these durations (the SDK's default ones are
    // for milliseconds: every call would fall in its first bucket).
    const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
    this.duration = this.meter.createHistogram('db.client.operation.duration', { unit: 's', description: 'Duration of memcached client calls.', advice });
    this.createTime = this.meter.createHistogram('db.client.connection.create_time', { unit: 's', description: 'Time to open a connection (connect, TLS, auth).', advice });
    this.waitTime = this.meter.createHistogram('db.client.connection.wait_time', { unit: 's', description: 'Time to obtain a proven connection from a pool.', advice });
    this.pool.register(this.meter);
  }

  private commandStart(c: CommandTraceContext): void {
    this.started.set(c, performance.now());
    this.startSize.set(c, c.batchSize);
    const parent = context.active();
    if (this._config.requireParentSpan && !trace.getSpan(parent)) return;
    const op = operationName(c.command, c.batchSize);
    const name = c.host !== undefined && c.port !== undefined ? `${op} ${c.server}` : op;
    this.spans.set(c, this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: baseAttributes(op, c, c.batchSize) }, parent));
  }

  private commandEnd(c: CommandTraceContext): void {
    const op = operationName(c.command, c.batchSize);
    const attributes = baseAttributes(op, c, c.batchSize);
    if (c.error !== undefined) attributes['error.type'] = errorType(c.error);
    const start = this.started.get(c);
    if (start !== undefined) this.duration?.record(seconds(start), attributes);
    const span = this.spans.get(c);
    if (!span) return;
    this.spans.delete(c);
    // A setMulti of an iterable learns its size only as it settles: the span then becomes a batch's.
    if (op !== operationName(c.command, this.startSize.get(c))) {
      span.updateName(c.host !== undefined && c.port !== undefined ? `${op} ${c.server}` : op);
      span.setAttributes(attributes);
    }
    if (c.hits !== undefined) span.setAttribute('db.response.returned_rows', c.hits);
    finish(span, c.error);
  }

  private batchStart(c: BatchTraceContext): void {
    if (this._config.batchSpans === false) return;
    const command = this.current.getStore();
    const commandSpan = command && this.spans.get(command);
    const parent = commandSpan ? trace.setSpan(context.active(), commandSpan) : context.active();
    if (!commandSpan && this._config.requireParentSpan && !trace.getSpan(parent)) return;
    const op = operationName(c.command, c.keys);
    const attributes = baseAttributes(op, c, c.keys);
    this.spans.set(c, this.tracer.startSpan(`${op} ${c.server}`, { kind: SpanKind.CLIENT, attributes }, parent));
  }

  private batchEnd(c: BatchTraceContext): void {
    const span = this.spans.get(c);
    if (!span) return;
    this.spans.delete(c);
    if (c.hits !== undefined) span.setAttribute('db.response.returned_rows', c.hits);
    finish(span, c.error);
  }

  private connectEnd(c: ConnectTraceContext): void {
    const start = this.started.get(c);
    if (start === undefined || c.error !== undefined) return; // a failed connect created nothing
    this.createTime?.record(seconds(start), { 'db.client.connection.pool.name': c.server ?? '' });
  }

  private poolWaitEnd(c: PoolWaitTraceContext): void {
    const start = this.started.get(c);
    const pool = c.server ?? '';
    if (start !== undefined) this.waitTime?.record(seconds(start), { 'db.client.connection.pool.name': pool });
    if (errorType(c.error) === 'MC_ERR_TIMEOUT') this.pool.timedOut(pool);
  }
}

/** Error status and `error.type` on failure only (a miss is a result, not an error); then ends the span. */
function finish(span: Span, err: unknown): void {
  if (err !== undefined) {
    const type = errorType(err);
    span.setAttribute('error.type', type);
    // The message may hold a key (keys can be personal data): the status names the error's type only.
    span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  }
  span.end();
}
