'use strict';

// index.d.ts must describe the API as it is used: a strict TypeScript compile of real usage.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');

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
