/**
 * Two unrelated requests (two traces) each do one `get` in the same tick (the default
 * `coalesce: true`). The coalesced lines were sent in the async context of whichever get scheduled
 * the flush, so memcluster/otel put every request-line span of that tick under the FIRST get's
 * span: request B's line (to B's server, carrying B's key with traceKeys) showed up in request A's
 * trace. Now a line that serves one caller goes out in that caller's context, and a line shared by
 * callers of several requests in the client's root context (in neither request's trace).
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { MemclusterInstrumentation } from '../../src/otel/index.js';
import { useMemcached } from '../support/memcached.js';

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const instrumentation = new MemclusterInstrumentation();

describe('memcluster/otel: request-line spans of coalesced gets', () => {
  const servers = useMemcached(2);
  let unregister: () => void;
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    unregister = registerInstrumentations({ instrumentations: [instrumentation], tracerProvider });
  });
  afterAll(() => { unregister(); context.disable(); });

  it("each get's spans are in its own request's trace, none in the other's", async () => {
    const mc = new Client(servers.map((s) => s.address)); // coalesce: true (default)
    const route = (k: string) => (mc as unknown as { core: { cluster: { nodeFor(k: string): { server: string } } } }).core.cluster.nodeFor(k).server;
    // Two keys on different servers.
    const keyA = 'req-a';
    let keyB = 'req-b0';
    for (let i = 1; route(keyB) === route(keyA); i++) keyB = `req-b${i}`;
    await mc.set(keyA, 'a');
    await mc.set(keyB, 'b');
    await new Promise((r) => setTimeout(r, 100)); // let the pool settle
    exporter.reset();

    const tracer = tracerProvider.getTracer('app');
    const reqA = tracer.startSpan('request A');
    const reqB = tracer.startSpan('request B');
    // Two independent handlers, same tick.
    const a = context.with(trace.setSpan(context.active(), reqA), () => mc.get(keyA));
    const b = context.with(trace.setSpan(context.active(), reqB), () => mc.get(keyB));
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    reqA.end();
    reqB.end();
    await mc.close();

    const spans = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'memcluster');
    const traceOf = (sp: { spanContext(): { traceId: string } }): string =>
      sp.spanContext().traceId === reqA.spanContext().traceId ? 'A' : sp.spanContext().traceId === reqB.spanContext().traceId ? 'B' : 'other';
    const serverOf = (sp: { attributes: Record<string, unknown> }): string => `${sp.attributes['server.address']}:${sp.attributes['server.port']}`;
    // Every memcluster span sits in the trace of the request whose key it carries (A's server: A).
    const seen = spans.map((sp) => ({ span: sp.name, trace: traceOf(sp), server: serverOf(sp) })).sort((x, y) => x.trace.localeCompare(y.trace) || x.span.localeCompare(y.span));
    for (const s of seen) expect(s, JSON.stringify(seen)).toEqual({ ...s, trace: s.server === route(keyA) ? 'A' : 'B' });
    expect(seen.filter((s) => s.trace === 'A').length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.trace === 'B').length).toBeGreaterThan(0);
  });

  it('a request line shared by gets of two requests is in neither request\'s trace', async () => {
    const mc = new Client(servers.map((s) => s.address));
    const route = (k: string) => (mc as unknown as { core: { cluster: { nodeFor(k: string): { server: string } } } }).core.cluster.nodeFor(k).server;
    const keyA = 'shared-a';
    let keyB = 'shared-b0';
    for (let i = 1; route(keyB) !== route(keyA); i++) keyB = `shared-b${i}`;
    await mc.set(keyA, 'a');
    await mc.set(keyB, 'b');
    exporter.reset();
    const tracer = tracerProvider.getTracer('app');
    const reqA = tracer.startSpan('request A');
    const reqB = tracer.startSpan('request B');
    const a = context.with(trace.setSpan(context.active(), reqA), () => mc.get(keyA));
    const b = context.with(trace.setSpan(context.active(), reqB), () => mc.get(keyB));
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    reqA.end();
    reqB.end();
    await mc.close();
    const spans = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'memcluster');
    const ids = new Set([reqA.spanContext().traceId, reqB.spanContext().traceId]);
    const calls = spans.filter((s) => s.parentSpanContext?.spanId === reqA.spanContext().spanId || s.parentSpanContext?.spanId === reqB.spanContext().spanId);
    expect(calls).toHaveLength(2);
    const lines = spans.filter((s) => !calls.includes(s));
    expect(lines.length, 'one shared request line').toBe(1);
    expect(ids.has(lines[0]!.spanContext().traceId), 'the shared line is not in either request\'s trace').toBe(false);
  });
});
