'use strict';

// The `leakguard` command line, run as a child process (bin/leakguard.js) on the hand-checked
// vectors (docs/analysis.md#test-vectors) and on snapshots of small child processes: table and JSON
// output, exit codes, one-line errors, help, progress, EPIPE; and the report model directly.

const test = require('node:test');
const { after } = test;
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const lg = require('..');
const { ROOT } = require('./helpers');
const { main, EXIT } = require('../lib/cli');
const { buildReportModel, validateSamples } = require('../lib/cli/report-model');
const { table, truncate, cleanText, displayWidth } = require('../lib/cli/format');

const BIN = path.join(ROOT, 'bin', 'leakguard.js');
const VECTORS = path.join(ROOT, 'crates/leakguard-core/tests/vectors');
const V1 = path.join(VECTORS, 'v1.json');
const V1B = path.join(VECTORS, 'v1b.json');
const V2 = path.join(VECTORS, 'v2.json');
const V3 = path.join(VECTORS, 'v3.json');
const OTHER_HEAP = path.join(__dirname, 'fixtures', 'cli-other-heap.json'); // v1 with another global object id
const VERSION = require('../package.json').version;
const COMMANDS = ['summary', 'diff', 'leaks', 'path', 'largest', 'objects', 'report'];

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-cli-'));
after(async () => {
  // The snapshot writers may still run when only a few tests were selected.
  if (generated) await generated.catch(() => {});
  fs.rmSync(TMP, { recursive: true, force: true });
});

// Children must not inherit switches from the developer's shell.
const BASE_ENV = { ...process.env };
delete BASE_ENV.LEAKGUARD_DEBUG;
delete BASE_ENV.LEAKGUARD_PROGRESS;

/** Runs `node bin/leakguard.js <args>`; resolves { code, signal, stdout, stderr }. */
function cli(args, { env = {}, cwd = ROOT, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (onSpawn) onSpawn(child);
  });
}

/** Table rows as arrays of cells (columns are separated by at least two spaces). */
const cells = (text) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/ {2,}/));

/** The lines of the table that starts with a header line beginning with `first`. */
function tableOf(stdout, first) {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith(first));
  assert.ok(start >= 0, `no table with header ${first} in:\n${stdout}`);
  const end = lines.findIndex((l, i) => i > start && (l.trim() === '' || l.startsWith('…')));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** An engine error: exit 3 (1 means leaks found), exactly one line on stderr with the code, no stack trace. */
function assertOneLineError(r, code, fileRe) {
  assert.equal(r.code, 3, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^leakguard: ${code}: [^\\n]+\\n$`), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  if (fileRe) assert.match(r.stderr, fileRe);
}

/** A usage error: exit 2, nothing on stdout, the usage on stderr. */
function assertUsage(r, re) {
  assert.equal(r.code, 2, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Usage: leakguard/);
  if (re) assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

// Snapshots of two small processes (a leaking one and a steady one), made once for the file.
let generated;
function snapshots() {
  generated ||= Promise.all(
    ['leak', 'steady'].map(
      (mode) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'cli-leaker.js'), TMP, mode], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.on('data', (d) => (err += d));
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cli-leaker ${mode} exited ${code}: ${err}`))));
        }),
    ),
  ).then(() => {
    const f = (mode, k) => path.join(TMP, `${mode}-${k}.heapsnapshot`);
    return {
      leak: [1, 2, 3].map((k) => f('leak', k)),
      steady: [1, 2, 3].map((k) => f('steady', k)),
      samples: path.join(TMP, 'leak-samples.json'),
    };
  });
  return generated;
}
// Start at once, so the vector tests run while the children write; failures surface in the
// tests that await the snapshots.
snapshots().catch(() => {});

// ---------------------------------------------------------------------------------------------
// summary

const V1_DEVTOOLS = [
  ['Global', '1', '10 B', '186 B', '1'],
  ['Bar', '1', '90 B', '90 B', '3'],
  ['Baz', '1', '60 B', '60 B', '-'],
  ['Function', '1', '56 B', '56 B', 'sys'],
  ['Foo', '2', '50 B', '50 B', '2'],
  ['X', '1', '12 B', '20 B', '2'],
  ['(string)', '1', '16 B', '16 B', '2'],
  ['H', '1', '8 B', '8 B', '3'],
  ['Q', '1', '7 B', '7 B', '-'],
  ['P', '1', '5 B', '5 B', '-'],
];

