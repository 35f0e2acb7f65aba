/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * With `auth` set, a server that accepts the TCP connection and then never answers (stopped process,
 * black hole) must fail the socket with the same kind of error as without auth: a connect-phase
 * timeout (`ConnectTimeoutError`, the auth exchange runs under `connectTimeoutMs`) or a failed
 * validation, naming the server. What comes out instead is the generic per-call `TimeoutError`,
 * "no reply within the call's timeout (version, request abandoned; conn#N kept)": it blames the
 * call's timeout (the call's own 3 s timeoutMs had not passed), claims the socket was kept (the
 * authentication code destroys it), and is the error class README says "does not count" against a
 * server, although here it did.
 *
 * Cause: authenticate() sends `version` with `conn.send(..., deadline)`; a missed deadline is
 * reported by Connection as a call timeout. Suggested fix: in authenticate()/authenticateOpened,
 * map a TimeoutError (or set `conn.validating`-like state) to ConnectTimeoutError("authentication
 * got no reply within connectTimeoutMs") before destroying the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, ConnectTimeoutError, MemclusterError, ServerUnavailableError, TimeoutError, ValidationFailedError } from '../../src/index.js';
import { BlackHole } from '../support/black-hole.js';

describe('auth against a server that accepts and never answers', () => {
  let hole: BlackHole;
  beforeAll(async () => { hole = await BlackHole.start(); });
  afterAll(async () => { await hole.close(); });

  it('fails with a connect-phase error naming the server, not a call TimeoutError saying the socket was kept', async () => {
    const mc = new Client([hole.address], {
      auth: { username: 'u', password: 'p' }, timeoutMs: 3000, connectTimeoutMs: 300, validateTimeoutMs: 200, failureThreshold: 1,
    });
    try {
      const err = await mc.get('k').then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(MemclusterError);
      const reason = err instanceof ServerUnavailableError ? err.cause : err;
      const seen = { class: (reason as Error)?.constructor?.name, message: (reason as Error)?.message, server: (reason as MemclusterError)?.server };
      expect(seen.server, JSON.stringify(seen)).toBe(hole.address);
      expect(reason instanceof ConnectTimeoutError || reason instanceof ValidationFailedError, JSON.stringify(seen)).toBe(true);
      expect(reason instanceof TimeoutError && !(reason instanceof ConnectTimeoutError), JSON.stringify(seen)).toBe(false);
      expect(seen.message).not.toMatch(/kept/);
    } finally {
      await mc.close();
    }
  }, 20_000);
});
