#!/usr/bin/env node
'use strict';

// The release check: packs leakguard the way it is published (the root package, whose prepack
// builds the addon and the generated loader binding.js, plus the host's leakguard-<platform>
// package carrying the .node), installs both tarballs into an empty directory with no registry
// reachable, and uses the install as a user would: require, import, the `leakguard` command,
// and the Jest and Vitest matchers. Also checks what the tarballs ship.
//
// Usage: node scripts/test-pack.js [--keep]   (--keep leaves the temp directory for a look)
// Exits non-zero if any step fails; every step prints its duration.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const KEEP = process.argv.includes('--keep');
const HOST = 'linux-x64-gnu'; // the platform package this machine can load (napi-rs naming)
const PLATFORM_PKG = `${PKG.name}-${HOST}`;

// What the root tarball may contain: the JS API, its declarations, the generated loader, the
// CLI, the HTML report's stylesheet and the release files. Anything else (tests, sources, target/, bench, fixtures, a .node)
// is a packaging mistake.
const ROOT_ALLOWED =
  /^(package\.json|README\.md|LICENSE|NOTICE|CHANGELOG\.md|index\.js|index\.d\.ts|binding\.js|binding\.d\.ts|bin\/[\w.-]+\.js|lib\/[\w/.-]+\.(js|mjs|cjs|d\.ts|d\.mts|css))$/;
const ROOT_REQUIRED = ['package.json', 'README.md', 'LICENSE', 'NOTICE', 'binding.js'];
const PLATFORM_ALLOWED = /^(package\.json|README\.md|LICENSE|NOTICE|[\w.-]+\.node)$/;

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-pack-'));
const TARBALLS = path.join(TMP, 'tarballs');
const APP = path.join(TMP, 'app');
fs.mkdirSync(TARBALLS);
fs.mkdirSync(APP);

// No registry: a closed local port, an empty npm cache and --offline. A missing dependency fails
// the install instead of being fetched.
const OFFLINE_ENV = {
  ...process.env,
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_cache: path.join(TMP, 'npm-cache'),
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  NODE_PATH: '', // resolution must come from the app's own node_modules
  FORCE_COLOR: '0',
  NO_COLOR: '1',
};

const results = [];
let aborted = false;

/** Runs one named step; `essential` steps stop the run when they fail (later steps need them). */
function step(name, fn, { essential = false } = {}) {
  if (aborted) {
    console.log(`- ${name}: skipped (an earlier essential step failed)`);
    results.push({ name, ok: false, skipped: true });
    return undefined;
  }
  const start = Date.now();
  process.stdout.write(`▶ ${name}\n`);
  try {
    const value = fn();
    const ms = Date.now() - start;
    console.log(`  ✔ ${name} (${(ms / 1000).toFixed(1)} s)`);
    results.push({ name, ok: true, ms });
    return value;
  } catch (err) {
    const ms = Date.now() - start;
    console.log(`  ✘ ${name} (${(ms / 1000).toFixed(1)} s)\n${String(err.message).replace(/^/gm, '    ')}`);
    results.push({ name, ok: false, ms });
    if (essential) aborted = true;
    return undefined;
  }
}

/** Runs a command to the end; throws with its output unless it exits 0. */
function sh(cmd, args, { cwd = ROOT, env = process.env, timeoutMs = 5 * 60 * 1000 } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout || ''}${r.stderr || ''}`;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}\n${out}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}${r.signal ? ` (${r.signal})` : ''}:\n${out.trim()}`);
  return out;
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** `npm pack` of `dir` into TARBALLS; returns the tarball path and its file list. */
function pack(dir) {
  const before = new Set(fs.readdirSync(TARBALLS));
  sh('npm', ['pack', '--pack-destination', TARBALLS], { cwd: dir, timeoutMs: 20 * 60 * 1000 });
  const made = fs.readdirSync(TARBALLS).filter((f) => !before.has(f) && f.endsWith('.tgz'));
  check(made.length === 1, `npm pack in ${dir} made ${made.length} tarballs: ${made.join(', ')}`);
  const tgz = path.join(TARBALLS, made[0]);
  const files = sh('tar', ['-tzf', tgz])
    .split('\n')
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^package\//, ''));
  return { tgz, files };
}

