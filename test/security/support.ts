/**
 * Tools of the security suite.
 *
 * The shared harness (`MemcachedServer`) proves a server is up with a plain-text `version`, which a
 * TLS-only (`-Z`) or an authenticating (`-Y`) memcached cannot answer. `startSecureMemcached` runs
 * such servers with a readiness check that fits them, and the same never-outlive-the-test cleanup:
 *
 * - TLS: the client port speaks TLS, and a second `notls:` loopback port carries plain `stats`, so
 *   the test can count the server's `total_connections` without going through the client under test.
 * - Auth: `stats` is read over a fresh socket that authenticates first (`set _ 0 0 n` + `user pass`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { freePort, LOOPBACK, memcachedBinary, parseStats, rawCommand } from '../support/memcached.js';

/**
 * Runs of each property. The defaults keep `npx vitest run test/security` well under 30 s on a
 * 2-core shared machine. `FC_RUNS=100000 npx vitest run test/security` makes every in-process
 * property run 100000 cases, and every property that goes through sockets (real memcached or a fake
 * server) run a twentieth of that. `FC_SEED=<n>` replays a failure that fast-check reported.
 */
export function runs(defaultRuns: number, io = false): number {
  const env = Number(process.env.FC_RUNS);
  if (!Number.isSafeInteger(env) || env <= 0) return defaultRuns;
  return io ? Math.max(1, Math.round(env / 20)) : env;
}

/** Per-test timeout of a property: the vitest default unless FC_RUNS asks for a long run. */
export const PROPERTY_TIMEOUT = process.env.FC_RUNS ? 6 * 60 * 60 * 1000 : 30_000;

/** fast-check parameters for one property: `runs(defaultRuns, io)` cases, seed from `FC_SEED` when set. */
export function fcParams<T>(defaultRuns: number, extra: fc.Parameters<T> = {}, io = false): fc.Parameters<T> {
  const seed = Number(process.env.FC_SEED);
  return { numRuns: runs(defaultRuns, io), ...(Number.isSafeInteger(seed) ? { seed } : {}), ...extra };
}

/**
 * Credentials line of memcached ASCII auth, as the client must send it: a `set` whose key is over
 * 250 bytes (the -Y handler ignores the key; a server without -Y refuses the line instead of
 * storing the password).
 */
export function authPreamble(username: string, password: string): string {
  const data = `${username} ${password}`;
  return `set ${'memcluster-auth-'.padEnd(251, '_')} 0 0 ${Buffer.byteLength(data)}\r\n${data}\r\n`;
}

export interface SecureMemcachedOptions {
  /** Extra memcached arguments, e.g. `['-Z', '-o', 'ssl_chain_cert=...,ssl_key=...']`. */
  args: string[];
  /** The server speaks TLS on its main port (`-Z` must be in `args`); adds a plain `notls:` stats port. */
  tls?: boolean;
  /** The server requires ASCII auth (`-Y` must be in `args`); readiness and stats authenticate with these. */
  auth?: { username: string; password: string };
}

