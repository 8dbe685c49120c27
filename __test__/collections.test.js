'use strict';

// Growing collections (docs/leaks.md#growing-collections): each way of growing runs in its own
// child process (fixtures/collections-child.js), which writes three snapshots with 1,500
// operations between two of them. A Map of strings to strings, an object used as a dictionary of
// numbers, an array that grows by small arrays and a cache of mixed classes must each be named,
// with its variable and its entries per snapshot, by findLeaks, `leakguard leaks` and the HTML
// report; a bounded LRU, a set cleared now and then and a table filled once must not be listed.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const lg = require('..');
const { ROOT, tempDir, runNode, pool } = require('./helpers');

const CHILD = path.join(__dirname, 'fixtures', 'collections-child.js');
const CLI = path.join(ROOT, 'bin', 'leakguard.js');
const FILES = ['s0', 's1', 's2'].map((s) => `${s}.heapsnapshot`);

const LEAKS = {
  map: { name: 'requests', kind: 'map', className: 'Map', newest: /^"req-3000" → "payload for request 3000"$/ },
  dict: { name: 'scores', kind: 'object', className: 'Object', newest: /^user\d+ → \(number\)$/ },
  arrays: { name: 'batches', kind: 'array', className: 'Array', newest: /^\[2999\] → Array @\d+$/ },
  mixed: { name: 'cache', kind: 'map', className: 'Map', newest: /^"k3000" → Order @\d+$/ },
};
const QUIET = { lru: 'lru', cleared: 'seen', static: 'table' };

/** Runs the child for `mode`; resolves the directory holding its three snapshots. */
async function snapshotsOf(t, mode) {
  const dir = tempDir(t, `lg-coll-${mode}-`);
  const r = await runNode([CHILD, mode, dir]);
  assert.equal(r.code, 0, r.out);
  return dir;
}

/** findLeaks over the three snapshots of `dir`, the array form (collections on by default). */
async function collectionsOf(dir) {
  const snaps = await Promise.all(FILES.map((f) => lg.loadSnapshot(path.join(dir, f))));
  try {
    return await lg.findLeaks(snaps);
  } finally {
    for (const s of snaps) s.dispose();
  }
}

