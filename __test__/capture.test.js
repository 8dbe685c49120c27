'use strict';

// Capture: writeSnapshot (node-heapdump compatible), dumpOnSignal, register, dumpNearHeapLimit.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const lg = require('..');
const { ROOT, tempDir, checkSnapshotFile, startChild, sleep } = require('./helpers');

// Temp files of the old scheme (.tmp) and private directories of the current one.
const leftovers = (dir) => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.startsWith('.leakguard-'));

test('writeSnapshot() with no name writes heapdump-<sec>.<usec>.heapsnapshot, mode 0600, DevTools-loadable', (t) => {
  const dir = tempDir(t);
  lg.configure({ directory: dir });
  t.after(() => lg.configure({ directory: null }));
  const before = Date.now() / 1000;
  const file = lg.writeSnapshot();
  assert.equal(path.dirname(file), dir);
  const m = /^heapdump-(\d+)\.(\d+)\.heapsnapshot$/.exec(path.basename(file));
  assert.ok(m, path.basename(file));
  assert.ok(Math.abs(Number(m[1]) - before) < 60);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const info = checkSnapshotFile(file);
  assert.ok(info.nodeCount > 1000 && info.edgeCount > info.nodeCount);
  assert.deepEqual(leftovers(dir), []);
  // Two dumps in a row never collide.
  const second = lg.writeSnapshot();
  assert.notEqual(second, file);
});

test('writeSnapshot(name, callback) resolves relative names against cwd and calls back (null, path)', async (t) => {
  const dir = tempDir(t);
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  const got = await new Promise((resolve, reject) => {
    const ret = lg.writeSnapshot('sub.heapsnapshot', (err, file) => (err ? reject(err) : resolve({ ret, file })));
  });
  assert.equal(got.file, path.join(fs.realpathSync(dir), 'sub.heapsnapshot'));
  assert.equal(fs.statSync(got.file).mode & 0o777, 0o600);
  checkSnapshotFile(got.file);
  // writeSnapshot(callback) form, as in node-heapdump
  const file2 = await new Promise((resolve, reject) => lg.writeSnapshot((err, f) => (err ? reject(err) : resolve(f))));
  assert.match(path.basename(file2), /^heapdump-\d+\.\d+\.heapsnapshot$/);
});

test('writeSnapshot: bad paths give ERR_LEAKGUARD_IO and leave nothing behind', async (t) => {
  const dir = tempDir(t);
  // missing directory
  assert.throws(
    () => lg.writeSnapshot(path.join(dir, 'nope', 'x.heapsnapshot')),
    (e) => e.code === 'ERR_LEAKGUARD_IO' && e.errno === 'ENOENT',
  );
  // a file where a directory should be
  fs.writeFileSync(path.join(dir, 'afile'), 'x');
  assert.throws(() => lg.writeSnapshot(path.join(dir, 'afile', 'x.heapsnapshot')), { code: 'ERR_LEAKGUARD_IO' });
  // the final name is an existing directory: V8 writes the temp file, the rename fails
  fs.mkdirSync(path.join(dir, 'adir'));
  assert.throws(() => lg.writeSnapshot(path.join(dir, 'adir')), { code: 'ERR_LEAKGUARD_IO' });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'adir')), []);
  assert.deepEqual(leftovers(dir), []);
  // with a callback the error goes there instead of being thrown
  const err = await new Promise((resolve) => lg.writeSnapshot(path.join(dir, 'nope', 'y.heapsnapshot'), resolve));
  assert.equal(err.code, 'ERR_LEAKGUARD_IO');
  // wrong types are argument errors, thrown even with a callback
  assert.throws(() => lg.writeSnapshot(42), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => lg.writeSnapshot('x', 'notafunction'), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['adir', 'afile']);
});

const writeOne = `
  const lg = require(${JSON.stringify(ROOT)});
  try { lg.writeSnapshot(process.argv[1]); console.log('ok'); }
  catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno })); }
`;

