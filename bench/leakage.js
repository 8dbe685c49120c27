#!/usr/bin/env node
'use strict';
// Leak assertions: leakguard's checkLeak against leakage's iterate() on the 27 scenarios of
// __test__/fixtures/leak-scenarios.js (13 leaks, 14 no-leak traps).
//
//   node bench/leakage.js [--runs 5] [--only leakguard,leakage] [--scenarios a,b] [--timeout 120]
//                         [--leakage-iterations N] [--out out/leakage-results.json]
//
// Each check is its own child process (`node leakage.js --child <tool> <scenario>`) that loads
// only its own tool and the scenario module, runs one check with the tool's default options,
// and prints one `@@RESULT {json}` line: the verdict (leak / no leak / error), the wall time
// of the check call alone (requiring the library and starting Node are not timed), and what the
// check did to the heap: heap snapshots taken and full GCs forced (counted by wrapping the
// tool's own functions), and the mark-compact GCs V8 reported (perf_hooks 'gc' entries).
// The children run one at a time, the two tools alternating (leakguard first on odd runs,
// leakage first on even runs), so that a drift in the machine's load hits both alike.
// Results: out/leakage-results.json (overwritten; --out to write elsewhere).

const { countedLeakguard, countedLeakage } = require('./counted');
const { childFailure } = require('./child');
const path = require('node:path');
const { performance, PerformanceObserver, constants: perfConstants } = require('node:perf_hooks');

const SCENARIOS = path.join(__dirname, '..', '__test__', 'fixtures', 'leak-scenarios.js');
const TOOLS = ['leakguard', 'leakage'];

// ---------------------------------------------------------------------------------------------
// Child: one check

/** Counts V8's mark-compact GCs (perf_hooks delivers the entries asynchronously). */
function gcCounter() {
  const counts = { major: 0, all: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      counts.all++;
      const kind = e.detail ? e.detail.kind : e.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 50)); // let the last entries arrive
      obs.disconnect();
      return counts;
    },
  };
}

const CHILD = {
  // checkLeak with its defaults: warmup 100, 2 rounds of 100 calls, 3 snapshots.
  leakguard() {
    const { counts, lg } = countedLeakguard();
    return {
      counts,
      async check(fn) {
        const r = await lg.checkLeak(fn);
        const what = r.suspects.length
          ? r.suspects.map((s) => `${s.className} ${s.perIteration.toFixed(2)}/call`).join(', ')
          : r.growth.length
            ? `+${Math.round(r.growth.reduce((n, g) => n + g.bytesPerIteration, 0))} B/call (${r.growth[0].className})`
            : '';
        return { leaked: r.leaked, detail: what, reported: { snapshots: r.snapshots, durationMs: r.durationMs, iterations: r.iterations, warmup: r.warmup } };
      },
    };
  },

  // leakage 0.5.0: iterate(fn) for sync functions, iterate.async(fn) for async ones, with its
  // defaults (30 calls per heap diff, 6 heap diffs), or --leakage-iterations N.
  leakage(options) {
    const { counts, leakage } = countedLeakage();
    const { iterate, MemoryLeakError } = leakage;
    return {
      counts,
      async check(fn) {
        const isAsync = fn.constructor.name === 'AsyncFunction';
        try {
          const r = isAsync ? await iterate.async(fn, options) : iterate(fn, options);
          return {
            leaked: false,
            detail: '',
            api: isAsync ? 'iterate.async' : 'iterate',
            reported: { iterations: r.iterations, gcollections: r.gcollections },
          };
        } catch (err) {
          if (err instanceof MemoryLeakError) {
            return { leaked: true, detail: err.message.split('\n')[0], api: isAsync ? 'iterate.async' : 'iterate' };
          }
          throw err;
        }
      },
    };
  },
};

