#!/usr/bin/env node
'use strict';
// Diff of two ~200 MB snapshots of the same process: leakguard against heap-snapshot-toolkit.
//
//   node bench/diff.js [--mb 200] [--runs 3] [--only a,b] [--timeout S] [--regen]
//
// Snapshots: a child (this file with --gen) builds gen-snapshot.js's graph in 10 equal
// parts (sized so the snapshot is ~--mb MB), writes out/diffA-<mb>.heapsnapshot, replaces
// one part with a freshly built one (~10% of the objects: same classes, new ids), adds
// half a part more (~5% new objects), and writes out/diffB-<mb>.heapsnapshot. Existing
// files are reused unless --regen.
// Then each contender runs --runs times, each run its own child (--child <name>), which
// times the two loads and the diff separately and reports its peak RSS
// (process.resourceUsage().maxRSS) and the diff rows. The parent prints the medians,
// the ratios, and checks that the tools agree: the number of changed classes, and the
// added/removed counts of the top 5 classes by size delta.
// Results go to out/diff-results.json (overwritten).
//
//   node bench/diff.js --leaks [--mb 200] [--runs 3] [--regen]
//
// findLeaks on three snapshots of one process (leakguard only: no competitor has the
// three-snapshot technique as a call): a child (--gen-leaks) builds the graph in 10 parts,
// writes leaksA, replaces one part and adds half a part (the "leak"), writes leaksB, adds
// another half part, writes leaksC. Each run is a child that times the three loads and
// findLeaks apart and reports its peak RSS. Results go to out/leaks-results.json.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { OUT, median, machine, fmtTime } = require('./parse');
const { buildGraph, readHeader } = require('./gen-snapshot');
const { spawnChild, unitsFor } = require('./capture');

const RESULTS = path.join(OUT, 'diff-results.json');
const LEAK_RESULTS = path.join(OUT, 'leaks-results.json');
const PARTS = 10;
// gen-snapshot.js's bytes per unit are for one big graph; 10 smaller ones have less slack
// in their Maps' and arrays' backing stores: measured 184 MB for unitsFor(200).
const PARTS_SIZE_FACTOR = 1.085;

// ------------------------------------------------------------- the snapshots

function generateChild(units, fileA, fileB) {
  const per = Math.round(units / PARTS);
  const parts = [];
  for (let i = 0; i < PARTS; i++) parts.push(buildGraph(per));
  globalThis.__leakguardBenchGraph = parts;
  v8.writeHeapSnapshot(fileA);
  parts[0] = buildGraph(per); // replaced: the old part is garbage at the next snapshot
  parts.push(buildGraph(Math.round(per / 2))); // added
  v8.writeHeapSnapshot(fileB);
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: true, units: per * PARTS, added: Math.round(per / 2) })}\n`);
}

// Three snapshots for findLeaks: A, then churn + growth (B), then more growth (C).
function generateLeaksChild(units, files) {
  const per = Math.round(units / PARTS);
  const parts = [];
  for (let i = 0; i < PARTS; i++) parts.push(buildGraph(per));
  globalThis.__leakguardBenchGraph = parts;
  v8.writeHeapSnapshot(files[0]);
  parts[0] = buildGraph(per);
  parts.push(buildGraph(Math.round(per / 2)));
  v8.writeHeapSnapshot(files[1]);
  parts.push(buildGraph(Math.round(per / 2)));
  v8.writeHeapSnapshot(files[2]);
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: true, units: per * PARTS })}\n`);
}

/** `t(step, fn)`: awaits fn and records its wall time in `steps[step]` (ms). */
function stepTimer(steps) {
  return async (step, fn) => {
    const t0 = process.hrtime.bigint();
    const v = await fn();
    steps[step] = Number(process.hrtime.bigint() - t0) / 1e6;
    return v;
  };
}