test('writeSnapshot: a file-size limit (EFBIG) gives ERR_LEAKGUARD_IO and no partial file', (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'big.heapsnapshot');
  // Ignoring SIGXFSZ makes the write fail with EFBIG instead of killing the process.
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 256; exec "${process.execPath}" -e '${writeOne.replace(/'/g, "'\\''")}' "${target}"`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { code: 'ERR_LEAKGUARD_IO', errno: 'EFBIG' });
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('writeSnapshot: a full disk (1 MiB tmpfs) gives ERR_LEAKGUARD_IO and no partial file', (t) => {
  if (process.getuid() !== 0) return t.skip('needs root to mount a tmpfs; the EFBIG test covers the same path');
  const dir = tempDir(t);
  const mnt = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  if (mnt.status !== 0) return t.skip(`mount failed: ${mnt.stderr}`);
  try {
    const r = spawnSync(process.execPath, ['-e', writeOne, path.join(dir, 'full.heapsnapshot')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { code: 'ERR_LEAKGUARD_IO', errno: 'ENOSPC' });
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    spawnSync('umount', [dir]); // before tempDir's cleanup, which cannot remove a mount point
  }
});

const signalApp = (opts, extra = '') => `
  const lg = require(${JSON.stringify(ROOT)});
  ${extra}
  const stop = lg.dumpOnSignal({ ...${JSON.stringify(opts)}, onDump: (f) => console.log('dumped ' + f), onError: (e) => console.log('error ' + e.code + ' ' + e.message) });
  globalThis.keep = [];
  setInterval(() => { keep.push({ t: Date.now() }); if (keep.length > 1000) keep.length = 0; }, 20);
  console.log('ready ' + process.pid);
`;

const countDumped = (out) => (out.match(/^dumped /gm) || []).length;

test('dumpOnSignal({ maxFiles: 3 }): 10 signals 100 ms apart, process lives, 1–3 complete dumps kept', async (t) => {
  const dir = tempDir(t);
  const app = startChild(t, ['-e', signalApp({ directory: dir, maxFiles: 3, minIntervalMs: 0 })]);
  await app.waitFor(/ready/);
  // Each signal after the previous dump landed (a loaded machine can take longer than the
  // signals' spacing to write one), so five dumps always happen and rotation runs twice.
  for (let i = 1; i <= 5; i++) {
    app.child.kill('SIGUSR2');
    for (let w = 0; w < 300 && countDumped(app.stdout) < i; w++) await sleep(100);
  }
  for (let i = 0; i < 5; i++) {
    app.child.kill('SIGUSR2'); // a burst on top, which must not break anything either
    await sleep(100);
  }
  await sleep(1500); // let a last dump finish
  assert.equal(app.child.exitCode, null, `child died: ${app.stderr}`);
  assert.doesNotMatch(app.stdout, /^error/m);
  assert.ok(countDumped(app.stdout) > 3, `rotation never exercised: ${app.stdout}`);
  const kept = fs.readdirSync(dir);
  const dumps = kept.filter((n) => /^heapdump-\d+\.\d+\.heapsnapshot$/.test(n));
  assert.ok(dumps.length >= 1 && dumps.length <= 3, `kept: ${kept}`);
  assert.equal(dumps.length, kept.length, `stray files: ${kept}`);
  for (const d of dumps) {
    checkSnapshotFile(path.join(dir, d));
    assert.equal(fs.statSync(path.join(dir, d)).mode & 0o777, 0o600);
  }
  // The newest dumps are the ones kept.
  const last = app.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('dumped '))
    .pop()
    .slice(7);
  assert.ok(dumps.includes(path.basename(last)));
});

