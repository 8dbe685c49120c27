'use strict';

// The contenders of the leak-assertion benches (leakage.js, assertions.js), loaded with their
// snapshots and forced GCs counted, without changing what they do.

/**
 * leakguard: lib/assert.js takes `takeSnapshot` from lib/compare.js when it is loaded and uses
 * `globalThis.gc` when there is one (here a counting wrapper around the very function it would
 * fetch itself). `root`: the package directory (bench/assertions.js also loads an older checkout
 * of it). Returns { counts, lg }.
 */
function countedLeakguard(root = require('node:path').join(__dirname, '..')) {
  const compare = require(require('node:path').join(root, 'lib', 'compare'));
  const counts = { snapshots: 0, forcedGcs: 0 };
  const take = compare.takeSnapshot;
  compare.takeSnapshot = function takeSnapshot(...args) {
    counts.snapshots++;
    return take.apply(this, args);
  };
  const lg = require(root);
  const v8 = require('node:v8');
  const vm = require('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  v8.setFlagsFromString('--no-expose-gc');
  globalThis.gc = function gcCounted() {
    counts.forcedGcs++;
    return gc();
  };
  return { counts, lg };
}

/**
 * leakage 0.5.0: it reads memwatch.gc / memwatch.HeapDiff off the module object at each call,
 * so they are counted by patching the module object and HeapDiff's prototype (no allocation
 * per call, so the heap diffs leakage measures are not changed). Returns { counts, leakage }.
 */
function countedLeakage() {
  const memwatch = require('@aidemaster/node-memwatch'); // npm alias of @airbnb/node-memwatch
  const counts = { snapshots: 0, forcedGcs: 0 };
  const gc = memwatch.gc;
  memwatch.gc = function gcCounted() {
    counts.forcedGcs++;
    return gc();
  };
  const end = memwatch.HeapDiff.prototype.end;
  memwatch.HeapDiff.prototype.end = function endCounted() {
    counts.snapshots += 2; // `new HeapDiff()` took the "before" snapshot, end() takes "after"
    return end.call(this);
  };
  return { counts, leakage: require('leakage') };
}

module.exports = { countedLeakguard, countedLeakage };
