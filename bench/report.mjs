// @ts-check
/**
 * Turns the per-run results into per-workload summaries (medians over rounds), markdown tables,
 * the speed-goals check and the data-loss list.
 */

/** @param {number[]} xs */
export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * @typedef {object} Summary
 * @property {string} client
 * @property {string} workload
 * @property {number} rounds runs attempted
 * @property {number} finished runs that finished within the cap
 * @property {number} dnf
 * @property {number} skipped rounds not run (see `skipReason`)
 * @property {string | undefined} skipReason
 * @property {number} throughput median over finished runs
 * @property {number} cpuUsPerOp median
 * @property {number} msPerCall median
 * @property {number} loopMaxMs median of the per-run maxima
 * @property {number} loopWorstMs worst per-run maximum
 * @property {number} loopBusyMs median of the per-run longest on-CPU stretch (same window as loopMaxMs)
 * @property {number} heapGrowthMb median over runs of the per-run median heap growth per call (NaN if not measured)
 * @property {number} heapRetainedMb the same for the heap retained per call
 * @property {number} wrong
 * @property {number} missing
 * @property {number} errors
 * @property {string | undefined} firstError
 * @property {string | undefined} firstLoss
 * @property {number} throughputRatio to the floor: the median over rounds of this round's throughput / the floor's in the same round (NaN when no round has both)
 * @property {number} cpuRatio the same for CPU per op
 */

/**
 * The median over rounds of `a`'s figure / `b`'s figure in the same round, for rounds where both
 * finished. Clients of one round run back to back, seconds apart; rounds are minutes apart, and a
 * shared machine's speed drifts between them (the floor's own throughput moved 2-4x between rounds
 * of one run on 2026-12-07), so per-round ratios cancel what a ratio of medians would keep.
 * Falls back to the ratio of the medians when no round has both (e.g. a client run in round 1 only).
 * @param {import('./measure.mjs').RunResult[]} runs @param {string} w @param {string} a @param {string} b
 * @param {'throughput' | 'cpuUsPerOp'} field
 */
export function pairedRatio(runs, w, a, b, field) {
  const ratios = roundRatios(runs, w, a, b, field);
  if (ratios.length > 0) return median(ratios);
  const ok = (/** @type {string} */ c) => runs.filter((r) => r.workload === w && r.client === c && r.status === 'ok').map((r) => r[field]);
  return median(ok(a)) / median(ok(b));
}

/**
 * `a`'s figure / `b`'s figure in each round where both finished, in round order.
 * @param {import('./measure.mjs').RunResult[]} runs @param {string} w @param {string} a @param {string} b
 * @param {'throughput' | 'cpuUsPerOp'} field @returns {number[]}
 */
export function roundRatios(runs, w, a, b, field) {
  const ok = (/** @type {string} */ c) => runs.filter((r) => r.workload === w && r.client === c && r.status === 'ok');
  const bs = ok(b);
  const ratios = [];
  for (const x of ok(a)) {
    const y = bs.find((r) => r.round === x.round);
    if (y && y[field] > 0) ratios.push(x[field] / y[field]);
  }
  return ratios;
}

/**
 * @param {import('./measure.mjs').RunResult[]} runs
 * @param {{ client: string, workload: string, reason: string }[]} skips
 * @param {string[]} clientIds @param {string[]} workloadIds
 * @returns {Map<string, Map<string, Summary>>} workload -> client -> summary
 */
