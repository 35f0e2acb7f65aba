/**
 * (Found in review; the text below describes the code before the fix. The assertions are the behaviour wanted.)
 * allowExitOnIdle: "idle sockets do not keep the process alive: a script that never calls close()
 * exits once its work is done". That must hold when the work ended in an error too: a call against a
 * server that refuses connections settles (ServerUnavailableError) in well under a second, and then
 * nothing is left to do, yet the pool's borrow for that call is still waiting inside generic-pool
 * and keeps `create` (a ref'd backoff timer and new connect attempts to the dead server) going until
 * the acquire timeout, which is `timeoutMs`: the process lives on, dialing the dead server, for
 * `timeoutMs` after the caller got its answer (the same happens after refused credentials or an
 * untrusted TLS certificate: refuseWaiters() rejects the caller, not generic-pool's borrow).
 *
 * Cause: ServerPool.borrowProven() races generic-pool's acquire against its own refusal, but never
 * withdraws the generic-pool borrow; generic-pool keeps calling create() for it until
 * acquireTimeoutMillis (= timeoutMs). Suggested fix: when a borrow's caller is gone (refused, the
 * server marked down, the call settled), remove its request from generic-pool's waiting queue (as
 * abandonWaiters() already does at close), or make create() fail fast without dialing when no
 * borrow is waiting (this.waiters.size === 0 and pool.pending counts only abandoned ones).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPackage } from '../support/build.js';

/** Runs `script` with the built CommonJS package as `lib`; `onDone` runs when it prints 'done'. */
function runChild(script: string, bundle: string, boundMs: number, onDone: () => void): Promise<{ code: number | null; out: string; doneAt?: number; exitedAt: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', `const lib = require(${JSON.stringify(bundle)});\n${script}`], {
      env: { ...process.env, DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let doneAt: number | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      if (doneAt === undefined && out.includes('done')) { doneAt = performance.now(); onDone(); }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => { out += s; });
    const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, doneAt, exitedAt: performance.now() });
    });
  });
}

describe('allowExitOnIdle after a call that failed', () => {
  // A server that accepts and at once resets every connection: it counts the client's attempts.
  let attempts = 0;
  let resetter: net.Server;
  beforeAll(async () => {
    resetter = net.createServer((sock) => { attempts++; sock.resetAndDestroy(); });
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => { await new Promise((r) => resetter.close(r)); });

  it('the script exits once the failed call has settled, and stops dialing the dead server', async () => {
    const bundle = path.join(builtPackage().dist, 'index.cjs');
    const { port } = resetter.address() as net.AddressInfo;
    const script = `
      (async () => {
        const mc = new lib.Client(['127.0.0.1:${port}'], { allowExitOnIdle: true, timeoutMs: 8000 });
        try { await mc.get('k'); console.log('unexpected success'); }
        catch (e) { console.log('done ' + e.code); }
      })();
    `;
    let attemptsAtDone = -1;
    const r = await runChild(script, bundle, 30_000, () => { attemptsAtDone = attempts; });
    expect(r.out, r.out).toMatch(/done MC_ERR_/);
    // Generous: 2 s for the process to exit after its only call settled (the call's own timeoutMs is 8 s).
    const lingered = r.exitedAt - r.doneAt!;
    const attemptsAfterDone = attempts - attemptsAtDone;
    // Deliberate: the health probe may dial once or twice more; a pool still creating for a borrow
    // nobody waits for dials again and again (paced up to 1 s apart) until timeoutMs.
    const seen = { lingeredOver2s: lingered > 2000, lingeredMs: Math.round(lingered), moreThan2AttemptsAfterDone: attemptsAfterDone > 2, attemptsAfterDone };
    expect(seen, JSON.stringify(seen)).toMatchObject({ lingeredOver2s: false, moreThan2AttemptsAfterDone: false });
  }, 40_000);
});
