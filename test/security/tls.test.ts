/**
 * TLS against a real memcached (`-Z -o ssl_chain_cert=...,ssl_key=...`) with a CA and certificates
 * generated at run time by openssl (test/support/certs.ts); no key is committed. A trusted
 * certificate works for get/set/getMulti; a certificate from an untrusted CA, or for another host
 * name, fails with a clear error naming the server, and is not retried in a tight loop (the
 * server's own `total_connections`, read over a plain `notls:` port, counts every attempt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, ConnectionError, MemclusterError, ServerUnavailableError, type ClientOptions } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { CountingProxy, hammer, memcachedHasTls, SecureMemcached } from './support.js';
import { expectWithinPromise } from '../support/timing.js';

const support = await memcachedHasTls();
if (!support.ok) console.warn(`[security/tls] SKIPPED: ${support.reason}`);

/** Attempts per second the client may make against a server it cannot use. */
const MAX_ATTEMPTS_PER_SECOND = 20;
const HAMMER_MS = 1000;

/** The caller's error, or the error it wraps: the first one that explains the TLS failure. */
function explanation(err: unknown): MemclusterError {
  expect(err).toBeInstanceOf(MemclusterError);
  let e = err as MemclusterError;
  if (e instanceof ServerUnavailableError && e.cause instanceof MemclusterError) e = e.cause;
  return e;
}

