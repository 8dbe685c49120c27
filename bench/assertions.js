#!/usr/bin/env node
'use strict';
// The leak assertion's speed (issue 14): checkLeak as this tree has it ('sampling', "after": the
// survivor rounds; a leak explained from one snapshot), as commit e1be29a had it ('before': its
// lib/ and index.js checked out into a temp dir, run on today's addon), with the three snapshots
// forced ('snapshots', optional) and leakage's iterate(), in one run, on the same functions of
// __test__/fixtures/leak-scenarios.js (by default 3 no-leak traps and 3 leaks), in plain node and
// in a real Jest run.
//
//   node bench/assertions.js [--runs 3] [--only sampling,before,snapshots,leakage]
//                            [--modes node,node-seq,jest] [--scenarios a,b,...] [--timeout 300]
//                            [--out out/assertions-results.json]
//
// Modes (each run of each mode alternates the tools' order, so a drift in the machine's load
// hits all of them alike):
// - `node`: every check its own fresh process (`node assertions.js --child <tool> <scenario>`):
//   the first check in a process, which also pays for loading the addon, V8's first
//   inspector session, the JIT warming the tool's own code.
// - `node-seq`: one process per tool and run that checks all the scenarios one after another
//   (the order rotated from run to run): the first check and the later ones are reported apart.
// - `jest`: one real Jest run per tool and run (the jest binary of the root node_modules, one
//   generated spec file with one `test()` per scenario, in Jest's per-file VM context, as a user
//   would write them; `--runInBand`, which is what Jest does for a single file anyway). leakguard
//   is called through its Jest matcher's function (`toLeak` of leakguard/jest, what
//   `expect(fn).not.toLeak()` runs, message formatting included); leakage through iterate().
//
// Time: wall time of the check call alone (`performance.now()` around it; Node's start, Jest's
// start and `require` are outside). Each result also says what the check did: the method that
// decided (sampling / snapshots), the calls of the rounds, the phases of the fast path
// (result.rounds.phases), forced GCs and snapshots (plain node, counted by wrapping the tools'
// own functions as bench/leakage.js does, which allocates nothing). V8's own GCs are not counted:
// a perf_hooks 'gc' observer allocates an entry per GC in Node's internals while the sampling
// rounds run, which the rounds then see as survivors of an allocation site of their own.
// Results: out/assertions-results.json (overwritten; --out to write elsewhere).

const { countedLeakguard, countedLeakage } = require('./counted');
const { childFailure } = require('./child');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = path.join(__dirname, '..');
const SCENARIOS = path.join(ROOT, '__test__', 'fixtures', 'leak-scenarios.js');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const TOOLS = ['sampling', 'before', 'snapshots', 'leakage'];
/**
 * The implementation the figures are compared with: its lib/ and index.js (issue 14's baseline
 * by default; `--before <commit>` for another, e.g. to check that a change kept the clean
 * checks' speed). Children get it through the environment.
 */
let BEFORE = process.env.LG_BENCH_BEFORE || 'e1be29a';
const MODES = ['node', 'node-seq', 'jest'];
// Three traps (an LRU cache full before the check, a WeakRef cache emptied by a
// FinalizationRegistry, async work that settles) and three leaks (a Map of requests, listeners on
// a shared emitter, growth after an await), alternating, so that the rotated orders of node-seq
// and jest start with a clean function in one run and a leaky one in the next.
const DEFAULT_SCENARIOS = ['bounded-lru-cache', 'map-by-request-id', 'weakref-cache', 'emitter-listeners', 'settled-promises', 'growth-after-await'];

// ---------------------------------------------------------------------------------------------
// Child: checks in this process

/**
 * The `before` checkout: `git archive BEFORE index.js lib` in a temp directory (made once, kept),
 * with binding.js linked to this tree's (the addon is today's; only the JS differs).
 */
