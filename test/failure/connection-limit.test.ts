/**
 * Scenario 4: a server at its connection limit (`-c`). `connect()` succeeds, then the server writes
 * `ERROR Too many open connections` and closes: the client must say so (TooManyConnectionsError,
 * naming the server) and never hang.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemclusterError, TooManyConnectionsError } from '../../src/index.js';
import { MemcachedServer } from '../support/memcached.js';
import { describeError, expectWithin, FAST, fillConnections, openRaw, recordEvents, settle, useClients } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;

/** The chain `err`, `err.cause`, ... */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && out.length < 10; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

describe('a server at its connection limit (-c 32)', () => {
  let server: MemcachedServer | undefined;
  const held: net.Socket[] = [];
  const newClient = useClients({
    after: async () => {
      for (const s of held.splice(0)) s.destroy();
      await server?.stop();
    },
  });

  it('reports TooManyConnectionsError naming the server, within the timeout', async () => {
    server = await MemcachedServer.start({ args: ['-c', '32'] });
    // Fill every slot with raw sockets, until the server refuses one.
    let refused = false;
    for (let i = 0; i < 40 && !refused; i++) {
      const { sock, line } = await openRaw(server.port);
      if (line.startsWith('VERSION ')) held.push(sock);
      else {
        expect(line).toBe('ERROR Too many open connections');
        refused = true;
        sock.destroy();
      }
    }
    expect(refused, 'the server never refused a connection').toBe(true);

    const client = newClient([server.address], { ...FAST, failureThreshold: 1000 });
    const events = recordEvents(client);
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await settle(client.get(`full:${i}`), TIMEOUT + 2000, `get ${i}`));
    outcomes.push(...(await Promise.all([0, 1, 2, 3].map((i) => settle(client.set(`full:s${i}`, i), TIMEOUT + 2000, `set ${i}`)))));
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      expectWithin(o, TIMEOUT);
      expect(o.error, describeError(o.error)).toBeInstanceOf(MemclusterError);
      expect((o.error as MemclusterError).server).toBe(server.address);
    }
    const direct = outcomes.filter((o) => o.error instanceof TooManyConnectionsError);
    const chained = outcomes.filter((o) => causes(o.error).some((e) => e instanceof TooManyConnectionsError));
    const shown = outcomes.map((o) => `${o.ms.toFixed(0)}ms ${describeError(o.error)}`).join('\n  ');
    expect.soft(chained.length, `the refusal is not visible even as a cause:\n  ${shown}`).toBe(outcomes.length);
    expect.soft(direct.length, `the caller gets no TooManyConnectionsError:\n  ${shown}`).toBe(outcomes.length);
    for (const o of direct) {
      const e = o.error as TooManyConnectionsError;
      expect(e.code).toBe('MC_ERR_TOO_MANY_CONNECTIONS');
      expect(e.server).toBe(server.address);
    }
    expect(client.serverStats()[0]!.lastError).toMatch(/Too many open connections/);
    expect(events.filter((e) => e.name === 'serverDown')).toEqual([]);

    // A slot frees: the client works again (once its create backoff, at most 1 s, has passed).
    held.pop()!.destroy();
    let back = false;
    const freedAt = performance.now();
    for (let i = 0; i < 10 && !back && performance.now() - freedAt < 2500; i++) {
      const o = await settle(client.set('full:after', 'ok'), TIMEOUT + 2000, `set ${i} after a slot freed`);
      back = o.ok && o.value === true;
    }
    expect(back, 'the client works again once the server accepts connections').toBe(true);
  });

  it('marks the server down when it keeps refusing (default failureThreshold), failing fast afterwards', async () => {
    server = await MemcachedServer.start({ args: ['-c', '32'] });
    await fillConnections(server.port, held);
    const client = newClient([server.address]);
    const events = recordEvents(client);
    for (let i = 0; i < 10 && !events.some((e) => e.name === 'serverDown'); i++) {
      const o = await settle(client.get(`full2:${i}`), TIMEOUT + 2000, `get ${i}`);
      expect(o.ok).toBe(false);
      expectWithin(o, TIMEOUT);
      expect((o.error as MemclusterError).server).toBe(server.address);
    }
    const down = events.find((e) => e.name === 'serverDown');
    expect(down?.server).toBe(server.address);
    expect(causes(down!.payload && (down!.payload as { reason: unknown }).reason).some((e) => e instanceof TooManyConnectionsError),
      'serverDown reason names the refusal').toBe(true);
  });
});