/** Problems with a tarball's file list: files not allowed, files required but missing. */
function listProblems(files, allowed, required) {
  const problems = [];
  for (const f of files) if (!allowed.test(f)) problems.push(`unexpected file: ${f}`);
  for (const f of required) if (!files.includes(f)) problems.push(`missing file: ${f}`);
  return problems;
}

/** Every file package.json points at (main, types, bin, exports targets). */
function entryPoints(pkg) {
  const out = new Set();
  const add = (p) => typeof p === 'string' && out.add(p.replace(/^\.\//, ''));
  add(pkg.main);
  add(pkg.types);
  if (typeof pkg.bin === 'string') add(pkg.bin);
  else for (const p of Object.values(pkg.bin || {})) add(p);
  const walk = (e) => {
    if (typeof e === 'string') add(e);
    else if (e && typeof e === 'object') Object.values(e).forEach(walk);
  };
  walk(pkg.exports);
  return [...out];
}

function writeApp(name, text) {
  fs.writeFileSync(path.join(APP, name), text);
}

function main() {
  console.log(`test-pack: ${PKG.name}@${PKG.version} + ${PLATFORM_PKG} in ${TMP}`);
  const platformDir = path.join(ROOT, 'npm', HOST);

  const rootPack = step(
    'npm pack leakguard (prepack builds the addon and binding.js)',
    () => {
      const p = pack(ROOT);
      console.log(`    ${path.basename(p.tgz)}: ${p.files.length} files`);
      return p;
    },
    { essential: true },
  );

  step('root tarball: only the API, loader, CLI and release files; no .node', () => {
    const problems = listProblems(rootPack.files, ROOT_ALLOWED, [...ROOT_REQUIRED, ...entryPoints(PKG)]);
    const nodes = rootPack.files.filter((f) => f.endsWith('.node'));
    if (nodes.length) problems.push(`a .node in the root tarball (it belongs in ${PLATFORM_PKG}): ${nodes.join(', ')}`);
    check(problems.length === 0, problems.join('\n'));
  });

  step(`root package.json: optionalDependencies["${PLATFORM_PKG}"] is ${PKG.version}`, () => {
    const opt = PKG.optionalDependencies || {};
    check(opt[PLATFORM_PKG] === PKG.version, `optionalDependencies: ${JSON.stringify(opt)}`);
  });

  const platformPack = step(
    `npm pack ${PLATFORM_PKG} (the host .node built by prepack, staged into a copy of npm/${HOST})`,
    () => {
      const ppkg = JSON.parse(fs.readFileSync(path.join(platformDir, 'package.json'), 'utf8'));
      check(ppkg.name === PLATFORM_PKG && ppkg.version === PKG.version, `npm/${HOST}/package.json is ${ppkg.name}@${ppkg.version}`);
      const binary = ppkg.main;
      check(typeof binary === 'string' && binary.endsWith('.node'), `npm/${HOST}/package.json main is ${binary}, not a .node`);
      // The freshest build of the binary: the root (where `napi build --platform` writes) or
      // the platform directory (where `napi artifacts` puts it); prepack has just run the build.
      const candidates = [path.join(ROOT, binary), path.join(platformDir, binary)].filter((f) => fs.existsSync(f));
      check(candidates.length > 0, `no ${binary} in the root or npm/${HOST}: the build did not produce it`);
      const src = candidates.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
      // A copy, so the working tree's npm/<platform>/ is left as it is.
      const stage = path.join(TMP, 'stage', HOST);
      fs.cpSync(platformDir, stage, { recursive: true, filter: (f) => !f.includes(`${path.sep}node_modules`) });
      fs.copyFileSync(src, path.join(stage, binary));
      // The binary links the crates NOTICE lists: each platform package ships both notices.
      for (const f of ['LICENSE', 'NOTICE']) fs.copyFileSync(path.join(ROOT, f), path.join(stage, f));
      console.log(`    binary: ${path.relative(ROOT, src)}`);
      const p = pack(stage);
      console.log(`    ${path.basename(p.tgz)}: ${p.files.join(', ')}`);
      return { ...p, binary };
    },
    { essential: true },
  );

  step(`${PLATFORM_PKG} tarball: the .node, package.json and the release files`, () => {
    const problems = listProblems(platformPack.files, PLATFORM_ALLOWED, ['package.json', platformPack.binary, 'LICENSE', 'NOTICE']);
    check(problems.length === 0, problems.join('\n'));
  });

  step(
    'npm install --offline of both tarballs into an empty directory (no registry, empty cache)',
    () => {
      writeApp('package.json', JSON.stringify({ name: 'leakguard-pack-test', version: '1.0.0', private: true }, null, 2) + '\n');
      sh('npm', ['install', '--offline', '--no-audit', '--no-fund', rootPack.tgz, platformPack.tgz], { cwd: APP, env: OFFLINE_ENV });
      const nodes = [];
      const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(d, e.name));
          else if (e.name.endsWith('.node')) nodes.push(path.relative(APP, path.join(d, e.name)));
        }
      };
      walk(path.join(APP, 'node_modules'));
      check(
        nodes.length === 1 && nodes[0] === path.join('node_modules', PLATFORM_PKG, platformPack.binary),
        `.node files installed: ${nodes.join(', ') || 'none'}`,
      );
    },
    { essential: true },
  );

  step("require('leakguard') and a Rust-backed call load the binary from the platform package", () => {
    writeApp(
      'check.cjs',
      `'use strict';
const path = require('path');
const v8 = require('v8');
const lg = require('leakguard');
const file = v8.writeHeapSnapshot(path.join(__dirname, 'tiny.heapsnapshot'));
const snap = lg.loadSnapshotSync(file);
const natives = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
console.log(JSON.stringify({ main: require.resolve('leakguard'), nodeCount: snap.nodeCount, natives }));
`,
    );
    const out = sh(process.execPath, ['check.cjs'], { cwd: APP, env: OFFLINE_ENV });
    const r = JSON.parse(out.trim().split('\n').pop());
    check(r.main === path.join(APP, 'node_modules', 'leakguard', 'index.js'), `leakguard resolved to ${r.main}`);
    check(Number.isInteger(r.nodeCount) && r.nodeCount > 1000, `loadSnapshotSync gave nodeCount ${r.nodeCount}`);
    const expected = path.join(APP, 'node_modules', PLATFORM_PKG, platformPack.binary);
    check(
      r.natives.length === 1 && fs.realpathSync(r.natives[0]) === fs.realpathSync(expected),
      `addon loaded from ${r.natives.join(', ') || 'nowhere'}, expected ${expected}`,
    );
    console.log(`    ${r.nodeCount} nodes; addon ${path.relative(APP, r.natives[0])}`);
  });

  step("import { findLeaks, loadSnapshotSync, … } from 'leakguard' in an .mjs file", () => {
    writeApp(
      'check.mjs',
      `import assert from 'node:assert/strict';
import lg, { findLeaks, diff, takeSnapshot, loadSnapshot, loadSnapshotSync, writeSnapshot, checkLeak, assertNoLeak, LeakError, LeakguardError, codes } from 'leakguard';
import { toLeak } from 'leakguard/jest';
import { itDoesNotLeak } from 'leakguard/mocha';
for (const f of [findLeaks, diff, takeSnapshot, loadSnapshot, loadSnapshotSync, writeSnapshot, checkLeak, assertNoLeak, toLeak, itDoesNotLeak]) assert.equal(typeof f, 'function');
assert.equal(typeof LeakError, 'function');
assert.equal(typeof LeakguardError, 'function');
assert.equal(typeof codes, 'object');
assert.equal(lg.findLeaks, findLeaks);
const snap = loadSnapshotSync(new URL('./tiny.heapsnapshot', import.meta.url).pathname);
assert.ok(snap.nodeCount > 1000);
console.log('esm ok', snap.nodeCount);
`,
    );
    const out = sh(process.execPath, ['check.mjs'], { cwd: APP, env: OFFLINE_ENV });
    check(/esm ok \d+/.test(out), out);
  });

  step('npx leakguard --version and summary (offline)', () => {
    const version = sh('npx', ['--offline', '--no-install', 'leakguard', '--version'], { cwd: APP, env: OFFLINE_ENV });
    check(version.includes(PKG.version), `--version printed: ${version}`);
    const summary = sh('npx', ['--offline', '--no-install', 'leakguard', 'summary', 'tiny.heapsnapshot', '--top', '3'], { cwd: APP, env: OFFLINE_ENV });
    check(/\bObject\b|\(system\)|\(array\)|\(string\)/.test(summary), `summary printed no class rows:\n${summary}`);
    console.log(`    ${version.trim()}`);
  });

  // The matcher files resolve `leakguard/jest` and `leakguard/vitest` from the app's own
  // node_modules; the test runners are the repo's (a user has them installed already).
  const CLEAN_FN = `() => {
    const scratch = Array.from({ length: 100 }, (_, i) => ({ i }));
    return scratch.length;
  }`;

  step('Jest: expect(fn).not.toLeak() from the installed leakguard/jest', () => {
    fs.mkdirSync(path.join(APP, 'jest'));
    writeApp(
      'jest/clean.test.js',
      `'use strict';
const path = require('path');
const { toLeak } = require('leakguard/jest');
expect.extend({ toLeak });
test('a clean function does not leak', async () => {
  expect(require.resolve('leakguard/jest').startsWith(path.join(__dirname, '..', 'node_modules', 'leakguard') + path.sep)).toBe(true);
  await expect(${CLEAN_FN}).not.toLeak();
}, 120000);
`,
    );
    const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const out = sh(process.execPath, [jest, '--ci', '--rootDir', APP, '--roots', '<rootDir>/jest', '--cacheDirectory', path.join(TMP, 'jest-cache')], {
      cwd: APP,
      env: OFFLINE_ENV,
    });
    check(/Tests:\s+1 passed, 1 total/.test(out), out);
  });

  step('Vitest: expect(fn).not.toLeak() from the installed leakguard/vitest', () => {
    // Vitest itself as the user's project would have it: in the app's node_modules.
    const vitestDir = path.join(ROOT, 'node_modules', 'vitest');
    check(fs.existsSync(vitestDir), 'vitest is not installed in the repo (devDependency)');
    fs.symlinkSync(vitestDir, path.join(APP, 'node_modules', 'vitest'), 'dir');
    fs.mkdirSync(path.join(APP, 'vitest'));
    writeApp(
      'vitest.config.mjs',
      `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['vitest/*.test.mjs'], testTimeout: 120000, watch: false } });
`,
    );
    writeApp(
      'vitest/clean.test.mjs',
      `import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { toLeak } from 'leakguard/vitest';
expect.extend({ toLeak });
const here = path.dirname(fileURLToPath(import.meta.url));
test('a clean function does not leak', async () => {
  const resolved = createRequire(import.meta.url).resolve('leakguard/vitest');
  expect(resolved.startsWith(path.join(here, '..', 'node_modules', 'leakguard') + path.sep), resolved).toBe(true);
  await expect(${CLEAN_FN}).not.toLeak();
});
`,
    );
    const vitest = path.join(vitestDir, 'vitest.mjs');
    const out = sh(process.execPath, [vitest, 'run', '--root', APP], { cwd: APP, env: OFFLINE_ENV });
    check(/Tests\s+1 passed \(1\)/.test(out), out);
  });

  const failed = results.filter((r) => !r.ok);
  console.log(`\ntest-pack: ${results.length - failed.length}/${results.length} steps passed`);
  for (const r of failed) console.log(`  ${r.skipped ? 'skipped' : 'FAILED '} ${r.name}`);
  return failed.length === 0;
}

let ok = false;
try {
  ok = main();
} catch (err) {
  console.error(`test-pack: ${err.stack || err.message}`);
} finally {
  if (KEEP) console.log(`kept ${TMP}`);
  else fs.rmSync(TMP, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
