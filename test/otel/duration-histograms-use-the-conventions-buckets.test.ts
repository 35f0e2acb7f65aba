/**
 * db.client.operation.duration (and the connection create/wait time histograms) were created with
 * no bucket advice, so the SDK's default boundaries applied: [0, 5, 10, 25, ...] in SECONDS, and
 * every memcached call (sub-millisecond to a few ms) landed in the single (0, 5 s] bucket. The
 * database conventions' boundaries [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] are now given as
 * `advice.explicitBucketBoundaries` on all three.
 */
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { MemclusterInstrumentation } from '../../src/otel/index.js';
import { useMemcached } from '../support/memcached.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const instrumentation = new MemclusterInstrumentation();
const SEMCONV = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

describe('memcluster/otel histograms', () => {
  const servers = useMemcached(1);
  let unregister: () => void;
  beforeAll(() => { unregister = registerInstrumentations({ instrumentations: [instrumentation], meterProvider }); });
  afterAll(() => unregister());

  it('duration histograms use the conventions\' second-scale bucket boundaries, so a ms-scale call is not in a 0-5 s bucket', async () => {
    const mc = new Client([servers[0]!.address]);
    await mc.set('h', 1);
    await mc.get('h');
    await mc.close();
    const { resourceMetrics } = await reader.collect() as { resourceMetrics: ResourceMetrics };
    const boundaries: Record<string, number[]> = {};
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const m of scope.metrics) {
        if (!/duration|create_time|wait_time/.test(m.descriptor.name)) continue;
        boundaries[`${m.descriptor.name} (${m.descriptor.unit})`] = (m.dataPoints[0]!.value as { buckets: { boundaries: number[] } }).buckets.boundaries;
      }
    }
    expect(boundaries).toEqual({
      'db.client.operation.duration (s)': SEMCONV,
      'db.client.connection.create_time (s)': SEMCONV,
      'db.client.connection.wait_time (s)': SEMCONV,
    });
  });
});
