'use strict';

// A platform without a compiled addon: a copy of the package (index.js, lib/, bin/,
// package.json and the generated loader binding.js) installed as node_modules/leakguard of an
// app, with no leakguard.<platform>.node and no leakguard-<platform> package anywhere it could
// be found. The real napi-rs loader runs and fails; leakguard must then still capture (plain JS),
// and every call that needs Rust must fail with ERR_LEAKGUARD_NO_BINARY, saying what to do.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, tempDir, checkSnapshotFile, startChild } = require('./helpers');
const { platformTriple } = require('../lib/native');

const TRIPLE = platformTriple();
const NAME = require('../package.json').name;

/** An app directory whose node_modules/leakguard is a copy of the package without a binary. */
function appWithoutBinary(t) {
  assert.ok(fs.existsSync(path.join(ROOT, 'binding.js')), 'binding.js (the napi-rs loader) is missing: run `npm run build` first');
  const app = tempDir(t, 'lg-nobin-');
  const pkg = path.join(app, 'node_modules', NAME);
  fs.mkdirSync(pkg, { recursive: true });
  for (const f of ['index.js', 'index.d.ts', 'package.json', 'binding.js']) fs.copyFileSync(path.join(ROOT, f), path.join(pkg, f));
  for (const d of ['lib', 'bin']) fs.cpSync(path.join(ROOT, d), path.join(pkg, d), { recursive: true });
  const nodeFiles = fs.readdirSync(pkg, { recursive: true }).filter((f) => String(f).endsWith('.node'));
  assert.deepEqual(nodeFiles, [], 'the copy must hold no .node file');
  return { app, pkg };
}

// No override of the loader's search, no global module path: the copy is all there is.
const env = { ...process.env, NODE_OPTIONS: '', NODE_PATH: '' };
delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
delete env.NAPI_RS_FORCE_WASI;

/** Runs a script in the app directory; returns { status, stdout, stderr }. */
function run(app, args, extra = {}) {
  return spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8', env: { ...env, ...extra }, timeout: 120000 });
}

/** What an ERR_LEAKGUARD_NO_BINARY message must say. */
function checkMessage(message, what) {
  assert.match(message, new RegExp(`\\b${TRIPLE}\\b`), `${what}: names the platform`);
  assert.ok(message.includes(`${NAME}-${TRIPLE}`), `${what}: names the package looked for: ${message}`);
  assert.ok(message.includes(`${NAME}.${TRIPLE}.node`), `${what}: names the file looked for: ${message}`);
  assert.ok(message.includes('npm run build'), `${what}: says how to build from source: ${message}`);
  assert.ok(/Rust/.test(message), `${what}: says building needs Rust: ${message}`);
  assert.match(message, /Prebuilt|prebuilt/, `${what}: mentions the published platforms: ${message}`);
}

test('the platform triple is the one the loader uses on this machine (the addon it loads is named so)', () => {
  const r = spawnSync(
    process.execPath,
    ['-e', "require('./binding.js'); console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.endsWith('.node'))))"],
    { cwd: ROOT, encoding: 'utf8', env },
  );
  assert.equal(r.status, 0, r.stderr);
  const loaded = JSON.parse(r.stdout);
  assert.equal(loaded.length, 1, r.stdout);
  assert.equal(path.basename(loaded[0]), `${NAME}.${TRIPLE}.node`);
});

test('the platforms the error lists: napi.targets named as napi-rs names the per-platform packages', () => {
  const pkg = require('../package.json');
  const { napiName, supportedPlatforms } = require('../lib/native');
  assert.equal(napiName('x86_64-unknown-linux-gnu'), 'linux-x64-gnu');
  assert.equal(napiName('aarch64-unknown-linux-musl'), 'linux-arm64-musl');
  assert.equal(napiName('armv7-unknown-linux-gnueabihf'), 'linux-arm-gnueabihf');
  assert.equal(napiName('aarch64-apple-darwin'), 'darwin-arm64');
  assert.equal(napiName('x86_64-pc-windows-msvc'), 'win32-x64-msvc');
  assert.equal(napiName('i686-pc-windows-msvc'), 'win32-ia32-msvc');
  const fromTargets = pkg.napi.targets.map(napiName).sort();
  assert.deepEqual(supportedPlatforms({ name: pkg.name, napi: pkg.napi }).sort(), fromTargets);
  const packages = Object.keys(pkg.optionalDependencies || {}).filter((n) => n.startsWith(`${pkg.name}-`));
  if (packages.length > 0) {
    assert.deepEqual(packages.map((n) => n.slice(pkg.name.length + 1)).sort(), fromTargets, 'optionalDependencies and napi.targets disagree');
    assert.deepEqual(supportedPlatforms(pkg).sort(), fromTargets);
  }
});