async function leaksChild(files) {
  const lg = require('..');
  const steps = {};
  const t = stepTimer(steps);
  const t0 = process.hrtime.bigint();
  const baseline = await t('loadA', () => lg.loadSnapshot(files[0]));
  const target = await t('loadB', () => lg.loadSnapshot(files[1]));
  const final = await t('loadC', () => lg.loadSnapshot(files[2]));
  const report = await t('findLeaks', () => lg.findLeaks({ baseline, target, final }));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  const top = (report.suspects || []).slice(0, 3).map((x) => ({ className: x.className, retainedSize: x.retainedSize, count: x.count }));
  const suspects = (report.suspects || []).length;
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: true, ms, steps, maxRssMB, suspects, top })}\n`);
}

async function leaksMain(opt) {
  const files = ['A', 'B', 'C'].map((k) => path.join(OUT, `leaks${k}-${opt.mb}.heapsnapshot`));
  if (opt.regen || !files.every((f) => fs.existsSync(f))) {
    console.log(`generating ${files.map((f) => path.basename(f)).join(', ')} ...`);
    const units = Math.round(unitsFor(opt.mb) * PARTS_SIZE_FACTOR);
    const gen = spawnChild(__filename, ['--gen-leaks', '--units', String(units), '--a', files.join(',')], opt.timeout);
    if (!gen.ok) throw new Error(`generation failed: ${gen.error}`);
  }
  const snaps = files.map((file) => ({ file, ...readHeader(file) }));
  for (const s of snaps)
    console.log(`${path.relative(process.cwd(), s.file)} ${(s.bytes / 1048576).toFixed(1)} MB, ${s.nodeCount} nodes, ${s.edgeCount} edges`);
  const runs = [];
  for (let i = 0; i < opt.runs; i++) {
    const loadBefore = Number(os.loadavg()[0].toFixed(2));
    const r = spawnChild(__filename, ['--leaks-child', '--a', files.join(',')], opt.timeout);
    r.loadBefore = loadBefore;
    runs.push(r);
    console.log(
      `  leakguard run ${i + 1}/${opt.runs}: ` +
        (r.ok
          ? `${fmtTime(r.ms)} (loads ${fmtTime(r.steps.loadA)} + ${fmtTime(r.steps.loadB)} + ${fmtTime(r.steps.loadC)}, findLeaks ${fmtTime(r.steps.findLeaks)}), ${r.maxRssMB} MB, ${r.suspects} suspects, load ${loadBefore}`
          : r.error),
    );
    if (!r.ok) break;
  }
  const ok = runs.filter((r) => r.ok);
  const med = (f) => (ok.length ? median(ok.map(f)) : null);
  const res = {
    machine: machine(),
    at: new Date().toISOString(),
    mb: opt.mb,
    snapshots: snaps,
    ms: med((r) => r.ms),
    findLeaks: med((r) => r.steps.findLeaks),
    maxRssMB: Math.max(...runs.map((r) => r.maxRssMB || 0)),
    runs,
  };
  console.log(
    `\n=== findLeaks on three ~${opt.mb} MB snapshots (median of ${ok.length}): total ${fmtTime(res.ms)}, findLeaks step ${fmtTime(res.findLeaks)}, peak RSS ${res.maxRssMB} MB`,
  );
  if (ok.length) console.log(`top suspects: ${ok[0].top.map((x) => `${x.className} (${x.count}, ${x.retainedSize} B)`).join(', ')}`);
  fs.writeFileSync(LEAK_RESULTS, JSON.stringify(res, null, 2) + '\n');
  console.log(`raw results: ${path.relative(process.cwd(), LEAK_RESULTS)}`);
}

function snapshots(mb, regen, timeoutS) {
  const fileA = path.join(OUT, `diffA-${mb}.heapsnapshot`);
  const fileB = path.join(OUT, `diffB-${mb}.heapsnapshot`);
  let gen = null;
  if (regen || !fs.existsSync(fileA) || !fs.existsSync(fileB)) {
    console.log(`generating ${path.relative(process.cwd(), fileA)} and ${path.basename(fileB)} ...`);
    const t0 = Date.now();
    gen = spawnChild(__filename, ['--gen', '--units', String(Math.round(unitsFor(mb) * PARTS_SIZE_FACTOR)), '--a', fileA, '--b', fileB], timeoutS);
    if (!gen.ok) throw new Error(`generation failed: ${gen.error}`);
    gen.seconds = (Date.now() - t0) / 1000;
  }
  return { a: { file: fileA, ...readHeader(fileA) }, b: { file: fileB, ...readHeader(fileB) }, gen };
}

// ------------------------------------------------------------- the contenders

// Each: setup() (untimed) -> mod; run(mod, A, B, t) -> rows, timing each step with t(name, () => promise).
// rows: [{ className, addedCount, removedCount, addedSize, removedSize, sizeDelta }]
const CONTENDERS = {
  leakguard: {
    setup: () => require('..'),
    async run(lg, A, B, t, ctx) {
      const a = await t('loadA', () => lg.loadSnapshot(A));
      const b = await t('loadB', () => lg.loadSnapshot(B));
      ctx.again = () => lg.diff(a, b);
      return t('diff', () => lg.diff(a, b));
    },
    // Not in the total: the first analysis call on a snapshot computes its distances,
    // dominators and retained sizes and caches them; a second diff shows the diff alone.
    extra: ['diffAgain', (ctx) => ctx.again()],
  },
  // README's way: parse both (each builds the full DevTools snapshot), then diff().
  'heap-snapshot-toolkit': {
    setup: () => import('heap-snapshot-toolkit'),
    async run(m, A, B, t) {
      const a = await t('loadA', () => m.parse(fs.createReadStream(A, 'utf-8')));
      const b = await t('loadB', () => m.parse(fs.createReadStream(B, 'utf-8')));
      return toolkitRows(await t('diff', () => m.diff(a, b)));
    },
  },
  // README's memory-saving way: diffFromStreams() keeps only the base's aggregates
  // while it parses the second file. "loadB" includes the base's aggregates for the diff.
  'heap-snapshot-toolkit (diffFromStreams)': {
    setup: () => import('heap-snapshot-toolkit'),
    async run(m, A, B, t) {
      const it = m.diffFromStreams(fs.createReadStream(A, 'utf-8'), fs.createReadStream(B, 'utf-8'));
      let result;
      for (const step of ['loadA', 'loadB', 'diff']) {
        result = undefined; // do not hold the first snapshot while the second one is parsed
        result = (await t(step, () => it.next())).value.result;
      }
      return toolkitRows(result);
    },
  },
};

// DevTools keys classes by name and code location; the rows carry the name.
function toolkitRows(d) {
  return Object.values(d).map((r) => ({
    className: r.name,
    addedCount: r.addedCount,
    removedCount: r.removedCount,
    addedSize: r.addedSize,
    removedSize: r.removedSize,
    sizeDelta: r.sizeDelta,
  }));
}

async function child(name, A, B) {
  const c = CONTENDERS[name];
  const mod = await c.setup();
  const steps = {};
  const t = stepTimer(steps);
  const ctx = {};
  const t0 = process.hrtime.bigint();
  const rows = await c.run(mod, A, B, t, ctx);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (c.extra) await t(c.extra[0], () => c.extra[1](ctx));
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: true, ms, steps, maxRssMB, rows })}\n`);
}

