// @ts-check
/**
 * What the tracing wrapper costs with nobody subscribed (issue: <= 2% on 64 concurrent gets).
 * Builds this commit twice in temporary git worktrees, once as is and once with `traceMethods`
 * turned into a no-op (no wrapper at all), then runs `bench/profile.mjs get-64 --no-prof` on each,
 * interleaved, and prints client CPU per op, per-round ratios and their median.
 *
 *   node bench/tracing-cost.mjs [--rounds 5] [--seconds 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '3' } } });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const base = mkdtempSync(path.join(os.tmpdir(), 'memcluster-tracing-'));
const trees = { wrapped: path.join(base, 'wrapped'), bare: path.join(base, 'bare') };
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
try {
  for (const dir of Object.values(trees)) {
    run('git', ['worktree', 'add', '--detach', '-q', dir, 'HEAD'], root);
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  }
  const file = path.join(trees.bare, 'src/client/tracing.ts');
  const src = readFileSync(file, 'utf8');
  const at = src.indexOf('{', src.indexOf('hooks: TraceHooks<T>): void'));
  if (at < 0) throw new Error('traceMethods not found: update bench/tracing-cost.mjs');
  writeFileSync(file, `${src.slice(0, at + 1)}\n  return; // bench: no wrapper\n${src.slice(at + 1)}`);
  for (const dir of Object.values(trees)) run('npx', ['tsup', '--silent'], dir);
  const cpu = { wrapped: [], bare: [] };
  for (let r = 0; r < Number(opts.rounds); r++) {
    const order = r % 2 === 0 ? ['wrapped', 'bare'] : ['bare', 'wrapped'];
    for (const name of order) {
      const out = run('node', ['bench/profile.mjs', 'get-64', '--seconds', opts.seconds, '--no-prof', '--client', 'memcluster'], trees[name]);
      const m = /CPU ([\d.]+) µs per op/.exec(out);
      if (!m) throw new Error(`no CPU figure in: ${out}`);
      cpu[name].push(Number(m[1]));
    }
    console.log(`round ${r + 1}: wrapped ${cpu.wrapped[r]} µs/op, bare ${cpu.bare[r]} µs/op, ratio ${(cpu.wrapped[r] / cpu.bare[r]).toFixed(3)}`);
  }
  const ratios = cpu.wrapped.map((w, i) => w / cpu.bare[i]).sort((a, b) => a - b);
  console.log(`median ratio (client CPU per op, tracing wrapper with no subscriber / no wrapper): ${ratios[Math.floor(ratios.length / 2)].toFixed(3)} (goal <= 1.02)`);
} finally {
  for (const dir of Object.values(trees)) {
    try { run('git', ['worktree', 'remove', '--force', dir], root); } catch { /* not created */ }
  }
  rmSync(base, { recursive: true, force: true });
}
