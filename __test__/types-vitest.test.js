'use strict';

// The Vitest matcher's declarations (lib/vitest.d.mts) and the set-up entries' (which bring
// the matcher types into scope): strict TypeScript compiles of real usage, under the module
// resolutions Vitest's own types support (nodenext, bundler), plus a control that fails.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, runNode } = require('./helpers');

const FIXTURES = path.join(__dirname, 'fixtures', 'vitest-types');
const TSC = require.resolve('typescript/bin/tsc');

// Each compile loads Vitest's (large) declarations; all start at once, and all but the first
// skip checking library .d.ts files (--skipLibCheck still checks every use of them).
function tsc(args, cwd = FIXTURES) {
  return runNode([TSC, ...args], { cwd, timeoutMs: 300000 });
}

const MODES = [
  ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
  ['--module', 'esnext', '--moduleResolution', 'bundler'],
];
const BASE = ['--noEmit', '--strict', '--target', 'es2022', '--types', 'node'];
const FAST = [...BASE, '--skipLibCheck'];

const runs = {
  // the one full compile: lib/vitest.d.mts itself is checked here
  explicitFull: tsc([...BASE, ...MODES[0], 'explicit.mts']),
  explicitBundler: tsc([...FAST, ...MODES[1], 'explicit.mts']),
  setupNodenext: tsc([...FAST, ...MODES[0], 'setup.mts', 'spec.mts']),
  setupBundler: tsc([...FAST, ...MODES[1], 'setup.mts', 'spec.mts']),
  control: tsc([...FAST, ...MODES[0], 'spec.mts']),
};

test('leakguard/vitest types (nodenext, library declarations checked): expect.extend({ toLeak }) and await expect(fn).not.toLeak()', async () => {
  const r = await runs.explicitFull;
  assert.equal(r.code, 0, r.out);
});

test('leakguard/vitest types (bundler): expect.extend({ toLeak }) and await expect(fn).not.toLeak()', async () => {
  const r = await runs.explicitBundler;
  assert.equal(r.code, 0, r.out);
});

for (const [name, run] of [
  ['nodenext', 'setupNodenext'],
  ['bundler', 'setupBundler'],
]) {
  test(`leakguard/vitest/setup types (${name}): a setup file importing it once types every spec`, async () => {
    const r = await runs[run];
    assert.equal(r.code, 0, r.out);
  });
}

test('control: without leakguard types, toLeak is not on Vitest assertions', async () => {
  const r = await runs.control;
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /spec\.mts\(6,\d+\): error TS2339: Property 'toLeak' does not exist on type 'Assertion</);
});

/**
 * A project with leakguard installed (node_modules/leakguard → this repo) that lists a set-up
 * entry in tsconfig `types`: TypeScript resolves `types` entries from node_modules only.
 */
const projects = [];
test.after(() => {
  for (const dir of projects) fs.rmSync(dir, { recursive: true, force: true });
});
function installedProject(spec, types, compilerOptions) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-types-'));
  projects.push(dir);
  const nm = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(nm, '@types'), { recursive: true });
  fs.mkdirSync(path.join(nm, '@jest'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(nm, 'leakguard'), 'dir');
  for (const p of ['vitest', '@types/node', '@jest/globals']) fs.symlinkSync(path.join(ROOT, 'node_modules', p), path.join(nm, p), 'dir');
  fs.copyFileSync(path.join(FIXTURES, spec), path.join(dir, spec));
  const tsconfig = {
    compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, target: 'es2022', types: ['node', ...types], ...compilerOptions },
    files: [spec],
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  return tsc(['-p', dir], dir);
}

const installed = {
  nodenext: installedProject('spec.mts', ['leakguard/vitest/setup'], { module: 'nodenext' }),
  bundler: installedProject('spec.mts', ['leakguard/vitest/setup'], { module: 'esnext', moduleResolution: 'bundler' }),
  jest: installedProject('jest-spec.ts', ['leakguard/jest/setup'], { module: 'nodenext' }),
};

for (const name of ['nodenext', 'bundler']) {
  test(`tsconfig types ["leakguard/vitest/setup"] (${name}) types toLeak on Vitest's expect`, async () => {
    const r = await installed[name];
    assert.equal(r.code, 0, r.out);
  });
}

test('tsconfig types ["leakguard/jest/setup"] types toLeak on @jest/globals expect', async () => {
  const r = await installed.jest;
  assert.equal(r.code, 0, r.out);
});