test('summary of V1: header line and the class rows of docs/analysis.md#test-vectors, aligned', async () => {
  const r = await cli(['summary', V1]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const [head] = r.stdout.split('\n');
  assert.equal(head, `${V1}: 15 nodes, 19 edges, 314 B total (sizes: devtools)`);
  const lines = tableOf(r.stdout, 'Class');
  assert.deepEqual(cells(lines[0])[0], ['Class', 'Count', 'Shallow', 'Retained', 'Distance']);
  assert.deepEqual(cells(lines.slice(1).join('\n')), V1_DEVTOOLS);
  // right-aligned numbers: every line ends at the same column as the header
  for (const l of lines) assert.equal(l.length, lines[0].length, JSON.stringify(l));
  assert.doesNotMatch(r.stdout, /more classes/);
});

test('summary --sizes raw --top: raw V8 sizes, the cut and its note', async () => {
  const raw = await cli(['summary', V1, '--sizes', 'raw', '--top', '0']);
  assert.equal(raw.code, 0, raw.stderr);
  const rows = cells(tableOf(raw.stdout, 'Class').slice(1).join('\n'));
  assert.equal(rows.length, 12);
  assert.deepEqual(
    rows.filter((c) => ['Bar', '(array)', '(system)', 'Function'].includes(c[0])),
    [
      ['Bar', '1', '40 B', '90 B', '3'],
      ['Function', '1', '32 B', '56 B', 'sys'],
      ['(array)', '1', '50 B', '50 B', '4'],
      ['(system)', '1', '24 B', '24 B', 'sys'],
    ],
  );
  assert.match(raw.stdout, /\(sizes: raw\)/);
  const top = await cli(['summary', V1, '--top', '3']);
  assert.deepEqual(cells(tableOf(top.stdout, 'Class').slice(1).join('\n')), V1_DEVTOOLS.slice(0, 3));
  assert.match(top.stdout, /… 7 more classes \(--top 0 shows all\)\n$/);
});

test('summary --json of V1: the documented shape with exact numbers', async () => {
  const r = await cli(['summary', V1, '--json', '--top', '4']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['classes', 'classesTotal', 'edgeCount', 'file', 'nodeCount', 'sizes', 'totalSize']);
  assert.equal(j.file, V1);
  assert.equal(j.nodeCount, 15);
  assert.equal(j.edgeCount, 19);
  assert.equal(j.totalSize, 314);
  assert.equal(j.sizes, 'devtools');
  assert.equal(j.classesTotal, 10);
  assert.deepEqual(j.classes, [
    { className: 'Global', count: 1, shallowSize: 10, retainedSize: 186, distance: 1, system: false },
    { className: 'Bar', count: 1, shallowSize: 90, retainedSize: 90, distance: 3, system: false },
    { className: 'Baz', count: 1, shallowSize: 60, retainedSize: 60, distance: -5, system: false },
    { className: 'Function', count: 1, shallowSize: 56, retainedSize: 56, distance: 100000002, system: true },
  ]);
});

test('summary of V2 and V3 (WeakMap and class naming vectors)', async () => {
  const [v2, v3] = await Promise.all([cli(['summary', V2, '--sizes', 'raw', '--json']), cli(['summary', V3, '--top', '0'])]);
  const key = JSON.parse(v2.stdout).classes.find((c) => c.className === 'Key');
  assert.deepEqual(key, { className: 'Key', count: 1, shallowSize: 8, retainedSize: 108, distance: 2, system: false }); // Val is dominated by its key
  const rows = Object.fromEntries(cells(tableOf(v3.stdout, 'Class').slice(1).join('\n')).map((c) => [c[0], c]));
  assert.equal(rows['{a, b}'][1], '4');
  assert.equal(rows.Object[1], '2');
  assert.deepEqual(rows.Global.slice(1, 3), ['1', '38 B']); // (system) Oddball reattributed
  assert.ok(rows['Detached <span>'] && rows['<div>']);
});

test('summary --json of a real snapshot equals loadSnapshot().summary() in-process', async () => {
  const { leak } = await snapshots();
  const [r, all] = await Promise.all([cli(['summary', leak[2], '--json']), cli(['summary', leak[2], '--json', '--top', '0'])]);
  assert.equal(r.code, 0, r.stderr);
  const s = await lg.loadSnapshot(leak[2]);
  try {
    const rows = await s.summary();
    const j = JSON.parse(r.stdout);
    assert.equal(j.nodeCount, s.nodeCount);
    assert.equal(j.edgeCount, s.edgeCount);
    assert.equal(j.totalSize, s.totalSize);
    assert.equal(j.classesTotal, rows.length);
    assert.deepEqual(j.classes, rows.slice(0, 20));
    assert.deepEqual(JSON.parse(all.stdout).classes, rows);
    const probe = rows.find((c) => c.className === 'CliLeakProbe');
    assert.equal(probe.count, 450); // 50 warm-up + 2 × 200, all held
  } finally {
    s.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// diff

test('diff V1 -> V1b: the table of docs/analysis.md#test-vectors, biggest |ΔSize| first, with the net change', async () => {
  const r = await cli(['diff', V1, V1B]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.split('\n')[0], `${V1} → ${V1B}: 15 → 15 nodes, 314 B → 292 B total (sizes: devtools)`);
  const lines = tableOf(r.stdout, 'Class');
  assert.deepEqual(cells(lines.join('\n')), [
    ['Class', '+Count', '-Count', 'ΔCount', '+Size', '-Size', 'ΔSize'],
    ['Baz', '0', '1', '-1', '0 B', '60 B', '-60 B'],
    ['New', '1', '0', '+1', '24 B', '0 B', '+24 B'],
    ['Foo', '1', '1', '0', '44 B', '30 B', '+14 B'],
  ]);
  for (const l of lines) assert.equal(l.length, lines[0].length, JSON.stringify(l));
  assert.match(r.stdout, /\n3 classes changed; net 0 objects, -22 B\n$/);
});

test('diff --json: { base, current, sizes, rows, rowsTotal }, --top cuts rows only', async () => {
  const [r, top1] = await Promise.all([cli(['diff', V1, V1B, '--json', '--sizes', 'raw']), cli(['diff', V1, V1B, '--json', '--top', '1'])]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j, {
    base: V1,
    current: V1B,
    sizes: 'raw',
    rows: [
      { className: 'Baz', addedCount: 0, removedCount: 1, countDelta: -1, addedSize: 0, removedSize: 60, sizeDelta: -60 },
      { className: 'New', addedCount: 1, removedCount: 0, countDelta: 1, addedSize: 24, removedSize: 0, sizeDelta: 24 },
      { className: 'Foo', addedCount: 1, removedCount: 1, countDelta: 0, addedSize: 44, removedSize: 30, sizeDelta: 14 },
    ],
    rowsTotal: 3,
  });
  const t = JSON.parse(top1.stdout);
  assert.deepEqual(
    t.rows.map((x) => x.className),
    ['Baz'],
  );
  assert.equal(t.rowsTotal, 3);
});

test('diff of snapshots of different heaps: ERR_LEAKGUARD_MISMATCH, exit 3, one line', async () => {
  const { leak, steady } = await snapshots();
  const [procs, vec] = await Promise.all([cli(['diff', leak[0], steady[0]]), cli(['diff', V1, OTHER_HEAP])]);
  assertOneLineError(procs, 'ERR_LEAKGUARD_MISMATCH', /different processes/);
  assertOneLineError(vec, 'ERR_LEAKGUARD_MISMATCH', /global objects have different ids/);
  // V1 and V2 are different hand-made heaps, but both have the global object @101 and share
  // too few ids for the engine's same-heap guard to have evidence: it compares them (docs/analysis.md#comparison).
  const v1v2 = await cli(['diff', V1, V2, '--json']);
  assert.equal(v1v2.code, 0, v1v2.stderr);
  assert.ok(JSON.parse(v1v2.stdout).rows.some((x) => x.className === 'WeakMap' && x.addedCount === 1));
});

// ---------------------------------------------------------------------------------------------
// leaks

test('leaks on vectors: exit 0 without suspects, 1 with; --min-count, --ignore, --json', async () => {
  const [none, some, ignored, asJson] = await Promise.all([
    cli(['leaks', V1, V1B, V1B]),
    cli(['leaks', V1, V1B, V1B, '--min-count', '1']),
    cli(['leaks', V1, V1B, V1B, '--min-count', '1', '--ignore', 'Foo', '--ignore', 'Nope']),
    cli(['leaks', V1, V1B, V1B, '--min-count', '1', '--json']),
  ]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^2 objects new in target, 2 of them still alive in final$/m);
  assert.match(none.stdout, /^no leak suspects$/m);
  assert.equal(some.code, 1, some.stderr);
  assert.equal(some.stderr, '');
  assert.match(some.stdout, /^2 leak suspects, biggest first:$/m);
  assert.match(
    some.stdout,
    /^1\. Foo ×1, retained 44 B \(shallow 44 B\)\n {3}path: {4}Global → \.b → Foo\n {3}shape: {3}Global → \.b → Foo\n {3}ids: {5}@127$/m,
  );
  assert.match(some.stdout, /^2\. New ×1, retained 24 B/m);
  assert.equal(ignored.code, 1);
  assert.doesNotMatch(ignored.stdout, /Foo ×/);
  assert.match(ignored.stdout, /^1\. New ×1/m);
  assert.equal(asJson.code, 1);
  const rep = JSON.parse(asJson.stdout);
  assert.equal(rep.newInTarget, 2);
  assert.equal(rep.stillAlive, 2);
  assert.deepEqual(rep.nodes, { baseline: 15, target: 15, final: 15 });
  assert.deepEqual(
    rep.suspects.map((s) => [s.className, s.count, s.retainedSize, s.sampleIds, s.paths[0].text]),
    [
      ['Foo', 1, 44, [127], 'Global → .b → Foo'],
      ['New', 1, 24, [129], 'Global → .n → New'],
    ],
  );
});

test('leaks on a leaking process: exit 1, names CliLeakProbe and the holding variable', async () => {
  const { leak } = await snapshots();
  const [text, asJson] = await Promise.all([cli(['leaks', ...leak]), cli(['leaks', ...leak, '--json'])]);
  assert.equal(text.code, 1, text.stderr);
  assert.equal(text.stderr, '');
  assert.match(text.stdout, /^1\. CliLeakProbe ×200, retained /m);
  assert.match(text.stdout, /^ {3}path: {4}.*->cliLeakHolder \(Array\) → \[\d+\] → CliLeakProbe$/m);
  // The holding variable first, without the module plumbing above it.
  // The holder's declaration line (docs/locations.md), relative to the cwd (ROOT).
  assert.match(text.stdout, /^ {3}held by: cliLeakHolder \(Array\) → \[\d+\] → CliLeakProbe, a variable of __test__\/fixtures\/cli-leaker\.js:26$/m);
  assert.equal(asJson.code, 1);
  const top = JSON.parse(asJson.stdout).suspects[0];
  assert.equal(top.className, 'CliLeakProbe');
  assert.equal(top.count, 200);
  assert.equal(top.heldVia, null);
  assert.ok(
    top.paths[0].steps.some((s) => s.edge && s.edge.name === 'cliLeakHolder'),
    top.paths[0].text,
  );
  // every sample id leads to a path the `path` command can show
  const p = await cli(['path', leak[2], String(top.sampleIds[0])]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^ +->cliLeakHolder +Array @\d+$/m);
  // The object last, then where its class is (cli-leaker.js line 21: `  constructor(i) {`).
  assert.match(p.stdout, new RegExp(`CliLeakProbe @${top.sampleIds[0]}\\ndefined at: __test__/fixtures/cli-leaker\\.js:21:14\\n$`));
});

test('leaks on a steady process: exit 0, no suspects', async () => {
  const { steady } = await snapshots();
  const r = await cli(['leaks', ...steady]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^no leak suspects$/m);
});

// ---------------------------------------------------------------------------------------------
// path and largest

test('path: one step per line after its edge; --json is the RetainerPath', async () => {
  const [r, asJson, garbage, shortest] = await Promise.all([
    cli(['path', V1, '113']),
    cli(['path', V1, '@113', '--json']),
    cli(['path', V1, '123']),
    cli(['path', V1, '113', '--kind', 'shortest', '--max-steps', '1']),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `retainer path of @113 in ${V1} (devtools, 2 steps):\n      Global @101\n  .a  Foo @103\n  .h  H @113\n`);
  const s = await lg.loadSnapshot(V1);
  assert.deepEqual(JSON.parse(asJson.stdout), await s.retainerPath(113));
  s.dispose();
  // P is garbage (a clique with no root): shown as far as it goes, flagged incomplete
  assert.equal(garbage.code, 0);
  assert.match(garbage.stdout, /\.peer {2}P @123\n\(does not reach a root/);
  assert.equal(shortest.code, 0);
  assert.match(shortest.stdout, /\(shortest, 1 step\)/);
  assert.match(shortest.stdout, /\(cut after 1 step; --max-steps raises the limit\)/);
});

test('path: an id not in the snapshot is exit 3; a malformed id or kind is exit 2', async () => {
  const [missing, bad, neg, kind] = await Promise.all([
    cli(['path', V1, '999999']),
    cli(['path', V1, '12x']),
    cli(['path', V1, '--', '-3']),
    cli(['path', V1, '113', '--kind', 'longest']),
  ]);
  assertOneLineError(missing, 'ERR_LEAKGUARD_INVALID_ARG', /no object with id 999999/);
  assertUsage(bad, /<id> must be a V8 object id/);
  assertUsage(neg, /got '-3'/);
  assertUsage(kind, /--kind must be 'devtools' or 'shortest', got 'longest'/);
});

test('largest: Id, Class, Name, Shallow, Retained, Distance; --json', async () => {
  const [r, asJson] = await Promise.all([cli(['largest', V1, '--top', '3']), cli(['largest', V1, '--top', '2', '--json'])]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(cells(tableOf(r.stdout, 'Id').join('\n')), [
    ['Id', 'Class', 'Name', 'Shallow', 'Retained', 'Distance'],
    ['@101', 'Global', 'Global', '10 B', '186 B', '1'],
    ['@107', 'Bar', 'Bar', '90 B', '90 B', '3'],
    ['@119', 'Baz', 'Baz', '60 B', '60 B', '-'],
  ]);
  const j = JSON.parse(asJson.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['edgeCount', 'file', 'nodeCount', 'objects', 'sizes', 'totalSize']);
  assert.deepEqual(j.objects, [
    { id: 101, className: 'Global', name: 'Global', shallowSize: 10, retainedSize: 186, distance: 1, system: false },
    { id: 107, className: 'Bar', name: 'Bar', shallowSize: 90, retainedSize: 90, distance: 3, system: false },
  ]);
});

// ---------------------------------------------------------------------------------------------
// errors and usage

test('a missing, truncated or non-snapshot file: one line with the error code, exit 3', async () => {
  const truncated = path.join(TMP, 'cli-truncated.heapsnapshot');
  fs.writeFileSync(truncated, fs.readFileSync(V1, 'utf8').slice(0, 900));
  const garbage = path.join(TMP, 'cli-garbage.heapsnapshot');
  fs.writeFileSync(garbage, 'this is not a heap snapshot\n');
  const missing = path.join(TMP, 'no-such.heapsnapshot');
  const [m, t, g, d, l, debug] = await Promise.all([
    cli(['summary', missing]),
    cli(['summary', truncated]),
    cli(['largest', garbage]),
    cli(['diff', V1, missing]),
    cli(['leaks', V1, truncated, V1B]),
    cli(['summary', truncated], { env: { LEAKGUARD_DEBUG: '1' } }),
  ]);
  assertOneLineError(m, 'ERR_LEAKGUARD_IO', /no-such\.heapsnapshot/);
  assertOneLineError(t, 'ERR_LEAKGUARD_PARSE', /\(.*cli-truncated\.heapsnapshot\)\n$/);
  assertOneLineError(g, 'ERR_LEAKGUARD_PARSE', /cli-garbage\.heapsnapshot/);
  assertOneLineError(d, 'ERR_LEAKGUARD_IO', /no-such\.heapsnapshot/);
  assertOneLineError(l, 'ERR_LEAKGUARD_PARSE', /cli-truncated/);
  // LEAKGUARD_DEBUG=1: the same line, then the stack
  assert.equal(debug.code, 3);
  assert.match(debug.stderr, /^leakguard: ERR_LEAKGUARD_PARSE: .*\n/);
  assert.match(debug.stderr, /^\s+at /m);
});

test('usage errors: exit 2 with the usage on stderr', async () => {
  const runs = await Promise.all([
    cli([]),
    cli(['frobnicate']),
    cli(['--frob']),
    cli(['summary']),
    cli(['summary', V1, '--top', 'ten']),
    cli(['summary', V1, '--top', '1.5']),
    cli(['summary', V1, '--top', '-1']),
    cli(['summary', V1, '--sizes', 'huge']),
    cli(['summary', V1, '--frob']),
    cli(['summary', V1, V1B]),
    cli(['diff', V1]),
    cli(['leaks', V1, V1B]),
    cli(['leaks', V1, V1B, V1B, '--min-count', 'x']),
    cli(['report', V1]),
    cli(['help', 'frobnicate']),
  ]);
  const [none, unknown, unknownFlag, missing, nan, frac, negative, sizes, flag, extra, diff1, leaks2, minCount, noHtml, helpUnknown] = runs;
  assertUsage(none, /Commands:/);
  assertUsage(unknown, /unknown command 'frobnicate'/);
  assertUsage(unknownFlag, /unknown option '--frob'/);
  assertUsage(missing, /missing <file>/);
  assertUsage(nan, /--top must be a whole number >= 0, got 'ten'/);
  assertUsage(frac, /got '1\.5'/);
  assertUsage(negative, /--top/);
  assertUsage(sizes, /--sizes must be 'devtools' or 'raw'/);
  assertUsage(flag, /Unknown option '--frob'/);
  assertUsage(extra, /unexpected argument/);
  assertUsage(diff1, /missing <current>/);
  assertUsage(leaks2, /missing <final>/);
  assertUsage(minCount, /--min-count/);
  assertUsage(noHtml, /missing --html/);
  assertUsage(await cli(['report', '--html', 'x.html']), /missing <files…> \(snapshot files, or --samples/);
  assertUsage(helpUnknown, /unknown command/);
  // a usage error names the command and how to get its help
  assert.match(nan.stderr, /^leakguard summary: .*\nUsage: leakguard summary <file>.*\nRun 'leakguard summary --help' for details\.\n$/);
});

test('--help, -h, help <command>, <command> --help: usage on stdout, exit 0; --version', async () => {
  const runs = await Promise.all([
    cli(['--help']),
    cli(['-h']),
    cli(['help']),
    ...COMMANDS.map((c) => cli([c, '--help'])),
    ...COMMANDS.map((c) => cli(['help', c])),
    cli(['summary', '--frob', '-h']), // help wins over bad flags
    cli(['--version']),
  ]);
  const version = runs.pop();
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Usage: leakguard|^leakguard \d/);
    assert.match(r.stdout, /Exit codes: 0 ok, [\s\S]*\b3 error\b/);
    assert.match(r.stdout, /LEAKGUARD_DEBUG=1/);
  }
  for (const r of runs.slice(0, 3)) for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^ {2}${c} `, 'm'));
  COMMANDS.forEach((c, i) => {
    assert.match(runs[3 + i].stdout, new RegExp(`^Usage: leakguard ${c} `));
    assert.equal(runs[3 + i].stdout, runs[3 + COMMANDS.length + i].stdout);
  });
  assert.match(runs[3 + COMMANDS.indexOf('leaks')].stdout, /Exit code 1 when there is at least one suspect/);
  assert.match(runs[3 + COMMANDS.indexOf('leaks')].stdout, /is 3, never 1\)/);
  assert.match(runs[0].stdout, /Exit codes: 0 ok, 1 leak suspects found \(leaks\), 2 bad usage, 3 error/);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `${VERSION}\n`);
});

// ---------------------------------------------------------------------------------------------
// progress, pipes, interruption

test('progress: LEAKGUARD_PROGRESS=1 shows a percentage on stderr and clears it; off without a terminal', async () => {
  const [on, off] = await Promise.all([cli(['summary', V1, '--json'], { env: { LEAKGUARD_PROGRESS: '1' } }), cli(['summary', V1, '--json'])]);
  assert.equal(on.code, 0);
  assert.match(on.stderr, /\rloading \S*v1\.json \d+%/);
  assert.match(on.stderr, /\r {10,}\r$/, JSON.stringify(on.stderr)); // the line is blanked at the end
  assert.equal(on.stdout, off.stdout); // stdout stays clean for pipes
  assert.equal(off.stderr, '');
  const { leak } = await snapshots();
  const three = await cli(['leaks', ...leak, '--json'], { env: { LEAKGUARD_PROGRESS: '1' } });
  assert.match(three.stderr, /\rloading 3 snapshots \d+%/);
  assert.match(three.stderr, /\rfinding leaks \d+%/);
});

// A real terminal (util-linux `script` gives the command a pty): progress without any variable.
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
/** Runs the CLI with a pty as its terminal; the combined output. */
async function onTerminal(args, env = {}) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn(SCRIPT, ['-qefc', command, '/dev/null'], { env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  return out;
}

test('progress: on a real terminal it shows by default, then the table; LEAKGUARD_PROGRESS=0 hides it', {
  skip: SCRIPT ? false : 'util-linux script(1) not installed',
}, async () => {
  const { leak } = await snapshots();
  const args = ['summary', leak[2], '--top', '3'];
  const [out, quiet] = await Promise.all([onTerminal(args), onTerminal(args, { LEAKGUARD_PROGRESS: '0' })]);
  assert.match(out, /\rloading \S+ \d+%/, JSON.stringify(out));
  // The progress line is blanked before the table (the pty turns each \n into \r\n).
  assert.match(out, /\r {10,}\r[^\r\n]*heapsnapshot: [\d,]+ nodes[\s\S]*Class +Count +Shallow +Retained +Distance/, JSON.stringify(out));
  assert.doesNotMatch(quiet, /loading/, JSON.stringify(quiet));
  assert.match(quiet, /Class +Count +Shallow +Retained +Distance/);
});

test('a reader that closes the pipe early (EPIPE) ends the command quietly', async () => {
  const { leak } = await snapshots();
  // The read end is closed before the command writes anything: its first write fails.
  const closed = await cli(['summary', leak[2], '--top', '0'], { onSpawn: (child) => child.stdout.destroy() });
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stderr, '');
  // and through a real shell pipe into `head`
  const piped = await new Promise((resolve) => {
    const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" summary "${leak[2]}" --top 0 | head -n 2`], { env: BASE_ENV });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
  assert.equal(piped.code, 0);
  assert.equal(piped.out.split('\n').length, 3);
  assert.equal(piped.err, '');
});

test('Ctrl-C (SIGINT) during a load: exit 130, no message', { skip: process.platform === 'win32' && 'no FIFOs' }, async () => {
  // A snapshot big enough that loading and analysing it takes far longer than a signal takes
  // to arrive (~70 MB: a root holding two million objects; the first progress line comes at
  // about 60% of the load). FIFOs, which once kept a load waiting, are refused at once now.
  const big = path.join(TMP, 'cli-big.heapsnapshot');
  const v1 = JSON.parse(fs.readFileSync(V1, 'utf8'));
  const n = 2000000;
  const nodes = ['9,1,1,0,' + n + ',0'];
  const edges = [];
  for (let i = 1; i <= n; i++) {
    nodes.push(`3,2,${2 * i + 1},16,0,0`);
    edges.push(`1,${i - 1},${i * 6}`);
  }
  const snapshot = { meta: v1.snapshot.meta, node_count: n + 1, edge_count: n, trace_function_count: 0 };
  fs.writeFileSync(
    big,
    `{"snapshot":${JSON.stringify(snapshot)},"nodes":[${nodes.join(',')}],"edges":[${edges.join(',')}],"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[],"strings":["","(root)","Obj"]}`,
  );
  let child;
  let stderrSoFar = '';
  let closed = false;
  const run = cli(['summary', big], {
    env: { LEAKGUARD_PROGRESS: '1' },
    onSpawn: (c) => {
      child = c;
      c.stderr.on('data', (d) => (stderrSoFar += d));
      c.on('close', () => (closed = true));
    },
  });
  // The first progress line means main() is running, with its SIGINT handler installed.
  while (!/loading/.test(stderrSoFar) && !closed) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGINT');
  const r = await run;
  assert.equal(r.signal, null);
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, /leakguard:|ERR_|\s+at /);
  assert.match(r.stderr, /\r *\r$/); // the progress line is blanked
});

test('main() in-process: returns exit codes; an abort exits 130 quietly', async () => {
  const sink = () => {
    const s = {
      text: '',
      write: (x) => {
        s.text += x;
        return true;
      },
    };
    return s;
  };
  const out = sink();
  const err = sink();
  assert.equal(await main(['summary', V1, '--json'], { stdout: out, stderr: err, isTTY: false, env: {} }), 0);
  assert.equal(JSON.parse(out.text).classesTotal, 10);
  const ac = new AbortController();
  ac.abort();
  const out2 = sink();
  const err2 = sink();
  assert.equal(await main(['summary', V1], { stdout: out2, stderr: err2, env: {}, signal: ac.signal }), 130);
  assert.equal(out2.text + err2.text, '');
  // a TTY gets progress without the environment switch
  const err3 = sink();
  assert.equal(await main(['summary', V1, '--json'], { stdout: sink(), stderr: err3, isTTY: true, env: {} }), 0);
  assert.match(err3.text, /loading .*v1\.json 100%/);
  assert.equal(await main(['nope'], { stdout: sink(), stderr: sink(), env: {} }), 2);
  // a failure is 3, never 1 (which `leaks` returns for suspects)
  assert.deepEqual(EXIT, { OK: 0, LEAKS: 1, USAGE: 2, ERROR: 3, INTERRUPTED: 130 });
  assert.equal(await main(['leaks', V1, V1, path.join(TMP, 'no-such.heapsnapshot')], { stdout: sink(), stderr: sink(), env: {} }), 3);
});

// ---------------------------------------------------------------------------------------------
// report

test('report: --samples alone gives a timeline-only report', async () => {
  const { samples } = await snapshots();
  const dir = fs.mkdtempSync(path.join(TMP, 'report-'));
  const out = path.join(dir, 'timeline.html');
  const r = await cli(['report', '--samples', samples, '--html', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /report written to .* \(.*; 0 snapshots, 0 comparisons\)\n$/);
  const j = await cli(['report', '--samples', samples, '--json']);
  const model = JSON.parse(j.stdout);
  assert.deepEqual([model.files, model.diffs, model.leaks], [[], [], null]);
  assert.ok(model.samples.rss.length > 0);
});

test('report: HTML written atomically, with the suspects; --json prints the model', async () => {
  const { leak, samples } = await snapshots();
  const dir = fs.mkdtempSync(path.join(TMP, 'report-'));
  const out = path.join(dir, 'out.html');
  const r = await cli(['report', ...leak, '--samples', samples, '--html', out, '--title', 'CLI <test>']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(
    r.stdout,
    new RegExp(`^report written to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\([\\d.]+ [KM]B; 3 snapshots, 2 comparisons, 1 leak suspect\\)\\n$`),
  );
  const html = fs.readFileSync(out, 'utf8');
  assert.ok(html.length > 1000);
  assert.match(html, /^<!DOCTYPE html>/i);
  assert.match(html, /CliLeakProbe/);
  assert.match(html, /cliLeakHolder/);
  assert.deepEqual(fs.readdirSync(dir), ['out.html']); // no temp file left behind
  assert.equal(fs.statSync(out).mode & 0o777, 0o600); // it quotes heap contents

  const j = await cli(['report', ...leak, '--samples', samples, '--json', '--top', '5']);
  assert.equal(j.code, 0, j.stderr);
  const model = JSON.parse(j.stdout);
  assert.equal(model.version, 1);
  assert.deepEqual(model.tool, { name: 'leakguard', version: VERSION });
  assert.deepEqual(
    model.files.map((f) => [f.label, f.path, f.bytes, f.summary.length, f.largest.length]),
    leak.map((f) => [path.basename(f), f, fs.statSync(f).size, 5, 20]),
  );
  assert.ok(model.files.every((f) => f.summaryTotal > 5 && f.nodeCount > 1000));
  assert.deepEqual(
    model.diffs.map((d) => [d.base, d.current, d.error, d.rows.length]),
    [
      [path.basename(leak[0]), path.basename(leak[1]), null, 5],
      [path.basename(leak[1]), path.basename(leak[2]), null, 5],
    ],
  );
  assert.equal(model.leaks.suspects[0].className, 'CliLeakProbe');
  assert.match(model.leaks.suspects[0].heldBy, /^cliLeakHolder \(Array\) → \[\d+\] → CliLeakProbe$/);
  assert.equal(model.leaks.error, null);
  const raw = JSON.parse(fs.readFileSync(samples, 'utf8'));
  assert.deepEqual(model.samples.rss, raw.rss);
  assert.deepEqual(model.samples.heap, raw.heap);
  assert.equal(model.samples.trend.verdict, raw.trend.verdict);
});

test('report: bad samples file, unwritable output, mismatched pair', async () => {
  const dir = fs.mkdtempSync(path.join(TMP, 'report-bad-'));
  const notJson = path.join(dir, 'cli-not-json.json');
  fs.writeFileSync(notJson, '{ rss: ');
  const wrong = path.join(dir, 'cli-wrong.json');
  fs.writeFileSync(wrong, JSON.stringify({ rss: [{ time: 1, value: 'big' }], heap: [], gc: [] }));
  const html = path.join(dir, 'r.html');
  const [nj, wr, missing, noDir, mismatch] = await Promise.all([
    cli(['report', V1, '--samples', notJson, '--html', html]),
    cli(['report', V1, '--samples', wrong, '--html', html]),
    cli(['report', V1, '--samples', path.join(dir, 'nope.json'), '--html', html]),
    cli(['report', V1, '--html', path.join(dir, 'no', 'such', 'dir', 'r.html')]),
    cli(['report', V1, V1B, OTHER_HEAP, '--html', html]),
  ]);
  assertOneLineError(nj, 'ERR_LEAKGUARD_INVALID_ARG', /not JSON.*\(.*cli-not-json\.json\)/);
  assertOneLineError(wr, 'ERR_LEAKGUARD_INVALID_ARG', /samples file\.rss\[0\]\.value must be a number/);
  assertOneLineError(missing, 'ERR_LEAKGUARD_IO', /nope\.json/);
  assertOneLineError(noDir, 'ERR_LEAKGUARD_IO', /no\/such\/dir/);
  // a pair of different heaps is reported inside the report, not as a failure
  assert.equal(mismatch.code, 0, mismatch.stderr);
  assert.match(mismatch.stdout, /3 snapshots, 2 comparisons\)/); // no suspects count: the leak search failed
  assert.match(fs.readFileSync(html, 'utf8'), /ERR_LEAKGUARD_MISMATCH/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['cli-not-json.json', 'cli-wrong.json', 'r.html']);
});

test('buildReportModel: errors land in the model, leaks need three files, labels are unique', async () => {
  const now = new Date('2026-01-02T03:04:05.000Z');
  const m = await buildReportModel([V1, V1B, OTHER_HEAP], { top: 2, now });
  assert.deepEqual(Object.keys(m), ['version', 'title', 'generatedAt', 'tool', 'sizes', 'files', 'diffs', 'leaks', 'samples']);
  assert.equal(m.generatedAt, '2026-01-02T03:04:05.000Z');
  assert.equal(m.title, 'leakguard report');
  assert.equal(m.sizes, 'devtools');
  assert.equal(m.samples, null);
  assert.deepEqual(
    m.files[0].summary.map((r) => r.className),
    ['Global', 'Bar'],
  );
  assert.equal(m.files[0].summaryTotal, 10);
  assert.equal(m.files[0].bytes, fs.statSync(V1).size);
  const s1 = await lg.loadSnapshot(V1);
  assert.deepEqual(m.files[0].largest, await s1.largestObjects(20));
  s1.dispose();
  assert.deepEqual(
    m.diffs[0].rows.map((r) => r.className),
    ['Baz', 'New'],
  );
  assert.equal(m.diffs[0].rowsTotal, 3);
  assert.equal(m.diffs[0].error, null);
  assert.deepEqual(m.diffs[1].rows, []);
  assert.equal(m.diffs[1].error.code, 'ERR_LEAKGUARD_MISMATCH');
  assert.match(m.diffs[1].error.message, /different processes/);
  assert.equal(m.leaks.error.code, 'ERR_LEAKGUARD_MISMATCH');
  assert.deepEqual([m.leaks.baseline, m.leaks.target, m.leaks.final], ['v1.json', 'v1b.json', 'cli-other-heap.json']);
  assert.deepEqual(m.leaks.suspects, []);

  const two = await buildReportModel([V1, V1], { sizes: 'raw', title: 'T' });
  assert.equal(two.leaks, null);
  assert.deepEqual(
    two.files.map((f) => f.label),
    ['v1.json', 'v1.json #2'],
  );
  assert.deepEqual(
    two.diffs.map((d) => [d.base, d.current, d.rows, d.error]),
    [['v1.json', 'v1.json #2', [], null]],
  );
  assert.equal(two.files[0].summaryTotal, 12); // raw sizes keep (array) and (system)

  const four = await buildReportModel([V1, V1, V1B, V1B], { minCount: 1, top: 0 });
  assert.deepEqual([four.leaks.baseline, four.leaks.target, four.leaks.final], ['v1.json #2', 'v1b.json', 'v1b.json #2']);
  assert.deepEqual(
    four.leaks.suspects.map((s) => s.className),
    ['Foo', 'New'],
  );
  assert.equal(four.files[0].summary.length, 10);

  await assert.rejects(buildReportModel([V1, path.join(TMP, 'gone.heapsnapshot')]), { code: 'ERR_LEAKGUARD_IO' });
  await assert.rejects(buildReportModel([]), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  await assert.rejects(buildReportModel([V1], { top: -1 }), {
    code: 'ERR_LEAKGUARD_INVALID_ARG',
    message: 'buildReportModel({ top }) must be a whole number >= 0, got -1',
  });
  // the library's one message style (lib/options.js)
  await assert.rejects(buildReportModel([V1], { sizes: 'big' }), {
    code: 'ERR_LEAKGUARD_INVALID_ARG',
    message: `buildReportModel({ sizes }) must be 'devtools' or 'raw', got "big"`,
  });
  await assert.rejects(buildReportModel([V1], { title: 5 }), { message: 'buildReportModel({ title }) must be a string, got 5' });
  await assert.rejects(buildReportModel([V1], { onProgress: 'x' }), { message: 'buildReportModel({ onProgress }) must be a function, got "x"' });
  await assert.rejects(buildReportModel([V1], null), { message: 'buildReportModel(files, options) must be an object, got null' });
  await assert.rejects(buildReportModel([V1], { samples: { rss: [] } }), { code: 'ERR_LEAKGUARD_INVALID_ARG' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(buildReportModel([V1, V1B], { signal: ac.signal }), { code: 'ERR_LEAKGUARD_ABORTED' });
});

test('validateSamples: keeps the documented fields, names the first bad entry', () => {
  const ok = validateSamples({
    rss: [{ time: 1, value: 2, extra: 'dropped' }],
    heap: [{ time: 1, rss: 2, heapTotal: 3, heapUsed: 4, external: 5, arrayBuffers: 6 }],
    gc: [{ time: 1, baseline: 2, heapUsed: 3 }],
  });
  assert.deepEqual(ok, {
    rss: [{ time: 1, value: 2 }],
    heap: [{ time: 1, rss: 2, heapTotal: 3, heapUsed: 4, external: 5, arrayBuffers: 6 }],
    gc: [{ time: 1, baseline: 2, heapUsed: 3 }],
    trend: null,
  });
  const bad = [
    [null, /must be an object/],
    [{ rss: [], heap: [] }, /samples\.gc must be an array/],
    [{ rss: [], heap: [{ time: 1 }], gc: [] }, /samples\.heap\[0\]\.rss must be a number/],
    [{ rss: [null], heap: [], gc: [] }, /samples\.rss\[0\] must be an object/],
    [{ rss: [], heap: [], gc: [], trend: { verdict: 'maybe' } }, /trend\.verdict/],
    [{ rss: [], heap: [], gc: [], trend: { verdict: 'flat', leak: false, flat: true, reason: 'flat', intercept: 'x' } }, /trend\.intercept must be a number/],
  ];
  // the sampler's Theil–Sen intercept is kept for the report's trend line
  const trend = {
    verdict: 'growing',
    leak: false,
    flat: false,
    reason: 'growing',
    slopeBytesPerMinute: 60,
    intercept: 1234.5,
    samples: [{ time: 1, value: 2 }],
  };
  assert.equal(validateSamples({ rss: [], heap: [], gc: [], trend }).trend.intercept, 1234.5);
  for (const [data, re] of bad)
    assert.throws(
      () => validateSamples(data),
      (e) => e.code === 'ERR_LEAKGUARD_INVALID_ARG' && re.test(e.message),
    );
});

test('--json escapes bidi overrides, C1 controls and DEL as \\uXXXX; the JSON parses to the same names', async () => {
  // V1 with its class names Foo and Bar made hostile: a right-to-left override, C1 NEL and CSI, DEL, an isolate.
  const evil = { Foo: 'Fo\u202eo\u0085\u009b2J', Bar: 'B\u007fa\u2066r\u2069' };
  const [file, fileB] = [V1, V1B].map((v, i) => {
    const j = JSON.parse(fs.readFileSync(v, 'utf8'));
    j.strings = j.strings.map((x) => evil[x] || x);
    const out = path.join(TMP, `cli-bidi-${i}.json`);
    fs.writeFileSync(out, JSON.stringify(j));
    return out;
  });
  const [summary, largest, leaks] = await Promise.all([
    cli(['summary', file, '--json']),
    cli(['largest', file, '--json']),
    cli(['leaks', file, fileB, fileB, '--min-count', '1', '--json']),
  ]);
  const unsafe = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
  for (const r of [summary, largest, leaks]) {
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.doesNotMatch(r.stdout, unsafe, 'no raw bidi or C1 character in --json output');
  }
  assert.match(summary.stdout, /"className": "Fo\\u202eo\\u0085\\u009b2J"/);
  assert.match(summary.stdout, /"className": "B\\u007fa\\u2066r\\u2069"/);
  const names = JSON.parse(summary.stdout).classes.map((c) => c.className);
  assert.ok(names.includes(evil.Foo) && names.includes(evil.Bar), names.join());
  assert.ok(JSON.parse(largest.stdout).objects.some((o) => o.className === evil.Bar));
  assert.equal(leaks.code, 1, leaks.stderr);
  assert.equal(JSON.parse(leaks.stdout).suspects[0].paths[0].text, `Global → .b → ${evil.Foo}`);
  // the human output escapes them too (cleanText)
  const text = await cli(['summary', file]);
  assert.doesNotMatch(text.stdout, unsafe);
  assert.match(text.stdout, /Fo\\u202eo\\x85\\x9b2J/);
});

test('tables: heap text is made safe and cut to width with an ellipsis', () => {
  assert.equal(cleanText('a\nb\x1b[31mc\u202e'), 'a\\nb\\x1b[31mc\\u202e');
  assert.equal(cleanText('x\ud800'), 'x\ufffd');
  assert.equal(displayWidth('日本'), 4);
  assert.equal(truncate('abcdefgh', 5), 'abcd…');
  assert.equal(truncate('日本語のクラス', 7), '日本語…');
  const cols = [
    { header: 'Class', flex: true, max: 60 },
    { header: 'Count', align: 'right' },
  ];
  const long = 'VeryLongClassName'.repeat(5);
  const wide = table(cols, [
    [long, '1'],
    ['Evil\n\x1b[2J', '22'],
  ]);
  assert.equal(wide.split('\n')[1], `${long.slice(0, 59)}…      1`);
  assert.match(wide, /Evil\\n\\x1b\[2J +22\n$/);
  const narrow = table(cols, [[long, '1']], { width: 30 });
  assert.deepEqual(narrow.split('\n'), ['Class                    Count', 'VeryLongClassNameVeryL…      1', '']);
});
