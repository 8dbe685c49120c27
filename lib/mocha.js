'use strict';

// Mocha support: `const { itDoesNotLeak, assertNoLeak } = require('leakguard/mocha')`.
//
//   itDoesNotLeak('parses a request', () => parse(raw), { iterations: 200 });
//   it('closes its sockets', async () => { await assertNoLeak(() => client.get('/')); });
//
// itDoesNotLeak declares an `it` whose timeout fits the check (three heap snapshots around
// warmup + 2 × iterations calls); inside a plain `it`, raise the timeout yourself
// (`this.timeout(…)`) or rely on `timeoutFor(options)`.

const { checkLeak, assertNoLeak, LeakError, DEFAULTS } = require('./assert');
const { invalidArg } = require('./errors');

/**
 * A Mocha timeout that fits a leak check with these options: the check's own `timeoutMs`
 * (default 60 s) plus a margin, so a slow check fails with leakguard's clear
 * ERR_LEAKGUARD_TIMEOUT instead of Mocha's generic one.
 */
function timeoutFor(options = {}) {
  const t = options.timeoutMs === undefined ? DEFAULTS.timeoutMs : options.timeoutMs;
  return t === Infinity ? 0 : t + 5000;
}

function resolveIt(options) {
  const it = options?.it || globalThis.it;
  if (typeof it !== 'function') {
    throw invalidArg('itDoesNotLeak: no Mocha `it` found (call it inside a describe() of a Mocha run, or pass { it })');
  }
  return it;
}

function declare(kind, title, fn, options) {
  if (typeof title !== 'string') throw invalidArg(`${kind}(title, fn, options): title must be a string`);
  if (typeof fn !== 'function') throw invalidArg(`${kind}(title, fn, options): fn must be a function`);
  const opts = { ...(options || {}) };
  const it = resolveIt(opts);
  delete opts.it;
  const only = opts.only;
  delete opts.only;
  const test = (only ? it.only : it)(title, function leakTest() {
    if (this && typeof this.timeout === 'function') this.timeout(timeoutFor(opts));
    return assertNoLeak(fn, opts);
  });
  if (test && typeof test.timeout === 'function') test.timeout(timeoutFor(opts));
  return test;
}

/** Declares `it(title)` that asserts that calling `fn` repeatedly does not leak. */
function itDoesNotLeak(title, fn, options) {
  return declare('itDoesNotLeak', title, fn, options);
}
itDoesNotLeak.only = (title, fn, options) => declare('itDoesNotLeak', title, fn, { ...options, only: true });

module.exports = { itDoesNotLeak, assertNoLeak, checkLeak, timeoutFor, LeakError };