function beforeDir() {
  const dir = path.join(os.tmpdir(), `leakguard-bench-before-${BEFORE}`);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    const { execSync } = require('node:child_process');
    fs.mkdirSync(dir, { recursive: true });
    execSync(`git -C ${JSON.stringify(ROOT)} archive ${BEFORE} index.js lib package.json | tar -x -C ${JSON.stringify(dir)}`);
    fs.symlinkSync(path.join(ROOT, 'binding.js'), path.join(dir, 'binding.js'));
  }
  return dir;
}

/**
 * leakguard: 'sampling' = this tree with its defaults, 'snapshots' = this tree with the three
 * snapshots forced, 'before' = BEFORE's checkout with its defaults. Snapshots and forced GCs
 * counted (see bench/leakage.js; the one-snapshot path's snapshot is the result's count).
 */
function leakguardTool(tool) {
  const { counts, lg } = countedLeakguard(tool === 'before' ? beforeDir() : ROOT);
  const options = tool === 'snapshots' ? { method: 'snapshots' } : {};
  return {
    counts,
    async check(fn) {
      const r = await lg.checkLeak(fn, options);
      return { leaked: r.leaked, resultSnapshots: r.snapshots, ...roundsInfo(r) };
    },
  };
}

/** What a leakguard result says about how it was decided. */
function roundsInfo(r) {
  return {
    method: r.method,
    roundsState: r.rounds ? r.rounds.state : null,
    roundsCalls: r.rounds ? r.rounds.calls : null,
    roundsMs: r.rounds ? r.rounds.durationMs : null,
    phases: r.rounds ? r.rounds.phases || null : null,
    roundsReason: r.rounds && r.rounds.state !== 'bounded' ? r.rounds.reason : undefined,
    stages: r.rounds ? r.rounds.stages : undefined,
    timings: r.timings,
  };
}

/**
 * leakage 0.5.0 as a user calls it, with its defaults: iterate(fn), iterate.async(fn) for async
 * functions. Also pasted into the Jest spec (jestSpec), so it must stay self-contained.
 */
async function leakageCheck(leakage, fn) {
  try {
    if (fn.constructor.name === 'AsyncFunction') await leakage.iterate.async(fn);
    else leakage.iterate(fn);
    return { leaked: false };
  } catch (err) {
    if (err instanceof leakage.MemoryLeakError) return { leaked: true };
    throw err;
  }
}

function leakageTool() {
  const { counts, leakage } = countedLeakage();
  return { counts, check: (fn) => leakageCheck(leakage, fn) };
}

