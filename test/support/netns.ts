/**
 * A memcached behind a link that can be cut: a network namespace of our own, joined to this host
 * by a veth pair with private addresses (10.200.<n>.0/30, chosen free on this machine), memcached
 * running inside it. `cut()` takes the namespace end of the link down, so packets to the server
 * are dropped (SYNs unanswered, not refused); `restore()` brings it back.
 *
 * Traffic never leaves the machine: the only route to the /30 is the veth, and a lower-priority
 * blackhole route for the same /30 catches anything should the veth route go away.
 *
 * Needs root and iproute2; {@link netnsUnavailableReason} says why not when it cannot work.
 *
 * @example
 * ```ts
 * const reason = netnsUnavailableReason();
 * describe.skipIf(reason !== undefined)('partition', () => {
 *   let mc: NetnsMemcached;
 *   beforeAll(async () => { mc = await NetnsMemcached.start(); });
 *   afterAll(() => mc.stop());
 *   it('...', async () => { mc.cut(); ...; mc.restore(); });
 * });
 * ```
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { memcachedBinary, rawCommand } from './memcached.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

let probed: { reason: string | undefined } | undefined;

/**
 * Undefined when namespaces can be used here; otherwise why not (not root, no `ip`, no memcached,
 * or the kernel/container refuses to create a namespace or a veth pair).
 */
export function netnsUnavailableReason(): string | undefined {
  if (probed) return probed.reason;
  const reason = ((): string | undefined => {
    if (process.platform !== 'linux') return `not Linux (${process.platform})`;
    if (process.getuid?.() !== 0) return 'not running as root';
    try {
      ip('-V');
    } catch {
      return 'the ip command (iproute2) is missing';
    }
    try {
      execFileSync(memcachedBinary(), ['-V'], { stdio: 'ignore', timeout: 5000 });
    } catch {
      return `${memcachedBinary()} cannot be run`;
    }
    const ns = `mcprobe${process.pid}`;
    const veth = `mcp${process.pid}`;
    try {
      ip('netns', 'add', ns);
      ip('link', 'add', `${veth}h`, 'type', 'veth', 'peer', 'name', `${veth}n`);
      ip('link', 'set', `${veth}n`, 'netns', ns);
    } catch (err) {
      return `cannot create a network namespace and veth pair: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`;
    } finally {
      tryIp('link', 'del', `${veth}h`);
      tryIp('netns', 'del', ns);
    }
    return undefined;
  })();
  probed = { reason };
  return reason;
}

/** A free 10.200.<n>.0/30 on this machine: no address and no route of anyone inside it. */
function freeSubnet(): number {
  const addrs = ip('-4', '-o', 'addr', 'show');
  const routes = ip('-4', 'route', 'show', 'table', 'all');
  for (let i = 0; i < 250; i++) {
    const n = ((process.pid + i) % 250) + 1;
    const net = `10.200.${n}.`;
    if (!addrs.includes(net) && !routes.includes(net) && !routes.includes(`10.200.${n}/`) && !routes.includes('10.200.0.0/16') && !routes.includes('10.0.0.0/8')) return n;
  }
  throw new Error('no free 10.200.x.0/30 subnet on this machine');
}

const live = new Set<NetnsMemcached>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const m of live) m.stopSync();
  });
  // vitest ends workers with SIGTERM, which skips 'exit': clean up, then die as told.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const m of live) m.stopSync();
      process.off(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

let seq = 0;

/** memcached inside a namespace of its own, reachable over a veth pair that can be cut. */
export class NetnsMemcached {
  readonly port = 11211;
  #child: ChildProcess | undefined;
  #stopped = false;
  #stderr = '';

  private constructor(
    readonly ns: string,
    /** Host end of the veth pair. */
    readonly hostVeth: string,
    /** Namespace end of the veth pair (the one `cut()` takes down). */
    readonly nsVeth: string,
    readonly subnet: number,
  ) {}

  /** Server address inside the namespace. */
  get host(): string {
    return `10.200.${this.subnet}.2`;
  }
  /** `10.200.<n>.2:11211`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }
  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  /** Builds the namespace and link, starts memcached inside, and resolves once it answers `version`. */
  static async start(args: string[] = []): Promise<NetnsMemcached> {
    const reason = netnsUnavailableReason();
    if (reason) throw new Error(`network namespaces unavailable: ${reason}`);
    installCleanup();
    const id = `${process.pid}${seq++}`;
    const m = new NetnsMemcached(`mcf${id}`, `mcf${id}h`, `mcf${id}n`, freeSubnet());
    live.add(m);
    try {
      const { ns, hostVeth, nsVeth, subnet } = m;
      ip('netns', 'add', ns);
      ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth);
      ip('link', 'set', nsVeth, 'netns', ns);
      ip('addr', 'add', `10.200.${subnet}.1/30`, 'dev', hostVeth);
      ip('link', 'set', hostVeth, 'up');
      // Whatever happens to the veth route, nothing for this /30 may take the default route out.
      ip('route', 'add', 'blackhole', `10.200.${subnet}.0/30`, 'metric', '4000');
      ip('-n', ns, 'addr', 'add', `10.200.${subnet}.2/30`, 'dev', nsVeth);
      ip('-n', ns, 'link', 'set', nsVeth, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const child = spawn('ip', ['netns', 'exec', ns, memcachedBinary(), '-l', m.host, '-p', String(m.port), '-U', '0', '-u', 'root', '-m', '64', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      m.#child = child;
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (s: string) => { m.#stderr = (m.#stderr + s).slice(-4096); });
      const deadline = Date.now() + 5000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`memcached in ${ns} exited: ${m.#stderr.trim()}`);
        try {
          if ((await rawCommand(m.port, 'version\r\n', { timeoutMs: 500 }, m.host)).startsWith('VERSION ')) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`memcached in ${ns} did not answer within 5 s: ${m.#stderr.trim()}`);
        await sleep(25);
      }
      return m;
    } catch (err) {
      await m.stop();
      throw err;
    }
  }

  /** Takes the namespace end of the link down: from now on packets to the server are dropped. */
  cut(): void {
    ip('-n', this.ns, 'link', 'set', this.nsVeth, 'down');
  }

  /** Brings the link back up. */
  restore(): void {
    ip('-n', this.ns, 'link', 'set', this.nsVeth, 'up');
  }

  /** Sends `raw` on a fresh socket (over the link). */
  command(raw: string, timeoutMs = 2000): Promise<string> {
    return rawCommand(this.port, raw, { timeoutMs }, this.host);
  }

  /** Kills memcached and removes the namespace, the veth pair and the blackhole route. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2000)]);
    }
    this.stopSync();
  }

  /** Synchronous teardown for exit paths. @internal */
  stopSync(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    live.delete(this);
    const pid = this.#child?.pid;
    if (pid !== undefined && this.#child?.exitCode === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    tryIp('netns', 'del', this.ns);
    tryIp('link', 'del', this.hostVeth);
    tryIp('route', 'del', 'blackhole', `10.200.${this.subnet}.0/30`, 'metric', '4000');
  }
}
