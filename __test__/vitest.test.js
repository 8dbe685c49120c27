'use strict';

// leakguard/vitest under the real Vitest binary (`vitest run`, no watch, no colours): the
// forks pool (child processes) with expect.extend in each file, and the threads pool (worker
// threads: GC, snapshots and the inspector of a worker's own isolate) with the matcher
// registered by leakguard/vitest/setup. Each run has a passing and a failing file; the failing
// output must name the class, the per-call count and the variable that holds the objects
// (a block-scoped one under Vite's module runner: named by lib/scopes.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, runNode } = require('./helpers');

const FIXTURES = path.join(__dirname, 'fixtures', 'vitest');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

function vitest(config, pool) {
  const args = [VITEST, 'run', '--config', path.join(FIXTURES, config), '--configLoader', 'native', `--pool=${pool}`, '--maxWorkers=2'];
  return runNode(args, {
    cwd: FIXTURES,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', CI: '1', LG_EXPECT_POOL: pool },
    timeoutMs: 240000,
  });
}

// Both runs start at once (each is mostly one process busy with snapshots at a time).
const runs = {
  forks: vitest('vitest.config.mjs', 'forks'),
  threads: vitest('vitest.setup.config.mjs', 'threads'),
};

/** What both runs' failing file must show. */
function checkFailures(out, dir) {
  assert.match(out, new RegExp(`FAIL\\s+${dir}/fail\\.spec\\.mjs > FAILS ON PURPOSE: login does not leak`), out);
  // .not.toLeak() on a leaky function: the hint, the class, the per-call count and the variable
  assert.match(out, /expect\(fn\)\.not\.toLeak\(options\)/, out);
  assert.match(out, /expected fn not to leak, but each call leaves 1 Session alive \(\d+ after 100 calls, [\d.]+ KB retained\)/, out);
  assert.match(out, /held by: sessionStore \(Map\) → \{table\} \(array\) → .* → Session/, out);
  // the constructor's line in the file, although Vitest ran a rewritten module (3 lines off)
  assert.match(out, /allocated at holders\.mjs:5:14 \(Session\)/, out);
  // .toLeak() on a clean function
  assert.match(out, new RegExp(`FAIL\\s+${dir}/fail\\.spec\\.mjs > FAILS ON PURPOSE: loginLogout leaks`), out);
  assert.match(out, /expect\(fn\)\.toLeak\(options\)/, out);
  assert.match(out, /expected fn to leak, but \d+ calls \(20 of them warm-up\) left no set of objects alive that grows with the calls/, out);
}

test('vitest --pool=forks, expect.extend({ toLeak }) from leakguard/vitest: pass and fail output', async () => {
  const { code, out } = await runs.forks;
  assert.equal(code, 1, out);
  assert.match(out, /✓ extend\/pass\.spec\.mjs \(4 tests\)/, out);
  assert.match(out, /Test Files\s+1 failed \| 1 passed \(2\)/, out);
  assert.match(out, /Tests\s+2 failed \| 4 passed \(6\)/, out);
  checkFailures(out, 'extend');
});

test('vitest --pool=threads, leakguard/vitest/setup in setupFiles: pass and fail output', async () => {
  const { code, out } = await runs.threads;
  assert.equal(code, 1, out);
  assert.match(out, /✓ setup\/pass\.spec\.mjs \(3 tests\)/, out);
  assert.match(out, /Test Files\s+1 failed \| 1 passed \(2\)/, out);
  assert.match(out, /Tests\s+2 failed \| 3 passed \(5\)/, out);
  checkFailures(out, 'setup');
});
