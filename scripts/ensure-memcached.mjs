#!/usr/bin/env node
// Makes sure a memcached binary exists before tests, the demo or the bench start real servers.
// Quiet when it is there; installs it only where that is safe and unattended (root + apt-get);
// otherwise fails with one line that says what to do, instead of a wall of ENOENT test failures.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

const PREFIX = 'memcluster:';
const HOW = 'install it with "sudo apt-get install -y memcached" (or set MEMCACHED_BIN)';

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

// A binary that exists but cannot run (wrong arch, missing libs) is as good as none.
function runs(bin) {
  const r = spawnSync(bin, ['-V'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /memcached/i.test(r.stdout ?? '');
}

function fail(message) {
  process.stderr.write(`${PREFIX} ${message}\n`);
  process.exit(1);
}

// `--nutcracker` (npm test): twemproxy too, for the test that proves the classic-text fallback
// through it. Debian installs it in /usr/sbin, which a normal user's PATH may lack.
function ensureNutcracker() {
  const how = 'install it with "sudo apt-get install -y nutcracker" (or set NUTCRACKER_BIN)';
  const explicitProxy = process.env.NUTCRACKER_BIN;
  if (explicitProxy) {
    if (!isExecutable(explicitProxy)) fail(`NUTCRACKER_BIN=${explicitProxy} is not an executable file`);
    return;
  }
  if (onPath('nutcracker') || isExecutable('/usr/sbin/nutcracker')) return;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) fail(`nutcracker (twemproxy) is not installed; ${how}`);
  console.log(`${PREFIX} nutcracker not found; installing it with apt-get (running as root)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', 'nutcracker']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) fail(`"apt-get ${args.join(' ')}" failed (exit ${r.status ?? r.signal}); ${how}`);
  }
}
if (process.argv.includes('--nutcracker')) ensureNutcracker();

const explicit = process.env.MEMCACHED_BIN;
if (explicit) {
  // The harness uses MEMCACHED_BIN as given, so a bad value must not be papered over with PATH.
  if (!isExecutable(explicit)) fail(`MEMCACHED_BIN=${explicit} is not an executable file`);
  if (!runs(explicit)) fail(`MEMCACHED_BIN=${explicit} does not run ("${explicit} -V" failed)`);
  process.exit(0);
}

if (onPath('memcached')) process.exit(0);

const isRoot = process.getuid?.() === 0;
if (!isRoot || !onPath('apt-get')) fail(`memcached is not installed; ${HOW}`);

console.log(`${PREFIX} memcached not found; installing it with apt-get (running as root)`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', 'memcached']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) fail(`"apt-get ${args.join(' ')}" failed (exit ${r.status ?? r.signal}); ${HOW}`);
}

const installed = onPath('memcached');
if (!installed || !runs(installed)) fail(`apt-get finished but memcached is still not runnable; ${HOW}`);
