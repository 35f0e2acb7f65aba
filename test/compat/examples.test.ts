/**
 * The package as users get it (the run's shared build of `npm run build`, test/support/build.ts),
 * from a private package folder holding package.json, a link to that build's dist/ and copies of
 * the two examples (other people's builds clean the shared dist/ while tests run), then
 * - runs examples/compat-before.cjs (`require('memcached')`) and examples/compat-after.cjs
 *   (`require('memcluster/compat')`, resolved through package.json `exports` to dist/) against the
 *   same real servers, and checks the two files differ only in that line and print the same output;
 * - `require('memcluster/compat')` returns the class itself (like `require('memcached')`);
 * - the @types/memcached-style usage of types-check.ts compiles against the BUILT declarations,
 *   through `import x = require()` (.d.cts) and an ESM default import (.d.ts).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageScope } from '../support/build.js';
import { useMemcached } from '../support/memcached.js';
import { ROOT } from './helpers.js';

const exec = promisify(execFile);
/** The private package folder (under node_modules, so `require('memcached')` and the build's dependencies resolve). */
const SCOPE = path.join(ROOT, 'node_modules', '.cache', `memcluster-compat-examples-${process.pid}`);
/** Runs node in SCOPE, where `memcluster` resolves (by its own name) to the shared build. */
const node = (args: string[], env: Record<string, string> = {}) =>
  exec(process.execPath, args, { cwd: SCOPE, env: { ...process.env, ...env }, timeout: 20_000 });

/** The code of an example without its leading doc comment. */
const code = (file: string): string[] => fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8').replace(/^'use strict';\n\/\*\*[\s\S]*?\*\/\n/, '').split('\n');

describe('the built package and the before/after examples', () => {
  const servers = useMemcached(2);
  beforeAll(async () => {
    await packageScope(SCOPE);
    fs.mkdirSync(path.join(SCOPE, 'examples'));
    for (const f of ['compat-before.cjs', 'compat-after.cjs']) fs.copyFileSync(path.join(ROOT, 'examples', f), path.join(SCOPE, 'examples', f));
  });
  afterAll(() => fs.rmSync(SCOPE, { recursive: true, force: true }));

  it('the after example is the before example with only the require line changed', () => {
    const before = code('compat-before.cjs');
    const after = code('compat-after.cjs');
    expect(after).toHaveLength(before.length);
    const changed = before.map((line, i) => [line, after[i]]).filter(([b, a]) => b !== a);
    expect(changed).toEqual([["const Memcached = require('memcached');", "const Memcached = require('memcluster/compat');"]]);
  });

  it('both examples run against real servers, print the same, and exit by themselves', async () => {
    const env = { MEMCLUSTER_SERVERS: servers.map((s) => s.address).join(',') };
    const before = await node(['examples/compat-before.cjs'], env);
    const after = await node(['examples/compat-after.cjs'], env);
    expect(before.stderr).toBe('');
    expect(after.stderr).toBe('');
    expect(before.stdout.split('\n').length).toBeGreaterThan(15);
    expect(before.stdout).toContain('add existing                 [{"message":"Item is not stored","notStored":true},false]');
    expect(after.stdout).toBe(before.stdout);
  });

  it('require(\'memcluster/compat\') is the class; it shares error classes with require(\'memcluster\')', async () => {
    const script = `
      const Memcached = require('memcluster/compat');
      const { MemclusterError } = require('memcluster');
      const a = new Memcached('127.0.0.1:1', { timeout: 300, failures: 1 });
      const b = Memcached('127.0.0.1:1');
      a.get('k', (err) => {
        console.log(JSON.stringify([typeof Memcached, Memcached.name, Memcached.config.poolSize, a instanceof Memcached,
          b instanceof Memcached, err instanceof MemclusterError]));
        a.end(); b.end();
      });`;
    const { stdout } = await node(['-e', script]);
    expect(JSON.parse(stdout)).toEqual(['function', 'Memcached', 10, true, true, true]);
    const esm = await node(['--input-type=module', '-e', "import M from 'memcluster/compat'; console.log(typeof M, M.config.timeout);"]);
    expect(esm.stdout.trim()).toBe('function 5000');
  });

  it('code written for @types/memcached type-checks against the built declarations (CJS and ESM)', async () => {
    const usage = fs.readFileSync(path.join(ROOT, 'test/compat/types-check.ts'), 'utf8').split('// ---- USAGE ----')[1]!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-types-'));
    try {
      fs.mkdirSync(path.join(dir, 'node_modules'));
      for (const [name, target] of [['memcluster', SCOPE], ['memcached', path.join(ROOT, 'node_modules/memcached')], ['@types', path.join(ROOT, 'node_modules/@types')]]) {
        fs.symlinkSync(target!, path.join(dir, 'node_modules', name!), 'dir');
      }
      fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "consumer", "private": true }');
      fs.writeFileSync(path.join(dir, 'usage-cjs.cts'), `import Memcached = require('memcluster/compat');\nimport LegacyMemcached = require('memcached');\n${usage}`);
      fs.writeFileSync(path.join(dir, 'usage-esm.mts'), `import Memcached from 'memcluster/compat';\nimport type LegacyMemcached from 'memcached';\n${usage}`);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, esModuleInterop: true, types: ['node'] },
        files: ['usage-cjs.cts', 'usage-esm.mts'],
      }));
      const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
      const result = await exec(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(() => 'ok', (e: { stdout: string }) => e.stdout);
      expect(result).toBe('ok');
      // The check can fail: the same files with a wrong call do not compile.
      fs.appendFileSync(path.join(dir, 'usage-cjs.cts'), "\nnew Memcached('x').set('k', 'v', 'soon', () => {});\n");
      const broken = await exec(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(() => 'ok', (e: { stdout: string }) => e.stdout);
      expect(broken).toMatch(/usage-cjs\.cts.*TS2345/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000); // two tsc runs: each can take about a minute on a busy machine (as in test/packaging/pack.test.ts)
});
