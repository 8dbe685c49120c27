'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.join(__dirname, '..');

/** A fresh private temp directory, removed when the test ends. */
function tempDir(t, prefix = 'lg-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Checks a snapshot the way DevTools' loader would: JSON with meta and consistent counts. */
function checkSnapshotFile(file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const meta = json.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  if (json.nodes.length !== json.snapshot.node_count * nf) throw new Error(`${file}: node count mismatch`);
  if (json.edges.length !== json.snapshot.edge_count * ef) throw new Error(`${file}: edge count mismatch`);
  const ecOff = meta.node_fields.indexOf('edge_count');
  let sum = 0;
  let total = 0;
  const sizeOff = meta.node_fields.indexOf('self_size');
  for (let i = 0; i < json.nodes.length; i += nf) {
    sum += json.nodes[i + ecOff];
    total += json.nodes[i + sizeOff];
  }
  if (sum !== json.snapshot.edge_count) throw new Error(`${file}: edge_count column sum mismatch`);
  return { nodeCount: json.snapshot.node_count, edgeCount: json.snapshot.edge_count, totalSize: total, strings: json.strings.length };
}

/**
 * Starts `node <args>` and collects its output; `waitFor(re)` resolves when stdout has a
 * matching line. Killed at test end if still running.
 */
function startChild(t, args, options = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters.slice()) if (w.re.test(out)) w.done();
  });
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    exited,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
    waitFor(re, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const w = {
          re,
          done: () => {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(w), 1);
            resolve(out);
          },
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stdout: ${out}\nstderr: ${err}`)), timeoutMs);
        waiters.push(w);
        if (re.test(out)) w.done();
      });
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `node <args>` to the end (killed after `timeoutMs`); resolves { code, out } with stdout+stderr. */
function runNode(args, { cwd = ROOT, env = process.env, timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * Runs one leak scenario in its own process (`fixtures/leak-runner.js <name> [...args]`) and
 * resolves with its JSON verdict, or `{ name, error }`; killed after `timeoutMs`.
 */
function runScenario(name, args = [], timeoutMs = 120000) {
  return new Promise((resolve) => {
    const runner = path.join(__dirname, 'fixtures', 'leak-runner.js');
    const child = spawn(process.execPath, [runner, name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(out));
      } catch (e) {
        resolve({ name, error: `${e.message}\n${err}` });
      }
    });
  });
}

/** Runs every job (a function returning a promise) with at most `n` at a time. */
function pool(jobs, n) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  return Promise.all(Array.from({ length: n }, worker)).then(() => results);
}

module.exports = { ROOT, tempDir, checkSnapshotFile, startChild, sleep, runNode, runScenario, pool };
