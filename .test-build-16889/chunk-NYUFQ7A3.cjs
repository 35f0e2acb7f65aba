"use strict";Object.defineProperty(exports, "__esModule", {value: true}); function _interopRequireDefault(obj) { return obj && obj.__esModule ? obj : { default: obj }; }// src/tracing.ts
var _diagnostics_channel = require('diagnostics_channel'); var _diagnostics_channel2 = _interopRequireDefault(_diagnostics_channel);
var TRACE_CHANNELS = {
  command: "memcluster:command",
  batch: "memcluster:batch",
  connect: "memcluster:connect",
  poolWait: "memcluster:pool.wait"
};
var commandTrace = _diagnostics_channel2.default.tracingChannel(TRACE_CHANNELS.command);
var batchTrace = _diagnostics_channel2.default.tracingChannel(TRACE_CHANNELS.batch);
var connectTrace = _diagnostics_channel2.default.tracingChannel(TRACE_CHANNELS.connect);
var poolWaitTrace = _diagnostics_channel2.default.tracingChannel(TRACE_CHANNELS.poolWait);
var isTraced = "hasSubscribers" in commandTrace ? (ch) => ch.hasSubscribers : (ch) => ch.start.hasSubscribers || ch.end.hasSubscribers || ch.asyncStart.hasSubscribers || ch.asyncEnd.hasSubscribers || ch.error.hasSubscribers;
function targetOf(server) {
  if (server === void 0) return {};
  const i = server.lastIndexOf(":");
  const host = i > 0 ? server.slice(0, i) : server;
  const port = i > 0 ? Number(server.slice(i + 1)) : NaN;
  return {
    server,
    host: host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host,
    ...Number.isInteger(port) ? { port } : {}
  };
}
function traceAsync(ch, ctx, fn, summarize) {
  return ch.start.runStores(ctx, () => {
    let promise;
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
          }
        }
        settleTrace(ch, ctx, void 0, false);
        return result;
      },
      (err) => {
        settleTrace(ch, ctx, err, true);
        throw err;
      }
    );
  });
}
function traceStart(ch, ctx, fn) {
  try {
    ch.start.runStores(ctx, fn);
  } finally {
    ch.end.publish(ctx);
  }
}
function settleTrace(ch, ctx, err, failed) {
  if (failed) {
    ctx.error = err;
    ch.error.publish(ctx);
  }
  ch.asyncStart.publish(ctx);
  ch.asyncEnd.publish(ctx);
}
function beginBatchTrace(command, server, keys, withKeys) {
  const ctx = { command, ...targetOf(server), keys: keys.length };
  if (withKeys) ctx.keyList = keys.slice();
  traceStart(batchTrace, ctx, () => {
  });
  return ctx;
}
function endBatchTrace(ctx, values, err) {
  if (values) {
    ctx.hits = values.length;
    ctx.misses = ctx.keys - values.length;
  }
  settleTrace(batchTrace, ctx, err, values === void 0);
}












exports.TRACE_CHANNELS = TRACE_CHANNELS; exports.commandTrace = commandTrace; exports.batchTrace = batchTrace; exports.connectTrace = connectTrace; exports.poolWaitTrace = poolWaitTrace; exports.isTraced = isTraced; exports.targetOf = targetOf; exports.traceAsync = traceAsync; exports.beginBatchTrace = beginBatchTrace; exports.endBatchTrace = endBatchTrace;

//# sourceMappingURL=chunk-NYUFQ7A3.cjs.map
