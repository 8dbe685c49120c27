'use strict';

// Loading must never take the host process down: a snapshot file truncated and rewritten while
// it is mapped (cp over it, rsync --inplace, logrotate copytruncate) used to kill the process
// with SIGBUS; a FIFO used to block a libuv thread forever; wrong objects handed to the native
// layer used to come back as ERR_LEAKGUARD_INTERNAL. Each case runs where a failure cannot hang
// or kill the test runner (a child process with a deadline) when that is what used to happen.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { ROOT, tempDir, startChild, sleep } = require('./helpers');

const LOADER = path.join(__dirname, 'fixtures', 'sigbus-loader.js');

/** Writes a snapshot of a child process holding ~`n` small objects; returns its bytes too. */
function snapshotFile(dir, n) {
  const file = path.join(dir, 'a.heapsnapshot');
  const src = `globalThis.keep = Array.from({ length: ${n} }, (_, i) => ({ i, s: 'x' + i }));
    require('v8').writeHeapSnapshot(${JSON.stringify(file)});`;
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { file, data: fs.readFileSync(file) };
}

test('a snapshot truncated and rewritten in place while loading gives clean errors, not SIGBUS', async (t) => {
  const dir = tempDir(t);
  const { file, data } = snapshotFile(dir, 150000);
  const child = startChild(t, [LOADER, file, '4000']);
  let rewrites = 0;
  let running = true;
  child.exited.then(() => (running = false));
  while (running) {
    // In place, as copytruncate does: same inode, cut to nothing, then written again.
    const fd = fs.openSync(file, 'r+');
    fs.ftruncateSync(fd, 0);
    await sleep(1);
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.closeSync(fd);
    rewrites++;
    // Some quiet time, so that some loads see a whole file.
    await sleep(rewrites % 4 === 0 ? 150 : 3);
  }
  const { code, signal } = await child.exited;
  assert.equal(signal, null, `loader died of ${signal} (stderr: ${child.stderr})`);
  assert.equal(code, 0, child.stderr);
  const out = JSON.parse(child.stdout);
  assert.ok(rewrites >= 10, `${rewrites} rewrites`);
  assert.ok(out.failed > 0, JSON.stringify(out));
  for (const c of Object.keys(out.codes)) assert.ok(['ERR_LEAKGUARD_IO', 'ERR_LEAKGUARD_PARSE'].includes(c), JSON.stringify(out));
  assert.ok(out.codes.ERR_LEAKGUARD_IO > 0, `no load saw the file change: ${JSON.stringify(out)}`);
  for (const m of out.messages) assert.match(m, /file changed while being read/);
});

test('a SIGBUS that is not a fault in our mapping still ends the process', () => {
  // The guard is installed by the first load; a SIGBUS sent from outside must keep its default
  // action (the guard chains to it) instead of being swallowed.
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'lg-'));
  try {
    const file = path.join(dir, 's.heapsnapshot');
    fs.copyFileSync(path.join(ROOT, 'crates/leakguard-core/tests/vectors/v1.json'), file);
    const src = `const lg = require(${JSON.stringify(path.join(ROOT, 'lib/snapshot'))});
      lg.loadSnapshotSync(${JSON.stringify(file)}).dispose();
      process.kill(process.pid, 'SIGBUS');
      setTimeout(() => console.log('survived'), 500);`;
    const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.signal, 'SIGBUS', `status ${r.status} stdout ${r.stdout} stderr ${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a FIFO, a directory or a device is refused with ERR_LEAKGUARD_IO at once', { skip: process.platform === 'win32' }, (t) => {
  const dir = tempDir(t);
  const fifo = path.join(dir, 'pipe.heapsnapshot');
  execFileSync('mkfifo', [fifo]);
  // In a child with a deadline: the old code blocked forever on the FIFO (sync) or kept the
  // process from exiting (async: a libuv thread stuck in open).
  const src = `const lg = require(${JSON.stringify(path.join(ROOT, 'lib/snapshot'))});
    (async () => {
      const out = [];
      for (const f of ${JSON.stringify([fifo, dir, '/dev/null'])}) {
        try { lg.loadSnapshotSync(f); out.push('loaded'); } catch (e) { out.push(e.code + ' ' + e.message); }
        try { await lg.loadSnapshot(f); out.push('loaded'); } catch (e) { out.push(e.code + ' ' + e.message); }
      }
      console.log(JSON.stringify(out));
    })();`;
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.signal, null, `timed out or killed: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.length, 6);
  for (const line of out) assert.match(line, /^ERR_LEAKGUARD_IO cannot read /);
  assert.match(out[0], /not a regular file \(a FIFO\)$/);
  assert.match(out[1], /not a regular file \(a FIFO\)$/);
  assert.match(out[2], /is a directory$/);
  assert.match(out[4], /not a regular file \(a character device\)$/);
});

test('objects of the wrong class or type passed to the native layer are ERR_LEAKGUARD_INVALID_ARG', async () => {
  const { binding } = require('../lib/native');
  const { fromNative } = require('../lib/errors');
  const b = binding();
  const snap = b.loadSnapshotSync(path.join(ROOT, 'crates/leakguard-core/tests/vectors/v1.json'));
  const job = new b.Job();
  const code = (f) => {
    try {
      f();
    } catch (err) {
      const e = fromNative(err);
      return `${e.code} ${e.message}`;
    }
    return 'no error';
  };
  // Before: napi-rs's own 'Failed to recover `Job` type' errors, reported as ERR_LEAKGUARD_INTERNAL.
  assert.equal(
    code(() => snap.summary({}, 'raw', 5)),
    'ERR_LEAKGUARD_INVALID_ARG job must be a Job instance, got another object',
  );
  assert.equal(
    code(() => snap.summary(snap, 'raw', 5)),
    'ERR_LEAKGUARD_INVALID_ARG job must be a Job instance, got another object',
  );
  assert.equal(
    code(() => snap.objects(null, 'Object', 'raw', 'retained', 5)),
    'ERR_LEAKGUARD_INVALID_ARG job must be a Job instance, got null',
  );
  assert.equal(
    code(() => snap.largestObjects(undefined, 5, 'raw')),
    'ERR_LEAKGUARD_INVALID_ARG job must be a Job instance, got undefined',
  );
  assert.equal(
    code(() => snap.retainerPath(7, 1, 'shortest', 10)),
    'ERR_LEAKGUARD_INVALID_ARG job must be a Job instance, got a number',
  );
  assert.equal(
    code(() => b.loadSnapshot('/nonexistent', snap)),
    'ERR_LEAKGUARD_INVALID_ARG job must be a Job instance, got another object',
  );
  assert.equal(
    code(() => b.loadSnapshotSync(5)),
    'ERR_LEAKGUARD_INVALID_ARG path must be a string, got a number',
  );
  assert.equal(
    code(() => b.loadSnapshot({}, job)),
    'ERR_LEAKGUARD_INVALID_ARG path must be a string, got another object',
  );
  // The right objects still work, through the same checks.
  assert.ok(JSON.parse(await snap.summary(job, 'raw', 5)).length > 0);
  assert.equal((await b.loadSnapshot(path.join(ROOT, 'crates/leakguard-core/tests/vectors/v1.json'), new b.Job())).nodeCount, 15);
  snap.dispose();
  assert.equal(snap.disposed, true);
  assert.equal(snap.memoryBytes, 0);
});
