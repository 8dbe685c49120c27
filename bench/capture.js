#!/usr/bin/env node
'use strict';
// Capture overhead: leakguard's in-process capture + analysis against a bare
// v8.writeHeapSnapshot() of the same heap.
//
//   node bench/capture.js [--sizes 20,200] [--runs 3] [--timeout S]
//
// Per size, a child process (this file with --child) builds gen-snapshot.js's
// object graph, sized so that its snapshot is ~N MB, then alternates --runs times:
//   (a) bare:      v8.writeHeapSnapshot(tmpfile)        (timed: the write alone; then unlinked)
//   (b) leakguard: await lg.takeSnapshot(); await snap.summary(); snap.dispose()   (timed: all of it)
// and reports each run. Peak RSS (process.resourceUsage().maxRSS) is a process-wide
// high-water mark, so it is measured in further children that do one variant only,
// plus one that only builds the graph (the floor the other two start from).
// Results go to out/capture-results.json (overwritten).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { CHILD_HEAP_MB, runChild, childFailure } = require('./child');
const { OUT, median, machine, fmtTime } = require('./parse');
const { buildGraph, readHeader } = require('./gen-snapshot');

const RESULTS = path.join(OUT, 'capture-results.json');
// From gen-snapshot.js's calibration (out/gen.log): ~4 MB of Node's own heap plus
// ~2440 B per unit at 20 MB, ~2520 B per unit at 1 GB. The child reports the real size.
const BASE_BYTES = 4 * 1048576;
const BYTES_PER_UNIT = 2480;
const unitsFor = (mb) => Math.max(1, Math.round((mb * 1048576 - BASE_BYTES) / BYTES_PER_UNIT));

// ---------------------------------------------------------------- child side

const now = () => process.hrtime.bigint();
const msSince = (t0) => Number(now() - t0) / 1e6;
const rssMB = () => Math.round(process.memoryUsage().rss / 1048576);

function bare(tmpDir, i) {
  const file = path.join(tmpDir, `bare-${i}.heapsnapshot`);
  const t0 = now();
  v8.writeHeapSnapshot(file);
  const ms = msSince(t0);
  const { bytes, nodeCount } = readHeader(file);
  fs.unlinkSync(file);
  return { variant: 'bare', ms, bytes, nodeCount };
}

async function leakguard(lg) {
  const t0 = now();
  const pending = lg.takeSnapshot();
  // takeSnapshot() is async but captures before its first await: the time to get
  // the promise back is the blocking part (temp dir, V8's write, fsync, rename).
  const captureMs = msSince(t0);
  const snap = await pending;
  const takeMs = msSince(t0);
  const nodeCount = snap.nodeCount;
  let t = now();
  const rows = await snap.summary();
  const summaryMs = msSince(t);
  t = now();
  snap.dispose();
  const disposeMs = msSince(t);
  return {
    variant: 'leakguard',
    ms: msSince(t0),
    captureMs,
    parseMs: takeMs - captureMs,
    takeMs,
    summaryMs,
    disposeMs,
    nodeCount,
    classes: rows.length,
  };
}

