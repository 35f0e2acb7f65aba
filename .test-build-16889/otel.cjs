"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }

var _chunkNYUFQ7A3cjs = require('./chunk-NYUFQ7A3.cjs');

// src/otel/instrumentation.ts
var _async_hooks = require('async_hooks');
var _diagnostics_channel = require('diagnostics_channel'); var _diagnostics_channel2 = _interopRequireDefault(_diagnostics_channel);
var _api = require('@opentelemetry/api');
var _instrumentation = require('@opentelemetry/instrumentation');

// src/otel/pool-metrics.ts
var PoolMetrics = class {
  sources = /* @__PURE__ */ new Set();
  timeouts;
  /** (Re)creates the instruments on `meter` (called whenever the meter provider changes). */
  register(meter) {
    const count = meter.createObservableUpDownCounter("db.client.connection.count", {
      unit: "{connection}",
      description: "Connections per server pool, by state (idle / used)."
    });
    const pending = meter.createObservableUpDownCounter("db.client.connection.pending_requests", {
      unit: "{request}",
      description: "Calls waiting for a connection, per server pool."
    });
    count.addCallback((result) => this.each(result, (r, pool, s) => {
      r.observe(s.free, { "db.client.connection.pool.name": pool, "db.client.connection.state": "idle" });
      r.observe(s.borrowed, { "db.client.connection.pool.name": pool, "db.client.connection.state": "used" });
    }));
    pending.addCallback((result) => this.each(result, (r, pool, s) => r.observe(s.queued, { "db.client.connection.pool.name": pool })));
    this.timeouts = meter.createCounter("db.client.connection.timeouts", {
      unit: "{timeout}",
      description: "Borrows that timed out, per server pool."
    });
  }
  observe(source) {
    this.sources.add(source);
    return () => {
      this.sources.delete(source);
    };
  }
  timedOut(pool) {
    this.timeouts?.add(1, { "db.client.connection.pool.name": pool });
  }
  each(result, fn) {
    for (const source of this.sources) {
      let stats;
      try {
        stats = source.serverStats();
      } catch {
        continue;
      }
      for (const s of stats) fn(result, s.server, s);
    }
  }
};

// src/otel/version.ts
var VERSION = "0.1.0";