async function child(tool, name, optionsJson) {
  const options = optionsJson ? JSON.parse(optionsJson) : undefined;
  const { scenarios } = require(SCENARIOS);
  const s = scenarios[name];
  if (!s) throw new Error(`no scenario ${name}`);
  const t = CHILD[tool](options);
  const gcs = gcCounter();
  let out;
  const t0 = performance.now();
  try {
    const r = await t.check(s.fn);
    out = { ok: true, ms: performance.now() - t0, ...r };
  } catch (err) {
    out = { ok: false, ms: performance.now() - t0, error: `${err.name}: ${err.message}`.split('\n')[0].slice(0, 300) };
  }
  const v8Gcs = await gcs.stop();
  out = { tool, name, expected: s.leaks, ...out, ...t.counts, majorGcs: v8Gcs.major, allGcs: v8Gcs.all };
  process.stdout.write(`@@RESULT ${JSON.stringify(out)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent

function parseArgs(argv) {
  const a = { runs: '5', only: TOOLS.join(','), scenarios: '', timeout: '120', 'leakage-iterations': '', out: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) || argv[i + 1] === undefined) {
      console.error(
        'usage: node bench/leakage.js [--runs 5] [--only leakguard,leakage] [--scenarios a,b] [--timeout S] [--leakage-iterations N] [--out file.json]',
      );
      process.exit(2);
    }
    a[key] = argv[i + 1];
  }
  const tools = a.only.split(',');
  for (const t of tools) if (!TOOLS.includes(t)) throw new Error(`unknown tool ${t}`);
  return {
    runs: Number(a.runs),
    tools,
    scenarios: a.scenarios ? a.scenarios.split(',') : null,
    timeoutS: Number(a.timeout),
    leakageOptions: a['leakage-iterations'] ? { iterations: Number(a['leakage-iterations']) } : null,
    out: a.out,
  };
}

function runChild(tool, name, opt) {
  const { spawnSync } = require('node:child_process');
  const args = [__filename, '--child', tool, name];
  if (tool === 'leakage' && opt.leakageOptions) args.push(JSON.stringify(opt.leakageOptions));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: __dirname, encoding: 'utf8', timeout: opt.timeoutS * 1000, maxBuffer: 16 << 20 });
  const processMs = performance.now() - t0;
  const line = (r.stdout || '')
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('@@RESULT '));
  if (line) return { ...JSON.parse(line.slice('@@RESULT '.length)), processMs };
  return { tool, name, ok: false, error: childFailure(r, opt.timeoutS), processMs };
}

const verdictOf = (r) => (!r.ok ? 'error' : r.leaked ? 'leak' : 'no leak');

function main() {
  const fs = require('node:fs');
  const os = require('node:os');
  const { OUT, median, machine, fmtTime } = require('./parse');
  const opt = parseArgs(process.argv.slice(2));
  const { scenarios } = require(SCENARIOS);
  const names = opt.scenarios || Object.keys(scenarios);
  for (const n of names) if (!scenarios[n]) throw new Error(`no scenario ${n}`);
  fs.mkdirSync(OUT, { recursive: true });
  const started = new Date();
  const load = [os.loadavg()[0]];
  console.log(`${names.length} scenarios × ${opt.runs} runs × ${opt.tools.join(', ')}; load ${load[0].toFixed(2)}; ${started.toISOString()}`);
  if (opt.leakageOptions) console.log(`leakage options: ${JSON.stringify(opt.leakageOptions)}`);
  const results = [];
  for (let run = 0; run < opt.runs; run++) {
    const order = run % 2 === 0 ? opt.tools : [...opt.tools].reverse();
    for (const name of names) {
      for (const tool of order) {
        const r = { ...runChild(tool, name, opt), run: run + 1, load1: os.loadavg()[0] };
        results.push(r);
        const v = verdictOf(r);
        const right = r.ok && r.leaked === scenarios[name].leaks;
        console.log(
          `run ${run + 1} ${name.padEnd(24)} ${tool.padEnd(9)} ${v.padEnd(7)} ${right ? 'right' : 'WRONG'} ${fmtTime(r.ms || 0).padStart(8)}  snapshots ${r.snapshots ?? '-'}, forced GCs ${r.forcedGcs ?? '-'}, V8 major GCs ${r.majorGcs ?? '-'}${r.ok ? '' : `  ${r.error}`}`,
        );
      }
    }
  }
  load.push(os.loadavg()[0]);

  // Per scenario and tool: verdicts of the runs, right or not, median check time, counts.
  const rows = [];
  const summary = {};
  for (const tool of opt.tools) summary[tool] = { checks: 0, right: 0, errors: 0, allRightScenarios: 0, times: [], totalMs: 0 };
  for (const name of names) {
    const row = { name, expected: scenarios[name].leaks, tools: {} };
    for (const tool of opt.tools) {
      const rs = results.filter((r) => r.name === name && r.tool === tool);
      const verdicts = rs.map(verdictOf);
      const right = rs.filter((r) => r.ok && r.leaked === scenarios[name].leaks).length;
      const ms = rs.filter((r) => r.ok).map((r) => r.ms);
      const uniq = (k) => [...new Set(rs.filter((r) => r.ok).map((r) => r[k]))].join('/');
      row.tools[tool] = {
        verdicts,
        right,
        runs: rs.length,
        medianMs: ms.length ? median(ms) : null,
        snapshots: uniq('snapshots'),
        forcedGcs: uniq('forcedGcs'),
        majorGcs: ms.length ? median(rs.filter((r) => r.ok).map((r) => r.majorGcs)) : null,
        detail: [...new Set(rs.map((r) => (r.ok ? r.detail : r.error)))].filter(Boolean).join(' | '),
      };
      const s = summary[tool];
      s.checks += rs.length;
      s.right += right;
      s.errors += rs.filter((r) => !r.ok).length;
      if (right === rs.length) s.allRightScenarios++;
      s.times.push(...ms);
      s.totalMs += ms.reduce((a, b) => a + b, 0);
    }
    rows.push(row);
  }
  for (const s of Object.values(summary)) {
    s.medianMs = s.times.length ? median(s.times) : null;
    delete s.times;
  }

  const short = (v) => ({ leak: 'L', 'no leak': '-', error: 'E' })[v];
  console.log(`\n| scenario | kind | ${opt.tools.map((t) => `${t} verdicts | right | median check | snapshots / forced GCs`).join(' | ')} |`);
  console.log(`| --- | --- | ${opt.tools.map(() => '--- | --- | --- | ---').join(' | ')} |`);
  for (const row of rows) {
    const cells = opt.tools.map((t) => {
      const c = row.tools[t];
      return `${c.verdicts.map(short).join('')} | ${c.right}/${c.runs} | ${fmtTime(c.medianMs)} | ${c.snapshots || '-'} / ${c.forcedGcs || '-'}`;
    });
    console.log(`| ${row.name} | ${row.expected ? 'leak' : 'trap'} | ${cells.join(' | ')} |`);
  }
  console.log('(verdicts: L = leak, - = no leak, E = error; one letter per run)\n');
  for (const [tool, s] of Object.entries(summary)) {
    console.log(
      `${tool}: ${s.right}/${s.checks} checks right, ${s.allRightScenarios}/${names.length} scenarios right in every run, ${s.errors} errors; median check ${fmtTime(s.medianMs)}, total ${fmtTime(s.totalMs)}`,
    );
  }
  if (summary.leakguard && summary.leakage && summary.leakguard.medianMs && summary.leakage.medianMs) {
    console.log(
      `leakage / leakguard: median ${(summary.leakage.medianMs / summary.leakguard.medianMs).toFixed(2)}x, total ${(summary.leakage.totalMs / summary.leakguard.totalMs).toFixed(2)}x`,
    );
  }
  const file = opt.out ? path.resolve(opt.out) : path.join(OUT, 'leakage-results.json');
  const versions = {};
  for (const p of ['leakage/package.json', '@aidemaster/node-memwatch/package.json']) {
    try {
      const j = require(p);
      versions[p.replace('/package.json', '')] = `${j.name}@${j.version}`;
    } catch {}
  }
  fs.writeFileSync(
    file,
    JSON.stringify(
      { machine: machine(), versions, started: started.toISOString(), finished: new Date().toISOString(), load1: load, options: opt, summary, rows, results },
      null,
      2,
    ) + '\n',
  );
  console.log(`load average (1 min) at start ${load[0].toFixed(2)}, at end ${load[1].toFixed(2)}; raw results: ${path.relative(process.cwd(), file)}`);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main();
}
