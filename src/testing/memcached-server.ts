/**
 * Real memcached processes on free loopback ports that never outlive the process that started them:
 * for tests, benchmarks and demos (`memcluster/testing`). Needs the `memcached` binary (or MEMCACHED_BIN).
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, it } from 'vitest';
 * import { MemcachedServer, startServers, stopAll } from 'memcluster/testing';
 *
 * let servers: MemcachedServer[];
 * beforeAll(async () => { servers = await startServers(2, { args: ['-c', '64'] }); });
 * afterAll(stopAll);
 *
 * it('stores', async () => {
 *   await servers[0]!.command('set k 0 0 1\r\nx\r\n'); // independent of the client under test
 * });
 * ```
 * or, equivalently, `const servers = useMemcached(2);` at the top of a `describe`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { freePort, LOOPBACK, parseStats, rawCommand, type RawCommandOptions } from './raw.js';

export { freePort, LOOPBACK, parseStats, rawCommand, RawCommandError, type RawCommandOptions } from './raw.js';

/** Options for {@link MemcachedServer.start}. */
export interface MemcachedServerOptions {
  /** Extra memcached arguments, e.g. `['-c', '32', '-o', 'idle_timeout=2']`. */
  args?: string[];
  /** A fixed port; by default a free one is picked. */
  port?: number;
  /** `-m`, default 64. */
  memoryMb?: number;
  /**
   * Readiness probe replacing the default one (a plain-text `version`, then `stats`), for servers
   * that cannot answer plain text on their port, e.g. TLS-only (`-Z`) or authenticating (`-Y`).
   * Resolves with the server's `stats` once it answers, rejects (or resolves undefined) while it
   * does not yet. As with the default probe, the `pid` in those stats must be this server's own,
   * else the port went to someone else's memcached and another one is tried. Also used by
   * {@link MemcachedServer.restart}.
   */
  ready?: (server: MemcachedServer) => Promise<Record<string, string> | undefined>;
}

/** `MEMCACHED_BIN` when set, so CI images with memcached off PATH still work. */
export function memcachedBinary(): string {
  return process.env.MEMCACHED_BIN || 'memcached';
}

const registry = new Set<MemcachedServer>();
let cleanupInstalled = false;

function killAllSync(): void {
  for (const s of registry) s.killSync();
}

/**
 * vitest ends fork workers with SIGTERM, which skips `exit` handlers, so signals need their own
 * cleanup; after it we re-raise so the process still dies the way it was told to.
 */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      process.off(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when every thread of `pid` is stopped; true as well where /proc cannot tell. */
function allThreadsStopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tasks.every((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      return /\) [Tt] /.test(stat);
    } catch {
      return true;
    }
  });
}

/** A memcached child process on a loopback port. Create with {@link MemcachedServer.start}. */
export class MemcachedServer {
  readonly host = LOOPBACK;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #running = false;
  #frozen = false;
  #stderr = '';

  readonly #ready: MemcachedServerOptions['ready'];

  /** `args` (the extra arguments given at start) and `ready` are reused by {@link restart}. */
  private constructor(readonly port: number, readonly args: readonly string[], readonly memoryMb: number, ready: MemcachedServerOptions['ready']) {
    this.#ready = ready;
  }

