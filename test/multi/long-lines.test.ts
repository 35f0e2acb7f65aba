/**
 * Behind a proxy that, like memcached 1.4.x, closes any connection sending a line over 2048 bytes:
 * the default batch caps keep every multi-get line short enough to succeed, and caps set too high
 * fail loudly (every lost key in `.errors`), never as a result with keys silently missing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, MemclusterError, PartialFailureError } from '../../src/index.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { useMemcached } from '../support/memcached.js';
import { closeWithin, describeError, rejectionOf, within } from './support.js';

const N = 10_000;
/** ~60-byte keys, so the default 2000-byte cap (not the 100-key cap) decides the line length. */
const KEYS = Array.from({ length: N }, (_, i) => `long-line-test:${String(i).padStart(6, '0')}:${'k'.repeat(38)}`);
const valueOf = (k: string): string => `val(${k.slice(15, 21)})`;

describe('multi-get through a 2048-byte line-cutting proxy in front of each of 3 servers', () => {
  const servers = useMemcached(3);
  let proxies: CuttingProxy[] = [];
  let mc: Client | undefined;

  beforeAll(async () => {
    expect(Buffer.byteLength(KEYS[0]!)).toBe(60);
    proxies = await Promise.all(servers.map((s) => CuttingProxy.start(s, { maxLineBytes: 2048 })));
    // Written through the proxies: the ring is built from the addresses the reading clients use.
    const writer = new Client(proxies.map((p) => p.address), { timeoutMs: 5000, validateTimeoutMs: 2000 });
    try {
      for (let i = 0; i < N; i += 5000) {
        const r = await writer.setMulti(KEYS.slice(i, i + 5000).map((k) => [k, valueOf(k)] as const));
        expect([...r.values()].every(Boolean)).toBe(true);
      }
    } finally {
      await closeWithin(writer);
    }
    const items = await Promise.all(servers.map(async (s) => Number((await s.stats()).curr_items)));
    expect(items.reduce((a, b) => a + b, 0)).toBe(N);
    for (const p of proxies) expect(p.longLineCuts).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });
  afterEach(async () => {
    const c = mc;
    mc = undefined;
    await closeWithin(c);
  });

  it('with the default caps, getMulti of 10,000 keys returns every value and no line is cut', async () => {
    mc = new Client(proxies.map((p) => p.address), { timeoutMs: 5000, validateTimeoutMs: 2000 });
    const got = await within(mc.getMulti<string>(KEYS), 20_000, 'getMulti');
    expect(got.size).toBe(N);
    const wrong = KEYS.filter((k) => got.get(k) !== valueOf(k));
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(proxies.map((p) => p.longLineCuts)).toEqual([0, 0, 0]);
    expect(proxies.map((p) => p.cuts)).toEqual([0, 0, 0]);
  });

  it('with caps set too high, getMulti rejects with every lost key in .errors (never a silent miss)', async () => {
    const cutsBefore = proxies.map((p) => p.longLineCuts);
    // Classic `get` lines: the ones old servers and proxies cut (meta batches are one short `mg` line per key).
    mc = new Client(proxies.map((p) => p.address), { protocol: 'text', maxBatchKeys: 10_000, maxBatchBytes: 1_000_000, timeoutMs: 5000, validateTimeoutMs: 2000 });
    const err = await within(rejectionOf(mc.getMulti<string>(KEYS)), 20_000, 'getMulti');
    expect(err, describeError(err)).toBeInstanceOf(MemclusterError);
    expect(err).toBeInstanceOf(PartialFailureError);
    const pf = err as PartialFailureError<string>;
    // Every key is accounted for: a correct value, or an error naming a server.
    for (const k of KEYS) {
      if (pf.values.has(k)) expect(pf.values.get(k)).toBe(valueOf(k));
      else expect(pf.errors.get(k), `key ${k} neither returned nor reported`).toBeInstanceOf(MemclusterError);
    }
    expect(pf.values.size + pf.errors.size).toBe(N);
    // Each server's whole share went on one over-long line, so nothing came back.
    expect(pf.errors.size).toBe(N);
    const proxyAddrs = new Set(proxies.map((p) => p.address));
    for (const e of pf.errors.values()) expect(proxyAddrs.has(e.server!), describeError(e)).toBe(true);
    const newCuts = proxies.map((p, i) => p.longLineCuts - cutsBefore[i]!);
    expect(newCuts.every((c) => c >= 1), `long-line cuts per proxy: ${newCuts}`).toBe(true);
    console.log(`[multi] caps too high: getMulti rejected, ${pf.errors.size} keys in .errors (${[...new Set([...pf.errors.values()].map((e) => e.code))].join(', ')}), long-line cuts per proxy ${newCuts}`);
  });

  it('with caps set too high, getMultiSettled resolves and reports every lost key in errors', async () => {
    // Classic `get` lines: the ones old servers and proxies cut (meta batches are one short `mg` line per key).
    mc = new Client(proxies.map((p) => p.address), { protocol: 'text', maxBatchKeys: 10_000, maxBatchBytes: 1_000_000, timeoutMs: 5000, validateTimeoutMs: 2000 });
    const { values, errors } = await within(mc.getMultiSettled<string>(KEYS), 20_000, 'getMultiSettled');
    expect(values.size + errors.size).toBe(N);
    expect(errors.size).toBeGreaterThan(0);
    for (const k of KEYS) {
      if (values.has(k)) expect(values.get(k)).toBe(valueOf(k));
      else expect(errors.get(k)).toBeInstanceOf(MemclusterError);
    }
  });
});
