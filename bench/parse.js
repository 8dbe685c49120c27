#!/usr/bin/env node
'use strict';
// Parse benchmark: leakguard vs other heap snapshot loaders.
//
//   node bench/parse.js [--sizes 20,200,1000] [--runs N] [--only a,b] [--timeout S]
//
// Each (size, contender) run is a separate child (run-one.js) so that its peak
// RSS is its own. Missing snapshots are generated with gen-snapshot.js. Results
// are merged into out/parse-results.json: a later `--only leakguard` run keeps
// the competitor figures measured earlier on the same snapshot file and the
// table still shows them (marked "earlier").

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { runChild, childFailure } = require('./child');
const { readHeader } = require('./gen-snapshot');
const { CONTENDERS } = require('./run-one');

const OUT = path.join(__dirname, 'out');
const RESULTS = path.join(OUT, 'parse-results.json');

function parseArgs(argv) {
  const a = { sizes: '20,200', only: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['sizes', 'runs', 'only', 'timeout'].includes(key) || argv[i + 1] === undefined) {
      console.error('usage: node bench/parse.js [--sizes 20,200,1000] [--runs N] [--only name,name] [--timeout seconds]');
      console.error(`contenders: ${Object.keys(CONTENDERS).join(', ')}`);
      process.exit(2);
    }
    a[key] = argv[i + 1];
  }
  const names = a.only ? a.only.split(',') : Object.keys(CONTENDERS);
  for (const n of names) if (!CONTENDERS[n]) throw new Error(`unknown contender ${n}`);
  return {
    sizes: a.sizes.split(',').map(Number),
    runs: a.runs ? Number(a.runs) : null,
    timeout: a.timeout ? Number(a.timeout) : null,
    names,
  };
}

function snapshotFor(mb) {
  const file = path.join(OUT, `s${mb}.heapsnapshot`);
  if (!fs.existsSync(file)) {
    console.log(`generating ${file} ...`);
    const r = spawnSync(process.execPath, [path.join(__dirname, 'gen-snapshot.js'), '--mb', String(mb), '--out', file], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`gen-snapshot.js failed for ${mb} MB`);
  }
  return { file, ...readHeader(file) };
}

// One child run -> { ok, ms, maxRssMB, nodes } or { ok: false, error }.
// `mode` is passed before the contender name (analyse.js: ['--analyse']).
function runOnce(name, file, timeoutS, mode = []) {
  const { result, r } = runChild(path.join(__dirname, 'run-one.js'), [...mode, name, file], { timeoutS });
  if (result) return result;
  // The child died before reporting: timeout, V8 fatal OOM, a process.exit() in the library...
  // In analyse mode, the steps it finished (@@STEP lines) say how far it got.
  const steps = Object.assign(
    {},
    ...(r.stdout || '')
      .split('\n')
      .filter((l) => l.startsWith('@@STEP '))
      .map((l) => JSON.parse(l.slice('@@STEP '.length))),
  );
  return { ok: false, error: childFailure(r, timeoutS, { max: 200 }), ...(Object.keys(steps).length ? { steps } : {}) };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function bench(name, snap, runs, timeoutS) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = runOnce(name, snap.file, timeoutS);
    results.push(r);
    const what = r.ok ? `${(r.ms / 1000).toFixed(2)} s, ${r.maxRssMB} MB` : r.error;
    console.log(`  ${name} run ${i + 1}/${runs}: ${what}`);
    if (!r.ok) break; // a failure (or "not built") would only repeat
  }
  return entryOf(name, snap, results);
}

/**
 * One contender's record from its runs: median time and peak RSS of the successful ones, the
 * first failure, and a warning when it saw another node count than the header's. `extra(ok)`
 * adds fields of its own (analyse.js: step medians).
 */
function entryOf(name, snap, results, extra = () => ({})) {
  const ok = results.filter((r) => r.ok);
  const failed = results.find((r) => !r.ok);
  const entry = {
    name,
    ok: ok.length > 0 && !failed,
    runs: results,
    medianMs: ok.length ? median(ok.map((r) => r.ms)) : null,
    maxRssMB: results.length ? Math.max(...results.map((r) => r.maxRssMB || 0)) : null,
    nodes: ok.length ? ok[0].nodes : null,
    ...extra(ok),
    error: failed ? failed.error : null,
    skipped: Boolean(failed?.skipped),
    at: new Date().toISOString(),
  };
  if (entry.ok && entry.nodes !== snap.nodeCount) {
    entry.warning = `saw ${entry.nodes} nodes, header says ${snap.nodeCount}`;
    console.log(`  WARNING ${name}: ${entry.warning}`);
  }
  return entry;
}