describe.skipIf(!support.ok)('TLS against a real memcached (-Z)', () => {
  let pki: TestPki;
  let server: SecureMemcached;

  beforeAll(async () => {
    pki = await makeTestPki();
    server = await SecureMemcached.start({ tls: true, args: ['-Z', '-o', `ssl_chain_cert=${pki.server.certPath},ssl_key=${pki.server.keyPath}`] });
  });
  afterAll(async () => {
    await server?.stop();
    await pki?.cleanup();
  });

  it('a certificate from the trusted CA, servername matching its SAN: set/get/getMulti work, and nothing goes in clear text', async () => {
    const proxy = await new CountingProxy(server.port).listen();
    const client = new Client([proxy.address], { tls: { ca: pki.ca.cert, servername: 'localhost' } });
    try {
      expect(await client.set('tls:a', { secret: 'plain-text-marker' })).toBe(true);
      expect(await client.set('tls:b', 'bee')).toBe(true);
      expect(await client.get('tls:a')).toEqual({ secret: 'plain-text-marker' });
      expect(await client.getMulti(['tls:a', 'tls:b', 'tls:missing'])).toEqual(new Map<string, unknown>([['tls:a', { secret: 'plain-text-marker' }], ['tls:b', 'bee']]));
      expect((await client.version()).get(proxy.address)).toMatch(/^\d+\.\d+\.\d+/);
      // Every socket began with a TLS handshake record, and no command or value crossed the wire readable.
      expect(proxy.accepted).toBeGreaterThan(0);
      for (const chunks of proxy.sent) expect(chunks[0]?.[0], 'TLS handshake record (0x16) first').toBe(0x16);
      for (const text of proxy.texts()) {
        expect(text).not.toContain('plain-text-marker');
        expect(text).not.toMatch(/version\r\n|mn\r\n|get tls:|set tls:/);
      }
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('an IP address verified against the certificate\'s IP SAN (no servername needed)', async () => {
    const client = new Client([server.address], { tls: { ca: pki.ca.cert } });
    try {
      expect(await client.set('tls:ip', 1)).toBe(true);
      expect(await client.get('tls:ip')).toBe(1);
    } finally {
      await client.close();
    }
  });

  async function refusedAndBounded(opts: ClientOptions, expectMessage: RegExp): Promise<void> {
    const client = new Client([server.address], { timeoutMs: 500, ...opts });
    try {
      const before = await server.clientConnections();
      const started = Date.now();
      // The first call already says why (a ConnectionError with the TLS reason, not a TimeoutError),
      // within its timeout, and no "server down" yet.
      const first = await client.get('k').then(() => expect.fail('resolved'), (e: unknown) => e);
      expectWithinPromise(Date.now() - started, 500, 'the first call fails with the real reason within timeoutMs');
      expect(first).toBeInstanceOf(ConnectionError);
      expect((first as MemclusterError).server).toBe(server.address);
      expect((first as Error).message).toMatch(expectMessage);
      expect((first as Error).message).toContain(server.address);

      // A caller that keeps trying gets the same answer every time, and the client paces its attempts.
      const t0 = Date.now();
      const r = await hammer(HAMMER_MS, () => client.get('k'), 2);
      const seconds = (Date.now() - t0) / 1000;
      const attempts = (await server.clientConnections()) - before;
      console.log(`[security/tls] ${expectMessage.source}: ${r.calls} calls in ${seconds.toFixed(1)} s made ${attempts} connection attempts`);
      expect(r.resolved).toBe(0);
      for (const err of r.errors) {
        const why = explanation(err);
        expect(why.server).toBe(server.address);
        expect(why.message).toMatch(expectMessage);
      }
      expect(attempts).toBeGreaterThan(0);
      // Failed calls do not each open a connection: attempts are paced by the backoff, not the caller.
      expect(attempts, `${attempts} connection attempts for ${r.calls} calls`).toBeLessThan(r.calls);
      expect(attempts / seconds).toBeLessThan(MAX_ATTEMPTS_PER_SECOND);
    } finally {
      await client.close();
    }
  }

  it('a certificate from an untrusted CA: a clear error naming the server, attempts paced', async () => {
    await refusedAndBounded({ tls: { ca: pki.otherCa.cert, servername: 'localhost' } }, /certificate could not be verified/);
  });

  it('tls: true (system CAs only) does not trust the test CA either', async () => {
    await refusedAndBounded({ tls: true }, /certificate could not be verified/);
  });

  it('a certificate for another host name: a clear error naming the server, attempts paced', async () => {
    await refusedAndBounded({ tls: { ca: pki.ca.cert, servername: 'cache.example.org' } }, /does not match the expected host name/);
  });

  it('a plain-text client against the TLS port fails with a typed error, not a hang', async () => {
    const client = new Client([server.address], { timeoutMs: 500, connectTimeoutMs: 300, validateTimeoutMs: 200 });
    try {
      const err = await client.get('k').then(() => expect.fail('resolved'), (e: unknown) => e);
      expect(err).toBeInstanceOf(MemclusterError);
      expect((err as MemclusterError).server).toBe(server.address);
    } finally {
      await client.close();
    }
  });

  describe('mutual TLS (ssl_verify_mode=2, ssl_ca_cert)', () => {
    let mtls: SecureMemcached | undefined;
    let skipReason = '';

    beforeAll(async () => {
      try {
        mtls = await SecureMemcached.start({
          tls: true,
          args: ['-Z', '-o', `ssl_chain_cert=${pki.server.certPath},ssl_key=${pki.server.keyPath},ssl_verify_mode=2,ssl_ca_cert=${pki.ca.certPath}`],
        });
      } catch (err) {
        skipReason = `this memcached cannot require client certificates: ${(err as Error).message}`;
        console.warn(`[security/tls] mutual TLS SKIPPED: ${skipReason}`);
      }
    });
    afterAll(async () => {
      await mtls?.stop();
    });

    it('a client certificate signed by the CA the server trusts: commands work', async (ctx) => {
      if (!mtls) return ctx.skip(skipReason);
      const client = new Client([mtls.address], { tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, servername: 'localhost' } });
      try {
        expect(await client.set('mtls:k', 'v')).toBe(true);
        expect(await client.getMulti(['mtls:k'])).toEqual(new Map([['mtls:k', 'v']]));
      } finally {
        await client.close();
      }
    });

    it('no client certificate: refused with a typed error naming the server, attempts paced', async (ctx) => {
      if (!mtls) return ctx.skip(skipReason);
      const client = new Client([mtls.address], { timeoutMs: 500, tls: { ca: pki.ca.cert, servername: 'localhost' } });
      try {
        const before = await mtls.clientConnections();
        const t0 = Date.now();
        const r = await hammer(HAMMER_MS, () => client.get('k'), 2);
        const seconds = (Date.now() - t0) / 1000;
        const attempts = (await mtls.clientConnections()) - before;
        console.log(`[security/tls] mTLS without a client certificate: ${r.calls} calls in ${seconds.toFixed(1)} s made ${attempts} connection attempts; first error: ${(r.errors[0] as Error)?.message}`);
        expect(r.resolved).toBe(0);
        for (const err of r.errors) {
          expect(err).toBeInstanceOf(MemclusterError);
          expect((err as MemclusterError).server).toBe(mtls.address);
        }
        expect(attempts / seconds).toBeLessThan(MAX_ATTEMPTS_PER_SECOND);
      } finally {
        await client.close();
      }
    });
  });
});
