/**
 * vitest globalSetup: the package is built ONCE per test run, by the real build, and shared by every
 * test file that runs the built package (see test/support/build.ts for the folder and its use).
 *
 * `scripts/build.mjs` (what `npm run build` and `npm pack` run) builds into `.test-build-<pid>/`
 * at the repository root, which is then moved to `node_modules/.cache/memcluster-build-<pid>/dist`.
 * Why the detour: the source maps name their sources relative to the folder they are built in, so a
 * build one level below the root writes the same `../src/...` paths as a build into dist/ does,
 * and the packaging test packs the very bytes `npm pack` would. The root folder exists only while
 * tsup runs.
 *
 * A failed build does not stop the run: the error is handed to the files that need the build, which
 * fail with it, and every other file runs as usual.
 */
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { SharedBuild } from './build.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEST = path.join(ROOT, 'test');
const CACHE = path.join(ROOT, 'node_modules', '.cache');
const OUT_PREFIX = '.test-build-';
const PKG_PREFIX = 'memcluster-build-';

/** Whether `file` imports test/support/build.js itself or through a test/ module it imports (followed transitively). */
async function usesBuild(file: string, seen: Set<string>): Promise<boolean> {
  if (seen.has(file)) return false;
  seen.add(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return false;
  }
  if (/['"][./]*support\/build\.js['"]/.test(text)) return true;
  for (const m of text.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
    const target = path.resolve(path.dirname(file), `${m[1]}.ts`);
    if (target.startsWith(`${TEST}${path.sep}`) && (await usesBuild(target, seen))) return true;
  }
  return false;
}

/** A pid that no longer runs (its leftovers may go). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes the folders of runs that were killed before their teardown. */
async function removeLeftovers(): Promise<void> {
  for (const [dir, prefix] of [[ROOT, OUT_PREFIX], [CACHE, PKG_PREFIX]] as const) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : NaN;
      if (Number.isInteger(pid) && pid !== process.pid && gone(pid)) await rm(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

/** Builds into a fresh package folder; returns it, or the build's error and output. */
async function build(out: string, pkg: string): Promise<SharedBuild> {
  try {
    await rm(out, { recursive: true, force: true });
    await rm(pkg, { recursive: true, force: true });
    await mkdir(pkg, { recursive: true });
    await run(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), out], { cwd: ROOT, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })
      .catch((e: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`${e.message}\n${(e.stdout ?? '').slice(-4000)}${(e.stderr ?? '').slice(-4000)}`);
      });
    await rename(out, path.join(pkg, 'dist')).catch(async (e: NodeJS.ErrnoException) => {
      // node_modules on another file system: copy instead.
      if (e.code !== 'EXDEV') throw e;
      await cp(out, path.join(pkg, 'dist'), { recursive: true });
    });
    for (const f of ['package.json', 'README.md', 'LICENSE']) await copyFile(path.join(ROOT, f), path.join(pkg, f));
    return { dir: pkg };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const out = path.join(ROOT, `${OUT_PREFIX}${process.pid}`);
  const pkg = path.join(CACHE, `${PKG_PREFIX}${process.pid}`);
  const teardown = async () => {
    await rm(out, { recursive: true, force: true });
    await rm(pkg, { recursive: true, force: true });
  };
  // Only when a selected file needs it (no paths known: build, to be safe).
  const files = project.vitest.state.getPaths();
  const seen = new Set<string>();
  let needed = files.length === 0;
  for (const f of files) if (!needed && (await usesBuild(f, seen))) needed = true;
  if (!needed) return teardown;

  await removeLeftovers();
  const started = Date.now();
  const result = await build(out, pkg);
  const took = ((Date.now() - started) / 1000).toFixed(1);
  // One line, so the run says what it spent on the build (and the error, when there is one).
  console.log('error' in result ? `shared build FAILED after ${took} s (the files that need it will fail with its error)` : `shared build: ${path.relative(ROOT, pkg)} in ${took} s`);
  project.provide('memclusterBuild', result);
  return teardown;
}
