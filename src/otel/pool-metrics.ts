import type { Counter, Meter, ObservableResult } from '@opentelemetry/api';

/** What pool metrics read: `Client#serverStats()` (or anything shaped like it). */
export interface StatsSource {
  serverStats(): ReadonlyArray<{ server: string; free: number; borrowed: number; queued: number }>;
}

/**
 * The database conventions' connection-pool metrics, one pool per server
 * (`db.client.connection.pool.name` = `host:port`), read from `serverStats()` at collection time:
 * - `db.client.connection.count` {connection}, with `db.client.connection.state` `idle` | `used`
 * - `db.client.connection.pending_requests` {request}: calls waiting for a socket
 * - `db.client.connection.timeouts` {timeout}: borrows that gave up (counted from `memcluster:pool.wait`)
 */
export class PoolMetrics {
  private readonly sources = new Set<StatsSource>();
  private timeouts: Counter | undefined;

  /** (Re)creates the instruments on `meter` (called whenever the meter provider changes). */
  register(meter: Meter): void {
    const count = meter.createObservableUpDownCounter('db.client.connection.count', {
      unit: '{connection}', description: 'Connections per server pool, by state (idle / used).',
    });
    const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
      unit: '{request}', description: 'Calls waiting for a connection, per server pool.',
    });
    count.addCallback((result) => this.each(result, (r, pool, s) => {
      r.observe(s.free, { 'db.client.connection.pool.name': pool, 'db.client.connection.state': 'idle' });
      r.observe(s.borrowed, { 'db.client.connection.pool.name': pool, 'db.client.connection.state': 'used' });
    }));
    pending.addCallback((result) => this.each(result, (r, pool, s) => r.observe(s.queued, { 'db.client.connection.pool.name': pool })));
    this.timeouts = meter.createCounter('db.client.connection.timeouts', {
      unit: '{timeout}', description: 'Borrows that timed out, per server pool.',
    });
  }

  observe(source: StatsSource): () => void {
    this.sources.add(source);
    return () => { this.sources.delete(source); };
  }

  timedOut(pool: string): void {
    this.timeouts?.add(1, { 'db.client.connection.pool.name': pool });
  }

  private each(result: ObservableResult, fn: (r: ObservableResult, pool: string, s: { free: number; borrowed: number; queued: number }) => void): void {
    for (const source of this.sources) {
      let stats: ReturnType<StatsSource['serverStats']>;
      try {
        stats = source.serverStats();
      } catch {
        continue; // a closed or broken source reports nothing rather than failing the collection
      }
      for (const s of stats) fn(result, s.server, s);
    }
  }
}
