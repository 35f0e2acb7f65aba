/**
 * The package built once per test run, for the tests that run it as users get it (the packed
 * tarball, the examples, child processes that `require` the CommonJS build).
 *
 * test/support/build-setup.ts (a vitest globalSetup) runs the real build (`scripts/build.mjs`,
 * what `npm run build` runs) before any test file starts, into a private folder shaped like an
 * installed package, and removes it when the run ends:
 *
 *   node_modules/.cache/memcluster-build-<pid>/{package.json, README.md, LICENSE, dist/}
 *
 * It lives under this repository's node_modules, so the built code finds its dependencies (debug,
 * generic-pool, hashring, peers) the way an installed package does. Nobody else's build touches it
 * (theirs clean the shared dist/ at any time). Treat it as read-only: a test that needs files
 * beside the package (an example that imports 'memcluster' by name) makes its own folder with
 * `packageScope()`.
 *
 * The setup builds only when a selected test file imports this module (directly, or through a
 * helper of its own folder), so `npx vitest run test/protocol` pays for no build.
 */
import { copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';

/** What the globalSetup hands to the test files: the package folder, or why there is none. */
export type SharedBuild = { dir: string } | { error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by test/support/build-setup.ts; absent when no selected file needs the build. */
    memclusterBuild?: SharedBuild;
  }
}

/** The shared build of this run: `dir` holds package.json and `dist/`. Throws if the build failed or did not run. */
export function builtPackage(): { dir: string; dist: string } {
  const build = inject('memclusterBuild');
  if (!build) {
    throw new Error('no shared build in this run: test/support/build-setup.ts (vitest globalSetup) builds it when a selected test file imports test/support/build.js, directly or through a helper of its own folder');
  }
  if ('error' in build) throw new Error(`the shared build (scripts/build.mjs) failed:\n${build.error}`);
  return { dir: build.dir, dist: path.join(build.dir, 'dist') };
}

/**
 * Makes `dir` (emptied first) a private copy of the package scope: package.json and a `dist` link to
 * the shared build. Files placed in `dir` then import the package by its own name (`import ... from
 * 'memcluster'`, `require('memcluster/compat')`) through its `exports`, as in the repository, but
 * get the shared build instead of the repository's dist/. Put `dir` under the repository's
 * node_modules so those files find the dependencies too.
 */
export async function packageScope(dir: string): Promise<string> {
  const { dir: shared, dist } = builtPackage();
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile(path.join(shared, 'package.json'), path.join(dir, 'package.json'));
  await symlink(dist, path.join(dir, 'dist'), 'dir');
  return dir;
}
