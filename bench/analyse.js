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
//
// With leakguard, each run also starts two more children on the same file, in turn:
// - "tokenise": bench/tokenise.rs (compiled with rustc -O into out/), a bare single-threaded
//   read-and-tokenise pass (1 MB reads, numbers parsed, strings skipped with their escapes,
//   nothing kept), the floor any loader pays to read the file once; the table gives
//   leakguard's times as multiples of it, a yardstick that moves with the machine's load;
// - "full": load + summary + largestObjects(10) + retainerPath of the biggest object at
//   distance > 2, all timed together, with a 5 ms setInterval tick and
//   monitorEventLoopDelay running in the same process: the longest gap between two ticks
//   minus the 5 ms interval is the event loop's worst delay during the whole analysis.

const os = require('node:os');
const path = require('node:path');
const { OUT, runOnce, median, fmtTime, printRows, runSuite, entryOf } = require('./parse');
const { runChild, childFailure } = require('./child');

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

// ------------------------------------------------------------- the extra children

function reportChild(result) {
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: true, ...result, maxRssMB })}\n`);
}

// The bare pass (bench/tokenise.rs), compiled once into out/ with rustc -O; null without rustc.
let tokeniser;
function tokeniseBinary() {
  if (tokeniser !== undefined) return tokeniser;
  const fs = require('node:fs');
  const { spawnSync } = require('node:child_process');
  const src = path.join(__dirname, 'tokenise.rs');
  const bin = path.join(OUT, 'tokenise');
  tokeniser = bin;
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs) {
    const r = spawnSync('rustc', ['-O', '-o', bin, src], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`  (no tokenise pass: rustc -O bench/tokenise.rs failed: ${(r.error?.message || r.stderr || '').split('\n')[0]})`);
      tokeniser = null;
    }
  }
  return tokeniser;
}

function tokeniseRun(file, timeoutS) {
  const { spawnSync } = require('node:child_process');
  const bin = tokeniseBinary();
  if (!bin) return { ok: false, error: 'not built' };
  const r = spawnSync(bin, [file], { encoding: 'utf8', timeout: timeoutS * 1000 });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('@@RESULT '));
  return line ? JSON.parse(line.slice('@@RESULT '.length)) : { ok: false, error: childFailure(r, timeoutS) };
}

// leakguard's four steps with the event loop watched.
async function fullChild(file) {
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const lg = require('..');
  let last = performance.now();
  let maxGap = 0;
  let step = 'start';
  let gapStep = null; // the step the longest gap ended in
  const tick = setInterval(() => {
    const now = performance.now();
    if (now - last > maxGap) {
      maxGap = now - last;
      gapStep = step;
    }
    last = now;
  }, 5);
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, 30)); // both clocks measure from their 2nd firing
  maxGap = 0;
  last = performance.now();
  const steps = {};
  const t = async (name, fn) => {
    step = name;
    const t1 = process.hrtime.bigint();
    const v = await fn();
    steps[name] = Number(process.hrtime.bigint() - t1) / 1e6;
    return v;
  };
  const t0 = process.hrtime.bigint();
  const s = await t('load', () => lg.loadSnapshot(file));
  await t('summary', () => s.summary({ top: 20, sizes: 'devtools' }));
  const big = await t('largestObjects', () => s.largestObjects(10));
  const target = big.find((o) => o.distance > 2) || big[0];
  await t('retainerPath', () => s.retainerPath(target.id));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const memoryBytes = s.memoryBytes;
  step = 'after';
  await new Promise((r) => setTimeout(r, 25)); // a block that never yielded is recorded too
  h.disable();
  clearInterval(tick);
  reportChild({
    ms,
    steps,
    memoryMB: Math.round(memoryBytes / 1048576),
    maxTickGapMs: maxGap,
    maxDelayMs: Math.max(0, maxGap - 5),
    maxDelayStep: gapStep,
    histMaxMs: h.max / 1e6,
    histP99Ms: h.percentile(99) / 1e6,
  });
}

function extraRun(mode, file, timeoutS) {
  const { result, r } = runChild(__filename, [mode, file], { timeoutS });
  return result || { ok: false, error: childFailure(r, timeoutS) };
}

// ------------------------------------------------------------- the parent

function bench(name, snap, runs, timeoutS) {
  const results = [];
  const tokenise = [];
  const full = [];
  for (let i = 0; i < runs; i++) {
    if (name === 'leakguard') {
      const tk = tokeniseRun(snap.file, timeoutS);
      tokenise.push(tk);
      console.log(`  tokenise pass run ${i + 1}/${runs}: ${tk.ok ? fmtTime(tk.ms) : tk.error}  [load avg ${load1()}]`);
    }
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
    if (name === 'leakguard') {
      const f = extraRun('--child-full', snap.file, timeoutS);
      full.push(f);
      console.log(
        `  leakguard 4 steps + event loop run ${i + 1}/${runs}: ` +
          (f.ok
            ? `${fmtTime(f.ms)} (${STEPS.map((st) => `${st} ${fmtTime(f.steps[st])}`).join(', ')}), ${f.maxRssMB} MB, memoryBytes ${f.memoryMB} MB, max event-loop delay ${f.maxDelayMs.toFixed(1)} ms (in ${f.maxDelayStep})`
            : f.error) +
          `  [load avg ${load1()}]`,
      );
    }
  }
  return entryOf(name, snap, results, (ok) => {
    const stepMedians = {};
    for (const s of STEPS) {
      const xs = ok.map((r) => r.steps[s]).filter((x) => x != null);
      if (xs.length) stepMedians[s] = median(xs);
    }
    const top = ok.length ? ok[0].info.summary.slice(0, 3).map((r) => `${r.className} ${r.retainedSize}`) : null;
    const extra = {};
    const tkOk = tokenise.filter((r) => r.ok);
    if (tkOk.length) extra.tokenise = { medianMs: median(tkOk.map((r) => r.ms)), runs: tokenise };
    const fOk = full.filter((r) => r.ok);
    if (fOk.length) {
      extra.full = {
        medianMs: median(fOk.map((r) => r.ms)),
        maxRssMB: Math.max(...fOk.map((r) => r.maxRssMB)),
        maxDelayMs: Math.max(...fOk.map((r) => r.maxDelayMs)),
        memoryMB: fOk[0].memoryMB,
        runs: full,
      };
    }
    return { stepMedians, top, ...extra };
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

  if (lg?.ok && lg.fresh && lg.tokenise) {
    const tk = lg.tokenise.medianMs;
    console.log(
      `bare read-and-tokenise pass (bench/tokenise.rs, one thread): ${fmtTime(tk)} (median); leakguard load + summary = ${(lgMs / tk).toFixed(2)}x it`,
    );
    if (lg.full) {
      console.log(
        `leakguard load + summary + largestObjects(10) + retainerPath: ${fmtTime(lg.full.medianMs)} (median) = ${(lg.full.medianMs / tk).toFixed(2)}x the tokenise pass, ` +
          `peak RSS ${lg.full.maxRssMB} MB (memoryBytes ${lg.full.memoryMB} MB), max event-loop delay ${lg.full.maxDelayMs.toFixed(1)} ms (worst run)`,
      );
    }
  }
  const competitors = Object.values(rec.contenders).filter((c) => c.name !== 'leakguard' && c.ok);
  if (!competitors.length) return;
  const fastest = competitors.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
  const who = `${fastest.name}, ${fmtTime(fastest.medianMs)}`;
  if (lgMs) console.log(`leakguard is ${(fastest.medianMs / lgMs).toFixed(2)}x faster than the fastest competitor (${who})`);
  else console.log(`leakguard ${lg ? lg.error.split(':')[0] : 'not run'}; the fastest competitor: ${who}`);
}

function main() {
  const [mode, file] = process.argv.slice(2);
  if (mode === '--child-full') {
    return fullChild(file).then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
  runSuite(parseArgs(process.argv.slice(2)), { resultsFile: RESULTS, timeouts: [600, 1200], bench, printTable });
}

main();
