'use strict';

// `npm run demo` is one of the README's two commands: the demo driver runs end to end (the
// leaky server, the hunt through its dumps, the CLI and the HTML report) and says what it found.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runNode, ROOT } = require('./helpers');

test('the demo runs end to end and finds the leaky server’s requests', async () => {
  const { code, out } = await runNode([path.join(ROOT, 'demo', 'run.js')], { timeoutMs: 180000 });
  assert.equal(code, 0, out);
  assert.match(out, /IncomingMessage/);
  assert.match(out, /held by: requests \(Map\)/);
  assert.match(out, /report written to /);
});