async function child(opt) {
  const lg = require('..'); // in every mode, so that the heaps are the same
  globalThis.__leakguardBenchGraph = buildGraph(opt.units);
  const out = { rssAfterBuildMB: rssMB(), runs: [] };
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-capture-bench-'));
  try {
    for (let i = 0; i < opt.runs; i++) {
      if (opt.mode === 'both' || opt.mode === 'bare') out.runs.push(bare(tmpDir, i));
      if (opt.mode === 'both' || opt.mode === 'leakguard') out.runs.push(await leakguard(lg));
    }
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024); // KiB
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: true, ...out })}\n`);
}

// --------------------------------------------------------------- parent side

// Runs `node <script> ...args` (bench/child.js) and returns its @@RESULT object, or
// { ok: false, error } if it died or timed out.
function spawnChild(script, args, timeoutS) {
  const { result, r } = runChild(script, args, { timeoutS });
  return result || { ok: false, error: childFailure(r, timeoutS) };
}

function parseArgs(argv) {
  const a = { sizes: '20,200', runs: '3', timeout: '900', mode: 'both', units: '0', mb: '0' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'child') {
      a.child = true;
      continue;
    }
    if (!(key in a) || argv[i + 1] === undefined) {
      console.error('usage: node bench/capture.js [--sizes 20,200] [--runs 3] [--timeout seconds]');
      process.exit(2);
    }
    a[key] = argv[++i];
  }
  return { ...a, sizes: a.sizes.split(',').map(Number), runs: Number(a.runs), timeout: Number(a.timeout), units: Number(a.units), mb: Number(a.mb) };
}

const mb1 = (bytes) => (bytes / 1048576).toFixed(1);

function printTable(rec) {
  const bareRuns = rec.times.runs.filter((r) => r.variant === 'bare');
  const lgRuns = rec.times.runs.filter((r) => r.variant === 'leakguard');
  const med = (rs, k) => median(rs.map((r) => r[k]));
  const a = med(bareRuns, 'ms');
  const b = med(lgRuns, 'ms');
  console.log(
    `\n=== ~${rec.mb} MB: snapshot ${mb1(bareRuns[0].bytes)} MB, ${bareRuns[0].nodeCount} nodes (bare) / ` +
      `${lgRuns[0].nodeCount} (leakguard), ${rec.units} units, load ${rec.loadBefore} ===`,
  );
  console.log(`(a) bare v8.writeHeapSnapshot   median ${fmtTime(a)}   runs ${bareRuns.map((r) => fmtTime(r.ms)).join(', ')}`);
  console.log(`(b) leakguard take+summary+dispose median ${fmtTime(b)}   runs ${lgRuns.map((r) => fmtTime(r.ms)).join(', ')}`);
  console.log(
    `    of which (medians): capture (blocking) ${fmtTime(med(lgRuns, 'captureMs'))}, parse ${fmtTime(med(lgRuns, 'parseMs'))}, ` +
      `summary ${fmtTime(med(lgRuns, 'summaryMs'))}, dispose ${fmtTime(med(lgRuns, 'disposeMs'))}`,
  );
  console.log(`(b)/(a) = ${(b / a).toFixed(2)}x (target <= 1.5x)`);
  const p = rec.rss;
  const fmtRss = (r) => (r.ok ? `peak ${r.maxRssMB} MB (after build ${r.rssAfterBuildMB} MB)` : `FAILED ${r.error}`);
  console.log(`peak RSS: build only ${fmtRss(p.none)}; bare ${fmtRss(p.bare)}; leakguard ${fmtRss(p.leakguard)}`);
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.child) return child(opt);
  fs.mkdirSync(OUT, { recursive: true });
  const all = { machine: machine(), at: new Date().toISOString(), sizes: {} };
  for (const mb of opt.sizes) {
    const units = unitsFor(mb);
    const rec = { mb, units, loadBefore: Number(os.loadavg()[0].toFixed(2)) };
    console.log(`\n~${mb} MB (${units} units): timing child, ${opt.runs} x (bare, leakguard) alternated ...`);
    rec.times = spawnChild(__filename, ['--child', '--mode', 'both', '--units', String(units), '--runs', String(opt.runs)], opt.timeout);
    if (!rec.times.ok) {
      console.log(`  FAILED: ${rec.times.error}`);
      all.sizes[mb] = rec;
      continue;
    }
    for (const r of rec.times.runs) {
      console.log(
        `  ${r.variant.padEnd(9)} ${fmtTime(r.ms)}` +
          (r.variant === 'leakguard'
            ? ` (capture ${fmtTime(r.captureMs)}, parse ${fmtTime(r.parseMs)}, summary ${fmtTime(r.summaryMs)}, dispose ${fmtTime(r.disposeMs)})`
            : ''),
      );
    }
    rec.rss = {};
    for (const mode of ['none', 'bare', 'leakguard']) {
      rec.rss[mode] = spawnChild(__filename, ['--child', '--mode', mode, '--units', String(units), '--runs', '1'], opt.timeout);
      console.log(`  peak RSS, ${mode} child: ${rec.rss[mode].ok ? `${rec.rss[mode].maxRssMB} MB` : rec.rss[mode].error}`);
    }
    all.sizes[mb] = rec;
    fs.writeFileSync(RESULTS, JSON.stringify(all, null, 2) + '\n');
    printTable(rec);
  }
  fs.writeFileSync(RESULTS, JSON.stringify(all, null, 2) + '\n');
  console.log(`\nraw results: ${path.relative(process.cwd(), RESULTS)}`);
}

module.exports = { spawnChild, unitsFor, CHILD_HEAP_MB };
if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
