'use strict';

// The demo behind `npm run demo`:
//  1. the leak hunt: the leaky server, snapshotted three times in-process by leakguard, which
//     names the leaked class, how many, how much memory, and the variable holding them;
//  2. the same hunt against the fixed server: no leak;
//  3. a leak test failing: assertNoLeak on a login handler that never expires sessions;
//  4. production style: the leaky server run under `node -r leakguard/register`, dumped by
//     SIGUSR2, the dump analysed in Rust (class summary, biggest object and why it is alive).

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const lg = require('..');
const { drive } = require('./traffic');

const ROOT = path.join(__dirname, '..');
const mb = (n) => `${(n / 1048576).toFixed(2)} MB`;

function runPart(script, args = []) {
  // A fresh process per part, so their heaps do not mix.
  const r = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed`);
}

function waitForDump(dir, timeoutMs = 30000) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const f = fs.readdirSync(dir).find((n) => n.endsWith('.heapsnapshot'));
      if (f) return resolve(path.join(dir, f));
      if (Date.now() - start > timeoutMs) return reject(new Error('no dump appeared'));
      setTimeout(tick, 50);
    };
    tick();
  });
}

async function signalDump() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-demo-'));
  const server = spawn(process.execPath, ['-r', path.join(ROOT, 'lib/register.js'), path.join(__dirname, 'leaky-server.js')], {
    env: { ...process.env, LEAKGUARD_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise((resolve, reject) => {
      server.stdout.on('data', (d) => {
        const m = /listening (\d+)/.exec(String(d));
        if (m) resolve(Number(m[1]));
      });
      server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    await drive(port, 2000);
    server.kill('SIGUSR2'); // leakguard's listener writes the dump; the server keeps serving
    const file = await waitForDump(dir);
    const st = fs.statSync(file);
    console.log(`production style: node -r leakguard/register, 2000 requests, kill -USR2 -> ${path.basename(file)}`);
    console.log(`  ${mb(st.size)}, mode ${(st.mode & 0o777).toString(8)}, written atomically; analysing in Rust...`);
    const snap = await lg.loadSnapshot(file);
    const rows = await snap.summary({ top: 6 });
    console.log(`  ${snap.nodeCount} objects, ${mb(snap.totalSize)} live heap; classes by retained size:`);
    for (const r of rows) {
      console.log(`    ${r.className.slice(0, 40).padEnd(40)} ${String(r.count).padStart(7)} objects  ${mb(r.retainedSize).padStart(10)} retained`);
    }
    const [msg] = await snap.objects('IncomingMessage', { limit: 1 });
    if (msg) console.log(`  why is an IncomingMessage alive? ${(await snap.retainerPath(msg.id)).text}`);
    snap.dispose();
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
  await signalDump();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
