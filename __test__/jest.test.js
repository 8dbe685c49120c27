'use strict';

// leakguard/jest under the real Jest binary: the matcher in Jest worker processes
// (--maxWorkers=2 over two files) and in band (Jest's own process, the file's VM context),
// passing and failing output; and registered by leakguard/jest/setup in setupFilesAfterEnv.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, runNode } = require('./helpers');

const FIXTURES = path.join(__dirname, 'fixtures', 'jest');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

function jest(args, config = 'jest.config.js') {
  return runNode([JEST, '--ci', '--config', path.join(FIXTURES, config), ...args], {
    cwd: FIXTURES,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    // three Jest runs share the machine's cores
    timeoutMs: 240000,
  });
}

// The runs start at once (each is mostly one process busy with snapshots).
const runs = {
  workers: jest(['--maxWorkers=2', 'pass.spec.js', 'fail.spec.js']),
  inBand: jest(['--runInBand', 'second.spec.js']),
  setup: jest(['--runInBand'], 'jest.setup.config.js'),
};

test('jest --maxWorkers=2: passing file passes, failing file fails with the leak explained', async () => {
  const { code, out } = await runs.workers;
  assert.equal(code, 1, out);
  assert.match(out, /PASS \.\/pass\.spec\.js/, out);
  assert.match(out, /FAIL \.\/fail\.spec\.js/, out);
  assert.match(out, /Tests:\s+2 failed, 2 passed, 4 total/, out);
  // .not.toLeak() on a leaky function: the class, the per-call count and the variable
  assert.match(out, /● FAILS ON PURPOSE: login does not leak/, out);
  assert.match(out, /expect\(fn\)\.not\.toLeak\(options\)/, out);
  assert.match(out, /expected fn not to leak, but each call leaves 1 Session alive \(\d+ after 100 calls, [\d.]+ KB retained\)/, out);
  assert.match(out, /held by: sessionStore \(Map\) → \{table\} \(array\) → .* → Session, a variable of holders\.js:12\n/, out);
  // where the Sessions are made: the constructor's line in the file, although Jest ran a
  // transformed copy whose lines V8 counts differently
  assert.match(out, /allocated at holders\.js:6:14 \(Session\)/, out);
  // .toLeak() on a clean function
  assert.match(out, /● FAILS ON PURPOSE: loginLogout leaks/, out);
  assert.match(out, /expected fn to leak, but \d+ calls \(20 of them warm-up\) left no set of objects alive that grows with the calls/, out);
});

test('jest --runInBand: the matcher and assertNoLeak in the test file VM context, fake timers too', async () => {
  const { code, out } = await runs.inBand;
  assert.equal(code, 0, out);
  assert.match(out, /PASS \.\/second\.spec\.js/, out);
  assert.match(out, /Tests:\s+2 passed, 2 total/, out);
});

test('jest with leakguard/jest/setup in setupFilesAfterEnv: toLeak without expect.extend in the file', async () => {
  const { code, out } = await runs.setup;
  assert.equal(code, 1, out);
  assert.match(out, /FAIL setup\/setup\.spec\.js/, out);
  assert.match(out, /Tests:\s+1 failed, 1 passed, 2 total/, out);
  assert.match(out, /● FAILS ON PURPOSE: login does not leak/, out);
  assert.match(out, /expected fn not to leak, but each call leaves 1 Session alive \(\d+ after 100 calls, [\d.]+ KB retained\)/, out);
  assert.match(out, /held by: sessionStore \(Map\) → \{table\} \(array\) → .* → Session/, out);
});

test('leakguard/jest/setup outside Jest (no Jest expect) fails with a stable code and says where it belongs', async () => {
  const script = "try { require('leakguard/jest/setup'); } catch (e) { console.log(e.code + ' ' + e.message); process.exit(3); }";
  const { code, out } = await runNode(['-e', script]);
  assert.equal(code, 3, out);
  assert.match(out, /^ERR_LEAKGUARD_INVALID_ARG leakguard\/jest\/setup found no Jest `expect`: list it in Jest's `setupFilesAfterEnv`/, out);
});