export function summarize(runs, skips, clientIds, workloadIds) {
  /** @type {Map<string, Map<string, Summary>>} */
  const out = new Map();
  for (const w of workloadIds) {
    /** @type {Map<string, Summary>} */
    const byClient = new Map();
    for (const c of clientIds) {
      const mine = runs.filter((r) => r.client === c && r.workload === w);
      const ok = mine.filter((r) => r.status === 'ok');
      const mySkips = skips.filter((s) => s.client === c && s.workload === w);
      if (mine.length === 0 && mySkips.length === 0) continue;
      const firstErr = mine.find((r) => r.firstError);
      const firstLoss = mine.find((r) => r.firstLoss);
      byClient.set(c, {
        client: c,
        workload: w,
        rounds: mine.length,
        finished: ok.length,
        dnf: mine.filter((r) => r.status === 'dnf').length,
        skipped: mySkips.length,
        skipReason: mySkips[0]?.reason,
        throughput: median(ok.map((r) => r.throughput)),
        cpuUsPerOp: median(ok.map((r) => r.cpuUsPerOp)),
        msPerCall: median(ok.map((r) => r.msPerCall)),
        loopMaxMs: median(ok.map((r) => r.loopMaxMs)),
        loopWorstMs: Math.max(-Infinity, ...ok.map((r) => r.loopMaxMs)),
        loopBusyMs: median(ok.flatMap((r) => (r.loopBusyMs === undefined ? [] : [r.loopBusyMs]))),
        heapGrowthMb: median(ok.flatMap((r) => (r.heapGrowthMb === undefined ? [] : [r.heapGrowthMb]))),
        heapRetainedMb: median(ok.flatMap((r) => (r.heapRetainedMb === undefined ? [] : [r.heapRetainedMb]))),
        wrong: mine.reduce((a, r) => a + r.wrong, 0),
        missing: mine.reduce((a, r) => a + r.missing, 0),
        errors: mine.reduce((a, r) => a + r.errors, 0) + mine.filter((r) => r.status === 'failed').length,
        firstError: firstErr && `round ${firstErr.round}: ${firstErr.firstError}`,
        firstLoss: firstLoss && `round ${firstLoss.round}: ${firstLoss.firstLoss}`,
        throughputRatio: NaN,
        cpuRatio: NaN,
      });
    }
    const base = byClient.get('baseline');
    for (const s of byClient.values()) {
      if (base && base.finished && s.finished) {
        s.throughputRatio = pairedRatio(runs, w, s.client, 'baseline', 'throughput');
        s.cpuRatio = pairedRatio(runs, w, s.client, 'baseline', 'cpuUsPerOp');
      }
    }
    out.set(w, byClient);
  }
  return out;
}

/** @param {Summary} s */
export const hasDataLoss = (s) => s.wrong + s.missing > 0;

