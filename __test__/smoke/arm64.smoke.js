'use strict';

// Smoke suite for the linux-arm64-gnu prebuilt, run by scripts/test-arm64.js under an arm64
// Node in qemu-aarch64 (not matched by `*.test.js`, so the normal suite skips it). It requires
// the repo root, so the addon comes through the generated loader (binding.js ->
// require('leakguard-linux-arm64-gnu'), made resolvable by the driver), and checks that what
// loaded is the arm64 file before trusting any result: it cannot pass on x64 by accident.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { checkFile, describe } = require('../../scripts/binary-check');

const ROOT = path.join(__dirname, '..', '..');
const VECTORS = path.join(ROOT, 'crates/leakguard-core/tests/vectors');
const EXPECTED = process.env.LEAKGUARD_SMOKE_ADDON;
const lg = require(ROOT);

const row = (r) => `${r.className} ${r.count}/${r.shallowSize}/${r.retainedSize}/${r.distance}`;

test('runs as arm64 and loaded the arm64 addon through the loader', async () => {
  assert.equal(process.arch, 'arm64');
  assert.equal(process.platform, 'linux');
  assert.ok(EXPECTED, 'LEAKGUARD_SMOKE_ADDON names the addon the loader must pick');
  // the loader may load lazily: one call makes sure the addon is in
  await lg.loadSnapshot(path.join(VECTORS, 'v2.json'));
  const natives = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
  assert.deepEqual(natives, [fs.realpathSync(EXPECTED)]);
  const { info, problems } = checkFile(natives[0], 'linux-arm64-gnu');
  assert.deepEqual(problems, [], describe(info));
});

test('golden vectors: node/edge counts and total size (as __test__/load.test.js)', async () => {
  const expected = { 'v1.json': [15, 19, 314], 'v1b.json': [15, 19, 292], 'v2.json': [6, 7, 178], 'v3.json': [21, 30, 590] };
  for (const [name, want] of Object.entries(expected)) {
    const s = await lg.loadSnapshot(path.join(VECTORS, name));
    assert.deepEqual([s.nodeCount, s.edgeCount, s.totalSize], want, name);
    const sync = lg.loadSnapshotSync(path.join(VECTORS, name));
    assert.deepEqual([sync.nodeCount, sync.edgeCount, sync.totalSize], want, `${name} (sync)`);
  }
});

test('V1 summary and the V1 -> V1b diff equal the spec tables (as analysis/leaks tests)', async () => {
  const v1 = await lg.loadSnapshot(path.join(VECTORS, 'v1.json'));
  const dt = await v1.summary();
  assert.deepEqual(
    dt.map(row).sort(),
    [
      'Global 1/10/186/1',
      'Foo 2/50/50/2',
      'Bar 1/90/90/3',
      'X 1/12/20/2',
      'H 1/8/8/3',
      'Function 1/56/56/100000002',
      '(string) 1/16/16/2',
      'Baz 1/60/60/-5',
      'P 1/5/5/-5',
      'Q 1/7/7/-5',
    ].sort(),
  );
  assert.deepEqual(
    (await v1.objects('Foo')).map((o) => [o.id, o.retainedSize]),
    [
      [105, 30],
      [103, 20],
    ],
  );
  const v1b = await lg.loadSnapshot(path.join(VECTORS, 'v1b.json'));
  const rows = await lg.diff(v1, v1b, { sizes: 'raw' });
  assert.deepEqual(
    rows.map((r) => [r.className, r.addedCount, r.removedCount, r.countDelta, r.addedSize, r.removedSize, r.sizeDelta]),
    [
      ['New', 1, 0, 1, 24, 0, 24],
      ['Foo', 1, 1, 0, 44, 30, 14],
      ['Baz', 0, 1, -1, 0, 60, -60],
    ],
  );
});

class SmokeLeak {
  constructor(i) {
    this.i = i;
    this.payload = new Array(8).fill(i);
  }
}
const held = [];
const leak = (n) => {
  for (let i = 0; i < n; i++) held.push(new SmokeLeak(i));
};

test('takeSnapshot + findLeaks on this process find the leaking class', async () => {
  const baseline = await lg.takeSnapshot();
  leak(40);
  const target = await lg.takeSnapshot();
  leak(40);
  const final = await lg.takeSnapshot();
  const report = await lg.findLeaks({ baseline, target, final });
  const top = report.suspects.find((s) => s.className === 'SmokeLeak');
  assert.ok(top, JSON.stringify(report.suspects.map((s) => s.className)));
  assert.equal(top.count, 40);
  assert.match(top.paths[0].text, /held/);
  for (const s of [baseline, target, final]) s.dispose();
});

test('checkLeak: a leaking function is caught, a clean one is not', async () => {
  const store = [];
  const leaky = await lg.checkLeak(() => store.push(new SmokeLeak(store.length)), { iterations: 20 });
  assert.equal(leaky.leaked, true);
  assert.equal(leaky.suspects[0].className, 'SmokeLeak');
  assert.equal(leaky.suspects[0].perIteration, 1);
  const clean = await lg.checkLeak(() => new SmokeLeak(1).payload.length, { iterations: 20 });
  assert.equal(clean.leaked, false, JSON.stringify(clean.suspects.map((s) => s.className)));
});
