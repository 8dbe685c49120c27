'use strict';

// The snapshot engine from JS: loadSnapshot on vectors and real snapshots, errors, abort,
// progress, dispose, workers.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const lg = require('..');
const { ROOT, tempDir, checkSnapshotFile } = require('./helpers');

const VECTORS = path.join(ROOT, 'crates/leakguard-core/tests/vectors');

test('golden vectors: node/edge counts and total size', async () => {
  const expected = { 'v1.json': [15, 19, 314], 'v1b.json': [15, 19, 292], 'v2.json': [6, 7, 178], 'v3.json': [21, 30, 590] };
  for (const [name, [nodes, edges, total]] of Object.entries(expected)) {
    const file = path.join(VECTORS, name);
    const ref = checkSnapshotFile(file);
    assert.deepEqual([ref.nodeCount, ref.edgeCount, ref.totalSize], [nodes, edges, total], `reference ${name}`);
    const s = await lg.loadSnapshot(file);
    assert.deepEqual([s.nodeCount, s.edgeCount, s.totalSize], [nodes, edges, total], name);
    const sync = lg.loadSnapshotSync(file);
    assert.deepEqual([sync.nodeCount, sync.edgeCount, sync.totalSize], [nodes, edges, total], `${name} (sync)`);
  }
});

/** Writes a snapshot of a child process that built some varied objects. */
function realSnapshot(dir, name, scale = 1) {
  const file = path.join(dir, name);
  const src = `
    class Session { constructor(i) { this.id = i; this.user = 'user' + i; this.tags = ['a', 'b']; } }
    const m = new Map();
    for (let i = 0; i < ${2000 * scale}; i++) m.set('k' + i, new Session(i));
    const closures = Array.from({ length: ${500 * scale} }, (_, i) => () => i + m.size);
    const text = 'héllo wörld ✓ ' + '\\u{1F600}'.repeat(3);
    const bufs = Array.from({ length: 50 }, (_, i) => Buffer.alloc(64 + i));
    const cyc = { a: {} }; cyc.a.back = cyc;
    globalThis.keep = { m, closures, text, bufs, cyc };
    require(${JSON.stringify(ROOT)}).writeSnapshot(${JSON.stringify(file)});
  `;
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

test('real snapshots: counts and total self size equal what JSON.parse gives', async (t) => {
  const dir = tempDir(t);
  for (const [i, scale] of [1, 10].entries()) {
    const file = realSnapshot(dir, `real${i}.heapsnapshot`, scale);
    const ref = checkSnapshotFile(file);
    const s = await lg.loadSnapshot(file);
    assert.equal(s.nodeCount, ref.nodeCount);
    assert.equal(s.edgeCount, ref.edgeCount);
    assert.equal(s.totalSize, ref.totalSize);
    assert.ok(s.memoryBytes > 0);
  }
  // and a snapshot of this very process, written by writeSnapshot
  const own = lg.writeSnapshot(path.join(dir, 'own.heapsnapshot'));
  const ref = checkSnapshotFile(own);
  const s = await lg.loadSnapshot(own);
  assert.deepEqual([s.nodeCount, s.edgeCount, s.totalSize], [ref.nodeCount, ref.edgeCount, ref.totalSize]);
});

test('errors: missing file is ERR_LEAKGUARD_IO, corrupt input ERR_LEAKGUARD_PARSE with an offset', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(lg.loadSnapshot(path.join(dir, 'missing.heapsnapshot')), { code: 'ERR_LEAKGUARD_IO' });
  await assert.rejects(lg.loadSnapshot(dir), { code: 'ERR_LEAKGUARD_IO' }); // a directory
  assert.throws(() => lg.loadSnapshotSync(path.join(dir, 'missing.heapsnapshot')), { code: 'ERR_LEAKGUARD_IO' });
  const cases = {
    'empty.json': '',
    'array.json': '[1,2,3]',
    'object.json': '{"a":1}',
    'png.json': '\x89PNG\r\n\x1a\n',
    'unaligned.json': fs.readFileSync(path.join(VECTORS, 'v1.json'), 'utf8').replace('"edges":[1,1,6', '"edges":[1,1,7'),
  };
  for (const [name, text] of Object.entries(cases)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    const err = await lg.loadSnapshot(file).then(
      () => assert.fail(`${name} parsed`),
      (e) => e,
    );
    assert.equal(err.code, 'ERR_LEAKGUARD_PARSE', `${name}: ${err.message}`);
    assert.equal(typeof err.offset, 'number', `${name}: ${err.message}`);
    assert.ok(err instanceof lg.LeakguardError);
  }
  await assert.rejects(lg.loadSnapshot(path.join(dir, 'unaligned.json')), /invalid to_node/);
});