test('dumpOnSignal coexists with the app’s own listener, coalesces bursts, and uninstalls cleanly', async (t) => {
  const dir = tempDir(t);
  const extra = `
    process.on('SIGUSR2', () => console.log('app handler'));
    process.on('SIGUSR1', () => { stop(); console.log('uninstalled'); });
  `;
  // the app's listener is installed first; ours goes beside it
  const app = startChild(t, ['-e', signalApp({ directory: dir, minIntervalMs: 1500 }, extra)]);
  await app.waitFor(/ready/);
  for (let i = 0; i < 5; i++) {
    app.child.kill('SIGUSR2');
    await sleep(60);
  }
  await app.waitFor(/dumped /);
  await sleep(2500); // the trailing dump of the burst
  assert.equal((app.stdout.match(/^app handler/gm) || []).length, 5, app.stdout);
  assert.equal(countDumped(app.stdout), 2, `a burst of 5 within 1.5 s must give 2 dumps: ${app.stdout}`);
  app.child.kill('SIGUSR1');
  await app.waitFor(/uninstalled/);
  app.child.kill('SIGUSR2');
  await app.waitFor(/app handler[\s\S]*app handler[\s\S]*app handler[\s\S]*app handler[\s\S]*app handler[\s\S]*app handler/);
  await sleep(500);
  assert.equal(countDumped(app.stdout), 2, 'no dump after uninstall');
  assert.equal(app.child.exitCode, null);
});

test('dumpOnSignal removes temp files that a crashed process left behind', async (t) => {
  const dir = tempDir(t);
  const { scope } = require('../lib/atomic-file');
  const stale = path.join(dir, `.leakguard-${scope()}-999999999-abc123`);
  fs.mkdirSync(stale, { mode: 0o700 });
  fs.writeFileSync(path.join(stale, 'h'), '{"snapshot":');
  const stop = lg.dumpOnSignal({ directory: dir, signal: 'SIGWINCH' });
  stop();
  assert.equal(fs.existsSync(stale), false);
});