// src/otel/instrumentation.ts
var noop = () => {
};
function operationName(command, batchSize) {
  return batchSize !== void 0 && batchSize >= 2 ? `BATCH ${command}` : command;
}
function baseAttributes(op, c, batchSize) {
  const a = { "db.system.name": "memcached", "db.operation.name": op };
  if (batchSize !== void 0 && batchSize >= 2) a["db.operation.batch.size"] = batchSize;
  if (c.host !== void 0) a["server.address"] = c.host;
  if (c.port !== void 0) a["server.port"] = c.port;
  return a;
}
function errorType(err) {
  const code = err?.code;
  if (typeof code === "string" && code.startsWith("MC_ERR_")) return code;
  const name = err?.name;
  return typeof name === "string" && name ? name : "_OTHER";
}
var seconds = (startMs) => (performance.now() - startMs) / 1e3;
var DURATION_BUCKETS = [1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
var MemclusterInstrumentation = class extends _instrumentation.InstrumentationBase {
  // Assigned after super(): the base constructor calls overridable methods before fields exist.
  spans;
  started;
  /** A command's batch size when it started (a setMulti of an iterable learns it as it settles). */
  startSize;
  /** The command context a batch request line was sent from (bound to the command trace's start). */
  current;
  subscribed;
  handlers;
  duration;
  createTime;
  waitTime;
  pool;
  constructor(config = {}) {
    super("memcluster", VERSION, { ...config, enabled: false });
    this.setConfig(config);
    this.spans = /* @__PURE__ */ new WeakMap();
    this.started = /* @__PURE__ */ new WeakMap();
    this.startSize = /* @__PURE__ */ new WeakMap();
    this.current = new (0, _async_hooks.AsyncLocalStorage)();
    this.subscribed = false;
    this.pool = new PoolMetrics();
    this.handlers = {
      command: { start: (c) => this.commandStart(c), end: noop, asyncStart: noop, asyncEnd: (c) => this.commandEnd(c), error: noop },
      batch: { start: (c) => this.batchStart(c), end: noop, asyncStart: noop, asyncEnd: (c) => this.batchEnd(c), error: noop },
      connect: { start: (c) => this.started.set(c, performance.now()), end: noop, asyncStart: noop, asyncEnd: (c) => this.connectEnd(c), error: noop },
      poolWait: { start: (c) => this.started.set(c, performance.now()), end: noop, asyncStart: noop, asyncEnd: (c) => this.poolWaitEnd(c), error: noop }
    };
    this._updateMetricInstruments();
    if (this._config.enabled) this.enable();
  }
  /** No module to patch: memcluster publishes on diagnostics channels. */
  init() {
    return [];
  }
  enable() {
    super.enable();
    if (!this.handlers || this.subscribed) return;
    this.subscribed = true;
    const command = _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.command);
    command.start.bindStore(this.current, (c) => c);
    command.subscribe(this.handlers.command);
    _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.batch).subscribe(this.handlers.batch);
    _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.connect).subscribe(this.handlers.connect);
    _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.poolWait).subscribe(this.handlers.poolWait);
  }
  disable() {
    super.disable();
    if (!this.subscribed) return;
    this.subscribed = false;
    const command = _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.command);
    command.unsubscribe(this.handlers.command);
    command.start.unbindStore(this.current);
    _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.batch).unsubscribe(this.handlers.batch);
    _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.connect).unsubscribe(this.handlers.connect);
    _diagnostics_channel2.default.tracingChannel(_chunkNYUFQ7A3cjs.TRACE_CHANNELS.poolWait).unsubscribe(this.handlers.poolWait);
  }
  /**
   * Reports a client's pools (`serverStats()`) as `db.client.connection.count` (idle/used) and
   * `db.client.connection.pending_requests`, per server (`db.client.connection.pool.name`).
   * Returns a function that stops reporting it.
   */
  observeClient(client) {
    return this.pool.observe(client);
  }
  _updateMetricInstruments() {
    if (!this.pool) return;
    const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
    this.duration = this.meter.createHistogram("db.client.operation.duration", { unit: "s", description: "Duration of memcached client calls.", advice });
    this.createTime = this.meter.createHistogram("db.client.connection.create_time", { unit: "s", description: "Time to open a connection (connect, TLS, auth).", advice });
    this.waitTime = this.meter.createHistogram("db.client.connection.wait_time", { unit: "s", description: "Time to obtain a proven connection from a pool.", advice });
    this.pool.register(this.meter);
  }
  commandStart(c) {
    this.started.set(c, performance.now());
    this.startSize.set(c, c.batchSize);
    const parent = _api.context.active();
    if (this._config.requireParentSpan && !_api.trace.getSpan(parent)) return;
    const op = operationName(c.command, c.batchSize);
    const name = c.host !== void 0 && c.port !== void 0 ? `${op} ${c.server}` : op;
    this.spans.set(c, this.tracer.startSpan(name, { kind: _api.SpanKind.CLIENT, attributes: baseAttributes(op, c, c.batchSize) }, parent));
  }
  commandEnd(c) {
    const op = operationName(c.command, c.batchSize);
    const attributes = baseAttributes(op, c, c.batchSize);
    if (c.error !== void 0) attributes["error.type"] = errorType(c.error);
    const start = this.started.get(c);
    if (start !== void 0) this.duration?.record(seconds(start), attributes);
    const span = this.spans.get(c);
    if (!span) return;
    this.spans.delete(c);
    if (op !== operationName(c.command, this.startSize.get(c))) {
      span.updateName(c.host !== void 0 && c.port !== void 0 ? `${op} ${c.server}` : op);
      span.setAttributes(attributes);
    }
    if (c.hits !== void 0) span.setAttribute("db.response.returned_rows", c.hits);
    finish(span, c.error);
  }
  batchStart(c) {
    if (this._config.batchSpans === false) return;
    const command = this.current.getStore();
    const commandSpan = command && this.spans.get(command);
    const parent = commandSpan ? _api.trace.setSpan(_api.context.active(), commandSpan) : _api.context.active();
    if (!commandSpan && this._config.requireParentSpan && !_api.trace.getSpan(parent)) return;
    const op = operationName(c.command, c.keys);
    const attributes = baseAttributes(op, c, c.keys);
    this.spans.set(c, this.tracer.startSpan(`${op} ${c.server}`, { kind: _api.SpanKind.CLIENT, attributes }, parent));
  }
  batchEnd(c) {
    const span = this.spans.get(c);
    if (!span) return;
    this.spans.delete(c);
    if (c.hits !== void 0) span.setAttribute("db.response.returned_rows", c.hits);
    finish(span, c.error);
  }
  connectEnd(c) {
    const start = this.started.get(c);
    if (start === void 0 || c.error !== void 0) return;
    this.createTime?.record(seconds(start), { "db.client.connection.pool.name": c.server ?? "" });
  }
  poolWaitEnd(c) {
    const start = this.started.get(c);
    const pool = c.server ?? "";
    if (start !== void 0) this.waitTime?.record(seconds(start), { "db.client.connection.pool.name": pool });
    if (errorType(c.error) === "MC_ERR_TIMEOUT") this.pool.timedOut(pool);
  }
};
function finish(span, err) {
  if (err !== void 0) {
    const type = errorType(err);
    span.setAttribute("error.type", type);
    span.setStatus({ code: _api.SpanStatusCode.ERROR, message: type });
  }
  span.end();
}




exports.MemclusterInstrumentation = MemclusterInstrumentation; exports.TRACE_CHANNELS = _chunkNYUFQ7A3cjs.TRACE_CHANNELS; exports.errorType = errorType;

//# sourceMappingURL=otel.cjs.map