async function child(tool, names) {
  const { scenarios } = require(SCENARIOS);
  const t = tool === 'leakage' ? leakageTool() : leakguardTool(tool);
  for (const [position, name] of names.entries()) {
    const s = scenarios[name];
    if (!s) throw new Error(`no scenario ${name}`);
    const before = { ...t.counts };
    let out;
    const t0 = performance.now();
    try {
      out = { ok: true, ...(await t.check(s.fn)) };
    } catch (err) {
      out = { ok: false, error: `${err.name}: ${err.message}`.split('\n')[0].slice(0, 300) };
    }
    out.ms = performance.now() - t0;
    out.snapshots = out.resultSnapshots ?? t.counts.snapshots - before.snapshots;
    out.forcedGcs = t.counts.forcedGcs - before.forcedGcs;
    process.stdout.write(`@@RESULT ${JSON.stringify({ tool, name, position, expected: s.leaks, ...out })}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Jest: a generated spec file per tool and run

const JEST_DIR = () => path.join(__dirname, 'out', 'jest-assertions');

function writeJestConfig(dir) {
  const config = {
    rootDir: dir,
    testMatch: ['<rootDir>/*.spec.js'],
    testEnvironment: 'node',
    testTimeout: 300000,
    // the spec imports leakguard by its package name, as a user would
    moduleNameMapper: {
      '^leakguard$': path.join(ROOT, 'index.js'),
      '^leakguard/jest$': path.join(ROOT, 'lib', 'jest.js'),
      '^leakguard-before/jest$': path.join(beforeDir(), 'lib', 'jest.js'),
    },
    cacheDirectory: path.join(os.tmpdir(), 'leakguard-bench-jest-cache'),
    watchman: false,
  };
  const file = path.join(dir, 'jest.config.json');
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** The spec a user would write: one test per function, in one file. */
function jestSpec(tool, names) {
  const check =
    tool === 'leakage'
      ? `const leakage = require('leakage');
${leakageCheck.toString()}
const check = (fn) => leakageCheck(leakage, fn);`
      : `const { toLeak } = require(${JSON.stringify(tool === 'before' ? 'leakguard-before/jest' : 'leakguard/jest')});
// What \`await expect(fn).not.toLeak(options)\` runs (message included), keeping the result.
async function check(fn) {
  const m = await toLeak.call({ isNot: true }, fn, ${JSON.stringify(tool === 'snapshots' ? { method: 'snapshots' } : {})});
  m.message();
  const r = m.result;
  return { leaked: r.leaked, method: r.method, snapshots: r.snapshots, roundsState: r.rounds ? r.rounds.state : null, roundsCalls: r.rounds ? r.rounds.calls : null, roundsMs: r.rounds ? r.rounds.durationMs : null, phases: r.rounds ? r.rounds.phases || null : null, roundsReason: r.rounds && r.rounds.state !== 'bounded' ? r.rounds.reason : undefined, stages: r.rounds ? r.rounds.stages : undefined, timings: r.timings };
}`;
  const tests = names
    .map(
      (name, position) => `test(${JSON.stringify(name)}, async () => {
  const s = scenarios[${JSON.stringify(name)}];
  const t0 = performance.now();
  const r = await check(s.fn);
  const ms = performance.now() - t0;
  record({ tool: ${JSON.stringify(tool)}, name: ${JSON.stringify(name)}, position: ${position}, expected: s.leaks, ok: true, ...r, ms });
});`,
    )
    .join('\n\n');
  return `'use strict';
// Generated by bench/assertions.js (${tool}): one check per test, in one file.
const fs = require('fs');
const { performance } = require('perf_hooks');
const { scenarios } = require(${JSON.stringify(SCENARIOS)});
${check}
const record = (r) => fs.appendFileSync(process.env.LG_BENCH_OUT, \`\${JSON.stringify(r)}\\n\`);

${tests}
`;
}

function runJest(tool, names, run, opt) {
  const { spawnSync } = require('node:child_process');
  const dir = JEST_DIR();
  fs.mkdirSync(dir, { recursive: true });
  const config = writeJestConfig(dir);
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.spec.js')) fs.unlinkSync(path.join(dir, f));
  const spec = path.join(dir, `${tool}-${run}.spec.js`);
  fs.writeFileSync(spec, jestSpec(tool, names));
  const outFile = path.join(dir, `${tool}-${run}.jsonl`);
  fs.rmSync(outFile, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [JEST, '--config', config, '--runInBand', '--ci', spec], {
    cwd: dir,
    encoding: 'utf8',
    timeout: opt.timeoutS * 1000 * names.length,
    maxBuffer: 16 << 20,
    env: { ...process.env, LG_BENCH_OUT: outFile },
  });
  const processMs = performance.now() - t0;
  const lines = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8').split('\n').filter(Boolean) : [];
  const results = lines.map((l) => ({ ...JSON.parse(l), mode: 'jest', processMs }));
  if (results.length < names.length) {
    const err = (r.stderr || '').split('\n').find((l) => /Error|✕|●/.test(l)) || `jest exited ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    for (const name of names.filter((n) => !results.some((x) => x.name === n))) {
      results.push({ tool, name, mode: 'jest', ok: false, error: err.trim().slice(0, 300), processMs });
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Parent

function parseArgs(argv) {
  const a = { runs: '3', only: 'sampling,before,leakage', modes: MODES.join(','), scenarios: DEFAULT_SCENARIOS.join(','), timeout: '300', out: '', before: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) || argv[i + 1] === undefined) {
      console.error(
        'usage: node bench/assertions.js [--runs 3] [--only sampling,before,snapshots,leakage] [--modes node,node-seq,jest] [--scenarios a,b] [--timeout S] [--out file.json] [--before <commit>]',
      );
      process.exit(2);
    }
    a[key] = argv[i + 1];
  }
  const tools = a.only.split(',');
  for (const t of tools) if (!TOOLS.includes(t)) throw new Error(`unknown tool ${t} (one of ${TOOLS.join(', ')})`);
  const modes = a.modes.split(',');
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m} (one of ${MODES.join(', ')})`);
  if (a.before && !/^[0-9a-f]{7,40}$/.test(a.before)) throw new Error(`--before takes a commit hash, not ${a.before}`);
  return { runs: Number(a.runs), tools, modes, scenarios: a.scenarios.split(','), timeoutS: Number(a.timeout), out: a.out, before: a.before };
}

/** One child process running the checks `names` in order with `tool`. */
function runNode(tool, names, opt, mode) {
  const { spawnSync } = require('node:child_process');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [__filename, '--child', tool, ...names], {
    cwd: __dirname,
    encoding: 'utf8',
    timeout: opt.timeoutS * 1000 * names.length,
    maxBuffer: 16 << 20,
  });
  const processMs = performance.now() - t0;
  const results = (r.stdout || '')
    .split('\n')
    .filter((l) => l.startsWith('@@RESULT '))
    .map((l) => ({ ...JSON.parse(l.slice('@@RESULT '.length)), mode, processMs }));
  if (results.length < names.length) {
    const why = childFailure(r, (opt.timeoutS * names.length).toFixed(0));
    for (const name of names.filter((n) => !results.some((x) => x.name === n)))
      results.push({ tool, name, mode, ok: false, error: why.slice(0, 300), processMs });
  }
  return results;
}

/** Nearest-rank percentile. */
function pct(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

function main() {
  const { execSync } = require('node:child_process');
  const { OUT, median, machine, fmtTime } = require('./parse');
  const opt = parseArgs(process.argv.slice(2));
  if (opt.before) {
    BEFORE = opt.before;
    process.env.LG_BENCH_BEFORE = opt.before;
  }
  const { scenarios } = require(SCENARIOS);
  for (const n of opt.scenarios) if (!scenarios[n]) throw new Error(`no scenario ${n}`);
  if (opt.tools.includes('leakage')) require.resolve('leakage'); // fail early: cd bench && npm install
  if (opt.modes.includes('jest') && !fs.existsSync(JEST)) throw new Error(`no jest at ${JEST} (npm ci at the root)`);
  fs.mkdirSync(OUT, { recursive: true });
  const started = new Date();
  let uptime = '';
  try {
    uptime = execSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    uptime = `load average: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}`;
  }
  const clean = opt.scenarios.filter((n) => !scenarios[n].leaks);
  const leaky = opt.scenarios.filter((n) => scenarios[n].leaks);
  console.log(
    `${opt.scenarios.length} functions (clean: ${clean.join(', ')}; leaky: ${leaky.join(', ')}) × ${opt.runs} runs × ${opt.tools.join(', ')} × ${opt.modes.join(', ')}`,
  );
  console.log(`${started.toISOString()}; nproc ${machine().nproc}; uptime: ${uptime}`);
  const results = [];
  const log = (r) => {
    results.push(r);
    const v = !r.ok ? 'error' : r.leaked ? 'leak' : 'no leak';
    const right = r.ok && r.leaked === scenarios[r.name].leaks;
    const how = r.method ? ` ${r.method}${r.roundsCalls ? ` (rounds: ${r.roundsState}, ${r.roundsCalls} calls, ${r.roundsMs} ms)` : ''}` : '';
    const counts = r.snapshots === undefined ? '' : `  snapshots ${r.snapshots}, forced GCs ${r.forcedGcs ?? '-'}`;
    console.log(
      `${r.mode.padEnd(8)} run ${r.run} #${r.position ?? '-'} ${r.name.padEnd(20)} ${r.tool.padEnd(9)} ${v.padEnd(7)} ${right ? 'right' : 'WRONG'} ${fmtTime(r.ms || 0).padStart(8)}${how}${counts}${r.ok ? '' : `  ${r.error}`}`,
    );
  };
  for (let run = 0; run < opt.runs; run++) {
    const tools = rotate(opt.tools, run);
    const order = rotate(opt.scenarios, run);
    for (const mode of opt.modes) {
      if (mode === 'node') {
        for (const name of order)
          for (const tool of tools) for (const r of runNode(tool, [name], opt, mode)) log({ ...r, run: run + 1, position: 0, load1: os.loadavg()[0] });
      } else if (mode === 'node-seq') {
        for (const tool of tools) for (const r of runNode(tool, order, opt, mode)) log({ ...r, run: run + 1, load1: os.loadavg()[0] });
      } else {
        for (const tool of tools) for (const r of runJest(tool, order, run + 1, opt)) log({ ...r, run: run + 1, load1: os.loadavg()[0] });
      }
    }
  }
  const finished = new Date();
  let uptimeEnd = '';
  try {
    uptimeEnd = execSync('uptime', { encoding: 'utf8' }).trim();
  } catch {}

  // Table: per setting (node first check, node later checks, jest), kind and tool.
  const settings = [];
  if (opt.modes.includes('node')) settings.push(['plain node, fresh process per check', (r) => r.mode === 'node']);
  if (opt.modes.includes('node-seq')) {
    settings.push(['plain node, first check of a process', (r) => r.mode === 'node-seq' && r.position === 0]);
    settings.push([`plain node, later checks (${opt.scenarios.length - 1} per process)`, (r) => r.mode === 'node-seq' && r.position > 0]);
  }
  if (opt.modes.includes('jest')) settings.push([`Jest, ${opt.scenarios.length} checks in one file`, (r) => r.mode === 'jest']);
  const rows = [];
  console.log(`\n| setting | functions | ${opt.tools.map((t) => `${label(t)} median / p90`).join(' | ')} | ${ratioHeads(opt.tools).join(' | ')} |`);
  console.log(
    `| --- | --- | ${opt.tools.map(() => '---').join(' | ')} | ${ratioHeads(opt.tools)
      .map(() => '---')
      .join(' | ')} |`,
  );
  for (const [setting, pick] of settings) {
    for (const [kind, names] of [
      ['clean', clean],
      ['leaky', leaky],
    ]) {
      if (!names.length) continue;
      const row = { setting, kind, tools: {} };
      for (const tool of opt.tools) {
        const rs = results.filter((r) => pick(r) && r.tool === tool && names.includes(r.name));
        const ms = rs.filter((r) => r.ok).map((r) => r.ms);
        row.tools[tool] = {
          n: ms.length,
          errors: rs.length - ms.length,
          right: rs.filter((r) => r.ok && r.leaked === scenarios[r.name].leaks).length,
          medianMs: ms.length ? median(ms) : null,
          p90Ms: pct(ms, 90),
          methods: [...new Set(rs.filter((r) => r.method).map((r) => r.method))].join('/'),
        };
      }
      rows.push(row);
      const cells = opt.tools.map((t) => {
        const c = row.tools[t];
        const wrong = c.n + c.errors - c.right;
        return `${fmtTime(c.medianMs)} / ${fmtTime(c.p90Ms)}${wrong ? ` (${wrong} of ${c.n + c.errors} wrong)` : ''}`;
      });
      console.log(`| ${setting} | ${kind} (${names.length}) | ${cells.join(' | ')} | ${ratios(row, opt.tools).join(' | ')} |`);
    }
  }
  console.log('(median and p90 per check, nearest rank; ratios of medians)');

  // Per function, the medians (the table above pools the functions of a kind).
  console.log(`\n| function | kind | setting | ${opt.tools.map((t) => label(t)).join(' | ')} |`);
  console.log(`| --- | --- | --- | ${opt.tools.map(() => '---').join(' | ')} |`);
  const perFunction = [];
  for (const name of opt.scenarios) {
    const entry = { name, leaks: scenarios[name].leaks, settings: {} };
    for (const [setting, pick] of settings) {
      entry.settings[setting] = {};
      const cells = [];
      for (const tool of opt.tools) {
        const rs = results.filter((r) => pick(r) && r.tool === tool && r.name === name);
        const ms = rs.filter((r) => r.ok).map((r) => r.ms);
        const m = ms.length ? median(ms) : null;
        entry.settings[setting][tool] = m;
        const methods = [...new Set(rs.filter((r) => r.method).map((r) => r.method))].join('/');
        cells.push(`${fmtTime(m)}${methods && tool === 'sampling' ? ` (${methods})` : ''}`);
      }
      if (cells.every((c) => c === '-')) continue;
      console.log(`| ${name} | ${scenarios[name].leaks ? 'leak' : 'trap'} | ${setting} | ${cells.join(' | ')} |`);
    }
    perFunction.push(entry);
  }

  // Where the fast path's time goes (result.rounds.phases), medians per setting and kind.
  const phased = results.filter((r) => r.ok && r.phases);
  if (phased.length) {
    const keys = [...new Set(phased.flatMap((r) => Object.keys(r.phases)))];
    console.log(`\nsampling rounds, phases (median ms): setting | kind | ${keys.join(' | ')}`);
    for (const [setting, pick] of settings) {
      for (const [kind, names] of [
        ['clean', clean],
        ['leaky', leaky],
      ]) {
        const rs = phased.filter((r) => pick(r) && names.includes(r.name));
        if (!rs.length) continue;
        console.log(`  ${setting} | ${kind} | ${keys.map((k) => median(rs.map((r) => r.phases[k] || 0)).toFixed(0)).join(' | ')}`);
      }
    }
  }
  // Where a whole check's time goes (result.timings of this tree's leaky checks), medians.
  const timed = results.filter((r) => r.ok && r.timings && r.tool === 'sampling' && r.leaked);
  if (timed.length) {
    const keys = [...new Set(timed.flatMap((r) => Object.keys(r.timings)))];
    console.log(`\nafter, leaky checks, phases (median ms): setting | snapshots | ${keys.join(' | ')}`);
    for (const [setting, pick] of settings) {
      const rs = timed.filter(pick);
      if (rs.length)
        console.log(
          `  ${setting} | ${[...new Set(rs.map((r) => r.snapshots))].join('/')} | ${keys.map((k) => median(rs.map((r) => r.timings[k] || 0)).toFixed(0)).join(' | ')}`,
        );
    }
  }
  console.log(`\nuptime at start: ${uptime}\nuptime at end:   ${uptimeEnd}`);
  const file = opt.out ? path.resolve(opt.out) : path.join(OUT, 'assertions-results.json');
  const versions = {};
  for (const p of ['leakage/package.json', '@aidemaster/node-memwatch/package.json', path.join(ROOT, 'node_modules', 'jest', 'package.json')]) {
    try {
      const j = require(p);
      versions[j.name] = j.version;
    } catch {}
  }
  fs.writeFileSync(
    file,
    `${JSON.stringify({ machine: machine(), versions, started: started.toISOString(), finished: finished.toISOString(), uptime: [uptime, uptimeEnd], options: opt, rows, perFunction, results }, null, 2)}\n`,
  );
  console.log(`raw results: ${path.relative(process.cwd(), file)}`);
}

const label = (t) => ({ sampling: 'after', before: `before (${BEFORE})`, snapshots: 'three snapshots forced', leakage: 'leakage' })[t];

/** The ratios of medians against `after`: [heading, tool] for each other tool in the run. */
const against = (tools) => (tools.includes('sampling') ? tools.filter((t) => t !== 'sampling').map((t) => [`${label(t)} / after`, t]) : []);

function ratioHeads(tools) {
  return against(tools).map(([h]) => h);
}

function ratios(row, tools) {
  const m = (t) => row.tools[t]?.medianMs;
  return against(tools).map(([, t]) => (m(t) && m('sampling') ? `${(m(t) / m('sampling')).toFixed(2)}x` : '-'));
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv.slice(4)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main();
}
