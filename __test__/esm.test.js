'use strict';

// ES modules: `import { findLeaks } from 'leakguard'` (and every other entry of package.json's
// `exports`) must give each name its declaration file promises, as the very same object that
// require() gives (one module instance: no dual-package hazard). Node finds a CommonJS module's
// named exports by static analysis, so an export it cannot see fails only at import time; the
// list of names is read from the declarations, so a new export cannot be forgotten here.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const ts = require('typescript');
const { tempDir } = require('./helpers');

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

// Entries that only load inside a test runner (they reach for its globals at load time), with
// the runner. They are checked without it: resolvable through the package name under both the
// `import` and the `require` conditions, to a file that exists and parses.
const NEEDS_RUNNER = { './jest/setup': 'jest (calls the expect.extend of the running test file)' };

/** [subpath, target] for one condition set: what Node resolves `leakguard<subpath>` to. */
function target(entry, conditions) {
  if (typeof entry === 'string' || entry === null) return entry;
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'default' || conditions.includes(k)) {
      const t = target(v, conditions);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

const entries = Object.keys(pkg.exports)
  .filter((sub) => sub !== './package.json')
  .map((sub) => ({
    sub,
    spec: pkg.name + sub.slice(1),
    types: target(pkg.exports[sub], ['types']),
    runner: NEEDS_RUNNER[sub],
  }));

/** The names with a value (functions, classes, consts) that a declaration file exports. */
function declaredValues(file) {
  const program = ts.createProgram([file], {
    noEmit: true,
    types: [],
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
  });
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file}: declaration file not found`);
  const checker = program.getTypeChecker();
  const mod = checker.getSymbolAtLocation(source);
  if (!mod) return []; // a declaration file without exports (a side-effect entry)
  const names = new Set();
  for (const s of checker.getExportsAndPropertiesOfModule(mod)) {
    const real = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    if (real.flags & ts.SymbolFlags.Value) names.add(s.name);
  }
  return [...names].sort();
}

/** A consumer's directory: node_modules/leakguard is this checkout (a symlink, as npm link). */
function consumer(t) {
  const dir = tempDir(t, 'lg-esm-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', pkg.name), 'dir');
  return dir;
}

// Runs in the consumer's directory: imports each entry by package name, requires it too, and
// reports what each gave.
const PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = {};
for (const { spec, names } of JSON.parse(process.argv[2])) {
  const r = { esmKeys: null, cjsKeys: null, requireError: null, defaultIsCjs: null, requiredNamespace: null, names: {} };
  const ns = await import(spec);
  r.esmKeys = Object.keys(ns).sort();
  let cjs;
  try {
    cjs = require(spec);
    r.cjsKeys = Object.keys(cjs).sort();
    // require() of an ES module (Node >= 20.19) gives its namespace: then it must be this one.
    r.requiredNamespace = cjs[Symbol.toStringTag] === 'Module' ? cjs === ns : null;
    r.defaultIsCjs = ns.default === cjs;
  } catch (err) {
    r.requireError = err.code || String(err);
  }
  for (const n of names) {
    r.names[n] = { esm: n in ns ? typeof ns[n] : 'missing', same: cjs !== undefined && ns[n] === cjs[n] };
  }
  out[spec] = r;
}
out.nativeLoaded = Object.keys(require.cache).filter((k) => k.endsWith('.node') || k.endsWith('binding.js'));
console.log(JSON.stringify(out));
`;

test('every entry of package.json exports has declarations', () => {
  for (const e of entries) {
    assert.ok(e.types, `${e.sub}: no "types" condition in package.json exports`);
    assert.ok(fs.existsSync(path.join(ROOT, e.types)), `${e.sub}: ${e.types} does not exist`);
  }
});

test('ESM import of every entry gives each declared name, the same object as require()', (t) => {
  const dir = consumer(t);
  fs.writeFileSync(path.join(dir, 'probe.mjs'), PROBE);
  const loadable = entries.filter((e) => !e.runner);
  const plan = loadable.map((e) => ({ spec: e.spec, names: declaredValues(path.join(ROOT, e.types)) }));
  // The main entry declares at least the API this file was written against: a parse of the
  // declarations that silently found nothing must not pass.
  const main = plan.find((p) => p.spec === pkg.name);
  for (const n of ['writeSnapshot', 'findLeaks', 'takeSnapshot', 'HeapSnapshot', 'LeakError', 'codes', 'MemorySampler', 'LeakguardError']) {
    assert.ok(main.names.includes(n), `index.d.ts: ${n} not found among ${main.names.join(', ')}`);
  }
  const r = spawnSync(process.execPath, ['probe.mjs', JSON.stringify(plan)], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const { spec, names } of plan) {
    const got = out[spec];
    for (const n of names) {
      assert.notEqual(got.names[n].esm, 'missing', `import { ${n} } from '${spec}': not an export of the ES module view (${got.esmKeys.join(', ')})`);
      if (got.requireError === null) assert.ok(got.names[n].same, `import { ${n} } from '${spec}' is not the object require('${spec}').${n} is`);
    }
    if (got.requiredNamespace !== null) {
      // An ES module entry: require() gives the same namespace object that import does.
      assert.ok(got.requiredNamespace, `require('${spec}') is not the namespace import('${spec}') gives`);
      const undeclared = got.esmKeys.filter((k) => !k.startsWith('_') && k !== 'default' && !names.includes(k));
      assert.deepEqual(undeclared, [], `${spec} exports names its declarations do not have`);
    } else if (got.requireError === null) {
      assert.ok(got.defaultIsCjs, `import x from '${spec}': x is not require('${spec}')`);
      // The other direction: everything the module exports at runtime is declared (leading
      // underscores are internal).
      const undeclared = got.cjsKeys.filter((k) => !k.startsWith('_') && !names.includes(k));
      assert.deepEqual(undeclared, [], `${spec} exports names its declarations do not have`);
    } else {
      // An ES-module-only entry (require() of ESM needs Node 22): the names come from import.
      assert.equal(got.requireError, 'ERR_REQUIRE_ESM', `require('${spec}') failed`);
    }
  }
  assert.deepEqual(out.nativeLoaded, [], 'importing the entries loaded the native addon (it must load on first use)');
});

test('entries that need a test runner resolve through the package name and parse', (t) => {
  const dir = consumer(t);
  const runnerEntries = entries.filter((e) => e.runner);
  for (const sub of Object.keys(NEEDS_RUNNER)) assert.ok(pkg.exports[sub], `NEEDS_RUNNER lists ${sub}, which package.json no longer exports`);
  const script = `
    import { createRequire } from 'node:module';
    import { fileURLToPath } from 'node:url';
    const require = createRequire(import.meta.url);
    const out = {};
    for (const spec of JSON.parse(process.argv[2])) {
      out[spec] = { import: fileURLToPath(import.meta.resolve(spec)), require: require.resolve(spec) };
    }
    console.log(JSON.stringify(out));`;
  fs.writeFileSync(path.join(dir, 'resolve.mjs'), script);
  const r = spawnSync(process.execPath, ['resolve.mjs', JSON.stringify(runnerEntries.map((e) => e.spec))], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const e of runnerEntries) {
    const expected = fs.realpathSync(path.join(ROOT, target(pkg.exports[e.sub], ['import'])));
    assert.equal(fs.realpathSync(out[e.spec].import), expected, `${e.spec} (import)`);
    assert.equal(fs.realpathSync(out[e.spec].require), fs.realpathSync(path.join(ROOT, target(pkg.exports[e.sub], ['require']))), `${e.spec} (require)`);
    const check = spawnSync(process.execPath, ['--check', expected], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${e.spec} (needs ${e.runner}): ${check.stderr}`);
  }
});
