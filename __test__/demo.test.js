'use strict';

// `npm run demo` is one of the README's two commands: the demo driver runs end to end (the
// leaky server, the hunt through its dumps, the CLI and the HTML report, the hands-off diagnosis
// under LEAKGUARD_DIAGNOSE=1) and says what it found.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runNode, ROOT } = require('./helpers');

test('the demo runs end to end and finds the leaky server’s requests', async () => {
  // Part 5 waits for the sampler's alert and its diagnosis (~1-2 minutes).
  const { code, out } = await runNode([path.join(ROOT, 'demo', 'run.js')], { timeoutMs: 400000 });
  assert.equal(code, 0, out);
  assert.match(out, /IncomingMessage/);
  assert.match(out, /held by: requests \(Map\)/);
  assert.match(out, /report written to /);
  // The hands-off diagnosis names the growing Map and the leaked class, and writes its report.
  assert.match(out, /leakguard: leak diagnosis/);
  assert.match(out, /growing collection: requests \(Map\): [\d,]+ → [\d,]+ → [\d,]+ entries/);
  assert.match(out, /leak suspect: IncomingMessage ×/);
  assert.match(out, /report: .*demo\/out\/diagnosis\.html/);
});
