import { readFileSync } from 'node:fs';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client, MemclusterError } from '../../src/index.js';
import MemcachedCompat from '../../src/compat/index.js';
import { MemclusterInstrumentation } from '../../src/otel/index.js';
import { VERSION } from '../../src/otel/version.js';
import { freePort, useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();
const instrumentation = new MemclusterInstrumentation();
let unregister: () => void;

const ours = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'memcluster');
const attrs = (s: ReadableSpan) => s.attributes;
const compatCall = <T>(fn: (cb: (err: unknown, data: T) => void) => void) =>
  new Promise<[unknown, T]>((resolve) => fn((err, data) => resolve([err, data])));

async function metric(name: string): Promise<Array<{ attributes: Record<string, unknown>; value: unknown }>> {
  const { resourceMetrics } = await reader.collect() as { resourceMetrics: ResourceMetrics };
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) if (m.descriptor.name === name) return m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
  }
  return [];
}

describe('memcluster/otel with the OpenTelemetry SDK against real memcached', () => {
  const servers = useMemcached(2);
  const closers: Array<() => unknown> = [];
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    unregister = registerInstrumentations({ instrumentations: [instrumentation], tracerProvider, meterProvider });
  });
  afterAll(async () => {
    unregister();
    context.disable();
    await Promise.all(closers.map((c) => c()));
  });
  beforeEach(() => exporter.reset());
  const client = (locations = servers.map((s) => s.address), opts = {}) => {
    const c = new Client(locations, { coalesce: false, ...opts });
    closers.push(() => c.close());
    return c;
  };

  it('is an InstrumentationBase reporting memcluster\'s own version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(instrumentation.instrumentationName).toBe('memcluster');
    expect(instrumentation.instrumentationVersion).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
  });

  it('get and set: CLIENT spans with the database attributes; a miss is not an error', async () => {
    const mc = client();
    await mc.set('otel:a', 'v');
    expect(await mc.get('otel:a')).toBe('v');
    expect(await mc.get('otel:missing')).toBeUndefined();
    const spans = ours();
    expect(spans.map((s) => attrs(s)['db.operation.name'])).toEqual(['set', 'get', 'get']);
    for (const s of spans) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(attrs(s)['db.system.name']).toBe('memcached');
      expect(attrs(s)['server.address']).toBe('127.0.0.1');
      expect(servers.map((x) => x.port)).toContain(attrs(s)['server.port']);
      expect(s.name).toBe(`${attrs(s)['db.operation.name']} 127.0.0.1:${attrs(s)['server.port']}`);
      expect(attrs(s)['db.operation.batch.size']).toBeUndefined();
      expect(attrs(s)['error.type']).toBeUndefined();
      expect(s.status.code).toBe(SpanStatusCode.UNSET);
    }
    expect(attrs(spans[1]!)['db.response.returned_rows']).toBe(1);
    expect(attrs(spans[2]!)['db.response.returned_rows']).toBe(0);
  });

  it('getMulti: a BATCH span with db.operation.batch.size, and a child span per server request', async () => {
    const mc = client(undefined, { maxBatchKeys: 5 });
    const keys = Array.from({ length: 12 }, (_, i) => `otel:m${i}`);
    await mc.setMulti(keys.slice(0, 7).map((k) => [k, i(k)]));
    exporter.reset();
    expect((await mc.getMulti(keys)).size).toBe(7);
    const spans = ours();
    const call = spans.find((s) => s.parentSpanContext === undefined)!;
    expect(call.name).toBe('BATCH get');
    expect(attrs(call)).toMatchObject({ 'db.system.name': 'memcached', 'db.operation.name': 'BATCH get', 'db.operation.batch.size': 12, 'db.response.returned_rows': 7 });
    expect(attrs(call)['server.address']).toBeUndefined(); // spread over servers
    const lines = spans.filter((s) => s !== call);
    expect(lines.length).toBeGreaterThanOrEqual(3); // 12 keys, at most 5 a line
    for (const l of lines) {
      expect(l.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
      expect(l.spanContext().traceId).toBe(call.spanContext().traceId);
      expect(l.kind).toBe(SpanKind.CLIENT);
      expect(attrs(l)['server.address']).toBe('127.0.0.1');
      const size = attrs(l)['db.operation.batch.size'] as number | undefined;
      // a line of one key is no batch: no batch size, plain operation name
      expect(attrs(l)['db.operation.name']).toBe(size === undefined ? 'get' : 'BATCH get');
      if (size !== undefined) expect(size).toBeGreaterThanOrEqual(2);
    }
    expect(lines.reduce((n, l) => n + ((attrs(l)['db.operation.batch.size'] as number | undefined) ?? 1), 0)).toBe(12);
  });

  it('a one-key getMulti is not a batch', async () => {
    const mc = client();
    await mc.getMulti(['otel:only']);
    const call = ours().find((s) => s.parentSpanContext === undefined)!;
    expect(attrs(call)['db.operation.name']).toBe('get');
    expect(attrs(call)['db.operation.batch.size']).toBeUndefined();
  });

  it('a failing call: error status and error.type (the error code)', async () => {
    const port = await freePort();
    const mc = client([`127.0.0.1:${port}`], { timeoutMs: 2000, connectTimeoutMs: 1000 });
    const err = await mc.get('otel:x').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MemclusterError);
    const [span] = ours();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(attrs(span!)['error.type']).toBe((err as MemclusterError).code);
    expect(attrs(span!)['server.port']).toBe(port);
    expect(span!.status.message).not.toContain('otel:x'); // no key in the status
  });

  it('compat: get, set, a failing call, and getMulti request lines with their batch size', async () => {
    const mc = new MemcachedCompat(servers.map((s) => s.address));
    closers.push(() => mc.end());
    expect(await compatCall((cb) => mc.set('otel:c', 'v', 10, cb))).toEqual([undefined, true]);
    expect((await compatCall((cb) => mc.get('otel:c', cb)))[1]).toBe('v');
    const single = ours();
    expect(single.map((s) => attrs(s)['db.operation.name'])).toEqual(['set', 'get']);
    for (const s of single) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(attrs(s)['db.system.name']).toBe('memcached');
      expect(attrs(s)['server.address']).toBe('127.0.0.1');
      expect(s.status.code).toBe(SpanStatusCode.UNSET);
    }
    exporter.reset();
    const keys = ['otel:c', 'otel:c2', 'otel:c3', 'otel:c4'];
    const [, data] = await compatCall<Record<string, unknown>>((cb) => mc.getMulti(keys, cb));
    expect(data).toEqual({ 'otel:c': 'v' });
    const lines = ours();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.reduce((n, l) => n + ((attrs(l)['db.operation.batch.size'] as number | undefined) ?? 1), 0)).toBe(4);
    for (const l of lines) expect(attrs(l)['db.system.name']).toBe('memcached');

    exporter.reset();
    const dead = new MemcachedCompat(`127.0.0.1:${await freePort()}`, { timeout: 1000, retries: 0 });
    closers.push(() => dead.end());
    const [err] = await compatCall((cb) => dead.get('otel:dead', cb));
    expect(err).toBeInstanceOf(Error);
    const [failed] = ours();
    expect(failed!.status.code).toBe(SpanStatusCode.ERROR);
    expect(typeof attrs(failed!)['error.type']).toBe('string');
  });

  it('a call inside an active span becomes its child; requireParentSpan drops calls outside one', async () => {
    const mc = client();
    const tracer = tracerProvider.getTracer('app');
    await tracer.startActiveSpan('request', async (parent) => {
      await mc.get('otel:p');
      parent.end();
    });
    const request = exporter.getFinishedSpans().find((s) => s.name === 'request')!;
    const [get] = ours();
    expect(get!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);

    exporter.reset();
    instrumentation.setConfig({ requireParentSpan: true });
    try {
      await mc.get('otel:p');
      expect(ours()).toEqual([]);
      await tracer.startActiveSpan('request', async (parent) => {
        await mc.get('otel:p');
        parent.end();
      });
      expect(ours()).toHaveLength(1);
    } finally {
      instrumentation.setConfig({});
    }
  });

  it('disable() stops the spans, enable() brings them back', async () => {
    const mc = client();
    instrumentation.disable();
    await mc.get('otel:d');
    expect(ours()).toEqual([]);
    instrumentation.enable();
    await mc.get('otel:d');
    expect(ours()).toHaveLength(1);
  });

  it('metrics: operation duration, connection create and wait times, pool counts from serverStats()', async () => {
    const mc = client([servers[0]!.address]);
    const stop = instrumentation.observeClient(mc);
    try {
      await mc.set('otel:metrics', 1);
      const duration = await metric('db.client.operation.duration');
      expect(duration.some((p) => p.attributes['db.operation.name'] === 'set' && p.attributes['db.system.name'] === 'memcached')).toBe(true);
      expect((await metric('db.client.connection.create_time')).some((p) => p.attributes['db.client.connection.pool.name'] === servers[0]!.address)).toBe(true);
      expect((await metric('db.client.connection.wait_time')).length).toBeGreaterThan(0);
      await eventually(async () => {
        const count = await metric('db.client.connection.count');
        const mine = count.filter((p) => p.attributes['db.client.connection.pool.name'] === servers[0]!.address);
        return mine.length === 2 && mine.reduce((n, p) => n + (p.value as number), 0) >= 1;
      }, 1000, 'the pool reports its socket as idle or used');
    } finally {
      stop();
    }
  });
});

function i(key: string): number {
  return Number(key.replace(/\D/g, ''));
}
