#!/usr/bin/env node
'use strict';
// Event-loop delay while a snapshot is loaded and analysed in a process that
// is also serving: leakguard does the work on worker threads, the JS loaders
// on the main thread.
//
//   node bench/eventloop.js [--mb 200] [--runs 3] [--only a,b] [--timeout S]
//
// Each run is a child process (this file with --child) that
//   - requires the library (not measured),
//   - starts a setInterval(..., 5) tick doing a little JS work (a JSON round
//     trip of a small object, as a request handler would) to stand for the app,
//   - enables perf_hooks.monitorEventLoopDelay({ resolution: 10 }) and lets the
//     loop run 30 ms (both clocks need a first firing before they measure),
//   - runs the contender's work (below), waits 25 ms so that the timers fire
//     once after a block that never yielded, then disables the histogram,
// and prints one @@RESULT line with the histogram's p50/p99/max, the tick gaps
// and the duration. `baseline` runs the same tick for 3 s with no work: the
// histogram's figures include its 10 ms sampling interval, so an idle loop
// reads ~10 ms, and the baseline shows that floor on this machine.
// Results go to out/eventloop-results.json (overwritten).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runChild, childFailure } = require('./child');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const RESOLUTION_MS = 10;
const TICK_MS = 5;
const WARMUP_MS = 30;

// setup() -> module (not measured); work(mod, file, phases) -> runs the
// measured work, recording step times (ms) into `phases`.
const CONTENDERS = {
  baseline: {
    setup: () => null,
    work: () => new Promise((resolve) => setTimeout(resolve, 3000)),
  },
  leakguard: {
    setup: () => require('..'),
    async work(lg, file, phases) {
      const s = await step(phases, 'load', () => lg.loadSnapshot(file));
      await step(phases, 'summary', () => s.summary({ top: 20, sizes: 'devtools' }));
      const big = await step(phases, 'largestObjects', () => s.largestObjects(10));
      const target = big.find((o) => o.distance > 2) || big[0];
      await step(phases, 'retainerPath', () => s.retainerPath(target.id));
      // Freeing the Rust memory is synchronous, on the calling thread: timed apart.
      await step(phases, 'dispose', () => s.dispose());
    },
  },
  'heap-snapshot-toolkit': {
    setup: () => import('heap-snapshot-toolkit'),
    work: (m, file, phases) => step(phases, 'load', () => m.parse(fs.createReadStream(file, 'utf-8'))),
  },
  memlab: {
    setup: () => require('@memlab/heap-analysis'),
    work: (m, file, phases) => step(phases, 'load', () => m.getFullHeapFromFile(file)),
  },
  '@vscode/v8-heap-parser': {
    setup: () => require('@vscode/v8-heap-parser'),
    work: (p, file, phases) => step(phases, 'load', () => p.decode_bytes(fs.readFileSync(file))),
  },
};

// Step times, and their [start, end] for attributing tick gaps to steps.
const spans = [];
async function step(phases, name, fn) {
  const t = performance.now();
  const v = await fn();
  const end = performance.now();
  phases[name] = end - t;
  spans.push([name, t, end]);
  return v;
}

// ---------------------------------------------------------------- child side

const REQUEST = { id: 0, user: 'alice', path: '/api/items?page=3', items: Array.from({ length: 20 }, (_, i) => ({ i, v: `item-${i}` })) };

async function child(name, file) {
  const c = CONTENDERS[name];
  const mod = await c.setup();
  const gaps = [];
  let last = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    if (last) gaps.push([now - last, now]);
    last = now;
    REQUEST.id++;
    const r = JSON.parse(JSON.stringify(REQUEST)); // a little work per "request"
    if (r.items.length !== 20) throw new Error('unreachable');
    ticks++;
  }, TICK_MS);
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const phases = {};
  h.enable();
  // Serve for a moment first: both clocks record an interval only from their
  // second firing on, so a work that blocks at once would otherwise go unseen.
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const t0 = performance.now();
  let error = null;
  try {
    await c.work(mod, file, phases);
  } catch (e) {
    error = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  const durationMs = performance.now() - t0;
  // Let the loop turn before stopping the clocks: after a block that never
  // yielded, the histogram and the tick record the delay only when their timers
  // next fire.
  await new Promise((resolve) => setTimeout(resolve, 2 * RESOLUTION_MS + TICK_MS));
  h.disable();
  clearInterval(timer);
  // The longest tick gap that ended in each step (or just after the last one).
  const gapMaxBy = {};
  for (const [gap, at] of gaps) {
    const sp = spans.find(([, t, end]) => at >= t && at <= end + TICK_MS + 1) || spans.find(([, t]) => at < t);
    const where = sp ? sp[0] : 'after';
    if (at >= t0) gapMaxBy[where] = Math.max(gapMaxBy[where] || 0, gap);
  }
  gaps.sort((a, b) => a[0] - b[0]);
  const pct = (p) => (gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor((p / 100) * gaps.length))][0] : null);
  const ms = (ns) => ns / 1e6;
  const result = {
    ok: !error,
    error,
    durationMs,
    phases,
    delay: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count },
    ticks: {
      count: ticks,
      expected: Math.floor((WARMUP_MS + durationMs) / TICK_MS),
      gapP50: pct(50),
      gapP99: pct(99),
      gapMax: gaps.length ? gaps[gaps.length - 1][0] : null,
      gapMaxBy,
    },
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`\n@@RESULT ${JSON.stringify(result)}\n`);
}

