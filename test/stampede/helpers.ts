/**
 * Shared tools of the stampede suite: the CommonJS build of the package for child processes (the
 * run's shared build, test/support/build.ts), a child "application process" driven over
 * stdin/stdout (child.cjs), and gates that hold a loader until the test lets it finish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { Client, type ClientOptions, type FetchOptions, type FetchStats } from '../../src/index.js';
import type { MemcachedServer } from '../support/memcached.js';
import { builtPackage } from '../support/build.js';
import { SLACK_MS } from '../support/timing.js';

/** Short bounds: every cache round trip settles within 500 ms. */
export const OPTS: ClientOptions = { timeoutMs: 500, connectTimeoutMs: 300, retryDelayMs: 50, maxRetryDelayMs: 500 };

/**
 * A maker of clients (OPTS, `protocol`, `extra`) on `servers` (or on the addresses a function gives
 * when the client is made), each closed after its test. Call in a describe block.
 */
export function clientsFor(servers: readonly MemcachedServer[] | (() => string[]), protocol: 'meta' | 'text' | 'auto', extra: ClientOptions = {}): () => Client {
  const open: Client[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close())); });
  return () => {
    const addrs = typeof servers === 'function' ? servers() : servers.map((s) => s.address);
    const mc = new Client(addrs, { ...OPTS, protocol, ...extra });
    open.push(mc);
    return mc;
  };
}

/**
 * The package as users get it (the CommonJS build of `npm run build`): the run's shared build, built
 * once by the globalSetup. `remove()` does nothing (the setup removes the build when the run ends).
 */
export function buildBundle(): { bundle: string; remove(): void } {
  const bundle = path.join(builtPackage().dist, 'index.cjs');
  expect(fs.existsSync(bundle)).toBe(true);
  return { bundle, remove: () => {} };
}

/** One line a child printed. */
export type ChildEvent =
  | { ev: 'ready' }
  | { ev: 'started'; id: number }
  | { ev: 'load'; key: string; value: string }
  | { ev: 'done'; id: number; values: unknown[]; errors: string[]; stats: FetchStats[] }
  | { ev: 'fatal'; message: string };

export interface ChildConfig {
  servers: string[];
  clientOptions: ClientOptions;
  clients: number;
  perClient: number;
  loaderMs: number;
  fetchOptions: FetchOptions;
}

/** A child process with `clients` Client instances of the built package (see child.cjs). */
export class AppProcess {
  readonly events: ChildEvent[] = [];
  private output = '';
  private waiters: Array<() => void> = [];
  private exited = false;
  private nextId = 1;

  private constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      this.output += s;
      buffered += s;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as ChildEvent);
      }
      this.wake();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => { this.output += s; });
    child.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  static async start(bundle: string, config: ChildConfig): Promise<AppProcess> {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'child.cjs'), bundle, JSON.stringify(config)], {
      // The bundle lives under the repo's node_modules/.cache: it finds the repo's dependencies.
      env: { ...process.env, DEBUG: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const app = new AppProcess(child);
    await app.waitFor((e) => e.ev === 'ready', 10_000, 'child ready');
    return app;
  }

  /** Makes every client of the child fetch `key` `perClient` times; resolves once all calls are issued. */
  async fetch(key: string): Promise<number> {
    const id = this.nextId++;
    this.child.stdin!.write(`${JSON.stringify({ op: 'fetch', id, key })}\n`);
    await this.waitFor((e) => e.ev === 'started' && e.id === id, 5000, `child started fetch ${id}`);
    return id;
  }

  /** The outcome of fetch `id`, once every call of it settled. */
  async done(id: number, boundMs: number): Promise<{ values: unknown[]; errors: string[]; stats: FetchStats[] }> {
    const e = await this.waitFor((x) => x.ev === 'done' && x.id === id, boundMs, `child fetch ${id} settled`);
    return e as { values: unknown[]; errors: string[]; stats: FetchStats[] };
  }

  /** The loader runs the child reported for `key`. */
  loads(key: string): string[] {
    return this.events.flatMap((e) => (e.ev === 'load' && e.key === key ? [e.value] : []));
  }

  /** Waits for the first event matching `pred` (at most `boundMs` + slack; a hang fails the test). */
  async waitFor(pred: (e: ChildEvent) => boolean, boundMs: number, what: string): Promise<ChildEvent> {
    const until = Date.now() + boundMs + SLACK_MS;
    for (;;) {
      const fatal = this.events.find((e) => e.ev === 'fatal');
      if (fatal) throw new Error(`child failed: ${(fatal as { message: string }).message}`);
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (this.exited) throw new Error(`${what}: the child exited; output:\n${this.output}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${boundMs} ms (+${SLACK_MS} ms slack); output:\n${this.output}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** SIGKILL, as a crash would end it. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Ends the child: closes its stdin (it closes its clients and exits), SIGKILL if it does not. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', () => resolve());
    });
    clearTimeout(t);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A loader the test holds: it counts its calls and finishes only when `release()` is called. */
export function gatedLoader<T>(value: (n: number) => T): { loader: (key: string) => Promise<T>; calls: string[]; started: Promise<void>; release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  let signalStarted!: () => void;
  const started = new Promise<void>((r) => { signalStarted = r; });
  const calls: string[] = [];
  return {
    calls,
    started,
    release: () => open(),
    loader: async (key: string) => {
      calls.push(key);
      signalStarted();
      await gate;
      return value(calls.length);
    },
  };
}

/** `timeoutMs`-free sleep for loaders that stand for slow work (never used to wait for an event). */
export const work = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
