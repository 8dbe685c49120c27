'use strict';

// Analysis from JS: summary, objects, largestObjects, retainerPath on vectors and real
// snapshots; parity with heap-snapshot-toolkit (DevTools' own code); abort, concurrency.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const lg = require('..');
const { ROOT, tempDir } = require('./helpers');

const VECTORS = path.join(ROOT, 'crates/leakguard-core/tests/vectors');
const row = (r) => `${r.className} ${r.count}/${r.shallowSize}/${r.retainedSize}/${r.distance}`;

test('V1 summary in both size modes equals docs/analysis.md#test-vectors', async () => {
  const s = await lg.loadSnapshot(path.join(VECTORS, 'v1.json'));
  const raw = (await s.summary({ sizes: 'raw' })).map(row).sort();
  assert.deepEqual(
    raw,
    [
      'Global 1/10/186/1',
      'Foo 2/50/50/2',
      'Bar 1/40/90/3',
      '(array) 1/50/50/4',
      'X 1/12/20/2',
      'H 1/8/8/3',
      'Function 1/32/56/100000002',
      '(string) 1/16/16/2',
      'Baz 1/60/60/-5',
      '(system) 1/24/24/100000003',
      'P 1/5/5/-5',
      'Q 1/7/7/-5',
    ].sort(),
  );
  const dt = await s.summary();
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
  // sorted by retained size, biggest first; top cuts the list
  assert.deepEqual(
    dt.map((r) => r.retainedSize),
    dt.map((r) => r.retainedSize).sort((a, b) => b - a),
  );
  assert.equal((await s.summary({ top: 2 })).length, 2);
  const foo = await s.objects('Foo');
  assert.deepEqual(
    foo.map((o) => [o.id, o.retainedSize]),
    [
      [105, 30],
      [103, 20],
    ],
  );
  assert.deepEqual(
    (await s.largestObjects(1)).map((o) => o.id),
    [101],
  );
  const h = await s.retainerPath(113);
  assert.equal(h.steps[0].className, 'Global');
  assert.equal(h.steps.at(-1).id, 113);
  assert.equal(h.steps[0].edge, null);
  assert.ok(h.complete);
});

test('V2 (WeakMap) and V3 (class names) through the JS API', async () => {
  const v2 = await lg.loadSnapshot(path.join(VECTORS, 'v2.json'));
  const rows2 = Object.fromEntries((await v2.summary({ sizes: 'raw' })).map((r) => [r.className, r]));
  assert.equal(rows2.Key.retainedSize, 108); // Val is dominated by its key, not the table
  assert.equal(rows2.Val.distance, 4);
  const v3 = await lg.loadSnapshot(path.join(VECTORS, 'v3.json'));
  const rows3 = Object.fromEntries((await v3.summary()).map((r) => [r.className, r]));
  assert.equal(rows3['{a, b}'].count, 4);
  assert.equal(rows3.Object.count, 2);
  assert.ok(rows3['Detached <span>'] && rows3['<div>'] && rows3.Function && rows3.RegExp);
  assert.equal(rows3['(system)'], undefined);
  assert.equal(rows3.Global.shallowSize, 38);
  const raw3 = Object.fromEntries((await v3.summary({ sizes: 'raw' })).map((r) => [r.className, r]));
  assert.equal(raw3['(system)'].shallowSize, 28);
});

