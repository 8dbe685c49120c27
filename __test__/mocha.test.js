'use strict';

// leakguard/mocha under the real Mocha binary: itDoesNotLeak and assertNoLeak in a plain it,
// passing and failing output.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, runNode } = require('./helpers');

const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

function mocha(file) {
  return runNode([MOCHA, '--reporter', 'spec', '--no-color', path.join(__dirname, 'fixtures', 'mocha', file)]);
}

const runs = { pass: mocha('pass.spec.js'), fail: mocha('fail.spec.js') };

test('mocha: itDoesNotLeak and assertNoLeak pass on clean code', async () => {
  const { code, out } = await runs.pass;
  assert.equal(code, 0, out);
  assert.match(out, /✔ login\/logout does not leak/, out);
  assert.match(out, /✔ async work that settles does not leak/, out);
  assert.match(out, /✔ assertNoLeak inside a plain it/, out);
  assert.match(out, /4 passing/, out);
});

test('mocha: a leak fails the test with the class, the per-call count and the variable', async () => {
  const { code, out } = await runs.fail;
  assert.equal(code, 2, out); // mocha exits with the number of failures
  assert.match(out, /2 failing/, out);
  assert.match(
    out,
    /FAILS ON PURPOSE: login does not leak:\s+LeakError: expected fn not to leak, but each call leaves 1 Session alive \(\d+ after 100 calls/,
    out,
  );
  assert.match(
    out,
    /FAILS ON PURPOSE: assertNoLeak in a plain it:\s+LeakError: expected fn not to leak, but each call leaves 1 Session alive \(\d+ after 40 calls/,
    out,
  );
  assert.match(out, /held by: sessionStore \(Map\) → \{table\} \(array\) → .* → Session/, out);
});
