/**
 * setMulti with an iterable that is not an array or a Map (a generator: accepted, counted when it
 * settles) got a span named `set`, with `db.operation.name` = `set` and no
 * `db.operation.batch.size`, although it wrote several keys, while its duration metric point said
 * `BATCH set`. The span is now renamed and given the batch attributes when the call settles.
 */
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { MemclusterInstrumentation } from '../../src/otel/index.js';
import { useMemcached } from '../support/memcached.js';

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const instrumentation = new MemclusterInstrumentation();

describe('memcluster/otel: setMulti of a generator', () => {
  const servers = useMemcached(1);
  let unregister: () => void;
  beforeAll(() => { unregister = registerInstrumentations({ instrumentations: [instrumentation], tracerProvider }); });
  afterAll(() => unregister());

  it('is a BATCH set span with db.operation.batch.size, like the same call with an array', async () => {
    const mc = new Client([servers[0]!.address]);
    function* entries(): Generator<[string, number]> {
      yield ['g1', 1];
      yield ['g2', 2];
      yield ['g3', 3];
    }
    const result = await mc.setMulti(entries());
    expect(result.size).toBe(3);
    await mc.setMulti([['a1', 1], ['a2', 2], ['a3', 3]]);
    await mc.close();
    const spans = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'memcluster');
    const view = spans.map((s) => ({ name: s.name, op: s.attributes['db.operation.name'], size: s.attributes['db.operation.batch.size'] }));
    expect(view).toEqual([
      { name: 'BATCH set', op: 'BATCH set', size: 3 }, // the generator
      { name: 'BATCH set', op: 'BATCH set', size: 3 }, // the array
    ]);
  });
});
