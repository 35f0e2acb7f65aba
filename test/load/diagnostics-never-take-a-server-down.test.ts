/**
 * Issue 12, finding 6: diagnostics are isolated. Three `stats('reset')` (memcached answers `RESET`)
 * resolve `true` and leave the server up; `stats('conns')` on a server with thousands of connections
 * (a reply of over 10,000 STAT lines, the parser's old cap) is returned or rejected as the call's own
 * typed error, never counted against the server; `stats('bogus')` (answered `ERROR`) rejects alone.
 * Real memcached.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Client, MemclusterError, PartialFailureError } from '../../src/index.js';
import { LOOPBACK, useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { closeWithin, describeError, recordEvents } from '../failure/helpers.js';

const blamed = (events: ReturnType<typeof recordEvents>): string[] => events.map((e) => `${e.name}: ${describeError((e.payload as { reason?: unknown }).reason)}`);

describe('stats diagnostics', () => {
  const servers = useMemcached(1, { args: ['-c', '4096'] });

  it("three stats('reset') resolve true, reset the server's counters, and leave it up", async () => {
    const client = new Client([servers[0]!.address], { failureThreshold: 3 });
    try {
      const events = recordEvents(client);
      await client.get('diag:miss');
      for (let i = 0; i < 3; i++) {
        const out: unknown = await client.stats('reset').then((v) => v, (e: unknown) => `rejected: ${describeError(e)}`);
        // "resolves true": per server (the Map every stats call returns), or as a whole.
        const ok = out === true || (out instanceof Map && out.size === 1 && [...out.values()].every((v) => v === true));
        expect(ok, `stats('reset') #${i + 1} resolved ${out instanceof Map ? JSON.stringify([...out]) : String(out)}`).toBe(true);
      }
      expect((await servers[0]!.stats()).get_misses, 'the server really reset its counters').toBe('0');
      expect(blamed(events)).toEqual([]);
      expect(client.serverStats()[0]!.state).toBe('up');
      expect(await client.set('diag:k', 'v')).toBe(true);
    } finally {
      await closeWithin(client, 3000);
    }
  });

  it("stats('conns') with 2,600 connections open is returned or rejected as the call's own error; no serverDown, no eviction", async () => {
    const socks: net.Socket[] = [];
    const client = new Client([servers[0]!.address], { timeoutMs: 5000, failureThreshold: 1 });
    try {
      await Promise.all(Array.from({ length: 2600 }, () => new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: LOOPBACK, port: servers[0]!.port }, () => resolve());
        s.on('error', reject);
        socks.push(s);
      })));
      await eventually(async () => Number((await servers[0]!.stats()).curr_connections) >= 2600, 5000, 'the server holds 2,600 connections');
      const events = recordEvents(client);
      const out = await client.stats('conns').then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));
      if (out.ok) {
        const fields = out.v.get(servers[0]!.address)!;
        expect(Object.keys(fields).length, 'a returned reply holds every connection').toBeGreaterThan(10_000);
      } else {
        // Refused as the call's own typed error (the per-server error inside the PartialFailureError).
        expect(out.e, describeError(out.e)).toBeInstanceOf(PartialFailureError);
        const inner = (out.e as PartialFailureError).errors.get(servers[0]!.address);
        expect(inner).toBeInstanceOf(MemclusterError);
      }
      expect(blamed(events), 'a large stats reply must not count against the server').toEqual([]);
      expect(client.serverStats()[0]!.state).toBe('up');
      expect(await client.set('diag:after', 'v')).toBe(true);
    } finally {
      for (const s of socks) s.destroy();
      await closeWithin(client, 7000);
    }
  });

  it("stats('bogus') rejects alone: calls beside it succeed, the socket and the server stay", async () => {
    const client = new Client([servers[0]!.address], { failureThreshold: 1 });
    try {
      const events = recordEvents(client);
      expect(await client.set('diag:b', 'v')).toBe(true);
      const created = client.serverStats()[0]!.created;
      const [bogus, ...gets] = await Promise.allSettled([client.stats('bogus'), ...Array.from({ length: 5 }, () => client.get('diag:b'))]);
      expect(bogus!.status).toBe('rejected');
      expect(gets.map((g) => (g.status === 'fulfilled' ? g.value : describeError(g.reason)))).toEqual(['v', 'v', 'v', 'v', 'v']);
      expect(blamed(events)).toEqual([]);
      expect(client.serverStats()[0]!.created).toBe(created);
    } finally {
      await closeWithin(client, 3000);
    }
  });
});
