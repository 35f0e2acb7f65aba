import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Client, MemclusterError } from '../../src/index.js';
import MemcachedCompat from '../../src/compat/index.js';
import { freePort, useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';

type Event = { name: string; phase: string; ctx: Record<string, unknown> };

/** Records every event of the four traces, with a copy of the context as it was at that moment. */
function record(): { events: Event[]; stop: () => void; ofTrace: (name: string, phase?: string) => Array<Record<string, unknown>> } {
  const events: Event[] = [];
  const unsubs: Array<() => void> = [];
  for (const name of ['memcluster:command', 'memcluster:batch', 'memcluster:connect', 'memcluster:pool.wait']) {
    const ch = diagnostics.tracingChannel(name);
    const handlers = Object.fromEntries(['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((phase) => [
      phase, (ctx: unknown) => events.push({ name, phase, ctx: { ...(ctx as Record<string, unknown>) } }),
    ])) as unknown as diagnostics.TracingChannelSubscribers<object>;
    ch.subscribe(handlers);
    unsubs.push(() => ch.unsubscribe(handlers));
  }
  return {
    events,
    stop: () => unsubs.forEach((u) => u()),
    ofTrace: (name, phase = 'asyncEnd') => events.filter((e) => e.name === name && e.phase === phase).map((e) => e.ctx),
  };
}

