/**
 * The classic fallback through a real twemproxy (Debian `nutcracker`): it forwards `version` to a
 * memcached 1.6.18 (so the version alone says "meta") but closes the connection on any meta command.
 * With `protocol: 'auto'` the client must learn text from the closed `mn` and keep working:
 * get/set/getMulti/setMulti, and fetch over the `add` lock.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/index.js';
import { freePort, LOOPBACK, rawCommand, useMemcached } from '../support/memcached.js';
import { eventually } from '../support/timing.js';
import { gatedLoader, OPTS } from './helpers.js';

/** Debian installs it in /usr/sbin, which a normal user's PATH may lack. */
const NUTCRACKER = process.env.NUTCRACKER_BIN
  ?? (spawnSync('nutcracker', ['--version']).error && fs.existsSync('/usr/sbin/nutcracker') ? '/usr/sbin/nutcracker' : 'nutcracker');

/** One nutcracker process in front of `backend`, on free ports, with its config in a temp dir. */
class Twemproxy {
  private constructor(readonly port: number, private readonly child: ChildProcess, private readonly dir: string) {}

  get address(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  static async start(backend: string): Promise<Twemproxy> {
    const probe = spawnSync(NUTCRACKER, ['--version'], { encoding: 'utf8' });
    if (probe.error || !/nutcracker/.test(`${probe.stdout}${probe.stderr}`)) {
      throw new Error(`${NUTCRACKER} is not installed: run "sudo apt-get install -y nutcracker" (npm test and .ci/run do it as root), or set NUTCRACKER_BIN`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcluster-twemproxy-'));
    const port = await freePort();
    const statsPort = await freePort();
    const conf = path.join(dir, 'nutcracker.yml');
    fs.writeFileSync(conf, [
      'memcluster_test:',
      `  listen: ${LOOPBACK}:${port}`,
      '  hash: fnv1a_64',
      '  distribution: ketama',
      '  timeout: 2000',
      '  auto_eject_hosts: false',
      '  servers:',
      `   - ${backend}:1`,
      '',
    ].join('\n'));
    const child = spawn(NUTCRACKER, ['-c', conf, '-s', String(statsPort), '-a', LOOPBACK, '-o', path.join(dir, 'nutcracker.log'), '-p', path.join(dir, 'nutcracker.pid')], { stdio: 'ignore' });
    const proxy = new Twemproxy(port, child, dir);
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`nutcracker exited (${child.exitCode}): ${fs.readFileSync(path.join(dir, 'nutcracker.log'), 'utf8')}`);
      return (await rawCommand(port, 'version\r\n', { timeoutMs: 200 }).catch(() => '')).startsWith('VERSION');
    }, 3000, 'nutcracker answers version');
    return proxy;
  }

  /** Stops this nutcracker (by its own PID) and removes its temp dir. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      process.kill(this.child.pid!, 'SIGTERM');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('through twemproxy (no meta): the client learns text', () => {
  const servers = useMemcached(1);
  let proxy: Twemproxy;
  beforeAll(async () => { proxy = await Twemproxy.start(servers[0]!.address); });
  afterAll(async () => { await proxy?.stop(); });

  it('twemproxy itself closes the connection on a meta command (what the client has to survive)', async () => {
    await expect(rawCommand(proxy.port, 'mn\r\n', { timeoutMs: 1000 })).rejects.toMatchObject({ reason: 'closed' });
  });

  it('get/set/getMulti/setMulti/deleteMulti/incr/invalidate and fetch work with protocol auto', async () => {
    const mc = new Client([proxy.address], { ...OPTS, timeoutMs: 2000, protocol: 'auto' });
    try {
      const base = `tw:${Date.now()}`;
      expect(await mc.set(`${base}:a`, { n: 1 }, { ttl: 60 })).toBe(true);
      expect(await mc.get(`${base}:a`)).toEqual({ n: 1 });
      expect(await mc.get(`${base}:missing`)).toBeUndefined();
      const entries = Array.from({ length: 50 }, (_, i) => [`${base}:m${i}`, `v${i}`] as const);
      const stored = await mc.setMulti(entries, { ttl: 60 });
      expect([...stored.values()].every(Boolean)).toBe(true);
      const read = await mc.getMulti([...entries.map(([k]) => k), `${base}:missing`]);
      expect(read).toEqual(new Map(entries));
      expect(await mc.incr(`${base}:ctr`, 1, { initial: 5, ttl: 60 })).toBe(5);
      expect(await mc.incr(`${base}:ctr`, 1, { initial: 5, ttl: 60 })).toBe(6);
      // On text, invalidate is a plain delete.
      expect(await mc.invalidate(`${base}:a`, { staleTtl: 30 })).toBe(true);
      expect(await mc.get(`${base}:a`)).toBeUndefined();
      const deleted = await mc.deleteMulti(entries.map(([k]) => k));
      expect([...deleted.values()].every(Boolean)).toBe(true);

      // fetch: one loader for concurrent callers of two clients, over the add lock.
      const other = new Client([proxy.address], { ...OPTS, timeoutMs: 2000 });
      try {
        const key = `${base}:fetched`;
        expect(await other.get(`${base}:warm-up`)).toBeUndefined(); // its socket is proven (and text learned) before the race
        const gate = gatedLoader(() => 'loaded once');
        const calls = [mc, other].flatMap((c) => Array.from({ length: 20 }, () => c.fetch(key, gate.loader, { ttl: 60, waitMs: 5000 })));
        await gate.started;
        // The loader is held until the other client's flight is waiting on the lock.
        await eventually(() => mc.fetchStats().waits + other.fetchStats().waits === 1, 2000, 'one client waits on the lock');
        gate.release();
        const values = await Promise.all(calls);
        expect(new Set(values)).toEqual(new Set(['loaded once']));
        expect(gate.calls).toHaveLength(1);
        expect(mc.fetchStats().fallbacks + other.fetchStats().fallbacks).toBe(0);
        // Stored in memcached behind the proxy, and the lock released.
        expect(await servers[0]!.command(`get ${key}\r\n`)).toContain('loaded once');
        expect(await servers[0]!.command(`get ${key}~lease\r\n`)).toBe('END\r\n');
      } finally {
        await other.close();
      }
      // The client learned text, and no socket was lost to a meta command after that.
      expect(mc.serverStats()[0]!.failures).toBe(0);
    } finally {
      await mc.close();
    }
  });
});
