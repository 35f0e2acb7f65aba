/**
 * Bugs only a whole process shows: `end()` must leave nothing that keeps Node alive, and a dead
 * server must never make the client spawn `ping`. Each runs the compat client (bundled to plain
 * CommonJS) in a child process, and the real 2.2.2 in the same script as the control.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useMemcached } from '../support/memcached.js';
import { closedPort, compatBundle, removeCompatBundle, require } from './helpers.js';

const LEGACY = require.resolve('memcached');

/** A child that never prints the `after` marker is killed this long after spawn (a hang still fails). */
const START_CAP_MS = 20_000;

/**
 * Runs `node -e script <module>`; resolves with its output and whether it exited by itself within
 * `ms`. With `after`, the `ms` start when its stdout first contains `after` (a busy machine can take
 * seconds just to start the child), and a child that never prints it is killed after START_CAP_MS.
 */
function run(script: string, module: string, env: Record<string, string>, ms: number, after?: string): Promise<{ exited: boolean; code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, module], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    const kill = (): void => { child.kill('SIGKILL'); };
    let timer = setTimeout(kill, after === undefined ? ms : START_CAP_MS);
    let started = after === undefined;
    child.stdout.on('data', (d) => {
      out += d;
      stdout += d;
      if (!started && stdout.includes(after!)) {
        started = true;
        clearTimeout(timer);
        timer = setTimeout(kill, ms);
      }
    });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ exited: signal === null, code, out });
    });
  });
}

const END_SCRIPT = `
const Memcached = require(process.argv[1]);
const mc = new Memcached([process.env.LIVE, process.env.DEAD], { timeout: 5000, retry: 100, failures: 1, retries: 0, idle: 60000 });
const keys = Array.from({ length: 30 }, (_, i) => 'k' + i);
let stored = 0;
keys.forEach((k) => mc.set(k, 'v', 0, (err) => {
  if (++stored < keys.length) return;
  mc.getMulti(keys, () => mc.getMulti(keys, (err, data) => {
    mc.end();
    console.log('ended', Object.keys(data).length > 0);
  }));
}));
`;

const PING_SCRIPT = `
const Memcached = require(process.argv[1]);
const mc = new Memcached(process.env.DEAD, { timeout: 300, retries: 0, retry: 50, reconnect: 100, failures: 1 });
const seen = new Set();
for (const e of ['issue', 'failure', 'reconnecting', 'reconnect']) mc.on(e, () => seen.add(e));
let i = 0;
const t = setInterval(() => {
  mc.get('k', () => {});
  if (++i === 15) {
    clearInterval(t);
    setTimeout(() => { console.log('events', [...seen].sort().join(',')); process.exit(0); }, 400);
  }
}, 60);
`;

describe('whole-process behaviour', () => {
  afterAll(removeCompatBundle);
  const servers = useMemcached(1);

  it('end() leaves no timer or socket behind: the process exits by itself (2.2.2 stays alive)', async () => {
    const env = { LIVE: servers[0]!.address, DEAD: `127.0.0.1:${await closedPort()}` };
    const [compat, legacy] = await Promise.all([
      run(END_SCRIPT, await compatBundle(), env, 6000, 'ended'),
      run(END_SCRIPT, LEGACY, env, 3000, 'ended'),
    ]);
    expect(compat.out).toContain('ended true');
    expect(compat.exited, compat.out).toBe(true);
    expect(compat.code).toBe(0);
    expect(legacy.out).toContain('ended'); // (2.2.2 also marks the live server failed here; not under test)
    expect(legacy.exited).toBe(false); // killed 3 s after 'ended': its issue timers keep the process alive
  });

  it('a dead server never spawns `ping` (2.2.2 does, and crashes where ping is missing)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-ping-'));
    const marker = path.join(dir, 'spawned');
    fs.writeFileSync(path.join(dir, 'ping'), `#!/bin/sh\necho "$@" >> "${marker}"\necho "PING ok"\n`, { mode: 0o755 });
    const env = { DEAD: `127.0.0.1:${await closedPort()}`, PATH: `${dir}${path.delimiter}${process.env.PATH}` };
    try {
      const compat = await run(PING_SCRIPT, await compatBundle(), env, 8000);
      expect(compat.code, compat.out).toBe(0);
      expect(compat.out).toContain('events issue,reconnecting'); // the reconnect path ran (no `failure`: 2.2.2 emits it only on removal)...
      expect(fs.existsSync(marker)).toBe(false); // ...without spawning anything
      const legacy = await run(PING_SCRIPT, LEGACY, env, 8000);
      expect(legacy.out).toContain('reconnecting');
      expect(fs.readFileSync(marker, 'utf8')).toMatch(/-c 3 127\.0\.0\.1/); // the control: 2.2.2 ran our fake ping
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