describe('diagnostics_channel traces', () => {
  const servers = useMemcached(2);
  const clients: Array<{ close(): unknown }> = [];
  let rec: ReturnType<typeof record> | undefined;
  afterEach(() => rec?.stop());
  afterAll(async () => { await Promise.all(clients.map((c) => c.close())); });
  const client = (opts = {}) => {
    const c = new Client(servers.map((s) => s.address), { coalesce: false, ...opts });
    clients.push(c);
    return c;
  };

  it('traces get and set with command, server, port and hit/miss counts, and no key or value', async () => {
    const mc = client();
    rec = record();
    expect(await mc.set('trace:a', 'secret-value')).toBe(true);
    expect(await mc.get('trace:a')).toBe('secret-value');
    expect(await mc.get('trace:missing')).toBeUndefined();
    const done = rec.ofTrace('memcluster:command');
    expect(done.map((c) => c.command)).toEqual(['set', 'get', 'get']);
    const [set, hit, miss] = done as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    const addresses = servers.map((s) => s.address);
    for (const c of [set, hit, miss]) {
      expect(c).toMatchObject({ api: 'client', keys: 1 });
      expect(addresses).toContain(c.server);
      expect(c.server).toBe(`${c.host}:${c.port}`);
      expect(c.batchSize).toBeUndefined();
      expect(c.error).toBeUndefined();
      expect('key' in c).toBe(false);
      expect(JSON.stringify(c)).not.toContain('secret-value');
      expect(JSON.stringify(c)).not.toContain('trace:');
    }
    expect(hit).toMatchObject({ method: 'get', hits: 1, misses: 0 });
    expect(miss).toMatchObject({ hits: 0, misses: 1 });
    // the server is known from the start (a subscriber can name its span then)
    expect(rec.ofTrace('memcluster:command', 'start')[1]!.server).toBe(hit.server);
    // every phase, in order, for one call
    const phases = rec.events.filter((e) => e.name === 'memcluster:command' && e.ctx.command === 'set').map((e) => e.phase);
    expect(phases).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  });

  it('puts keys in the context only with traceKeys', async () => {
    const mc = client({ traceKeys: true });
    rec = record();
    await mc.get('trace:k1');
    await mc.getMulti(['trace:k1', 'trace:k2']);
    const [one, many] = rec.ofTrace('memcluster:command');
    expect(one!.key).toBe('trace:k1');
    expect(many!.keyList).toEqual(['trace:k1', 'trace:k2']);
    const lines = rec.ofTrace('memcluster:batch').flatMap((b) => b.keyList as string[]);
    expect(lines.sort()).toEqual(['trace:k1', 'trace:k2']);
  });

  it('traces getMulti with batchSize and hit/miss counts, and one batch trace per server request', async () => {
    const mc = client({ maxBatchKeys: 10 });
    const keys = Array.from({ length: 40 }, (_, i) => `trace:m${i}`);
    await mc.setMulti(keys.slice(0, 25).map((k) => [k, 'v']));
    rec = record();
    const got = await mc.getMulti([...keys, 'trace:m0']); // a duplicate is asked for once
    expect(got.size).toBe(25);
    const [call] = rec.ofTrace('memcluster:command');
    expect(call).toMatchObject({ command: 'get', method: 'getMulti', keys: 41, batchSize: 41, hits: 25, misses: 15 });
    expect(call!.server).toBeUndefined();
    const batches = rec.ofTrace('memcluster:batch');
    // 40 keys over 2 servers at 10 keys a line: at least 4 lines, each to one server
    expect(batches.length).toBeGreaterThanOrEqual(4);
    expect(batches.reduce((n, b) => n + (b.keys as number), 0)).toBe(40);
    expect(batches.reduce((n, b) => n + (b.hits as number), 0)).toBe(25);
    expect(batches.reduce((n, b) => n + (b.misses as number), 0)).toBe(15);
    for (const b of batches) {
      expect(b.command).toBe('get');
      expect(b.keys as number).toBeLessThanOrEqual(10);
      expect(servers.map((s) => s.address)).toContain(b.server);
      expect(b.keyList).toBeUndefined();
    }
    // batch traces start inside the command trace and end before it
    const order = rec.events.filter((e) => e.phase === 'start' || e.phase === 'asyncEnd').map((e) => `${e.name}:${e.phase}`);
    expect(order[0]).toBe('memcluster:command:start');
    expect(order.at(-1)).toBe('memcluster:command:asyncEnd');
  });

  it('traces setMulti, deleteMulti, getMultiSettled and server-wide commands', async () => {
    const mc = client();
    rec = record();
    await mc.setMulti(new Map([['trace:s1', 1], ['trace:s2', 2]]));
    await mc.setMulti((function* () { yield ['trace:s3', 3] as const; })()); // a generator is not read by the trace
    await mc.getMultiSettled(['trace:s1', 'trace:none']);
    await mc.deleteMulti(['trace:s1', 'trace:s2']);
    await mc.version();
    const done = rec.ofTrace('memcluster:command');
    expect(done.map((c) => [c.method, c.command, c.keys, c.batchSize])).toEqual([
      ['setMulti', 'set', 2, 2], ['setMulti', 'set', 1, 1], ['getMultiSettled', 'get', 2, 2], ['deleteMulti', 'delete', 2, 2], ['version', 'version', 0, undefined],
    ]);
    expect(done[2]).toMatchObject({ hits: 1, misses: 1, failures: 0 });
  });

  it('a failing call carries the typed error; connect and pool.wait traces fail with it', async () => {
    const port = await freePort();
    const mc = new Client([`127.0.0.1:${port}`], { timeoutMs: 2000, connectTimeoutMs: 1000 });
    clients.push(mc);
    rec = record();
    const err = await mc.get('trace:x').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MemclusterError);
    const [call] = rec.ofTrace('memcluster:command');
    expect(call!.error).toBe(err);
    expect(call).toMatchObject({ server: `127.0.0.1:${port}`, host: '127.0.0.1', port });
    expect(call!.hits).toBeUndefined();
    expect(rec.ofTrace('memcluster:command', 'error')).toHaveLength(1);
    const connects = rec.ofTrace('memcluster:connect');
    expect(connects.length).toBeGreaterThanOrEqual(1);
    expect(connects[0]).toMatchObject({ server: `127.0.0.1:${port}`, port, tls: false });
    expect(connects[0]!.error).toBeInstanceOf(MemclusterError);
    // The call learns of the refusal at once; the borrow behind it gives up at its own timeout.
    await eventually(() => rec!.ofTrace('memcluster:pool.wait').length > 0, 2000, 'the failed borrow settles its trace');
    expect(rec.ofTrace('memcluster:pool.wait')[0]!.error).toBeInstanceOf(MemclusterError);
  });

  it('bad input is traced as a failure of the call, with no server', async () => {
    const mc = client();
    rec = record();
    await expect(mc.get('has space')).rejects.toThrow(MemclusterError);
    const [call] = rec.ofTrace('memcluster:command');
    expect(call!.error).toBeInstanceOf(MemclusterError);
    expect(call!.server).toBeUndefined();
  });

  it('successful connect and pool.wait traces name the server', async () => {
    const mc = client();
    rec = record();
    await mc.set('trace:c', 1);
    const [connect] = rec.ofTrace('memcluster:connect');
    expect(connect).toMatchObject({ tls: false });
    expect(connect!.error).toBeUndefined();
    expect(rec.ofTrace('memcluster:pool.wait')[0]!.server).toBe(connect!.server);
  });

  it('traces compat calls; a refused add is an outcome, not an error', async () => {
    const mc = new MemcachedCompat(servers.map((s) => s.address), { namespace: 'ns:' });
    clients.push({ close: () => mc.end() });
    const call = <T>(fn: (cb: (err: unknown, data: T) => void) => void) => new Promise<[unknown, T]>((resolve) => fn((err, data) => resolve([err, data])));
    rec = record();
    expect(await call((cb) => mc.set('trace:compat', 'v', 10, cb))).toEqual([undefined, true]);
    expect((await call((cb) => mc.get('trace:compat', cb)))[1]).toBe('v');
    const [addErr] = await call((cb) => mc.add('trace:compat', 'w', 10, cb));
    expect((addErr as { notStored?: boolean }).notStored).toBe(true);
    const done = rec.ofTrace('memcluster:command');
    expect(done.map((c) => [c.api, c.command])).toEqual([['compat', 'set'], ['compat', 'get'], ['compat', 'add']]);
    expect(done[1]).toMatchObject({ hits: 1, misses: 0, keys: 1 });
    expect(servers.map((s) => s.address)).toContain(done[1]!.server);
    expect(done[2]!.error).toBeUndefined();
    expect(done.some((c) => 'key' in c)).toBe(false);
  });

  it('once unsubscribed, calls go straight through and keep their names', async () => {
    const mc = client();
    rec = record();
    rec.stop();
    expect(diagnostics.tracingChannel('memcluster:command').hasSubscribers).toBe(false);
    expect(await mc.set('trace:quiet', 1)).toBe(true);
    expect(await mc.get('trace:quiet')).toBe(1);
    expect(rec.events).toEqual([]);
    expect(Client.prototype.getMulti.name).toBe('getMulti');
  });
});
