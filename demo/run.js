'use strict';

// The demo behind `npm run demo`: start the leaky server with leakguard's signal dumps
// (node -r leakguard/register), drive traffic at it, dump it twice by SIGUSR2, and load the
// dumps in Rust to show what they hold.

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const lg = require('..');

const ROOT = path.join(__dirname, '..');
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;

function get(port, agent, i) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/item/${i}`, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

async function drive(port, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  for (let i = 0; i < n; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, k) => get(port, agent, i + k)));
  }
  agent.destroy();
}

function waitForNewDump(dir, known, timeoutMs = 30000) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const fresh = fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !known.has(f));
      if (fresh.length) return resolve(path.join(dir, fresh[0]));
      if (Date.now() - start > timeoutMs) return reject(new Error('no dump appeared'));
      setTimeout(tick, 50);
    };
    tick();
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-demo-'));
  console.log(`leakguard demo: leaky server, dumps in ${dir}\n`);
  const server = spawn(process.execPath, ['-r', path.join(ROOT, 'lib/register.js'), path.join(__dirname, 'leaky-server.js')], {
    env: { ...process.env, LEAKGUARD_DIR: dir, LEAKGUARD_MAX_FILES: '5', LEAKGUARD_MIN_INTERVAL_MS: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });

  const known = new Set();
  const dumps = [];
  for (const [label, n] of [
    ['after warm-up', 200],
    ['after 3000 more requests', 3000],
  ]) {
    await drive(port, n);
    server.kill('SIGUSR2'); // leakguard's handler dumps; the server keeps serving
    const file = await waitForNewDump(dir, known);
    known.add(path.basename(file));
    dumps.push({ label, file });
    console.log(`SIGUSR2 -> ${path.basename(file)} (${mb(fs.statSync(file).size)}, mode ${(fs.statSync(file).mode & 0o777).toString(8)})`);
  }
  server.kill('SIGTERM');

  console.log('\nloaded in Rust, off the event loop:');
  const snaps = [];
  for (const d of dumps) {
    const t0 = process.hrtime.bigint();
    const s = await lg.loadSnapshot(d.file);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    snaps.push(s);
    console.log(
      `  ${d.label.padEnd(26)} ${String(s.nodeCount).padStart(8)} nodes ${String(s.edgeCount).padStart(9)} edges ` +
        `${mb(s.totalSize).padStart(9)} live heap   parsed in ${ms.toFixed(0)} ms`,
    );
  }
  const [a, b] = snaps;
  console.log(
    `\ngrowth: +${b.nodeCount - a.nodeCount} objects, +${mb(b.totalSize - a.totalSize)} across 3000 requests ` +
      `(${((b.totalSize - a.totalSize) / 3000).toFixed(0)} bytes per request never freed)`,
  );
  for (const s of snaps) s.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