test('dumpOnSignal validates its options', () => {
  assert.throws(() => lg.dumpOnSignal({ signal: 'SIGNOPE' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => lg.dumpOnSignal({ signal: 'SIGKILL' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => lg.dumpOnSignal({ maxFiles: 0 }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => lg.dumpOnSignal({ onDump: 1 }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => lg.dumpOnSignal(5), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
});

test('node -r leakguard/register dumps on the signal named in the environment', async (t) => {
  const dir = tempDir(t);
  const app = startChild(t, ['-r', 'leakguard/register', '-e', "setInterval(() => {}, 1000); console.log('ready')"], {
    env: { ...process.env, LEAKGUARD_SIGNAL: 'SIGUSR1', LEAKGUARD_DIR: dir, LEAKGUARD_MAX_FILES: '1', LEAKGUARD_MIN_INTERVAL_MS: '0' },
  });
  await app.waitFor(/ready/);
  const waitDump = async (n) => {
    for (let i = 0; i < 100 && fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length < n; i++) await sleep(100);
  };
  app.child.kill('SIGUSR1');
  await waitDump(1);
  const first = fs.readdirSync(dir);
  assert.equal(first.length, 1, `${first}`);
  await sleep(50);
  app.child.kill('SIGUSR1');
  const rotated = () => {
    const names = fs.readdirSync(dir);
    return names.length === 1 && names[0] !== first[0];
  };
  for (let i = 0; i < 100 && !rotated(); i++) await sleep(100);
  const second = fs.readdirSync(dir);
  assert.equal(second.length, 1, 'LEAKGUARD_MAX_FILES=1 keeps one');
  assert.notEqual(second[0], first[0]);
  checkSnapshotFile(path.join(dir, second[0]));
  assert.equal(app.child.exitCode, null);
});

test('register warns about a malformed environment and lets the app run', () => {
  const r = spawnSync(process.execPath, ['-r', './lib/register.js', '-e', "console.log('app ran')"], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, LEAKGUARD_MAX_FILES: 'lots' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /app ran/);
  assert.match(r.stderr, /\[ERR_LEAKGUARD_INVALID_ARG\].*LEAKGUARD_MAX_FILES must be a whole number/);
});

// threshold 0.6, not the default 0.8: on Node 24 and 26 a 48 MB heap's first major GC past 80%
// can come with ~5 MB left, too little for V8 to write the snapshot (the process dies inside
// it). Headroom before a dump is its own work (checking the cost against what is left).
test('dumpNearHeapLimit: a process that leaks until it dies leaves a complete near-limit snapshot', async (t) => {
  const dir = tempDir(t);
  const src = `
    const lg = require(${JSON.stringify(ROOT)});
    lg.dumpNearHeapLimit({ directory: ${JSON.stringify(dir)}, threshold: 0.6, onDump: (f) => require('node:fs').writeSync(1, 'dumped ' + f + '\\n') });
    const hoard = [];
    // A few MB a second, with the loop turning in between: the GC observer's check must get a
    // turn after the heap passes 60% and before it is full (back to back, a loaded machine on
    // Node 24 could fill the rest within one delivery).
    (function grow() { for (let i = 0; i < 1000; i++) hoard.push({ i, s: 'x'.repeat(40) + i }); setTimeout(grow, 1); })();
  `;
  const app = startChild(t, ['--max-old-space-size=48', '-e', src]);
  const { code, signal } = await app.exited;
  assert.ok(code !== 0 || signal, 'the leaking process must die of OOM');
  assert.match(app.stdout, /dumped /);
  const files = fs.readdirSync(dir);
  assert.equal(files.length, 1, `${files}`);
  const snap = await lg.loadSnapshot(path.join(dir, files[0]));
  const ref = checkSnapshotFile(path.join(dir, files[0]));
  assert.equal(snap.nodeCount, ref.nodeCount);
  assert.ok(snap.nodeCount > 100000, `expected a big heap, got ${snap.nodeCount} nodes`);
});

test('capture works in worker threads: writeSnapshot, and dumpOnSignal relayed by the main thread', async (t) => {
  const dir = tempDir(t);
  const src = `
    const { parentPort } = require('worker_threads');
    const lg = require(${JSON.stringify(ROOT)});
    const file = lg.writeSnapshot(${JSON.stringify(path.join(dir, 'worker.heapsnapshot'))});
    const stop = lg.dumpOnSignal({ signal: 'SIGUSR2', directory: ${JSON.stringify(path.join(dir, 'sig'))}, minIntervalMs: 0,
      onDump: (f) => { parentPort.postMessage({ dumped: f }); stop(); } });
    parentPort.postMessage({ file });
    setInterval(() => {}, 1000);
  `;
  const w = new Worker(src, { eval: true });
  t.after(() => w.terminate());
  const msgs = [];
  const next = () =>
    new Promise((resolve, reject) => {
      w.once('message', (m) => {
        msgs.push(m);
        resolve(m);
      });
      w.once('error', reject);
    });
  const first = await next();
  checkSnapshotFile(first.file);
  // The worker's own heap, not the main thread's: it lacks the test runner's objects.
  await sleep(200); // let the subscription reach the main thread
  // A listener of our own, so a lost subscription fails the test instead of killing the runner.
  const guardListener = () => {};
  process.on('SIGUSR2', guardListener);
  t.after(() => process.removeListener('SIGUSR2', guardListener));
  // Node 24+'s test runner starts this file with --report-signal=SIGUSR2 among its options,
  // which turns report-on-signal on: the signal below would also write a report.*.json here.
  const reportOnSignal = process.report.reportOnSignal;
  process.report.reportOnSignal = false;
  t.after(() => (process.report.reportOnSignal = reportOnSignal));
  const dumped = next();
  process.kill(process.pid, 'SIGUSR2');
  const { dumped: sigFile } = await dumped;
  assert.equal(path.dirname(sigFile), path.join(dir, 'sig'));
  checkSnapshotFile(sigFile);
});
