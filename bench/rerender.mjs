// @ts-check
/**
 * Rebuilds a results report from the runs it recorded, with the current bench/report.mjs: the
 * summaries, tables, goals and reference table of `bench/results/<name>.json` and `.md` are
 * computed again from the JSON's `runs` and `skips`; the header (date, machine, source commit,
 * mode) is kept. For a change of how runs are summarized, so recorded runs need not be run again.
 *
 *   node bench/rerender.mjs [latest]     # rewrites bench/results/latest.md and latest.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { metaReference, noiseReference, renderGoals, renderTable, speedGoals, summarize } from './report.mjs';
import { WORKLOADS } from './workloads.mjs';

const name = process.argv[2] ?? 'latest';
const jsonUrl = new URL(`./results/${name}.json`, import.meta.url);
const mdUrl = new URL(`./results/${name}.md`, import.meta.url);
const data = JSON.parse(readFileSync(jsonUrl, 'utf8'));
const md = readFileSync(mdUrl, 'utf8');

/** As run.mjs's capSFor: the run's cap, or a workload's own minimum. */
const capS = (/** @type {{ minCapS?: number }} */ w) => Math.max(data.capS, w.minCapS ?? 0);
/** The workloads as the bench defines them (keys, caps), in the order the run recorded. */
const workloads = data.workloads.map((/** @type {{ id: string }} */ w) => WORKLOADS.find((x) => x.id === w.id) ?? w);
// JSON turned non-finite numbers into null; the report expects NaN there.
const runs = data.runs.map((/** @type {Record<string, unknown>} */ r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? NaN : v])));
const summaries = summarize(runs, data.skips, data.clients.map((/** @type {{ id: string }} */ c) => c.id), data.workloads.map((/** @type {{ id: string }} */ w) => w.id));
const goals = speedGoals(summaries);

const header = md.slice(0, md.indexOf('## Results'))
  .replace(
    /Throughput and CPU are medians over the rounds; ratios are to the floor's median in the same run/,
    "Throughput and CPU are medians over the rounds; a ratio is the median over rounds of the client's figure / the floor's in the same round",
  )
  .replace(/^- report re-rendered .*\n/m, '')
  .replace(/^(- took .*\n)/m, `$1- report re-rendered from the recorded runs by \`node bench/rerender.mjs\` (${new Date().toISOString()}), with the summaries of bench/report.mjs as of then\n`);
const tables = workloads.map((/** @type {any} */ w) => renderTable(w, summaries.get(w.id) ?? new Map(), data.clients, capS(w))).join('\n\n');
const tail = md.slice(md.search(/\n## (Correctness|DATA LOSS)/) + 1);
const out = `${header}## Results\n\n${tables}\n\n## Speed goals\n\n${renderGoals(goals)}${metaReference(summaries, runs)}${noiseReference(summaries, runs)}\n\n${tail}`;
writeFileSync(mdUrl, out);
data.summaries = Object.fromEntries([...summaries].map(([w, m]) => [w, Object.fromEntries(m)]));
data.goals = goals;
writeFileSync(jsonUrl, JSON.stringify(data, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
process.stderr.write(`rewrote bench/results/${name}.md and ${name}.json from ${runs.length} recorded runs\n`);
