'use strict';

// index.d.ts must describe the API as it is used: a strict TypeScript compile of real usage.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('index.d.ts type-checks real usage under --strict and rejects misuse', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', '--types', 'node', path.join(__dirname, 'fixtures', 'types-check.ts')],
    { encoding: 'utf8', cwd: path.join(__dirname, '..') },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('leakguard/jest and leakguard/mocha declarations type-check (Jest matcher augmentation, Mocha helpers)', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--types',
      'node',
      path.join(__dirname, 'fixtures', 'types-check-frameworks.ts'),
    ],
    { encoding: 'utf8', cwd: path.join(__dirname, '..') },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

// ---------------------------------------------------------------------------------------------
// leakguard as a consumer sees it: imported by package name (node_modules/leakguard is this
// checkout), under every module setting TypeScript offers for Node and bundlers, with and
// without esModuleInterop. The CommonJS entries are declared `export =`, which is what makes
// this matrix agree with Node: named imports always; a default import from an ES module
// (node16/nodenext `.mts`) or with esModuleInterop, and an error otherwise (TS1259), because
// CommonJS output without interop would read a `default` property that does not exist.

const fs = require('node:fs');
const ts = require('typescript');
const { tempDir } = require('./helpers');

const ROOT = path.join(__dirname, '..');
const CONSUMER = path.join(__dirname, 'fixtures', 'ts-consumer');

/** A consumer project: the fixtures as .mts/.cts/.ts, and node_modules/leakguard -> this checkout. */
function consumerProject(t) {
  const dir = tempDir(t, 'lg-ts-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'leakguard'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
  // Every entry of package.json's exports, so a new subpath without declarations fails here.
  const subs = Object.keys(require('../package.json').exports).filter((s) => s !== './package.json');
  // From CommonJS only those that require() can load: not the ES-module-only ones (.mjs).
  const exportsMap = require('../package.json').exports;
  const esmOnly = (s) => /\.mjs$/.test(typeof exportsMap[s] === 'string' ? exportsMap[s] : exportsMap[s].require || exportsMap[s].default || '');
  const importsOf = (list) => list.map((s, i) => `import * as entry${i} from 'leakguard${s.slice(1)}';\nvoid entry${i};\n`).join('');
  for (const ext of ['ts', 'mts', 'cts']) {
    for (const name of ['named', 'default']) fs.copyFileSync(path.join(CONSUMER, `${name}.ts`), path.join(dir, `${name}.${ext}`));
    fs.writeFileSync(path.join(dir, `entries.${ext}`), `${importsOf(ext === 'cts' ? subs.filter((s) => !esmOnly(s)) : subs)}export {};\n`);
  }
  return dir;
}

// Parsed declaration files (TypeScript's lib, @types/node, leakguard's own) shared by the
// programs below: parsing them again for each of the ten compiles would dominate the run time.
const parsed = new Map();
function cachingHost(options) {
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (fileName, version, ...rest) => {
    if (!fileName.endsWith('.d.ts') && !fileName.endsWith('.d.mts') && !fileName.endsWith('.d.cts')) return getSourceFile(fileName, version, ...rest);
    const key = `${fileName}\0${typeof version === 'object' ? `${version.languageVersion}:${version.impliedNodeFormat}` : version}`;
    if (!parsed.has(key)) parsed.set(key, getSourceFile(fileName, version, ...rest));
    return parsed.get(key);
  };
  return host;
}

/** Type-checks (and, with outDir, emits) `files` in `dir`; returns the diagnostics as "file:line TScode". */
function compile(dir, files, extra) {
  const options = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    skipLibCheck: false, // leakguard's own .d.ts files are checked under each setting
    skipDefaultLibCheck: true, // …but not TypeScript's lib.*.d.ts
    ...extra,
  };
  const program = ts.createProgram(
    files.map((f) => path.join(dir, f)),
    options,
    cachingHost(options),
  );
  const emitted = options.outDir ? program.emit() : { diagnostics: [] };
  return [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => {
    const where = d.file ? `${path.relative(dir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '-';
    return `${where} TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

/** Lines of `file` holding a default import (`import x from`), as "file:line". */
function defaultImportLines(dir, file) {
  return fs
    .readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .map((l, i) => (/^import \w+ from /.test(l) ? `${file}:${i + 1}` : null))
    .filter(Boolean);
}

const MODULE_SETTINGS = [
  { name: 'node16', module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, exts: ['mts', 'cts'] },
  { name: 'nodenext', module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, exts: ['mts', 'cts'] },
  { name: 'bundler + esnext', module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, exts: ['ts'] },
  { name: 'bundler + preserve', module: ts.ModuleKind.Preserve, moduleResolution: ts.ModuleResolutionKind.Bundler, exts: ['ts'] },
];

for (const setting of MODULE_SETTINGS) {
  for (const esModuleInterop of [true, false]) {
    test(`a consumer type-checks under module ${setting.name}, esModuleInterop ${esModuleInterop}`, (t) => {
      const dir = consumerProject(t);
      const files = setting.exts.flatMap((ext) => [`named.${ext}`, `entries.${ext}`, `default.${ext}`]);
      const diags = compile(dir, files, { module: setting.module, moduleResolution: setting.moduleResolution, esModuleInterop });
      // A default import is module.exports: in an ES module under node16/nodenext (Node's
      // rule), under bundler resolution (which implies allowSyntheticDefaultImports, as bundlers
      // do), or with esModuleInterop. Otherwise exactly the default imports fail, each with
      // TS1259 ("can only be default-imported using the 'esModuleInterop' flag"), nothing else.
      const expected = setting.exts
        .filter((ext) => !(esModuleInterop || ext === 'mts' || setting.moduleResolution === ts.ModuleResolutionKind.Bundler))
        .flatMap((ext) => defaultImportLines(dir, `default.${ext}`))
        .map((l) => `${l} TS1259`);
      assert.deepEqual(
        diags.map((d) => d.split(' ').slice(0, 2).join(' ')),
        expected,
        diags.join('\n'),
      );
    });
  }
}

test('what type-checks under node16 also runs: the compiled ES module and CommonJS consumers', (t) => {
  const dir = consumerProject(t);
  const node16 = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 };
  const out = path.join(dir, 'out');
  assert.deepEqual(compile(dir, ['named.mts', 'default.mts', 'named.cts', 'default.cts'], { ...node16, esModuleInterop: true, outDir: out }), []);
  // Without esModuleInterop the named imports compile and run the same.
  const plain = path.join(dir, 'out-plain');
  assert.deepEqual(compile(dir, ['named.cts'], { ...node16, esModuleInterop: false, outDir: plain }), []);
  const runner = `
    const results = [];
    for (const f of process.argv.slice(1)) {
      const m = await import(f);
      const checks = m.named || m.defaults || (m.default && (m.default.named || m.default.defaults));
      for (const [name, ok] of checks) results.push([f, name, ok]);
    }
    console.log(JSON.stringify(results));`;
  const files = [
    [path.join(out, 'named.mjs'), 5],
    [path.join(out, 'default.mjs'), 4],
    [path.join(out, 'named.cjs'), 5],
    [path.join(out, 'default.cjs'), 4],
    [path.join(plain, 'named.cjs'), 5],
  ];
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', runner, ...files.map((f) => f[0])], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout);
  for (const [file, n] of files) assert.equal(results.filter((x) => x[0] === file).length, n, `${file} ran ${n} checks`);
  for (const [file, name, ok] of results) assert.ok(ok, `${path.relative(dir, file)}: ${name}`);
});
