/**
 * Scenario 8 (part): the end of a client's life. `close()` settles (even while a socket is being
 * created against a dead server), leaves no timer or socket that keeps the process alive, and
 * every call after it rejects with `ClientClosedError`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Client, ClientClosedError, MemclusterError, PartialFailureError } from '../../src/index.js';
import { freePort, LOOPBACK, MemcachedServer, useMemcached } from '../support/memcached.js';
import { builtPackage } from '../support/build.js';
import { expectWithinPromise } from '../support/timing.js';
import { closeWithin, describeError, expectMcError, FAST, settle, sleep } from './helpers.js';

const TIMEOUT = FAST.timeoutMs!;

/** Runs `script` in a fresh node with the built CommonJS package as `lib`; resolves with its output and timing. */
function runChild(script: string, bundle: string, boundMs: number): Promise<{ code: number | null; out: string; exitedAt: number; lines: Array<{ at: number; text: string }> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', `const lib = require(${JSON.stringify(bundle)});\n${script}`], {
      // The bundle lives under the repo's node_modules/.cache: it finds the repo's dependencies.
      env: { ...process.env, DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const lines: Array<{ at: number; text: string }> = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      for (const text of s.split('\n').filter(Boolean)) lines.push({ at: performance.now(), text });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => { out += s; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit within ${boundMs} ms; output:\n${out}`));
    }, boundMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, exitedAt: performance.now(), lines });
    });
  });
}

describe('client close()', () => {
  const servers = useMemcached(1);
  let bundle: string;
  beforeAll(() => {
    // The package as users get it (the CommonJS build of `npm run build`): the run's shared build,
    // a private folder nobody else's dist/ cleaning touches.
    bundle = path.join(builtPackage().dist, 'index.cjs');
    expect(fs.existsSync(bundle)).toBe(true);
  });

  it('leaves nothing that keeps the process alive: a child exits on its own right after close()', async () => {
    const live = (servers[0] as MemcachedServer).address;
    const dead = `${LOOPBACK}:${await freePort()}`;
    const script = `
      const opts = ${JSON.stringify({ ...FAST, idleTimeoutMs: 30000 })};
      (async () => {
        // Default idle eviction (its evictor timer runs), a down server (its probe timer runs).
        const mc = new lib.Client([${JSON.stringify(live)}, ${JSON.stringify(dead)}], opts);
        let down = false;
        mc.on('serverDown', () => { down = true; });
        for (let i = 0; i < 30; i++) await Promise.allSettled([mc.set('c' + i, i), mc.get('c' + i)]);
        const t0 = Date.now();
        while (!down && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
        console.log('down ' + down);
        // Let the dead server's last acquire time out and its creates stop, so close() meets only timers.
        await new Promise((r) => setTimeout(r, 1500));
        await mc.close();
        console.log('closed');
      })().catch((e) => { console.log('error ' + e.stack); process.exitCode = 1; });
    `;
    const r = await runChild(script, bundle, 15_000);
    const closed = r.lines.find((l) => l.text === 'closed');
    expect(r.out).toContain('down true');
    expect(closed, `close() never resolved in the child; output:\n${r.out}`).toBeDefined();
    expect(r.code, r.out).toBe(0);
    // Anything left armed (probe, evictor, socket) would keep it alive until the 15 s bound above.
    expectWithinPromise(r.exitedAt - closed!.at, 1000, 'the child exits on its own right after close()');
  });

  it('with allowExitOnIdle, a script that never calls close() exits once its work is done', async () => {
    const live = (servers[0] as MemcachedServer).address;
    const script = `
      (async () => {
        // minConnections keeps an idle socket in the pool, idle eviction is far away: only
        // allowExitOnIdle can let this process end without close().
        const mc = new lib.Client([${JSON.stringify(live)}], { allowExitOnIdle: true, minConnections: 2, idleTimeoutMs: 60000 });
        await mc.set('exit:k', 'v');
        await Promise.all([mc.get('exit:k'), mc.getMulti(['exit:k', 'exit:j']), mc.incr('exit:n', 1)]);
        console.log('done ' + (await mc.get('exit:k')));
      })().catch((e) => { console.log('error ' + e.stack); process.exitCode = 1; });
    `;
    const r = await runChild(script, bundle, 15_000);
    const done = r.lines.find((l) => l.text === 'done v');
    expect(done, `the work did not finish; output:\n${r.out}`).toBeDefined();
    expect(r.code, r.out).toBe(0);
    expectWithinPromise(r.exitedAt - done!.at, 1000, 'the child exits on its own once its work is done');
  });

  it('settles close() while a socket is being created against a dead server (create backoff)', async () => {
    const dead = `${LOOPBACK}:${await freePort()}`;
    const mc = new Client([dead], { ...FAST, timeoutMs: 2000, failureThreshold: 100 });
    const pending = settle(mc.get('k'), 2000 + 1000, 'get against a dead server');
    // Creates fail (refused) and back off 50, 100, 200 ms...: close in the middle of that.
    await sleep(120);
    const closing = settle(mc.close(), 2000 + 1000, 'close() during create backoff');
    const [get, close] = await Promise.all([pending, closing]);
    expect(get.ok).toBe(false);
    expect(get.error).toBeInstanceOf(MemclusterError);
    expect((get.error as MemclusterError).server).toBe(dead);
    expect(close.ok, describeError(close.error)).toBe(true);
  });

  it('rejects every call after close() with ClientClosedError; calls in flight at close() settle', async () => {
    const server = servers[0] as MemcachedServer;
    const mc = new Client([server.address], FAST);
    expect(await mc.set('lc:1', 'one')).toBe(true);
    // In flight when close() is called: each settles with its result or ClientClosedError, in time.
    const inFlight = Array.from({ length: 20 }, (_, i) => settle(i % 2 ? mc.get('lc:1') : mc.set(`lc:${i}`, i), TIMEOUT + 1000, `in-flight ${i}`));
    const closing = closeWithin(mc, TIMEOUT + 1000);
    for (const o of await Promise.all(inFlight)) {
      if (!o.ok) expectMcError(o.error, ClientClosedError, 'MC_ERR_CLOSED', o.error instanceof MemclusterError ? o.error.server : undefined);
    }
    await closing;

    const calls: Array<[string, () => Promise<unknown>]> = [
      ['get', () => mc.get('lc:1')],
      ['gets', () => mc.gets('lc:1')],
      ['set', () => mc.set('lc:1', 'x')],
      ['add', () => mc.add('lc:x', 'x')],
      ['delete', () => mc.delete('lc:1')],
      ['incr', () => mc.incr('lc:n')],
      ['touch', () => mc.touch('lc:1', 10)],
      ['getMulti', () => mc.getMulti(['lc:1', 'lc:2'])],
      ['setMulti', () => mc.setMulti([['lc:1', 1]])],
      ['deleteMulti', () => mc.deleteMulti(['lc:1'])],
      ['flush', () => mc.flush()],
      ['stats', () => mc.stats()],
      ['version', () => mc.version()],
    ];
    for (const [name, call] of calls) {
      const o = await settle(Promise.resolve().then(call), 500, `${name} after close`);
      expect(o.ok, `${name} after close resolved`).toBe(false);
      const err = o.error instanceof PartialFailureError ? [...o.error.errors.values()][0] : o.error;
      expect(err, `${name}: ${describeError(o.error)}`).toBeInstanceOf(ClientClosedError);
      expect((err as ClientClosedError).code).toBe('MC_ERR_CLOSED');
      expect(o.atOnce, `${name} rejects at once, before any I/O or timer (${o.ms.toFixed(1)} ms)`).toBe(true);
    }
    expect(() => mc.addServer(`${LOOPBACK}:1`)).toThrow(ClientClosedError);
    // close() again is harmless.
    await closeWithin(mc, 500);
  });
});
