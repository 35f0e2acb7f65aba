/**
 * The package as a user installs it. Stages the run's shared build (`npm run build` once per run,
 * test/support/build.ts; other people's builds clean the shared dist/ at any time) with
 * package.json, README.md and LICENSE in a private folder, runs `npm pack` there, unpacks the
 * tarball into a separate consumer project's node_modules/memcluster, and from that project:
 * - imports every entry of package.json `exports` from an .mjs and a .cjs file: every export is the
 *   same object through `import` and `require` (one runtime copy), and an error thrown through one
 *   is `instanceof` the classes of the other (also across `memcluster` and `memcluster/compat`);
 * - compiles TypeScript importing every entry with moduleResolution node10 (CommonJS, without
 *   esModuleInterop, skipLibCheck off so the shipped declarations are checked too), node16 (a .cts
 *   and an .mts) and bundler, then runs what tsc emitted;
 * - checks the tarball: LICENSE, README and dist only; every package the code imports is a declared
 *   dependency; no declaration default-imports a Node built-in; README links resolve inside it.
 *
 * Offline: the consumer project lives under this repository's node_modules/.cache, so the packed
 * code finds its dependencies (debug, generic-pool, hashring, and any peer) in node_modules above it.
 */
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFile, cp, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtPackage } from '../support/build.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = path.join(ROOT, 'node_modules', '.cache', `memcluster-pack-test-${process.pid}`);
const STAGE = path.join(WORK, 'stage');
const APP = path.join(WORK, 'app');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; exports: Record<string, unknown>; dependencies?: Record<string, string>; peerDependencies?: Record<string, string>;
  typesVersions?: Record<string, Record<string, string[]>>;
};
/** `memcluster`, `memcluster/compat`, ...: every entry the package exports (package.json excepted). */
const ENTRIES = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

let files: string[] = [];

async function node(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, [file], { cwd: APP, env, timeout: 20_000 });
  return stdout;
}