/** A child process's snapshot; `body` runs as a CommonJS module. */
function snapshotOf(dir, name, body) {
  const file = path.join(dir, name);
  const script = path.join(dir, `${name}.js`);
  fs.writeFileSync(script, `${body}\nrequire(${JSON.stringify(ROOT)}).writeSnapshot(${JSON.stringify(file)});\nprocess.exit(0);\n`);
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

test('retainerPath names the module-level Map and the class it holds', async (t) => {
  const dir = tempDir(t);
  const file = snapshotOf(
    dir,
    'map.heapsnapshot',
    `
    class PendingRequest { constructor(i) { this.id = i; this.body = 'payload-' + i; } }
    const requests = new Map();
    for (let i = 0; i < 500; i++) requests.set(i, new PendingRequest(i));
    setInterval(() => requests.size, 1000); // a closure keeps the module's variable alive
  `,
  );
  const s = await lg.loadSnapshot(file);
  const rows = await s.summary();
  const pr = rows.find((r) => r.className === 'PendingRequest');
  assert.equal(pr.count, 500);
  const [obj] = await s.objects('PendingRequest', { limit: 1 });
  for (const kind of ['devtools', 'shortest']) {
    const p = await s.retainerPath(obj.id, { kind });
    assert.equal(p.kind, kind);
    assert.match(p.text, /requests/, p.text);
    assert.match(p.text, /Map/, p.text);
    assert.match(p.text, /PendingRequest$/, p.text);
    assert.ok(
      p.steps.some((st) => st.edge && st.edge.name === 'requests'),
      p.text,
    );
    assert.equal(p.steps.at(-1).id, obj.id);
  }
});

test('class rows equal heap-snapshot-toolkit (DevTools code) on a real snapshot', async (t) => {
  const dir = tempDir(t);
  const file = snapshotOf(
    dir,
    'parity.heapsnapshot',
    `
    class Session { constructor(i) { this.id = i; this.user = { name: 'u' + i, roles: ['r'] }; } }
    const sessions = new Map(); for (let i = 0; i < 3000; i++) sessions.set('s' + i, new Session(i));
    const shapes = []; for (let i = 0; i < 2000; i++) shapes.push({ a: i, b: String(i) }, { a: i, b: i, c: [i] });
    const fns = Array.from({ length: 300 }, (_, i) => () => i + sessions.size);
    const wm = new WeakMap(); const keys = []; for (let i = 0; i < 200; i++) { const k = {}; keys.push(k); wm.set(k, { v: i }); }
    const bufs = Array.from({ length: 100 }, (_, i) => Buffer.alloc(100 + i));
    globalThis.keep = { sessions, shapes, fns, wm, keys, bufs };
  `,
  );
  const { parse } = await import('heap-snapshot-toolkit');
  const ref = await parse(fs.createReadStream(file, 'utf-8'));
  // DevTools keys classes by script location too; leakguard groups by name (see README).
  const byName = new Map();
  for (const a of Object.values(ref.aggregatesWithFilter({}))) {
    const r = byName.get(a.name) || { className: a.name, count: 0, shallowSize: 0, retainedSize: 0, distance: Infinity };
    r.count += a.count;
    r.shallowSize += a.self;
    r.retainedSize += a.maxRet;
    r.distance = Math.min(r.distance, a.distance);
    byName.set(a.name, r);
  }
  const s = await lg.loadSnapshot(file);
  const ours = new Map((await s.summary()).map((r) => [r.className, r]));
  const onlyOurs = [...ours.keys()].filter((k) => !byName.has(k));
  assert.deepEqual(onlyOurs, [], 'classes only leakguard lists');
  const mismatches = [];
  for (const [name, r] of byName) {
    const o = ours.get(name);
    if (!o || row(o) !== row(r)) mismatches.push(`${name}: devtools ${row(r)} leakguard ${o ? row(o) : 'missing'}`);
  }
  assert.deepEqual(mismatches, []);
  assert.ok(ours.get('Session').count === 3000);
});

test('concurrent queries share one analysis; abort rejects promptly and leaves the snapshot usable', async (t) => {
  const dir = tempDir(t);
  const file = snapshotOf(dir, 'conc.heapsnapshot', `globalThis.keep = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'v' + i }));`);
  const s = await lg.loadSnapshot(file);
  const ac = new AbortController();
  const aborted = s.summary({ signal: ac.signal });
  ac.abort();
  await assert.rejects(aborted, { code: 'ERR_LEAKGUARD_ABORTED' });
  const seen = [];
  const [a, b, c, d] = await Promise.all([
    s.summary({ onProgress: (f) => seen.push(f) }),
    s.summary(),
    s.largestObjects(5),
    s.objects('Object', { sortBy: 'id', limit: 3 }),
  ]);
  assert.deepEqual(a, b);
  assert.equal(c.length, 5);
  assert.ok(d.length <= 3);
  assert.equal(seen.at(-1), 1);
  s.dispose();
  await assert.rejects(s.summary(), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
});

test('analysis arguments are validated', async () => {
  const s = await lg.loadSnapshot(path.join(VECTORS, 'v1.json'));
  await assert.rejects(s.summary({ sizes: 'huge' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(s.summary({ top: -1 }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(s.objects(5), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(s.objects('Foo', { sortBy: 'color' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(s.retainerPath('113'), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(s.retainerPath(999999), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(s.retainerPath(113, { kind: 'longest' }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  assert.deepEqual(await s.objects('NoSuchClass'), []);
});
