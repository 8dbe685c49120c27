#!/usr/bin/env node
'use strict';
// Analysis benchmark: "load + class summary with retained sizes", the first
// question a leak hunter asks, with leakguard and the loaders that can answer it.
//
//   node bench/analyse.js [--sizes 20,200,1000] [--runs N] [--only a,b] [--timeout S]
//
// Same protocol as parse.js: each (size, contender) run is a separate child
// (run-one.js --analyse) so that its peak RSS is its own. The child times the
// load and the summary separately (and, for leakguard, largestObjects(10) and
// one retainerPath). Results are merged into out/analyse-results.json the same
// way parse.js merges its own.

const os = require('node:os');
const path = require('node:path');
const { OUT, runOnce, median, fmtTime, printRows, runSuite, entryOf } = require('./parse');

const RESULTS = path.join(OUT, 'analyse-results.json');
// The contenders that can list classes with retained sizes (memlab-parse and
// JSON.parse cannot).
const NAMES = ['leakguard', 'memlab', 'heap-snapshot-toolkit', '@vscode/v8-heap-parser'];
const STEPS = ['load', 'summary', 'largestObjects', 'retainerPath'];

function parseArgs(argv) {
  const a = { sizes: '20,200', only: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['sizes', 'runs', 'only', 'timeout'].includes(key) || argv[i + 1] === undefined) {
      console.error('usage: node bench/analyse.js [--sizes 20,200,1000] [--runs N] [--only name,name] [--timeout seconds]');
      console.error(`contenders: ${NAMES.join(', ')}`);
      process.exit(2);
    }
    a[key] = argv[i + 1];
  }
  const names = a.only ? a.only.split(',') : NAMES;
  for (const n of names) if (!NAMES.includes(n)) throw new Error(`unknown contender ${n}`);
  return {
    sizes: a.sizes.split(',').map(Number),
    runs: a.runs ? Number(a.runs) : null,
    timeout: a.timeout ? Number(a.timeout) : null,
    names,
  };
}

const load1 = () => Number(os.loadavg()[0].toFixed(2));

function bench(name, snap, runs, timeoutS) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const loadBefore = load1();
    const r = { ...runOnce(name, snap.file, timeoutS, ['--analyse']), loadBefore };
    // A run killed by the timeout reports the steps it finished: name the one it was in.
    if (!r.ok && r.steps && !/^\w+: /.test(r.error)) r.error = `${STEPS.find((s) => r.steps[s] == null)}: ${r.error}`;
    results.push(r);
    const steps = r.steps
      ? STEPS.filter((s) => r.steps[s] != null)
          .map((s) => `${s} ${fmtTime(r.steps[s])}`)
          .join(', ')
      : '';
    const what = r.ok ? `${fmtTime(r.ms)} (${steps}), ${r.maxRssMB} MB` : `${r.error}${steps ? ` (${steps})` : ''}`;
    console.log(`  ${name} run ${i + 1}/${runs}: ${what}  [load avg ${loadBefore}]`);
    if (!r.ok) break; // a failure (or "not built") would only repeat
  }
  return entryOf(name, snap, results, (ok) => {
    const stepMedians = {};
    for (const s of STEPS) {
      const xs = ok.map((r) => r.steps[s]).filter((x) => x != null);
      if (xs.length) stepMedians[s] = median(xs);
    }
    const top = ok.length ? ok[0].info.summary.slice(0, 3).map((r) => `${r.className} ${r.retainedSize}`) : null;
    return { stepMedians, top };
  });
}

function printTable(mb, rec) {
  const lg = rec.contenders.leakguard;
  const lgMs = lg?.ok ? lg.medianMs : null;
  console.log(`\n=== ${mb} MB: ${(rec.bytes / 1048576).toFixed(1)} MB, ${rec.nodeCount} nodes, ${rec.edgeCount} edges ===`);
  const rows = [['contender', 'load', 'summary', 'load + summary', 'peak RSS', 'time / leakguard']];
  for (const c of Object.values(rec.contenders)) {
    const note = c.fresh ? '' : ' (earlier)';
    if (!c.ok) {
      const st = c.runs[c.runs.length - 1]?.steps || {};
      rows.push([c.name + note, fmtTime(st.load), fmtTime(st.summary), c.skipped ? 'skipped' : 'FAILED', c.maxRssMB ? `${c.maxRssMB} MB` : '-', c.error]);
      continue;
    }
    const ratio = lgMs ? `${(c.medianMs / lgMs).toFixed(2)}x` : 'n/a';
    rows.push([c.name + note, fmtTime(c.stepMedians.load), fmtTime(c.stepMedians.summary), fmtTime(c.medianMs), `${c.maxRssMB} MB`, ratio]);
  }
  printRows(rows);
  if (lg?.ok) {
    console.log(
      `leakguard then: largestObjects(10) ${fmtTime(lg.stepMedians.largestObjects)}, ` + `retainerPath ${fmtTime(lg.stepMedians.retainerPath)} (medians)`,
    );
  }

  const competitors = Object.values(rec.contenders).filter((c) => c.name !== 'leakguard' && c.ok);
  if (!competitors.length) return;
  const fastest = competitors.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
  const who = `${fastest.name}, ${fmtTime(fastest.medianMs)}`;
  if (lgMs) console.log(`leakguard is ${(fastest.medianMs / lgMs).toFixed(2)}x faster than the fastest competitor (${who})`);
  else console.log(`leakguard ${lg ? lg.error.split(':')[0] : 'not run'}; the fastest competitor: ${who}`);
}

function main() {
  runSuite(parseArgs(process.argv.slice(2)), { resultsFile: RESULTS, timeouts: [600, 1200], bench, printTable });
}

main();