function machine() {
  return {
    node: process.version,
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}

function loadResults(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return { sizes: {} };
  }
}

/** Prints aligned rows; the last column is left unpadded (it holds a failed run's long error). */
function printRows(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const last = rows[0].length - 1;
  for (const r of rows) console.log(r.map((cell, i) => (i < last ? cell.padEnd(widths[i]) : cell)).join('  '));
}

/**
 * The driver parse.js and analyse.js share: per size, `bench(name, snap, runs, timeoutS)` for
 * each contender, results merged into `resultsFile` (figures of an earlier invocation are kept
 * only if taken on the very same file, marked "(earlier)"), then `printTable(mb, rec)`.
 */
function runSuite(opt, { resultsFile, timeouts: [small, large], bench, printTable }) {
  fs.mkdirSync(OUT, { recursive: true });
  const all = loadResults(resultsFile);
  all.machine = machine();
  for (const mb of opt.sizes) {
    const snap = snapshotFor(mb);
    const runs = opt.runs || (mb <= 200 ? 3 : 1);
    const timeoutS = opt.timeout || (mb <= 200 ? small : large);
    const prev = all.sizes[mb];
    const same = prev && prev.bytes === snap.bytes && prev.nodeCount === snap.nodeCount;
    const rec = {
      file: path.relative(__dirname, snap.file),
      bytes: snap.bytes,
      nodeCount: snap.nodeCount,
      edgeCount: snap.edgeCount,
      contenders: same ? prev.contenders : {},
    };
    for (const c of Object.values(rec.contenders)) c.fresh = false;
    console.log(`\n${rec.file}: ${runs} run(s) per contender, timeout ${timeoutS} s`);
    for (const name of opt.names) rec.contenders[name] = { ...bench(name, snap, runs, timeoutS), fresh: true };
    all.sizes[mb] = rec;
    fs.writeFileSync(resultsFile, JSON.stringify(all, null, 2) + '\n');
    printTable(mb, rec);
  }
  console.log(`\nraw results: ${path.relative(process.cwd(), resultsFile)}`);
}

function fmtTime(ms) {
  return ms == null ? '-' : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function printTable(mb, rec) {
  const lg = rec.contenders.leakguard;
  const lgMs = lg?.ok ? lg.medianMs : null;
  console.log(`\n=== ${mb} MB: ${(rec.bytes / 1048576).toFixed(1)} MB, ${rec.nodeCount} nodes, ${rec.edgeCount} edges ===`);
  const rows = [['contender', 'median time', 'peak RSS', 'nodes', 'time / leakguard']];
  for (const c of Object.values(rec.contenders)) {
    const note = c.fresh ? '' : ' (earlier)';
    if (!c.ok) {
      rows.push([c.name + note, c.skipped ? 'skipped' : 'FAILED', c.maxRssMB ? `${c.maxRssMB} MB` : '-', '-', c.error]);
      continue;
    }
    const ratio = lgMs ? `${(c.medianMs / lgMs).toFixed(2)}x` : 'n/a';
    rows.push([c.name + note, fmtTime(c.medianMs), `${c.maxRssMB} MB`, String(c.nodes), ratio]);
  }
  printRows(rows);

  const competitors = Object.values(rec.contenders).filter((c) => c.name !== 'leakguard' && c.ok);
  if (!competitors.length) return;
  const fastestOf = (cs) => cs.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
  // JSON.parse builds no graph: also name the fastest real graph loader.
  const loaders = competitors.filter((c) => c.name !== 'JSON.parse');
  for (const [label, fastest] of [
    ['the fastest competitor', fastestOf(competitors)],
    ['the fastest graph loader', loaders.length ? fastestOf(loaders) : null],
  ]) {
    if (!fastest) continue;
    const who = `${fastest.name}, ${fmtTime(fastest.medianMs)}`;
    if (lgMs) console.log(`leakguard is ${(fastest.medianMs / lgMs).toFixed(2)}x faster than ${label} (${who})`);
    else console.log(`leakguard ${lg ? lg.error.split(':')[0] : 'not run'}; ${label}: ${who}`);
  }
}

function main() {
  runSuite(parseArgs(process.argv.slice(2)), { resultsFile: RESULTS, timeouts: [180, 900], bench, printTable });
}

module.exports = { OUT, snapshotFor, runOnce, median, machine, fmtTime, printRows, runSuite, entryOf };
if (require.main === module) main();