test('growing collections: four leaks named by the API, the CLI and the report; three quiet collections not listed', async (t) => {
  const modes = [...Object.keys(LEAKS), ...Object.keys(QUIET)];
  const dirs = await pool(
    modes.map((m) => () => snapshotsOf(t, m)),
    2,
  );
  const dirOf = Object.fromEntries(modes.map((m, i) => [m, dirs[i]]));

  for (const [mode, want] of Object.entries(LEAKS)) {
    await t.test(`${mode}: ${want.name} (${want.className})`, async () => {
      const dir = dirOf[mode];
      const report = await collectionsOf(dir);
      const c = report.collections.find((x) => x.name === want.name);
      assert.ok(c, `${want.name} not listed: ${JSON.stringify(report.collections.map((x) => [x.name, x.entries]))}`);
      assert.equal(c.kind, want.kind);
      assert.equal(c.className, want.className);
      assert.deepEqual(c.entries, [0, 1500, 3000]);
      assert.equal(c.entriesGrew, true);
      assert.equal(c.entryGrowth, 3000);
      assert.ok(c.retainedSizes[2] > c.retainedSizes[1] && c.retainedSizes[1] > c.retainedSizes[0], JSON.stringify(c.retainedSizes));
      assert.equal(c.retainedGrowth, c.retainedSizes[2] - c.retainedSizes[0]);
      assert.equal(c.firstSeen, 0);
      assert.match(c.path.text, new RegExp(`(->|\\.)${want.name}\\b`));
      assert.equal(c.newest.length, 3);
      const first = c.newest[0].value ? `${c.newest[0].key} → ${c.newest[0].value}` : c.newest[0].key;
      assert.match(first, want.newest);
      // It is the biggest grower of its process.
      assert.equal(report.collections[0].name, want.name, JSON.stringify(report.collections.map((x) => x.name)));

      // The CLI: the same line, exit 1.
      const cli = await runNode([CLI, 'leaks', ...FILES.map((f) => path.join(dir, f))]);
      assert.equal(cli.code, 1, cli.out);
      assert.match(cli.out, new RegExp(`1\\. ${want.name} \\(${want.className}\\): 0 → 1,500 → 3,000 entries, \\+\\d`));
      assert.match(cli.out, /newest: {3}/);
      // Where the variable is declared: the fixture's line, read from its source.
      const line =
        fs
          .readFileSync(CHILD, 'utf8')
          .split('\n')
          .findIndex((l) => l.startsWith(`const ${want.name} = `)) + 1;
      assert.ok(line > 0);
      assert.match(cli.out, new RegExp(`defined: {2}\\S*collections-child\\.js:${line}\\n`));
      assert.match(c.location, /collections-child\.js:\d+:\d+$/);
      const json = await runNode([CLI, 'leaks', ...FILES.map((f) => path.join(dir, f)), '--json']);
      assert.deepEqual(JSON.parse(json.out).collections.find((x) => x.name === want.name).entries, [0, 1500, 3000]);

      // The report: the model the page renders carries the line.
      const html = path.join(dir, 'report.html');
      const rep = await runNode([CLI, 'report', ...FILES.map((f) => path.join(dir, f)), '--html', html]);
      assert.equal(rep.code, 0, rep.out);
      const page = fs.readFileSync(html, 'utf8');
      assert.match(page, new RegExp(`"line":"${want.name} \\(${want.className}\\): 0 → 1,500 → 3,000 entries, \\+`));
      assert.match(page, /renderCollections/);
      assert.match(page, new RegExp(`"defined":"\\S*collections-child\\.js:${line}"`));
      assert.equal(fs.statSync(html).mode & 0o777, 0o600);
    });
  }

  for (const [mode, variable] of Object.entries(QUIET)) {
    await t.test(`${mode}: ${variable} is not listed`, async () => {
      const report = await collectionsOf(dirOf[mode]);
      assert.deepEqual(
        report.collections.filter((x) => x.name === variable),
        [],
      );
      const cli = await runNode([CLI, 'leaks', ...FILES.map((f) => path.join(dirOf[mode], f))]);
      assert.doesNotMatch(cli.out, new RegExp(`\\d\\. ${variable} \\(`));
    });
  }
});

test('findLeaks collections: options and errors', async (t) => {
  const dir = await snapshotsOf(t, 'map');
  const snaps = await Promise.all(FILES.map((f) => lg.loadSnapshot(path.join(dir, f))));
  t.after(() => {
    for (const s of snaps) s.dispose();
  });
  // The object form: off by default, on with collections: true, thresholds honoured.
  const [baseline, target, fin] = snaps;
  assert.equal((await lg.findLeaks({ baseline, target, final: fin })).collections, undefined);
  const on = await lg.findLeaks({ baseline, target, final: fin }, { collections: true });
  assert.deepEqual(on.collections.find((c) => c.name === 'requests').entries, [0, 1500, 3000]);
  const high = await lg.findLeaks(snaps, { collections: { minGrowth: 3001, minRetainedGrowth: 1e9 } });
  assert.deepEqual(high.collections, []);
  assert.equal((await lg.findLeaks(snaps, { collections: false })).collections, undefined);
  const few = await lg.findLeaks(snaps, { collections: { maxSamples: 1, maxCollections: 1 } });
  assert.equal(few.collections.length, 1);
  assert.equal(few.collections[0].newest.length, 1);
  // Two snapshots are a series too: 0 → 1,500.
  const two = await lg.findLeaks([baseline, target]);
  assert.deepEqual(two.collections.find((c) => c.name === 'requests').entries, [0, 1500]);
  // Bad input: a clear error with a stable code.
  await assert.rejects(lg.findLeaks([baseline]), { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /at least two snapshots/ });
  await assert.rejects(lg.findLeaks([baseline, {}]), { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /snapshots\[1\]/ });
  await assert.rejects(lg.findLeaks(snaps, { collections: 'yes' }), { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /collections/ });
  await assert.rejects(lg.findLeaks(snaps, { collections: { minGrowth: -1 } }), { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /minGrowth/ });
});
