/**
 * Shared tools of the load suite: tallies of how calls settled (by error class), a real twemproxy
 * (`nutcracker`) on free loopback ports, and a process-wide warning recorder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemclusterError } from '../../src/index.js';
import { freePort, LOOPBACK, rawCommand } from '../support/memcached.js';
import { eventually } from '../support/timing.js';

/** How a batch of calls settled: `ok` and, per error class name, how many rejected with it. */
export type Tally = Record<string, number>;

/** Counts settled results by outcome: `ok` or the error's class name (`TimeoutError`, ...). */
export function tally(results: ReadonlyArray<PromiseSettledResult<unknown>>): Tally {
  const out: Tally = {};
  for (const r of results) {
    const k = r.status === 'fulfilled' ? 'ok' : kindOf(r.reason);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** The class name of a memcluster error, or `other:<message>` for anything else. */
export function kindOf(err: unknown): string {
  return err instanceof MemclusterError ? err.name : `other:${String(err)}`;
}

/** A real twemproxy in front of memcached servers, on free loopback ports. */
export class Twemproxy {
  #child: ChildProcess;
  #exited: Promise<void>;
  #dir: string;

  private constructor(child: ChildProcess, dir: string, readonly port: number) {
    this.#child = child;
    this.#dir = dir;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  /**
   * Starts `nutcracker` (foreground, so the child's pid is its own) with a one-pool config in front
   * of `backends`, and resolves once it answers `version` (which it forwards to a backend).
   */
  static async start(backends: ReadonlyArray<{ port: number }>): Promise<Twemproxy> {
    const dir = mkdtempSync(path.join(tmpdir(), 'memcluster-twem-'));
    const port = await freePort();
    const statsPort = await freePort();
    const conf = path.join(dir, 'nutcracker.yml');
    writeFileSync(conf, [
      'pool:',
      `  listen: ${LOOPBACK}:${port}`,
      '  hash: fnv1a_64',
      '  distribution: ketama',
      '  timeout: 1000',
      '  auto_eject_hosts: false',
      '  servers:',
      ...backends.map((b) => `   - ${LOOPBACK}:${b.port}:1`),
      '',
    ].join('\n'));
    const child = spawn('nutcracker', ['-c', conf, '-p', path.join(dir, 'nutcracker.pid'), '-o', path.join(dir, 'nutcracker.log'), '-s', String(statsPort), '-a', LOOPBACK], { stdio: 'ignore' });
    const proxy = new Twemproxy(child, dir, port);
    process.once('exit', () => proxy.#killSync());
    try {
      await eventually(async () => {
        if (child.exitCode !== null) throw new Error(`nutcracker exited with ${child.exitCode} during startup`);
        return rawCommand(port, 'version\r\n', { timeoutMs: 300 }).then((r) => r.startsWith('VERSION '), () => false);
      }, 3000, 'nutcracker answers version');
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    return proxy;
  }

  #killSync(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  /** Kills the process (by its pid) and removes its files. */
  async stop(): Promise<void> {
    this.#killSync();
    await this.#exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Records every process warning emitted while it is installed; `stop()` removes the listener. */
export function recordWarnings(): { warnings: Error[]; stop(): void } {
  const warnings: Error[] = [];
  const on = (w: Error): void => void warnings.push(w);
  process.on('warning', on);
  return { warnings, stop: () => void process.off('warning', on) };
}