test('without a binary: capture works, every Rust-backed call fails with ERR_LEAKGUARD_NO_BINARY', (t) => {
  const { app } = appWithoutBinary(t);
  const script = `
    const path = require('path');
    const lg = require('leakguard');
    const out = { calls: {} };
    // The loader really has nothing to find.
    try { require.resolve('leakguard-${TRIPLE}'); out.platformPackage = true; } catch { out.platformPackage = false; }
    out.file = lg.writeSnapshot(path.resolve('written.heapsnapshot'));
    out.configure = lg.configure({ directory: path.resolve('dumps') });
    const disarm = lg.dumpNearHeapLimit({ directory: path.resolve('dumps') });
    disarm();
    out.memoryUsage = lg.memoryUsage().heapUsed > 0;
    const describe = (err) => ({ code: err.code, message: err.message, name: err.name, isLeakguardError: err instanceof lg.LeakguardError,
      platform: err.platform, cause: err.cause ? String(err.cause.message) : null });
    let fnCalls = 0;
    const fn = () => { fnCalls++; };
    const asyncCalls = {
      loadSnapshot: () => lg.loadSnapshot(out.file),
      takeSnapshot: () => lg.takeSnapshot(),
      diff: () => lg.diff({}, {}),
      findLeaks: () => lg.findLeaks({ baseline: {}, target: {}, final: {} }),
      checkLeak: () => lg.checkLeak(fn, { iterations: 2 }),
      assertNoLeak: () => lg.assertNoLeak(fn, { iterations: 2 }),
    };
    const syncCalls = {
      loadSnapshotSync: () => lg.loadSnapshotSync(out.file),
      startSampling: () => lg.startSampling({ intervalMs: 50 }),
      'new HeapSnapshot': () => new lg.HeapSnapshot({}),
    };
    (async () => {
      for (const [name, call] of Object.entries(asyncCalls)) {
        let p;
        try { p = call(); } catch (err) { out.calls[name] = { threwSynchronously: describe(err) }; continue; }
        if (!(p instanceof Promise)) { out.calls[name] = { notAPromise: true }; continue; }
        try { await p; out.calls[name] = { resolved: true }; } catch (err) { out.calls[name] = { rejected: describe(err) }; }
      }
      for (const [name, call] of Object.entries(syncCalls)) {
        try { call(); out.calls[name] = { returned: true }; } catch (err) { out.calls[name] = { threw: describe(err) }; }
      }
      out.fnCalls = fnCalls;
      out.memoryUsageAfter = typeof lg.memoryUsage().rss === 'number';
      console.log(JSON.stringify(out));
    })();
  `;
  const r = run(app, ['-e', script]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.platformPackage, false, `${NAME}-${TRIPLE} is resolvable from the app: the test would not hide the binary`);
  assert.equal(out.file, path.join(fs.realpathSync(app), 'written.heapsnapshot'));
  assert.ok(checkSnapshotFile(out.file).nodeCount > 1000, 'writeSnapshot wrote a valid snapshot');
  assert.equal(out.configure.directory, path.join(fs.realpathSync(app), 'dumps'));
  assert.equal(out.memoryUsage, true);
  assert.equal(out.memoryUsageAfter, true);
  assert.equal(out.fnCalls, 0, 'checkLeak must fail before calling fn');
  for (const name of ['loadSnapshot', 'takeSnapshot', 'diff', 'findLeaks', 'checkLeak', 'assertNoLeak']) {
    const got = out.calls[name];
    assert.ok(got.rejected, `${name}() must return a rejected promise, got ${JSON.stringify(got)}`);
    assert.equal(got.rejected.code, 'ERR_LEAKGUARD_NO_BINARY', `${name}: ${got.rejected.message}`);
    assert.equal(got.rejected.isLeakguardError, true, name);
    assert.equal(got.rejected.platform, TRIPLE, name);
    assert.match(got.rejected.cause, /Cannot find native binding/, `${name}: err.cause is the loader's error`);
    checkMessage(got.rejected.message, name);
  }
  for (const name of ['loadSnapshotSync', 'startSampling', 'new HeapSnapshot']) {
    const got = out.calls[name];
    assert.ok(got.threw, `${name} must throw, got ${JSON.stringify(got)}`);
    assert.equal(got.threw.code, 'ERR_LEAKGUARD_NO_BINARY', `${name}: ${got.threw.message}`);
    assert.match(got.threw.cause, /Cannot find native binding/, name);
    checkMessage(got.threw.message, name);
  }
});