// ------------------------------------------------------------- comparison

const byDelta = (rows) => [...rows].sort((x, y) => y.sizeDelta - x.sizeDelta || (x.className < y.className ? -1 : 1));

// Rows by class name; several rows of one name (DevTools splits classes by code location) are summed.
function byName(rows) {
  const m = new Map();
  for (const r of rows) {
    const e = m.get(r.className);
    if (!e) m.set(r.className, { ...r, rows: 1 });
    else {
      for (const k of ['addedCount', 'removedCount', 'addedSize', 'removedSize', 'sizeDelta']) e[k] += r[k];
      e.rows++;
    }
  }
  return m;
}

function compare(lgRows, tkRows) {
  const out = { lgClasses: lgRows.length, tkClasses: tkRows.length, differences: [] };
  const L = byName(lgRows);
  const T = byName(tkRows);
  out.lgNames = L.size;
  out.tkNames = T.size;
  out.tkSplitNames = [...T.values()].filter((r) => r.rows > 1).map((r) => `${r.className} (${r.rows} rows)`);
  const top = (rows) =>
    byDelta([...rows.values()])
      .slice(0, 5)
      .map((r) => r.className);
  out.lgTop5 = top(L);
  out.tkTop5 = top(T);
  for (const name of new Set([...out.lgTop5, ...out.tkTop5])) {
    const l = L.get(name);
    const k = T.get(name);
    const fmt = (r) => (r ? `+${r.addedCount} -${r.removedCount} (${r.sizeDelta >= 0 ? '+' : ''}${r.sizeDelta} B)` : 'absent');
    const same = l && k && l.addedCount === k.addedCount && l.removedCount === k.removedCount;
    out.differences.push({
      name,
      same,
      leakguard: fmt(l),
      toolkit: fmt(k),
      sameSizes: Boolean(l && k && l.addedSize === k.addedSize && l.removedSize === k.removedSize),
    });
  }
  // Over all classes, by name: how many disagree on the counts.
  let countMismatch = 0;
  let sizeMismatch = 0;
  const examples = [];
  for (const name of new Set([...L.keys(), ...T.keys()])) {
    const l = L.get(name) || { addedCount: 0, removedCount: 0 };
    const k = T.get(name) || { addedCount: 0, removedCount: 0 };
    if (l.addedSize !== k.addedSize || l.removedSize !== k.removedSize) sizeMismatch++;
    if (l.addedCount !== k.addedCount || l.removedCount !== k.removedCount) {
      countMismatch++;
      if (examples.length < 10) examples.push(`${name}: leakguard +${l.addedCount} -${l.removedCount}, toolkit +${k.addedCount} -${k.removedCount}`);
    }
  }
  out.allClassesCountMismatch = countMismatch;
  out.allClassesSizeMismatch = sizeMismatch;
  out.mismatchExamples = examples;
  return out;
}