  /**
   * Starts memcached and resolves once it answers `version` (or the `ready` probe of `opts`) and
   * reports our own pid.
   */
  static async start(opts: MemcachedServerOptions = {}): Promise<MemcachedServer> {
    installCleanup();
    const args = [...(opts.args ?? [])];
    const memoryMb = opts.memoryMb ?? 64;
    for (let attempt = 1; ; attempt++) {
      const server = new MemcachedServer(opts.port ?? (await freePort()), args, memoryMb, opts.ready);
      registry.add(server);
      let launched = false;
      try {
        launched = opts.port !== undefined ? (await server.#launchWithRetry(5000), true) : await server.#launch();
      } finally {
        if (!launched) await server.stop();
      }
      if (launched) return server;
      // Lost the race for the port to someone else: try another one.
      if (attempt >= 5) throw new Error(`memcached: no free loopback port after ${attempt} attempts`);
    }
  }

  /** `127.0.0.1:<port>`, the form server lists use. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }
  /** Pid of the current process; changes on {@link restart}. */
  get pid(): number {
    return this.#child?.pid ?? -1;
  }
  get isRunning(): boolean { return this.#running; }
  get isFrozen(): boolean { return this.#frozen; }
  /** The full memcached argument list. */
  get argv(): string[] {
    const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
    return ['-l', LOOPBACK, '-p', String(this.port), '-U', '0', ...user, '-m', String(this.memoryMb), ...this.args];
  }

  /** Spawns once; false when the port was taken (by anyone) before memcached could bind it. */
  async #launch(): Promise<boolean> {
    this.#stderr = '';
    const child = spawn(memcachedBinary(), this.argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    this.#running = true;
    this.#frozen = false;
    let spawnError: Error | undefined;
    this.#exited = new Promise<void>((resolve) => {
      const gone = (): void => {
        this.#running = false;
        resolve();
      };
      child.once('error', (e) => ((spawnError = e), gone()));
      child.once('exit', gone);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => void (this.#stderr = (this.#stderr + s).slice(-8192)));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const hint = 'run "node scripts/ensure-memcached.mjs" or set MEMCACHED_BIN';
      if (spawnError) throw new Error(`cannot run ${memcachedBinary()}: ${spawnError.message}; ${hint}`);
      if (!this.#running) {
        if (/address already in use/i.test(this.#stderr)) return false;
        throw new Error(`memcached ${this.argv.join(' ')} exited during startup: ${this.#stderr.trim()}`);
      }
      try {
        const stats = this.#ready ? await this.#ready(this) : await this.#versionThenStats();
        if (stats) {
          // Another engineer's memcached may have won the port race and answered for ours.
          if (stats.pid === String(child.pid)) return true;
          await this.kill();
          return false;
        }
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    await this.kill();
    throw new Error(`memcached on ${this.address} did not answer within 5 s; stderr: ${this.#stderr.trim()}`);
  }

  /** The default readiness probe: `stats` once the port answers a plain-text `version`. */
  async #versionThenStats(): Promise<Record<string, string> | undefined> {
    if (!(await rawCommand(this.port, 'version\r\n', { timeoutMs: 500 })).startsWith('VERSION ')) return undefined;
    return parseStats(await rawCommand(this.port, 'stats\r\n', { timeoutMs: 1000 }));
  }

  /** The port can linger briefly after a kill, so keep trying the same one until `ms` runs out. */
  async #launchWithRetry(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await this.#launch())) {
      if (Date.now() > deadline) throw new Error(`memcached: port ${this.port} still in use after ${ms} ms`);
      await sleep(100);
    }
  }

  /** SIGKILL and wait for the process to be gone. The server stays registered for {@link restart}. */
  async kill(): Promise<void> {
    if (this.#running) this.#child?.kill('SIGKILL');
    await this.#exited;
    this.#frozen = false;
  }

  /** SIGSTOP: connects still succeed (kernel backlog) but nothing is ever answered. */
  /**
   * SIGSTOP. The signal is sent at once; the promise resolves when every thread of the process is
   * really stopped (state `T` in /proc, where it exists), since a request sent in between may still
   * be answered.
   */
  async freeze(): Promise<void> {
    if (!this.#running) throw new Error(`memcached on ${this.address} is not running`);
    this.#child!.kill('SIGSTOP');
    this.#frozen = true;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && !allThreadsStopped(this.pid)) await sleep(2);
  }

  /** SIGCONT. */
  thaw(): void {
    if (this.#running) this.#child!.kill('SIGCONT');
    this.#frozen = false;
  }

  /** Kills if needed, then starts a fresh, empty memcached on the same port with the same args. */
  async restart(): Promise<void> {
    await this.kill();
    registry.add(this);
    await this.#launchWithRetry(5000);
  }

  /** Kills if running and forgets the server. Safe to call twice. */
  async stop(): Promise<void> {
    await this.kill();
    registry.delete(this);
  }

  /** For exit paths that cannot await. @internal */
  killSync(): void {
    const pid = this.#child?.pid;
    if (!this.#running || pid === undefined) return;
    try {
      if (this.#frozen) process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {} // already gone
  }

  /** Sends `raw` verbatim on a fresh socket, independent of any client under test. */
  command(raw: string, opts?: RawCommandOptions): Promise<string> {
    return rawCommand(this.port, raw, opts, this.host);
  }

  /** `stats` (or `stats <group>`) as a name -> value map, over a fresh socket. */
  async stats(group?: string, opts?: RawCommandOptions): Promise<Record<string, string>> {
    return parseStats(await this.command(group ? `stats ${group}\r\n` : 'stats\r\n', opts));
  }
}

/** Every server started and not yet stopped, in this process. */
export function allServers(): MemcachedServer[] {
  return [...registry];
}

/** Stops every registered server and waits until each process is gone. */
export async function stopAll(): Promise<void> {
  await Promise.all([...registry].map((s) => s.stop()));
}

/** Starts `n` servers in parallel; on any failure stops the ones that did start. */
export async function startServers(n: number, opts?: MemcachedServerOptions): Promise<MemcachedServer[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => MemcachedServer.start(opts)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}