test('without a binary: the same error from an ES module import of the package', (t) => {
  const { app } = appWithoutBinary(t);
  const script = `
    import lg, { findLeaks, writeSnapshot, codes } from 'leakguard';
    import { itDoesNotLeak } from 'leakguard/mocha';
    import { toLeak } from 'leakguard/jest';
    const file = writeSnapshot('esm.heapsnapshot');
    const err = await findLeaks({}).then(() => null, (e) => e);
    console.log(JSON.stringify({ same: lg.findLeaks === findLeaks, file, code: err && err.code, expected: codes.NO_BINARY,
      message: err && err.message, helpers: typeof itDoesNotLeak === 'function' && typeof toLeak === 'function' }));
  `;
  fs.writeFileSync(path.join(app, 'app.mjs'), script);
  const r = run(app, ['app.mjs']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.same, true);
  assert.equal(out.helpers, true);
  assert.ok(checkSnapshotFile(path.join(app, 'esm.heapsnapshot')).nodeCount > 1000);
  assert.equal(out.code, 'ERR_LEAKGUARD_NO_BINARY');
  assert.equal(out.expected, 'ERR_LEAKGUARD_NO_BINARY');
  checkMessage(out.message, 'findLeaks (ESM)');
});

/** Sends SIGUSR2 until a dump is reported (the first signal can race the listener's install). */
async function signalUntilDumped(child, re) {
  for (let i = 0; i < 20 && !re.test(child.stdout); i++) {
    child.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
  }
  return child.waitFor(re, 30000);
}

test('without a binary: dumpOnSignal writes a dump when the signal arrives', { skip: process.platform === 'win32' && 'no SIGUSR2 on Windows' }, async (t) => {
  const { app } = appWithoutBinary(t);
  const dir = path.join(app, 'sig');
  const child = startChild(
    t,
    [
      '-e',
      `const lg = require('leakguard'); lg.dumpOnSignal({ directory: ${JSON.stringify(dir)}, onDump: (f) => console.log('dumped ' + f), onError: (e) => console.log('error ' + e.code) }); setInterval(() => {}, 1000); console.log('ready');`,
    ],
    { cwd: app, env },
  );
  await child.waitFor(/ready/);
  const out = await signalUntilDumped(child, /^dumped (.+)$/m);
  const file = /^dumped (.+)$/m.exec(out)[1];
  assert.equal(path.dirname(file), dir);
  assert.ok(checkSnapshotFile(file).nodeCount > 1000);
  assert.doesNotMatch(child.stdout, /^error/m);
  assert.equal(child.child.exitCode, null, `the app died: ${child.stderr}`);
});

test('without a binary: node -r leakguard/register app.js starts, the app runs, the signal dumps', {
  skip: process.platform === 'win32' && 'no SIGUSR2 on Windows',
}, async (t) => {
  const { app, pkg } = appWithoutBinary(t);
  const dir = path.join(app, 'reg');
  fs.writeFileSync(path.join(app, 'app.js'), "let n = 0; setInterval(() => { n++; }, 50); setTimeout(() => console.log('app running ' + n), 300);\n");
  const child = startChild(t, ['-r', path.join(pkg, 'lib', 'register.js'), 'app.js'], {
    cwd: app,
    env: { ...env, LEAKGUARD_DIR: dir, LEAKGUARD_MIN_INTERVAL_MS: '0' },
  });
  await child.waitFor(/app running [1-9]/);
  for (let i = 0; i < 40 && !(fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.heapsnapshot'))); i++) {
    if (i % 4 === 0) child.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 250));
  }
  const dumps = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^heapdump-.*\.heapsnapshot$/.test(f)) : [];
  assert.ok(dumps.length >= 1, `no dump in ${dir}; stderr: ${child.stderr}`);
  assert.ok(checkSnapshotFile(path.join(dir, dumps[0])).nodeCount > 1000);
  assert.equal(child.child.exitCode, null, `the app died: ${child.stderr}`);
});

test('without a binary: the CLI answers --help and --version, and a command fails with one NO_BINARY line', (t) => {
  const { app, pkg } = appWithoutBinary(t);
  const cli = path.join(pkg, 'bin', 'leakguard.js');
  const help = run(app, [cli, '--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^leakguard \d+\.\d+\.\d+/);
  const version = run(app, [cli, '--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), require('../package.json').version);

  fs.writeFileSync(path.join(app, 'x.heapsnapshot'), '{}');
  const summary = run(app, [cli, 'summary', 'x.heapsnapshot']);
  assert.notEqual(summary.status, 0);
  assert.equal(summary.stdout, '');
  const lines = summary.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, summary.stderr);
  assert.match(lines[0], /^leakguard: ERR_LEAKGUARD_NO_BINARY: /);
  assert.doesNotMatch(lines[0], /a bug\?/);
  checkMessage(lines[0], 'leakguard summary');
});
