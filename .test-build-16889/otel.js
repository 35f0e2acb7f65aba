// ESM entry: re-exports the CommonJS build, so import and require share one copy of every class.
export { MemclusterInstrumentation, TRACE_CHANNELS, errorType } from "./otel.cjs";