// ------------------------------------------------------------- parent

function parseArgs(argv) {
  const a = { mb: '200', runs: '3', only: '', timeout: '600', units: '0', a: '', b: '' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'regen' || key === 'gen' || key === 'leaks' || key === 'gen-leaks' || key === 'leaks-child') {
      a[key] = true;
      continue;
    }
    if (key === 'child') {
      a.child = argv[++i];
      continue;
    }
    if (!(key in a) || argv[i + 1] === undefined) {
      console.error('usage: node bench/diff.js [--leaks] [--mb 200] [--runs 3] [--only name,name] [--timeout seconds] [--regen]');
      console.error(`contenders: ${Object.keys(CONTENDERS).join(', ')}`);
      process.exit(2);
    }
    a[key] = argv[++i];
  }
  const names = a.only ? a.only.split(',') : Object.keys(CONTENDERS);
  for (const n of names) if (!CONTENDERS[n]) throw new Error(`unknown contender ${n}`);
  return { ...a, mb: Number(a.mb), runs: Number(a.runs), timeout: Number(a.timeout), units: Number(a.units), names };
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.gen) return generateChild(opt.units, opt.a, opt.b);
  if (opt.child) return child(opt.child, opt.a, opt.b);
  if (opt['gen-leaks']) return generateLeaksChild(opt.units, opt.a.split(','));
  if (opt['leaks-child']) return leaksChild(opt.a.split(','));
  if (opt.leaks) {
    fs.mkdirSync(OUT, { recursive: true });
    return leaksMain(opt);
  }

  fs.mkdirSync(OUT, { recursive: true });
  const snaps = snapshots(opt.mb, opt.regen, opt.timeout);
  for (const [k, s] of [
    ['A', snaps.a],
    ['B', snaps.b],
  ]) {
    console.log(`${k}: ${path.relative(process.cwd(), s.file)} ${(s.bytes / 1048576).toFixed(1)} MB, ${s.nodeCount} nodes, ${s.edgeCount} edges`);
  }
  const all = { machine: machine(), at: new Date().toISOString(), mb: opt.mb, snapshots: snaps, contenders: {} };
  for (const name of opt.names) {
    const runs = [];
    for (let i = 0; i < opt.runs; i++) {
      const loadBefore = Number(os.loadavg()[0].toFixed(2));
      const r = spawnChild(__filename, ['--child', name, '--a', snaps.a.file, '--b', snaps.b.file], opt.timeout);
      r.loadBefore = loadBefore;
      runs.push(r);
      console.log(
        `  ${name} run ${i + 1}/${opt.runs}: ` +
          (r.ok
            ? `${fmtTime(r.ms)} (A ${fmtTime(r.steps.loadA)}, B ${fmtTime(r.steps.loadB)}, diff ${fmtTime(r.steps.diff)}${r.steps.diffAgain ? `; 2nd diff ${fmtTime(r.steps.diffAgain)}` : ''}), ${r.maxRssMB} MB, ${r.rows.length} classes, load ${loadBefore}`
            : r.error),
      );
      if (!r.ok) break;
    }
    const ok = runs.filter((r) => r.ok);
    const med = (f) => (ok.length ? median(ok.map(f)) : null);
    all.contenders[name] = {
      name,
      ok: ok.length === runs.length,
      error: runs.find((r) => !r.ok)?.error || null,
      ms: med((r) => r.ms),
      loadA: med((r) => r.steps.loadA),
      loadB: med((r) => r.steps.loadB),
      diff: med((r) => r.steps.diff),
      diffAgain: ok.length && ok[0].steps.diffAgain != null ? med((r) => r.steps.diffAgain) : null,
      maxRssMB: Math.max(...runs.map((r) => r.maxRssMB || 0)),
      runs: runs.map(({ rows, ...r }) => r),
      rows: ok.length ? ok[0].rows : null,
    };
  }

  const C = all.contenders;
  const lg = C.leakguard;
  console.log(`\n=== diff of two ~${opt.mb} MB snapshots: median of ${opt.runs}, peak RSS = highest ===`);
  const table = [['contender', 'load A', 'load B', 'diff', 'total', 'peak RSS', 'classes', 'total / leakguard', 'diff / leakguard']];
  for (const c of Object.values(C)) {
    if (!c.ok) {
      table.push([c.name, 'FAILED', '', '', '', '', '', c.error, '']);
      continue;
    }
    const ratio = (k) => (lg?.ok ? `${(c[k] / lg[k]).toFixed(2)}x` : 'n/a');
    table.push([
      c.name,
      fmtTime(c.loadA),
      fmtTime(c.loadB),
      fmtTime(c.diff),
      fmtTime(c.ms),
      `${c.maxRssMB} MB`,
      String(c.rows.length),
      ratio('ms'),
      ratio('diff'),
    ]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const r of table) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  if (lg?.ok && lg.diffAgain != null) {
    console.log(
      `leakguard's diff step includes the first analysis of both snapshots; a second diff of the same pair: ${fmtTime(lg.diffAgain)} (median, not in the total)`,
    );
  }

  all.agreement = {};
  for (const c of Object.values(C)) {
    if (c.name === 'leakguard' || !c.ok || !lg || !lg.ok) continue;
    const cmp = compare(lg.rows, c.rows);
    all.agreement[c.name] = cmp;
    console.log(`\nleakguard vs ${c.name}:`);
    console.log(
      `  changed classes: leakguard ${cmp.lgClasses} rows (${cmp.lgNames} names), ${c.name} ${cmp.tkClasses} rows (${cmp.tkNames} names)` +
        (cmp.lgClasses === cmp.tkClasses ? ' - same' : ' - DIFFERENT'),
    );
    if (cmp.tkSplitNames.length) console.log(`  names split over several DevTools rows: ${cmp.tkSplitNames.slice(0, 10).join(', ')}`);
    console.log(
      `  top 5 by size delta: leakguard [${cmp.lgTop5.join(' | ')}], ${c.name} [${cmp.tkTop5.join(' | ')}]` +
        (cmp.lgTop5.join('\0') === cmp.tkTop5.join('\0') ? ' - same order' : ' - DIFFERENT'),
    );
    for (const d of cmp.differences) {
      console.log(
        `  ${d.same ? 'same' : 'DIFF'}  ${d.name}: leakguard ${d.leakguard}, ${c.name} ${d.toolkit}${d.same && !d.sameSizes ? ' (sizes differ)' : ''}`,
      );
    }
    console.log(
      `  all classes: ${cmp.allClassesCountMismatch} names with different added/removed counts, ` +
        `${cmp.allClassesSizeMismatch} with different added/removed sizes`,
    );
    for (const e of cmp.mismatchExamples) console.log(`    ${e}`);
  }
  fs.writeFileSync(RESULTS, JSON.stringify(all, null, 2) + '\n');
  console.log(`\nraw results: ${path.relative(process.cwd(), RESULTS)}`);
}

module.exports = { compare };
if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