test('wrong argument types reject with ERR_LEAKGUARD_INVALID_ARG', async () => {
  await assert.rejects(lg.loadSnapshot(42), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.loadSnapshot(''), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.loadSnapshot('x', { signal: 'nope' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.loadSnapshot('x', { onProgress: 3 }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => lg.loadSnapshotSync(null), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.throws(() => new lg.HeapSnapshot({}), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
});

test('truncations and byte flips of a real snapshot: errors only, the process survives', async (t) => {
  const dir = tempDir(t);
  const bytes = fs.readFileSync(realSnapshot(dir, 'src.heapsnapshot'));
  let seed = 12345;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const file = path.join(dir, 'mut.heapsnapshot');
  for (let i = 0; i < 40; i++) {
    const cut = rand(bytes.length - 1);
    fs.writeFileSync(file, bytes.subarray(0, cut));
    await assert.rejects(lg.loadSnapshot(file), { code: 'ERR_LEAKGUARD_PARSE' }, `cut at ${cut}`);
  }
  for (let i = 0; i < 40; i++) {
    const copy = Buffer.from(bytes);
    for (let k = 0; k < 1 + rand(4); k++) copy[rand(copy.length)] = rand(256);
    fs.writeFileSync(file, copy);
    await lg.loadSnapshot(file).then(
      (s) => assert.ok(s.nodeCount >= 0),
      (e) => assert.equal(e.code, 'ERR_LEAKGUARD_PARSE', e.message),
    );
  }
});

test('abort: an aborted signal rejects at once with ERR_LEAKGUARD_ABORTED; progress is monotone', async (t) => {
  const dir = tempDir(t);
  const file = realSnapshot(dir, 'big.heapsnapshot', 60);
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(lg.loadSnapshot(file, { signal: pre.signal }), { code: 'ERR_LEAKGUARD_ABORTED' });

  const ac = new AbortController();
  const p = lg.loadSnapshot(file, { signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(p, { code: 'ERR_LEAKGUARD_ABORTED' });

  const seen = [];
  const s = await lg.loadSnapshot(file, { onProgress: (f) => seen.push(f) });
  assert.ok(s.nodeCount > 100000);
  assert.ok(seen.length >= 1 && seen[seen.length - 1] === 1, `${seen}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `${seen}`);
});

test('dispose frees the snapshot; the counters still answer', async () => {
  const s = await lg.loadSnapshot(path.join(VECTORS, 'v1.json'));
  assert.equal(s.disposed, false);
  s.dispose();
  s.dispose(); // idempotent
  assert.equal(s.disposed, true);
  assert.equal(s.nodeCount, 15);
});

test('loadSnapshot works in a worker thread', async () => {
  const src = `
    const { parentPort } = require('worker_threads');
    require(${JSON.stringify(ROOT)}).loadSnapshot(${JSON.stringify(path.join(VECTORS, 'v2.json'))})
      .then((s) => parentPort.postMessage([s.nodeCount, s.edgeCount, s.totalSize]));
  `;
  const w = new Worker(src, { eval: true });
  const got = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.deepEqual(got, [6, 7, 178]);
});
