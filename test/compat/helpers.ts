/**
 * Shared tools of the compat suite: callback calls turned into bounded promises that also count
 * how often the callback ran, the real `memcached` 2.2.2, raw item reads that bypass both clients,
 * and a CommonJS bundle of the compat entry for child-process tests.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type LegacyMemcached from 'memcached';
import { freePort, LOOPBACK } from '../support/memcached.js';

export { sleep };

export const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real `memcached` 2.2.2 constructor. */
export const Legacy: typeof LegacyMemcached = require('memcached');

/** How one callback-style call went. `calls` keeps counting after the promise settles. */
export interface Called {
  err: any;
  data: any;
  self: any;
  ms: number;
  /** How many times the callback ran so far (must end at exactly 1). */
  readonly calls: () => number;
}

/**
 * Calls `target[method](...args, callback)` and resolves at the first callback; rejects when no
 * callback came within `boundMs` (a hang fails the test).
 */
export function call(target: unknown, method: string, args: unknown[], boundMs = 10_000): Promise<Called> {
  const start = performance.now();
  let calls = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method}(${JSON.stringify(args).slice(0, 80)}) did not call back within ${boundMs} ms`)), boundMs);
    const fn = (target as Record<string, (...a: unknown[]) => void>)[method]!;
    fn.call(target, ...args, function cb(this: unknown, err: unknown, data: unknown) {
      calls++;
      if (calls > 1) return;
      clearTimeout(timer);
      // A copy: 2.2.2 empties the array it passed (its parse queue) right after the callback returns.
      resolve({ err, data: Array.isArray(data) ? [...data] : data, self: this, ms: performance.now() - start, calls: () => calls });
    });
  });
}

/** A `call` that must succeed: resolves with the data. */
export async function ok(target: unknown, method: string, ...args: unknown[]): Promise<any> {
  const r = await call(target, method, args);
  if (r.err) throw new Error(`${method} failed: ${Array.isArray(r.err) ? r.err.map(String).join('; ') : String(r.err)}`);
  return r.data;
}

/** The item as the server holds it: flags and the exact data bytes (undefined on a miss). */
export function rawItem(port: number, key: string, host = LOOPBACK): Promise<{ flags: number; data: Buffer } | undefined> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`raw get ${key} timed out`)); }, 3000);
    const done = (err: Error | undefined, v?: { flags: number; data: Buffer }) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(v);
    };
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(`get ${key}\r\n`));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.subarray(0, 5).toString() === 'END\r\n') return done(undefined, undefined);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const m = /^VALUE (\S+) (\d+) (\d+)/.exec(buf.subarray(0, eol).toString('latin1'));
      if (!m) return done(new Error(`unexpected reply ${buf.subarray(0, eol).toString('latin1')}`));
      const len = Number(m[3]);
      if (buf.length < eol + 2 + len + 2 + 5) return;
      done(undefined, { flags: Number(m[2]), data: Buffer.from(buf.subarray(eol + 2, eol + 2 + len)) });
    });
  });
}

let bundled: Promise<string> | undefined;

const bundleFile = path.join(os.tmpdir(), `memcluster-compat-${process.pid}.cjs`);

/**
 * Bundles src/compat/index.ts (and everything it uses) into one CommonJS file in a temp dir, for
 * child processes that must run the compat client on plain Node. Cached per test process; the
 * file using it removes it with `removeCompatBundle` when it is done.
 */
export function compatBundle(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    const outfile = bundleFile;
    await build({
      entryPoints: [path.join(ROOT, 'src/compat/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile,
      logLevel: 'silent',
      footer: { js: 'module.exports = module.exports.default;' },
    });
    return outfile;
  })();
  return bundled;
}

/** Removes the bundle `compatBundle` wrote (a test run must not leave files in the temp dir). */
export async function removeCompatBundle(): Promise<void> {
  if (!bundled) return;
  await bundled.catch(() => undefined);
  bundled = undefined;
  fs.rmSync(bundleFile, { force: true });
}

/** A loopback port with nothing listening (refuses connections): the harness's `freePort`, named for what these tests use it for. */
export const closedPort = freePort;
