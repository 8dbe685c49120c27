'use strict';

// In-memory snapshots, diff and the three-snapshot leak finder.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const lg = require('..');
const { ROOT, tempDir } = require('./helpers');

const VECTORS = path.join(ROOT, 'crates/leakguard-core/tests/vectors');

function scenario(name) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'scenario.js'), name], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const describe = (s) => `${s.className} x${s.count} ${s.retainedSize}B via ${s.paths[0]?.text}`;

test('diff V1 -> V1b equals the table of docs/analysis.md#test-vectors in both size modes', async () => {
  const a = await lg.loadSnapshot(path.join(VECTORS, 'v1.json'));
  const b = await lg.loadSnapshot(path.join(VECTORS, 'v1b.json'));
  for (const sizes of ['devtools', 'raw']) {
    const rows = await lg.diff(a, b, { sizes });
    assert.deepEqual(
      rows.map((r) => [r.className, r.addedCount, r.removedCount, r.countDelta, r.addedSize, r.removedSize, r.sizeDelta]),
      [
        ['New', 1, 0, 1, 24, 0, 24],
        ['Foo', 1, 1, 0, 44, 30, 14],
        ['Baz', 0, 1, -1, 0, 60, -60],
      ],
      sizes,
    );
  }
});

test('takeSnapshot leaves no file behind and tags the heap it shows', async (t) => {
  const dir = tempDir(t);
  const s = await lg.takeSnapshot({ tmpdir: dir });
  assert.ok(s.nodeCount > 1000);
  assert.match(s.origin, new RegExp(`^${process.pid}:0$`));
  assert.deepEqual(fs.readdirSync(dir), []);
  const rows = await s.summary({ top: 5 });
  assert.equal(rows.length, 5);
  s.dispose();
});

test('snapshots of different processes are refused with ERR_LEAKGUARD_MISMATCH', async (t) => {
  const dir = tempDir(t);
  const files = [1, 2].map((i) => {
    const f = path.join(dir, `p${i}.heapsnapshot`);
    const r = spawnSync(process.execPath, [
      '-e',
      `globalThis.x = Array.from({ length: 5000 }, (_, i) => ({ i })); require(${JSON.stringify(ROOT)}).writeSnapshot(${JSON.stringify(f)})`,
    ]);
    assert.equal(r.status, 0, String(r.stderr));
    return f;
  });
  const [a, b] = await Promise.all(files.map((f) => lg.loadSnapshot(f)));
  await assert.rejects(lg.diff(a, b), { code: 'ERR_LEAKGUARD_MISMATCH' });
  await assert.rejects(lg.findLeaks({ baseline: a, target: b, final: b }), { code: 'ERR_LEAKGUARD_MISMATCH' });
  // a snapshot of this process against one of another: refused from the origin tags alone
  const own = await lg.takeSnapshot();
  await assert.rejects(lg.diff(own, a), { code: 'ERR_LEAKGUARD_MISMATCH' });
  // the same heap twice is fine
  const again = await lg.takeSnapshot();
  assert.ok(Array.isArray(await lg.diff(own, again)));
});

test('a diff computes only classes; a later summary completes that analysis, alone or racing', async () => {
  const file = (n) => path.join(VECTORS, n);
  const fresh = await lg.loadSnapshot(file('v1.json'));
  const want = await fresh.summary({ sizes: 'raw' });
  const afterAll = fresh.memoryBytes;
  for (const race of [false, true]) {
    const a = await lg.loadSnapshot(file('v1.json'));
    const b = await lg.loadSnapshot(file('v1b.json'));
    const before = a.memoryBytes;
    let rows;
    let summary;
    if (race) {
      [rows, summary] = await Promise.all([lg.diff(a, b), a.summary({ sizes: 'raw' })]);
    } else {
      rows = await lg.diff(a, b);
      const classesOnly = a.memoryBytes;
      assert.ok(classesOnly > before && classesOnly < afterAll, `${before} < ${classesOnly} < ${afterAll}`);
      summary = await a.summary({ sizes: 'raw' });
    }
    assert.ok(rows.length > 0);
    assert.deepEqual(summary, want, `race: ${race}`);
    assert.equal(a.memoryBytes, afterAll);
    assert.deepEqual(await lg.diff(a, b), rows);
  }
});

