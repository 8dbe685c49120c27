'use strict';

// onLeak: 'diagnose' (docs/sampling.md#diagnosis): on a leak alert, three snapshots, findLeaks
// with the growing collections, a 'diagnosis' event. In-process checks drive the alert path
// directly (as sampling.test.js does for the headroom); the end-to-end check runs two HTTP
// servers under `node -r leakguard/register` with LEAKGUARD_DIAGNOSE=1 at the same load, one
// leaking every request's Session into a module-level Map and one keeping 200: the first must
// emit one diagnosis naming the Map and the class within two minutes, write its report and go on
// serving; the second must emit none in the same time. The sampling window is shortened as in
// sampling.test.js (50 ms samples, a 10-point window), and the diagnosis spacing bounded to
// 3-15 s, so the test takes ~1.5 minutes instead of the defaults' several.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const lg = require('..');
const { spacingFor, parseDiagnoseOptions } = require('../lib/diagnose');
const { startChild, tempDir } = require('./helpers');

const SERVER = path.join(__dirname, 'fixtures', 'diagnose-server.js');
const ROOT_REGISTER = path.join(__dirname, '..', 'lib', 'register.js');
const WITHIN_MS = 120_000;

function events(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

function get(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/after' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

test('diagnose options: validated, spacing from the slope within bounds', () => {
  for (const bad of [{ minSpacingMs: 10, maxSpacingMs: 5 }, { report: 'yes' }, { stepBytes: -1 }, { everyMs: 'soon' }, 'x']) {
    assert.throws(
      () => lg.startSampling({ onLeak: 'diagnose', diagnose: bad }),
      { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /diagnose/ },
      JSON.stringify(bad),
    );
  }
  assert.throws(() => lg.startSampling({ onLeak: 'diagnosis' }), { code: 'ERR_LEAKGUARD_INVALID_ARG', message: /'snapshot', 'diagnose' or a function/ });
  const d = parseDiagnoseOptions({});
  assert.deepEqual(d, { stepBytes: 4 * 2 ** 20, minSpacingMs: 5000, maxSpacingMs: 300_000, everyMs: 3_600_000, report: false });
  // 4 MiB at 8 MiB/min: 30 s; far too slow: the maximum; very fast: the minimum; unknown: the maximum.
  assert.equal(spacingFor({ slopeBytesPerMinute: 8 * 2 ** 20 }, d), 30_000);
  assert.equal(spacingFor({ slopeBytesPerMinute: 1024 }, d), 300_000);
  assert.equal(spacingFor({ slopeBytesPerMinute: 1e12 }, d), 5000);
  assert.equal(spacingFor({}, d), 300_000);
});

test('an in-process diagnosis names the growing Map, runs once per everyMs and costs three short pauses', async (t) => {
  const s = lg.startSampling({ onLeak: 'diagnose', diagnose: { minSpacingMs: 100, maxSpacingMs: 100, everyMs: Number.POSITIVE_INFINITY } });
  t.after(() => s.stop());
  const pending = new Map();
  let n = 0;
  const grow = setInterval(() => {
    for (let i = 0; i < 50; i++) pending.set(`job-${++n}`, { n, body: `job body ${n}` });
  }, 5);
  t.after(() => clearInterval(grow));
  const got = new Promise((resolve, reject) => {
    s.once('diagnosis', resolve);
    s.once('error', reject);
  });
  s._onLeak({ verdict: 'leak', rule: 'trend', slopeBytesPerMinute: 2 ** 20 }); // the alert path
  const d = await got;
  clearInterval(grow);
  assert.equal(d.spacingMs, 100);
  const c = d.collections.find((x) => x.name === 'pending');
  assert.ok(c, JSON.stringify(d.collections.map((x) => x.name)));
  assert.equal(c.kind, 'map');
  assert.ok(c.entries[0] < c.entries[1] && c.entries[1] < c.entries[2], JSON.stringify(c.entries));
  assert.deepEqual(d.snapshots, []);
  assert.equal(d.report, null);
  assert.equal(d.cost.pausesMs.length, 3);
  assert.ok(d.cost.maxPauseMs > 0 && d.cost.maxPauseMs === Math.max(...d.cost.pausesMs));
  t.diagnostic(`pauses ${d.cost.pausesMs.join(', ')} ms, analysis ${d.cost.analysisMs} ms, total ${d.cost.totalMs} ms`);
  // A second alert within everyMs (here: ever) is not diagnosed.
  s._onLeak({ verdict: 'leak', rule: 'trend', slopeBytesPerMinute: 2 ** 20 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(s.stats().diagnoses, 1);
});

test('a diagnosis is skipped with ERR_LEAKGUARD_NO_HEADROOM when the memory for its snapshots is missing', async (t) => {
  const v8 = require('node:v8');
  const os = require('node:os');
  const wanted = (2 * os.totalmem()) / 1000;
  if (wanted > 200 * 2 ** 20) return t.skip('more than 100 GB of RAM: the heap cannot outgrow 1000x of it cheaply');
  const ballast = [];
  while (v8.getHeapStatistics().used_heap_size < wanted) ballast.push(new Array(1 << 16).fill(ballast.length));
  const dir = tempDir(t);
  const s = lg.startSampling({ onLeak: 'diagnose', headroom: 1000, directory: dir, diagnose: { report: true } });
  t.after(() => s.stop());
  const got = new Promise((resolve) => {
    s.once('error', resolve);
    s.once('diagnosis', () => resolve(new Error('a diagnosis was emitted')));
  });
  s._onLeak({ verdict: 'leak', rule: 'fast', slopeBytesPerMinute: 2 ** 20 });
  const err = await got;
  assert.equal(err.code, 'ERR_LEAKGUARD_NO_HEADROOM', err.message);
  // checked for all three captures before the first: no pause for a diagnosis that cannot finish
  assert.match(err.message, /diagnosis \(3 snapshots\) skipped/);
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.equal(s.stats().diagnoses, 0);
  ballast.length = 0;
});

test('node -r leakguard/register with LEAKGUARD_DIAGNOSE=1: a leaking server gets one diagnosis within two minutes and keeps serving; a steady one gets none', async (t) => {
  const run = (mode) => {
    const dir = tempDir(t, `lg-diag-${mode}-`);
    const env = {
      ...process.env,
      LEAKGUARD_DIAGNOSE: '1',
      LEAKGUARD_DIR: dir,
      LEAKGUARD_DIAGNOSE_OPTIONS: JSON.stringify({
        intervalMs: 50,
        window: 10,
        minPoints: 8,
        diagnose: { stepBytes: 2 ** 20, minSpacingMs: 3000, maxSpacingMs: 15000 },
      }),
    };
    return { dir, c: startChild(t, ['-r', 'leakguard/register', SERVER, mode], { env }) };
  };
  const t0 = Date.now();
  const leak = run('leak');
  const steady = run('steady');
  await leak.c.waitFor(/"event":"diagnosis"/, WITHIN_MS);
  const tookMs = Date.now() - t0;
  const ev = events(leak.c.stdout);
  const d = ev.find((e) => e.event === 'diagnosis');
  t.diagnostic(
    `diagnosis after ${tookMs} ms (spacing ${d.spacingMs} ms; pauses ${d.cost.pausesMs.join(', ')} ms, analysis ${d.cost.analysisMs} ms, total ${d.cost.totalMs} ms)`,
  );
  // The collection and the class.
  const sessions = d.collections.find((c) => c.name === 'sessions');
  assert.ok(sessions, JSON.stringify(d.collections));
  assert.equal(sessions.kind, 'map');
  assert.ok(sessions.entries[0] < sessions.entries[1] && sessions.entries[1] < sessions.entries[2], JSON.stringify(sessions.entries));
  assert.ok(
    d.suspects.some((s) => s.className === 'Session'),
    JSON.stringify(d.suspects),
  );
  // The stderr summary, the report and the dumps (0600).
  assert.match(leak.c.stderr, /leakguard: leak diagnosis/);
  assert.match(leak.c.stderr, /growing collection: sessions \(Map\): [\d,]+ → [\d,]+ → [\d,]+ entries/);
  assert.match(leak.c.stderr, /leak suspect: Session ×/);
  assert.equal(path.dirname(d.report), leak.dir);
  const html = fs.readFileSync(d.report, 'utf8');
  assert.match(html, /"line":"sessions \(Map\): /);
  assert.equal(d.snapshots.length, 3);
  for (const f of [d.report, ...d.snapshots]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  // Still serving, and still one diagnosis a little later.
  const { port } = ev.find((e) => e.event === 'listening');
  assert.equal(await get(port), 200);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(events(leak.c.stdout).filter((e) => e.event === 'diagnosis').length, 1);
  assert.deepEqual(
    events(leak.c.stdout).filter((e) => e.event === 'warning'),
    [],
  );
  leak.c.child.kill();

  // The steady server, under the same load for at least as long: no diagnosis, no dump.
  const left = tookMs + 3000 - (Date.now() - t0);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  const quiet = events(steady.c.stdout);
  assert.deepEqual(
    quiet.filter((e) => e.event === 'diagnosis' || e.event === 'leak'),
    [],
  );
  assert.deepEqual(fs.readdirSync(steady.dir), []);
  assert.equal(await get(quiet.find((e) => e.event === 'listening').port), 200);
  steady.c.child.kill();
});

test('LEAKGUARD_DIAGNOSE: 1/true/on turn diagnosis on; 0/false/off/no and a typo leave it off, a typo with a warning', () => {
  const { spawnSync } = require('node:child_process');
  const probe = (value) => {
    const r = spawnSync(
      process.execPath,
      ['-r', ROOT_REGISTER, '-e', "const s = require(process.argv[1]).sampler; console.log(s ? 'on' : 'off'); if (s) s.stop();", ROOT_REGISTER],
      {
        env: { ...process.env, LEAKGUARD_DIAGNOSE: value },
        encoding: 'utf8',
        timeout: 30000,
      },
    );
    return { state: r.stdout.trim(), warned: /LeakguardWarning.*LEAKGUARD_DIAGNOSE must be/s.test(r.stderr), code: r.status };
  };
  for (const v of ['1', 'true', 'ON']) assert.deepEqual(probe(v), { state: 'on', warned: false, code: 0 }, v);
  for (const v of ['0', 'false', 'off', 'no', '']) assert.deepEqual(probe(v), { state: 'off', warned: false, code: 0 }, v);
  assert.deepEqual(probe('flase'), { state: 'off', warned: true, code: 0 });
});