beforeAll(async () => {
  await rm(WORK, { recursive: true, force: true });
  await mkdir(STAGE, { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE']) await copyFile(path.join(ROOT, f), path.join(STAGE, f));
  // The build `npm pack` runs (prepack -> npm run build) is the run's shared build: staged here, and
  // packed with --ignore-scripts so prepack does not build again.
  await cp(builtPackage().dist, path.join(STAGE, 'dist'), { recursive: true });
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', WORK], { cwd: STAGE, env, timeout: 60_000 });
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = info!.files.map((f) => f.path).sort();
  await mkdir(path.join(APP, 'node_modules'), { recursive: true });
  await run('tar', ['-xzf', path.join(WORK, info!.filename), '-C', path.join(APP, 'node_modules')]);
  await rename(path.join(APP, 'node_modules', 'package'), path.join(APP, 'node_modules', pkg.name));
  await writeFile(path.join(APP, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
}, 180_000);

afterAll(() => rm(WORK, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('holds LICENSE, README.md, package.json and dist/ only, with every entry built for import, require and both kinds of types', () => {
    expect(files.filter((f) => !f.startsWith('dist/'))).toEqual(['LICENSE', 'README.md', 'package.json']);
    for (const entry of Object.keys(pkg.exports).filter((k) => k !== './package.json')) {
      const base = entry === '.' ? 'index' : entry.slice(2);
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) expect(files).toContain(`dist/${base}${ext}`);
      // TypeScript's node10 resolution ignores `exports`: subpaths need typesVersions.
      if (entry !== '.') expect(pkg.typesVersions?.['*']?.[base]).toEqual([`./dist/${base}.d.cts`]);
    }
  });

  it('imports only Node built-ins and declared dependencies', async () => {
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const seen = new Set<string>();
    for (const f of files.filter((x) => /\.c?js$/.test(x))) {
      const text = await readFile(path.join(APP, 'node_modules', pkg.name, f), 'utf8');
      for (const m of text.matchAll(/(?:require\(|from\s*|import\()\s*["']([^"'./][^"']*)["']/g)) {
        const spec = m[1]!.replace(/^node:/, '');
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!builtins.has(spec) && !builtins.has(name)) seen.add(name);
      }
    }
    expect([...seen].filter((n) => !declared.has(n))).toEqual([]);
  });

  it('no declaration default-imports a Node built-in (that needs esModuleInterop in the consumer)', async () => {
    for (const f of files.filter((x) => /\.d\.c?ts$/.test(x))) {
      const text = await readFile(path.join(APP, 'node_modules', pkg.name, f), 'utf8');
      expect(text.match(/^import\s+(?:type\s+)?[A-Za-z_$][\w$]*\s*(?:,|from)[^;]*['"]node:[^'"]+['"]/gm) ?? [], f).toEqual([]);
    }
  });

  it('README links point at the web or at files the tarball ships', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const local = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^(https?:|mailto:|#)/.test(l));
    expect(local.map((l) => l.replace(/^\.\//, '').replace(/#.*$/, '')).filter((l) => !files.includes(l))).toEqual([]);
  });
});

describe('one runtime copy: import and require give the same objects', () => {
  /** Compares every export of every entry through both module systems; throws an error through each and checks instanceof across. */
  const check = (load: string) => `
    const out = {};
    for (const spec of ${JSON.stringify(ENTRIES)}) {
      const esm = await import(spec);
      const cjs = require(spec);
      const names = Object.keys(esm);
      const differ = names.filter((n) => esm[n] !== (n === 'default' && !cjs.__esModule ? cjs : cjs[n]));
      out[spec] = { exports: names.length, differ };
    }
    const esm = await import('memcluster');
    const cjs = require('memcluster');
    const thrown = (fn) => { try { fn(); } catch (e) { return e; } return undefined; };
    const fromEsm = thrown(() => new esm.Client('127.0.0.1:11211', { poolSize: 5 }));
    const fromCjs = thrown(() => new cjs.Client('memcached://127.0.0.1:11211/x'));
    const Memcached = require('memcluster/compat');
    // A key with a space: compat calls back with memcluster's InvalidKeyError (nothing is sent).
    const fromCompat = await new Promise((resolve) => {
      const mc = new Memcached('127.0.0.1:1');
      mc.get('bad key', (err) => { mc.end(); resolve(err); });
    });
    out.instanceof = [
      fromEsm instanceof cjs.InvalidOptionError, fromEsm instanceof cjs.MemclusterError,
      fromCjs instanceof esm.InvalidOptionError, fromCjs instanceof esm.MemclusterError,
      fromCompat instanceof esm.MemclusterError, fromCompat instanceof cjs.InvalidKeyError,
      (await import('memcluster/compat')).default === Memcached, typeof Memcached,
    ];
    out.loadedFrom = ${load};
    console.log(JSON.stringify(out));
  `;
  const expected = {
    ...Object.fromEntries(ENTRIES.map((e) => [e, { exports: expect.any(Number), differ: [] }])),
    instanceof: [true, true, true, true, true, true, true, 'function'],
  };

  it('from an .mjs file', async () => {
    await writeFile(path.join(APP, 'check.mjs'), `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${check("import.meta.resolve('memcluster')")}`);
    const out = JSON.parse(await node('check.mjs'));
    expect(out).toMatchObject(expected);
    expect(out.loadedFrom).toContain(`/app/node_modules/${pkg.name}/dist/index.js`);
    for (const e of ENTRIES) expect(out[e].exports).toBeGreaterThan(0);
  });

  it('from a .cjs file', async () => {
    await writeFile(path.join(APP, 'check.cjs'), `(async () => {\n${check("require.resolve('memcluster')")}\n})().catch((e) => { console.error(e); process.exit(1); });`);
    const out = JSON.parse(await node('check.cjs'));
    expect(out).toMatchObject(expected);
    expect(out.loadedFrom).toContain(`/app/node_modules/${pkg.name}/dist/index.cjs`);
  });
});

describe('TypeScript consumers compile against the shipped declarations and run', () => {
  /** Code using the main entry's types: a narrowable error code, options, a client. */
  const body = `
    const err: unknown = new MemclusterError('MC_ERR_TIMEOUT', 'x');
    if (err instanceof MemclusterError) {
      const code: ErrorCode = err.code;
      // @ts-expect-error: codes are a union of literals, not any string
      const bad: ErrorCode = 'MC_ERR_NOPE';
      void bad;
      console.log(code === 'MC_ERR_TIMEOUT' ? 'narrowed' : 'no');
    }
    const options: ClientOptions = { timeoutMs: 200, keyPrefix: 'app:' };
    const mc = new Client(['127.0.0.1:11211'], options);
    void mc.close();
  `;
  /** Every entry imported in a way each resolution mode allows, so each entry's types must resolve. */
  const imports = (esm: boolean) => ENTRIES.map((spec, i) => {
    if (spec === `${pkg.name}/compat`) return esm ? `import Memcached from '${spec}';\nconsole.log(typeof Memcached);` : `import Memcached = require('${spec}');\nconsole.log(typeof Memcached);`;
    return `import * as entry${i} from '${spec}';\nconsole.log(Object.keys(entry${i}).length > 0);`;
  }).join('\n');

  // skipLibCheck off checks the shipped .d.ts files themselves (and all of @types/node, which is
  // what makes it slow): once, in the strictest setting, CommonJS without esModuleInterop.
  const modes: Array<[string, string, Record<string, unknown>, boolean]> = [
    ['node10', 'node10.ts', { module: 'commonjs', moduleResolution: 'node10', skipLibCheck: false }, false],
    ['node16 (CJS)', 'node16.cts', { module: 'node16', moduleResolution: 'node16' }, false],
    ['node16 (ESM)', 'node16.mts', { module: 'node16', moduleResolution: 'node16' }, true],
    ['bundler', 'bundler.ts', { module: 'esnext', moduleResolution: 'bundler' }, true],
  ];

  // Concurrent: each is a separate tsc process.
  it.concurrent.each(modes)('moduleResolution %s', async (name, file, compilerOptions, esm) => {
    const dir = path.join(APP, 'ts', name.replace(/\W+/g, '-'));
    await mkdir(dir, { recursive: true });
    // Output .js of the bundler mode is ESM: say so for node.
    if (file === 'bundler.ts') await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const source = `import { Client, MemclusterError, type ClientOptions, type ErrorCode } from '${pkg.name}';\n${imports(esm)}\n${body}`;
    await writeFile(path.join(dir, file), source);
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'es2022', strict: true, skipLibCheck: true, esModuleInterop: false, types: ['node'], outDir: 'out', rootDir: '.', ...compilerOptions,
      },
      files: [file],
    }));
    const tsc = await run(process.execPath, [TSC, '-p', dir], { cwd: dir, env, timeout: 100_000 })
      .then(() => ({ code: 0, signal: null, output: '' }))
      .catch((e: { code?: number; signal?: string; stdout?: string; stderr?: string }) => ({ code: e.code, signal: e.signal ?? null, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }));
    expect(tsc).toEqual({ code: 0, signal: null, output: '' });
    const emitted = (await readdir(path.join(dir, 'out'))).find((f) => /\.[cm]?js$/.test(f))!;
    const lines = (await node(path.join(dir, 'out', emitted))).trim().split('\n');
    expect(lines).toEqual([...ENTRIES.map((e) => (e === `${pkg.name}/compat` ? 'function' : 'true')), 'narrowed']);
  }, 150_000);
});