test('argument errors', async () => {
  const a = await lg.loadSnapshot(path.join(VECTORS, 'v1.json'));
  await assert.rejects(lg.diff(a, {}), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.diff(a, a, { sizes: 'x' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.findLeaks({ baseline: a, target: a }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.findLeaks({ baseline: a, target: a, final: a }, { minCount: -1 }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.findLeaks({ baseline: a, target: a, final: a }, { ignoreClasses: 'Foo' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(lg.takeSnapshot(null), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
});

test('an http server keeping requests in a module-level Map: IncomingMessage first, path names requests', () => {
  const { N, report } = scenario('http-map');
  const top = report.suspects[0];
  assert.ok(top, 'a suspect');
  assert.equal(top.className, 'IncomingMessage', describe(top));
  assert.ok(top.count >= N, describe(top));
  assert.match(top.paths[0].text, /requests/, describe(top));
  assert.match(top.paths[0].text, /Map/, describe(top));
  assert.match(top.paths[0].text, /IncomingMessage$/, describe(top));
  assert.equal(top.heldVia, null);
  // What the leaked requests keep alive in turn (their keep-alive sockets, parser state) is
  // reported as such: kept alive through suspect 0.
  for (const s of report.suspects.slice(1)) {
    if (s.paths[0] && / \(IncomingMessage\) → /.test(s.paths[0].text)) assert.equal(s.heldVia, 0, describe(s));
  }
});

test('the same server with the leak fixed reports nothing that large', () => {
  const { N, report } = scenario('http-fixed');
  const big = report.suspects.filter((s) => s.count >= N / 2);
  assert.deepEqual(big.map(describe), []);
});

const shapes = [
  ['listeners', 'listeners piling up on a long-lived emitter', /bus|_events|tick/],
  ['registry', 'closures in a callback registry', /callbackRegistry/],
  ['timers', 'intervals never cleared', /Timeout|timer/i],
  ['cache', 'a cache with no eviction', /cache/],
];
for (const [name, what, pathRe] of shapes) {
  test(`leak shape: ${what}`, () => {
    const { N, report } = scenario(name);
    const top = report.suspects[0];
    assert.ok(top, `no suspect for ${name}`);
    assert.ok(top.count >= N, describe(top));
    assert.match(top.paths[0].text, pathRe, describe(top));
  });
}

test('listeners added then removed: no leak', () => {
  const { N, report } = scenario('listeners-removed');
  assert.deepEqual(report.suspects.filter((s) => s.count >= N / 2).map(describe), []);
});

test('findLeaks groups suspects by class when its options carry classes', async () => {
  const held = [];
  class ClassGroupLeak {}
  const baseline = await lg.takeSnapshot();
  for (let i = 0; i < 40; i++) held.push(new ClassGroupLeak());
  const target = await lg.takeSnapshot();
  const fin = await lg.takeSnapshot();
  const call = (o) => lg.findLeaks({ baseline, target, final: fin }, o);
  const plain = await call({ minCount: 1 });
  assert.equal('classes' in plain, false);
  const report = await call({ minCount: 1, classes: { calls: 4, threshold: 5, minCount: 1 } });
  const c = report.classes.find((x) => x.className === 'ClassGroupLeak');
  assert.ok(c, JSON.stringify(report.classes.map((x) => x.className)));
  assert.equal(c.count, 40);
  assert.equal(c.perIteration, 10);
  assert.equal(c.calls, 4);
  assert.equal(c.via, null);
  assert.ok(c.path.includes('ClassGroupLeak') && c.paths[0] === c.path, c.path);
  assert.ok(report.classes.every((x) => x.perIteration >= 5));
  await assert.rejects(call({ classes: { calls: 0 } }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(call({ classes: {} }), { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /classes\.calls/ });
  await assert.rejects(call({ classes: { calls: 4, threshold: -1 } }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(call({ classes: null }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  held.length = 0;
});