// --------------------------------------------------------------- parent side

function parseArgs(argv) {
  const a = { mb: '200', runs: '3', only: '', timeout: '300' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) || argv[i + 1] === undefined) {
      console.error('usage: node bench/eventloop.js [--mb 200] [--runs 3] [--only name,name] [--timeout seconds]');
      console.error(`contenders: ${Object.keys(CONTENDERS).join(', ')}`);
      process.exit(2);
    }
    a[key] = argv[i + 1];
  }
  const names = a.only ? a.only.split(',') : Object.keys(CONTENDERS);
  for (const n of names) if (!CONTENDERS[n]) throw new Error(`unknown contender ${n}`);
  return { mb: Number(a.mb), runs: Number(a.runs), timeout: Number(a.timeout), names };
}

function runOne(name, file, timeoutS) {
  const { result, r } = runChild(__filename, ['--child', name, file], { timeoutS });
  return result || { ok: false, error: childFailure(r, timeoutS, { max: 200 }) };
}

const f1 = (x) => (x == null ? '-' : x.toFixed(1));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function main() {
  const opt = parseArgs(process.argv.slice(2));
  const { snapshotFor, machine } = require('./parse');
  const snap = snapshotFor(opt.mb);
  console.log(
    `${path.relative(process.cwd(), snap.file)}: ${(snap.bytes / 1048576).toFixed(1)} MB, ${snap.nodeCount} nodes; ` +
      `${opt.runs} run(s) each; monitorEventLoopDelay resolution ${RESOLUTION_MS} ms, app tick every ${TICK_MS} ms`,
  );
  const out = {
    machine: machine(),
    file: path.relative(__dirname, snap.file),
    bytes: snap.bytes,
    nodeCount: snap.nodeCount,
    resolutionMs: RESOLUTION_MS,
    tickMs: TICK_MS,
    at: new Date().toISOString(),
    contenders: {},
  };
  for (const name of opt.names) {
    const runs = [];
    for (let i = 0; i < opt.runs; i++) {
      const loadBefore = Number(os.loadavg()[0].toFixed(2));
      const r = { ...runOne(name, snap.file, opt.timeout), loadBefore };
      runs.push(r);
      if (!r.ok) {
        console.log(`  ${name} run ${i + 1}: FAILED ${r.error}`);
        break;
      }
      const ph = Object.entries(r.phases)
        .map(([k, v]) => `${k} ${f1(v)}`)
        .join(', ');
      console.log(
        `  ${name} run ${i + 1}: ${f1(r.durationMs)} ms${ph ? ` (${ph})` : ''}; delay p50 ${f1(r.delay.p50)} ` +
          `p99 ${f1(r.delay.p99)} max ${f1(r.delay.max)} ms; ticks ${r.ticks.count}/${r.ticks.expected}, ` +
          `gap p99 ${f1(r.ticks.gapP99)} max ${f1(r.ticks.gapMax)} ms${
            name === 'leakguard'
              ? ` (max by step: ${Object.entries(r.ticks.gapMaxBy)
                  .map(([k, v]) => `${k} ${f1(v)}`)
                  .join(', ')})`
              : ''
          }; RSS ${r.maxRssMB} MB  [load avg ${loadBefore}]`,
      );
    }
    out.contenders[name] = { runs };
  }
  fs.mkdirSync(path.join(__dirname, 'out'), { recursive: true });
  const file = path.join(__dirname, 'out', 'eventloop-results.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');

  // Summary: median over the runs of each figure, max of the maxima.
  console.log('\ncontender               duration   delay p50  delay p99  delay max  tick gap p99  tick gap max  ticks done');
  for (const [name, { runs }] of Object.entries(out.contenders)) {
    const ok = runs.filter((r) => r.ok);
    if (!ok.length) {
      console.log(`${name.padEnd(22)}  FAILED: ${runs[runs.length - 1].error}`);
      continue;
    }
    const med = (f) => median(ok.map(f));
    const cells = [
      `${f1(med((r) => r.durationMs))} ms`,
      f1(med((r) => r.delay.p50)),
      f1(med((r) => r.delay.p99)),
      f1(Math.max(...ok.map((r) => r.delay.max))),
      f1(med((r) => r.ticks.gapP99)),
      f1(Math.max(...ok.map((r) => r.ticks.gapMax))),
      `${Math.round(med((r) => (100 * r.ticks.count) / Math.max(1, r.ticks.expected)))}%`,
    ];
    console.log(
      `${name.padEnd(22)}  ${cells[0].padEnd(9)}  ${cells[1].padEnd(9)}  ${cells[2].padEnd(9)}  ${cells[3].padEnd(9)}  ` +
        `${cells[4].padEnd(12)}  ${cells[5].padEnd(12)}  ${cells[6]}`,
    );
  }
  console.log('(delay in ms: median over the runs, max = worst run; the histogram includes its 10 ms interval: idle reads ~10)');
  console.log(`raw results: ${path.relative(process.cwd(), file)}`);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4]).then(
    () => process.exit(0),
    (e) => {
      process.stdout.write(`\n@@RESULT ${JSON.stringify({ ok: false, error: String(e?.message) })}\n`);
      process.exit(1);
    },
  );
} else {
  main();
}
