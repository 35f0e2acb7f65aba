/**
 * (Found in review, session 8: the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * Through twemproxy (no meta; it closes the connection on any meta command) `fetch` must take the
 * text path. A fresh client that is called steadily from its start (a web server taking traffic as
 * it boots) asks for the protocol in each fetch (`protocolOf`, at call time). While the first
 * socket is between its `version` reply and its `mn` proof, `ServerTraits.speaksMeta` already says
 * true (the version alone, 1.6.18 behind the proxy): fetches called then send `mg`, twemproxy closes
 * the socket, and every request pending on it fails: those fetches fall back (loader called
 * directly, nothing stored, fetchFallback), and the server gets a health failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type ClientEvents } from '../../src/index.js';
import { useMemcached } from '../support/memcached.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { OPTS } from './helpers.js';
import { Twemproxy } from '../load/support.js';

describe('fetch through twemproxy from a fresh client (protocol auto)', () => {
  const servers = useMemcached(1);
  let proxy: Twemproxy;
  let tap: CuttingProxy;
  /** Meta data commands (not the `mn` of socket validation) the client sent towards twemproxy. */
  const metaSent: string[] = [];
  beforeAll(async () => {
    proxy = await Twemproxy.start([servers[0]!]);
    // A transparent tap between the client and twemproxy, to see what the client writes.
    tap = await CuttingProxy.start({ port: proxy.port }, {
      maxLineBytes: Infinity,
      observe: () => (chunk, from) => {
        if (from !== 'client') return;
        for (const line of chunk.toString('latin1').split('\r\n')) if (/^m[gsda] /.test(line)) metaSent.push(line);
      },
    });
  });
  afterAll(async () => { await tap?.close(); await proxy?.stop(); });

  it('fetches made while the first socket is being proven never fall back (no meta command reaches the proxy)', async () => {
    const mc = new Client([`${tap.host}:${tap.port}`], { ...OPTS, timeoutMs: 2000, protocol: 'auto' });
    try {
      const events: ClientEvents['fetchFallback'][0][] = [];
      mc.on('fetchFallback', (e) => events.push(e));
      const base = `tw-boot:${Date.now()}`;
      const calls: Promise<unknown>[] = [];
      // One fetch per event-loop turn for 500 ms: traffic arriving while the client starts.
      const until = Date.now() + 500;
      for (let i = 0; Date.now() < until; i++) {
        calls.push(mc.fetch(`${base}:${i}`, async () => `v${i}`, { ttl: 60 }));
        await new Promise((r) => setImmediate(r));
      }
      const values = await Promise.all(calls);
      expect(values.every((v, i) => v === `v${i}`)).toBe(true);
      expect(metaSent.slice(0, 3), `${metaSent.length} meta commands written towards twemproxy`).toEqual([]);
      expect(events.map((e) => `${e.server}: ${e.reason.message}`).slice(0, 3), `${events.length} of ${calls.length} fetches fell back`).toEqual([]);
      expect(mc.serverStats()[0]!.failures, 'no health failure').toBe(0);
    } finally {
      await mc.close();
    }
  });
});
