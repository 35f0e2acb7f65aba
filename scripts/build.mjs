#!/usr/bin/env node
// The package build (`npm run build`, also run by `npm pack` / `npm publish` through `prepack`):
// tsup (tsup.config.ts), then one fix tsup has no hook for, because its declaration build runs
// apart from the JavaScript one: declarations must not default-import a Node built-in.
//
// `import tls from 'node:tls'` in a .d.ts compiles only for consumers with esModuleInterop (or
// allowSyntheticDefaultImports); many CommonJS code bases have neither. rollup-plugin-dts copies a
// source file's default import as is, so any src file written that way leaks it. Each such line
// becomes `import type * as tls from 'node:tls'`, which every consumer accepts.
//
// Usage: node scripts/build.mjs [outDir]   (default dist; test/packaging builds into its own folder)
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
const tsup = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsup.cmd' : 'tsup');

execFileSync(tsup, ['--out-dir', outDir], { cwd: root, stdio: 'inherit' });

const DEFAULT_IMPORT = /^import\s+(?:type\s+)?([A-Za-z_$][\w$]*)\s+from\s+(['"])(node:[^'"]+)\2;?$/gm;
let fixed = 0;
for (const file of readdirSync(outDir).filter((f) => /\.d\.[cm]?ts$/.test(f))) {
  const full = path.join(outDir, file);
  const text = readFileSync(full, 'utf8');
  const next = text.replace(DEFAULT_IMPORT, (_m, name, q, spec) => `import type * as ${name} from ${q}${spec}${q};`);
  if (next !== text) {
    writeFileSync(full, next);
    fixed++;
  }
}
if (fixed > 0) console.log(`build: ${fixed} declaration file(s): Node built-in default imports made 'import type * as'`);
