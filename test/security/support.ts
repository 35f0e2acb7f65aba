/**
 * Tools of the security suite.
 *
 * The shared harness (`MemcachedServer`) proves a server is up with a plain-text `version`, which a
 * TLS-only (`-Z`) or an authenticating (`-Y`) memcached cannot answer. `SecureMemcached` runs such
 * servers through the harness with a readiness probe (its `ready` option) that fits them:
 *
 * - TLS: the client port speaks TLS, and a second `notls:` loopback port carries plain `stats`, so
 *   the test can count the server's `total_connections` without going through the client under test.
 * - Auth: `stats` is read over a fresh socket that authenticates first (`set _ 0 0 n` + `user pass`).
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { CuttingProxy, type ProxyObserver } from '../support/cutting-proxy.js';
import { freePort, LOOPBACK, MemcachedServer, memcachedBinary, parseStats, rawCommand } from '../support/memcached.js';

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

/**
 * `stats` over a socket of its own: the plain port (TLS servers) or an authenticated one on the
 * main port (`-Y`).
 */
async function secureStats(port: number, plainPort: number | undefined, auth: SecureMemcachedOptions['auth']): Promise<Record<string, string>> {
  if (plainPort !== undefined) return parseStats(await rawCommand(plainPort, 'stats\r\n', { timeoutMs: 1000 }));
  const pre = auth ? authPreamble(auth.username, auth.password) : '';
  const reply = await rawCommand(port, `${pre}stats\r\n`, { timeoutMs: 1000, replies: auth ? 2 : 1 });
  if (auth && !reply.startsWith('STORED\r\n')) throw new Error(`stats: authentication refused: ${reply.slice(0, 80)}`);
  return parseStats(reply);
}

/**
 * A memcached child started with TLS and/or ASCII auth: a {@link MemcachedServer} (which owns the
 * process, its cleanup and the port-race retries) whose readiness is proven with {@link stats}.
 */
export class SecureMemcached {
  /** Plain connections this helper opened itself (each `stats()` is one), to subtract from `total_connections`. */
  ownConnections = 0;

  private constructor(readonly server: MemcachedServer, readonly plainPort: number | undefined, private readonly opts: SecureMemcachedOptions) {}

  static async start(opts: SecureMemcachedOptions): Promise<SecureMemcached> {
    for (let attempt = 1; ; attempt++) {
      // TLS servers get a second, plain `notls:` listener (memcached joins repeated -l lists).
      const plainPort = opts.tls ? await freePort() : undefined;
      const notls = plainPort === undefined ? [] : ['-l', `notls:${LOOPBACK}:${plainPort}`];
      let probes = 0;
      try {
        const server = await MemcachedServer.start({
          args: [...notls, ...opts.args],
          ready: (s) => (probes++, secureStats(s.port, plainPort, opts.auth)),
        });
        const secure = new SecureMemcached(server, plainPort, opts);
        secure.ownConnections = probes;
        return secure;
      } catch (err) {
        // The harness picks a new main port when a bind fails, but the plain port may be the taken one.
        if (plainPort === undefined || attempt >= 5 || !/no free loopback port/.test(String(err))) throw err;
      }
    }
  }

  get host(): string {
    return this.server.host;
  }
  get port(): number {
    return this.server.port;
  }
  get address(): string {
    return this.server.address;
  }

  /** `stats` over a socket of its own: the plain port (TLS servers) or an authenticated one (`-Y`). */
  async stats(): Promise<Record<string, string>> {
    this.ownConnections++;
    return secureStats(this.port, this.plainPort, this.opts.auth);
  }

  /** Connections the server accepted from others (the client under test) so far. */
  async clientConnections(): Promise<number> {
    const s = await this.stats();
    // total_connections includes the listening sockets and the stats connection just opened.
    return Number(s.total_connections) - this.ownConnections;
  }

  /** Kills the process and forgets the server. Safe to call twice. */
  stop(): Promise<void> {
    return this.server.stop();
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
 * A TCP pass-through in front of a server (a {@link CuttingProxy} that never cuts) that counts the
 * connections it accepted and records, per connection, what the client wrote (so a test can check
 * what went first on every socket).
 */
export class CountingProxy {
  accepted = 0;
  /** Client-to-server bytes of each accepted connection, in accept order. */
  readonly sent: Buffer[][] = [];
  /** Both directions of each connection, in the order the proxy relayed them. */
  readonly flows: Array<Array<{ dir: 'c2s' | 's2c'; data: Buffer }>> = [];
  #proxy: CuttingProxy | undefined;
  port = 0;

  constructor(private readonly targetPort: number) {}

  get address(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  /** What each connection sent, concatenated, as latin1 text. */
  texts(): string[] {
    return this.sent.map((chunks) => Buffer.concat(chunks).toString('latin1'));
  }

  async listen(): Promise<this> {
    this.#proxy = await CuttingProxy.start({ port: this.targetPort }, { maxLineBytes: Infinity, observe: () => this.#accept() });
    this.port = this.#proxy.port;
    return this;
  }

  #accept(): ProxyObserver {
    this.accepted++;
    const log: Buffer[] = [];
    this.sent.push(log);
    const flow: Array<{ dir: 'c2s' | 's2c'; data: Buffer }> = [];
    this.flows.push(flow);
    return (chunk, from) => {
      if (from === 'client') log.push(Buffer.from(chunk));
      flow.push({ dir: from === 'client' ? 'c2s' : 's2c', data: Buffer.from(chunk) });
    };
  }

  async close(): Promise<void> {
    await this.#proxy?.close();
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