const int = (/** @type {number} */ n) => Math.round(n).toLocaleString('en-US');
/** Three significant digits, no exponent. @param {number} n */
function sig(n) {
  if (!Number.isFinite(n)) return '-';
  if (n >= 100) return int(n);
  return n.toPrecision(3);
}
const ratio = (/** @type {number} */ r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');

/** @param {Summary} s @param {number} capS */
function correctness(s, capS) {
  const parts = [];
  if (hasDataLoss(s)) parts.push(`**DATA LOSS: ${s.wrong} wrong, ${s.missing} missing**`);
  if (s.errors) parts.push(`${s.errors} errors`);
  if (s.dnf) parts.push(`did not finish in ${capS} s (${s.dnf} of ${s.rounds} runs)`);
  if (s.skipped) parts.push(`${s.skipped} round(s) not run: ${s.skipReason}`);
  return parts.length ? parts.join('; ') : 'ok';
}

/**
 * @param {import('./workloads.mjs').Workload} workload
 * @param {Map<string, Summary>} byClient
 * @param {import('./clients.mjs').ClientSpec[]} clients
 * @param {number} capS
 */
export function renderTable(workload, byClient, clients, capS) {
  const unit = workload.unit;
  const per = unit === 'keys/s' ? 'key' : 'op';
  const heap = (workload.keys ?? 0) >= 100_000;
  const extra = (unit === 'keys/s' ? ' | ms per call' : '') + (heap ? ' | heap MB per call (growth / retained)' : '');
  const loopWhat = unit === 'keys/s' ? 'during a call' : 'during the run';
  const lines = [
    `### ${workload.title}`,
    '',
    `_${workload.what}._`,
    '',
    `| client | throughput (${unit}, median) | ratio to floor | CPU µs/${per} | ratio | worst loop delay ${loopWhat}, ms (median / worst run; longest on-CPU stretch) | correctness${extra} |`,
    `|---|--:|--:|--:|--:|--:|---${unit === 'keys/s' ? '|--:' : ''}${heap ? '|--:' : ''}|`,
  ];
  for (const spec of clients) {
    const s = byClient.get(spec.id);
    if (!s) continue;
    const tp = s.finished ? int(s.throughput) : s.dnf ? `did not finish in ${capS} s` : s.skipped && !s.rounds ? 'not run' : 'failed';
    const loop = s.finished ? `${sig(s.loopMaxMs)} / ${sig(s.loopWorstMs)}${Number.isFinite(s.loopBusyMs) ? ` (on CPU ${sig(s.loopBusyMs)})` : ''}` : '-';
    const name = spec.id === 'baseline' ? `**${spec.label}**` : spec.label;
    const call = (unit === 'keys/s' ? ` | ${s.finished ? sig(s.msPerCall) : '-'}` : '')
      + (heap ? ` | ${Number.isFinite(s.heapGrowthMb) ? `${sig(s.heapGrowthMb)} / ${sig(s.heapRetainedMb)}` : '-'}` : '');
    lines.push(`| ${name} | ${tp} | ${ratio(s.throughputRatio)} | ${sig(s.cpuUsPerOp)} | ${ratio(s.cpuRatio)} | ${loop} | ${correctness(s, capS)}${call} |`);
  }
  const notes = [...byClient.values()].flatMap((s) => {
    const label = clients.find((c) => c.id === s.client)?.label ?? s.client;
    return [
      ...(s.firstLoss ? [`- DATA LOSS, ${label}: ${s.firstLoss}`] : []),
      ...(s.firstError ? [`- error, ${label}: ${s.firstError}`] : []),
    ];
  });
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n');
}

/** The event-loop goal of the large multi-key calls (issue 11 / 14): ms of worst delay during a call. */
export const LOOP_GOAL_MS = 50;

/**
 * The goals (issue 14), judged on memcluster (default: validation on every borrow, coalescing on)
 * against the floor of the same run: medians of the rounds. Loop-delay goals are judged on the
 * median over rounds of each run's worst delay during a call; the worst run is shown beside it.
 * @param {Map<string, Map<string, Summary>>} summaries
 * @returns {{ goal: string, pass: boolean | undefined, measured: string }[]}
 */
export function speedGoals(summaries) {
  const get = (/** @type {string} */ w, /** @type {string} */ c) => summaries.get(w)?.get(c);
  /** @type {{ goal: string, pass: boolean | undefined, measured: string }[]} */
  const goals = [];
  const mc = (/** @type {string} */ w) => get(w, 'memcluster');
  const base = (/** @type {string} */ w) => get(w, 'baseline');
  for (const [w, name] of [['get-64', '64 concurrent gets'], ['set-64', '64 concurrent sets']]) {
    const m = mc(w);
    const b = base(w);
    const ok = m && b && m.finished && b.finished;
    goals.push({
      goal: `${name}: throughput >= the floor (1.00x), validation on`,
      pass: ok ? m.throughputRatio >= 1 : undefined,
      measured: ok ? `${ratio(m.throughputRatio)} (median of per-round ratios; medians ${int(m.throughput)} vs ${int(b.throughput)} ops/s)` : 'not measured',
    });
  }
  for (const [what, limit, key] of /** @type {const} */ ([['throughput >= 0.9x the floor', 0.9, 'throughputRatio'], ['client CPU per op <= 1.2x the floor', 1.2, 'cpuRatio']])) {
    const rows = [];
    let pass = true;
    let any = false;
    for (const [w, byClient] of summaries) {
      const m = byClient.get('memcluster');
      if (!m || !Number.isFinite(m[key])) continue;
      any = true;
      const miss = key === 'throughputRatio' ? m[key] < limit : m[key] > limit;
      if (miss) pass = false;
      rows.push(`${w} ${ratio(m[key])}${miss ? ' (**miss**)' : ''}`);
    }
    goals.push({ goal: `every workload: ${what}`, pass: any ? pass : undefined, measured: rows.join(', ') || 'not measured' });
  }
  for (const [w, name] of [['getmulti-100000', 'getMulti'], ['setmulti-100000', 'setMulti'], ['deletemulti-100000', 'deleteMulti']]) {
    const m = mc(w);
    const ok = m && m.finished;
    const heap = ok && Number.isFinite(m.heapGrowthMb) ? `; heap per call ${sig(m.heapGrowthMb)} MB growth, ${sig(m.heapRetainedMb)} MB retained` : '';
    goals.push({
      goal: `${name} of 100,000 keys over 3 servers: worst event-loop delay during a call <= ${LOOP_GOAL_MS} ms`,
      pass: ok ? m.loopMaxMs <= LOOP_GOAL_MS : undefined,
      measured: ok ? `${sig(m.loopMaxMs)} ms (median of runs), worst run ${sig(m.loopWorstMs)} ms; longest on-CPU stretch ${sig(m.loopBusyMs)} ms; ${int(m.msPerCall)} ms per call${heap}` : 'not measured',
    });
  }
  {
    const m = mc('getmulti-100000');
    const ok = m && m.finished;
    goals.push({
      goal: 'getMulti of 100,000 keys: under 0.5 s per call',
      pass: ok ? m.msPerCall < 500 : undefined,
      measured: ok ? `${int(m.msPerCall)} ms per call (median)` : 'not measured',
    });
  }
  return goals;
}

/** @param {{ goal: string, pass: boolean | undefined, measured: string }[]} goals */
export function renderGoals(goals) {
  return [
    '| goal | result | measured (memcluster default vs the floor, same run) |',
    '|---|---|---|',
    ...goals.map((g) => `| ${g.goal} | ${g.pass === undefined ? 'n/a' : g.pass ? 'PASS' : '**FAIL**'} | ${g.measured} |`),
  ].join('\n');
}

/**
 * memcluster (default) on meta servers against the floor on the same wire (quiet `mg` lines), for
 * the getMulti workloads both ran: what memcluster costs over that wire, apart from what the wire
 * costs over `get` lines. Informational; the goals are judged against the floor. '' when not run.
 * @param {Map<string, Map<string, Summary>>} summaries @param {import('./measure.mjs').RunResult[]} runs
 */
export function metaReference(summaries, runs) {
  const rows = [];
  for (const [w, byClient] of summaries) {
    const m = byClient.get('memcluster');
    const f = byClient.get('baseline-meta');
    if (!m?.finished || !f?.finished) continue;
    const vs = (/** @type {'throughput' | 'cpuUsPerOp'} */ field) => ratio(pairedRatio(runs, w, 'memcluster', 'baseline-meta', field));
    rows.push(`| ${w} | ${ratio(f.throughputRatio)} / ${ratio(f.cpuRatio)} | ${vs('throughput')} / ${vs('cpuUsPerOp')} |`);
  }
  if (rows.length === 0) return '';
  return ['', '', 'Reference, not a goal: the same getMulti calls against the floor on the meta wire (`mg <key> v f k q` lines, as memcluster sends to meta servers).', '',
    '| workload | meta-wire floor vs the floor (throughput / CPU) | memcluster (default) vs the meta-wire floor (throughput / CPU) |', '|---|--:|--:|', ...rows].join('\n');
}

/**
 * The run's own noise: the floor against itself (`baseline-again`, the same code as a second
 * client in its own slot of each round), beside memcluster (default) against the floor, as the
 * median and the range of the per-round ratios. A ratio of memcluster's inside the floor's own
 * range cannot be told from noise in this run. '' when the second floor did not run.
 * @param {Map<string, Map<string, Summary>>} summaries @param {import('./measure.mjs').RunResult[]} runs
 */
export function noiseReference(summaries, runs) {
  const rows = [];
  const spread = (/** @type {number[]} */ xs) => (xs.length === 0 ? 'n/a' : `${ratio(median(xs))} (${ratio(Math.min(...xs))}-${ratio(Math.max(...xs))})`);
  for (const [w, byClient] of summaries) {
    if (!byClient.get('baseline-again')?.finished || !byClient.get('baseline')?.finished) continue;
    const cells = [];
    for (const c of ['baseline-again', 'memcluster']) {
      for (const field of /** @type {const} */ (['throughput', 'cpuUsPerOp'])) cells.push(spread(roundRatios(runs, w, c, 'baseline', field)));
    }
    rows.push(`| ${w} | ${cells.join(' | ')} |`);
  }
  if (rows.length === 0) return '';
  return ['', '', "Reference, not a goal: the run's own noise. The floor against itself (the same floor code as a second client, in its own slot of each round) beside memcluster (default) against the floor: median of the per-round ratios, and their range over the rounds.", '',
    '| workload | floor again: throughput | floor again: CPU | memcluster: throughput | memcluster: CPU |', '|---|--:|--:|--:|--:|', ...rows].join('\n');
}