const registry = new Set<SecureMemcached>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = (): void => { for (const s of registry) s.killSync(); };
  process.on('exit', killAll);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.off(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** A memcached child started with TLS and/or ASCII auth. */
export class SecureMemcached {
  readonly host = LOOPBACK;
  /** Plain connections this helper opened itself (each `stats()` is one), to subtract from `total_connections`. */
  ownConnections = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #running = false;
  #stderr = '';

  private constructor(readonly port: number, readonly plainPort: number | undefined, private readonly opts: SecureMemcachedOptions) {}

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get stderr(): string {
    return this.#stderr;
  }

  static async start(opts: SecureMemcachedOptions): Promise<SecureMemcached> {
    installCleanup();
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const plainPort = opts.tls ? await freePort() : undefined;
      const server = new SecureMemcached(port, plainPort, opts);
      registry.add(server);
      let ok = false;
      try {
        ok = await server.#launch();
      } finally {
        if (!ok) await server.stop();
      }
      if (ok) return server;
      if (attempt >= 5) throw new Error(`memcached: no free loopback port after ${attempt} attempts`);
    }
  }

  get argv(): string[] {
    const listen = this.plainPort === undefined ? `${LOOPBACK}:${this.port}` : `${LOOPBACK}:${this.port},notls:${LOOPBACK}:${this.plainPort}`;
    const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
    return ['-l', listen, '-U', '0', ...user, '-m', '64', ...this.opts.args];
  }

  async #launch(): Promise<boolean> {
    const child = spawn(memcachedBinary(), this.argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    this.#running = true;
    let spawnError: Error | undefined;
    this.#exited = new Promise<void>((resolve) => {
      const gone = (): void => { this.#running = false; resolve(); };
      child.once('error', (e) => { spawnError = e; gone(); });
      child.once('exit', gone);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => void (this.#stderr = (this.#stderr + s).slice(-8192)));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`cannot run ${memcachedBinary()}: ${spawnError.message}`);
      if (!this.#running) {
        if (/address already in use/i.test(this.#stderr)) return false;
        throw new Error(`memcached ${this.argv.join(' ')} exited during startup: ${this.#stderr.trim()}`);
      }
      try {
        const stats = await this.stats();
        if (stats.pid === String(child.pid)) return true;
        await this.kill(); // someone else's memcached answered on our port
        return false;
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    await this.kill();
    throw new Error(`memcached on ${this.address} did not answer within 5 s; stderr: ${this.#stderr.trim()}`);
  }

  /** `stats` over a socket of its own: the plain port (TLS servers) or an authenticated one (`-Y`). */
  async stats(): Promise<Record<string, string>> {
    this.ownConnections++;
    if (this.plainPort !== undefined) return parseStats(await rawCommand(this.plainPort, 'stats\r\n', { timeoutMs: 1000 }));
    const auth = this.opts.auth;
    const pre = auth ? authPreamble(auth.username, auth.password) : '';
    const reply = await rawCommand(this.port, `${pre}stats\r\n`, { timeoutMs: 1000, replies: auth ? 2 : 1 });
    if (auth && !reply.startsWith('STORED\r\n')) throw new Error(`stats: authentication refused: ${reply.slice(0, 80)}`);
    return parseStats(reply);
  }

  /** Connections the server accepted from others (the client under test) so far. */
  async clientConnections(): Promise<number> {
    const s = await this.stats();
    // total_connections includes the listening sockets and the stats connection just opened.
    return Number(s.total_connections) - this.ownConnections;
  }

  async kill(): Promise<void> {
    if (this.#running) this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    registry.delete(this);
  }

  /** @internal */
  killSync(): void {
    const pid = this.#child?.pid;
    if (!this.#running || pid === undefined) return;
    try { process.kill(pid, 'SIGKILL'); } catch {}
  }
}

/** True when this memcached binary was built with TLS (`-Z` appears in its help). */
export async function memcachedHasTls(): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    const child = spawn(memcachedBinary(), ['-h'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (e) => resolve({ ok: false, reason: `cannot run ${memcachedBinary()}: ${e.message}` }));
    child.once('close', () => {
      const ok = /--enable-ssl/.test(out) && /ssl_chain_cert/.test(out);
      resolve({ ok, reason: ok ? '' : `${memcachedBinary()} was built without TLS support (no -Z/--enable-ssl in -h)` });
    });
  });
}

/**
 * A TCP pass-through in front of a server that counts the connections it accepted and records, per
 * connection, what the client wrote (so a test can check what went first on every socket).
 */
export class CountingProxy {
  accepted = 0;
  /** Client-to-server bytes of each accepted connection, in accept order. */
  readonly sent: Buffer[][] = [];
  /** Both directions of each connection, in the order the proxy relayed them. */
  readonly flows: Array<Array<{ dir: 'c2s' | 's2c'; data: Buffer }>> = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => {
      this.accepted++;
      const log: Buffer[] = [];
      this.sent.push(log);
      const flow: Array<{ dir: 'c2s' | 's2c'; data: Buffer }> = [];
      this.flows.push(flow);
      const upstream = net.connect({ host: LOOPBACK, port: this.targetPort });
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.on('data', (d: Buffer) => {
        log.push(Buffer.from(d));
        flow.push({ dir: 'c2s', data: Buffer.from(d) });
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        flow.push({ dir: 's2c', data: Buffer.from(d) });
        client.write(d);
      });
      const close = (): void => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream); };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
  }

  get address(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  /** What each connection sent, concatenated, as latin1 text. */
  texts(): string[] {
    return this.sent.map((chunks) => Buffer.concat(chunks).toString('latin1'));
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, LOOPBACK, () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Keeps issuing `call` (sequentially, one every `gapMs`) for `ms` milliseconds and returns every
 * rejection, so a test can see what a caller hammering a misconfigured server gets.
 */
export async function hammer(ms: number, call: () => Promise<unknown>, gapMs = 5): Promise<{ calls: number; errors: unknown[]; resolved: number }> {
  const end = Date.now() + ms;
  const errors: unknown[] = [];
  let calls = 0;
  let resolved = 0;
  while (Date.now() < end) {
    calls++;
    try {
      await call();
      resolved++;
    } catch (err) {
      errors.push(err);
    }
    await sleep(gapMs);
  }
  return { calls, errors, resolved };
}
