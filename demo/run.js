'use strict';

// The demo behind `npm run demo`:
//  1. the leak hunt: the leaky server, snapshotted three times in-process by leakguard, which
//     names the leaked class, how many, how much memory, and the variable holding them;
//  2. the same hunt against the fixed server: no leak;
//  3. a leak test failing: assertNoLeak on a login handler that never expires sessions;
//  4. production style: the leaky server run under `node -r leakguard/register` with a memory
//     sampler, dumped by SIGUSR2 three times, the last dump analysed in Rust (class summary, why
//     an IncomingMessage is alive), then the command line on the dumps: `leakguard leaks` (the
//     CI gate) and `leakguard report` (demo/out/report.html, with the memory timeline);
//  5. hands off: the leaky server under `node -r leakguard/register` with LEAKGUARD_DIAGNOSE=1,
//     under steady traffic: the sampler's leak alert starts an in-process diagnosis (three
//     snapshots, the growing collection and the leak suspects, demo/out/diagnosis.html).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const lg = require('..');
const { drive } = require('./traffic');

const ROOT = path.join(__dirname, '..');
const mb = (n) => `${(n / 1048576).toFixed(2)} MB`;

function runPart(script, args = []) {
  // A fresh process per part, so their heaps do not mix.
  const r = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed`);
}

/** Resolves with the path of the first complete dump in `dir` that is not in `seen`. */
function waitForNewDump(dir, seen, timeoutMs = 30000) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      // Dumps appear under their final name only when complete (leakguard renames them).
      const f = fs.readdirSync(dir).find((n) => n.endsWith('.heapsnapshot') && !seen.includes(path.join(dir, n)));
      if (f) return resolve(path.join(dir, f));
      if (Date.now() - start > timeoutMs) return reject(new Error('no new dump appeared'));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** Runs the command line (bin/leakguard.js) with the demo's output inline; its exit code. */
function cli(args) {
  console.log(`  $ leakguard ${args.map((a) => (a.includes(os.tmpdir()) ? path.basename(a) : path.relative(ROOT, a) || a)).join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/leakguard.js'), ...args], { encoding: 'utf8' });
  const indent = (text) => text.replace(/^(?=.)/gm, '    ');
  process.stdout.write(indent(r.stdout));
  process.stdout.write(indent(r.stderr));
  return r.status;
}

/** The port the demo server prints (`listening <port>`) once it is up; rejects if it exits first. */
function listeningPort(server) {
  return new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function signalDumps() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-demo-'));
  const samples = path.join(dir, 'samples.json');
  const server = spawn(process.execPath, ['-r', path.join(ROOT, 'lib/register.js'), path.join(__dirname, 'leaky-server.js')], {
    env: { ...process.env, LEAKGUARD_DIR: dir, LEAKGUARD_MIN_INTERVAL_MS: '0', DEMO_SAMPLES_FILE: samples },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await listeningPort(server);
    const dumps = [];
    for (let i = 1; i <= 3; i++) {
      await drive(port, 1500);
      server.kill('SIGUSR2'); // leakguard's listener writes the dump; the server keeps serving
      dumps.push(await waitForNewDump(dir, dumps));
    }
    const file = dumps[2];
    const st = fs.statSync(file);
    console.log(`production style: node -r leakguard/register, 3 x 1500 requests, kill -USR2 after each -> 3 dumps`);
    console.log(`  the last: ${mb(st.size)}, mode ${(st.mode & 0o777).toString(8)}, written atomically; analysing in Rust...`);
    const snap = await lg.loadSnapshot(file);
    const rows = await snap.summary({ top: 6 });
    console.log(`  ${snap.nodeCount} objects, ${mb(snap.totalSize)} live heap; classes by retained size:`);
    for (const r of rows) {
      console.log(`    ${r.className.slice(0, 40).padEnd(40)} ${String(r.count).padStart(7)} objects  ${mb(r.retainedSize).padStart(10)} retained`);
    }
    const [msg] = await snap.objects('IncomingMessage', { limit: 1 });
    if (msg) console.log(`  why is an IncomingMessage alive? ${(await snap.retainerPath(msg.id)).text}`);
    snap.dispose();

    console.log('\nlater, on a laptop or in CI: the command line on the three dumps');
    const code = cli(['leaks', ...dumps]);
    console.log(`  exit code ${code} (1: suspects found, usable as a CI gate)`);
    const out = path.join(__dirname, 'out', 'report.html');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    if (cli(['report', ...dumps, '--samples', samples, '--title', 'leakguard demo: leaky-server.js', '--html', out]) !== 0) {
      throw new Error('leakguard report failed');
    }
    console.log(`  open it in a browser: file://${out}`);
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Part 5: LEAKGUARD_DIAGNOSE=1 turns the sampler's alert into a diagnosis, with no one at the keyboard. */
async function diagnosis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-demo-'));
  // A short sampling window (the defaults wait for 30 post-GC points) and snapshots 2-10 s apart.
  const options = { intervalMs: 50, window: 10, minPoints: 8, diagnose: { stepBytes: 1 << 20, minSpacingMs: 2000, maxSpacingMs: 10000 } };
  const server = spawn(process.execPath, ['-r', path.join(ROOT, 'lib/register.js'), path.join(__dirname, 'leaky-server.js')], {
    env: { ...process.env, LEAKGUARD_DIR: dir, LEAKGUARD_DIAGNOSE: '1', LEAKGUARD_DIAGNOSE_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  server.stderr.on('data', (d) => {
    err += d;
  });
  try {
    const port = await listeningPort(server);
    console.log('\nhands off: the same server under node -r leakguard/register with LEAKGUARD_DIAGNOSE=1, under steady traffic');
    const t0 = Date.now();
    while (!/ {2}report: /.test(err)) {
      if (Date.now() - t0 > 170000) throw new Error(`no diagnosis within 170 s; stderr: ${err}`);
      // Steady traffic, ~300 requests a second: the heap grows a few hundred KB a second.
      await drive(port, 40);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`  after ${((Date.now() - t0) / 1000).toFixed(0)} s, the server wrote to stderr (and kept serving):`);
    const report = / {2}report: (.*)/.exec(err)[1];
    const out = path.join(__dirname, 'out', 'diagnosis.html');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(report, out);
    process.stdout.write(err.replace(report, out).replace(/^(?=.)/gm, '    '));
    console.log(`  open it in a browser: file://${out}`);
  } finally {
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  console.log('leakguard demo\n');
  runPart('hunt.js');
  runPart('hunt.js', ['--fixed']);
  runPart('assertion.js');
  await signalDumps();
  await diagnosis();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
