'use strict';

// leakguard's public API. Capture lives in JS (only V8's JS API can take a snapshot); parsing
// and analysis run in Rust on the libuv thread pool (lib/snapshot.js -> src/ -> crates/).

const { codes, LeakguardError } = require('./lib/errors');
const { writeSnapshot, dumpOnSignal, dumpNearHeapLimit, configure } = require('./lib/capture');
const { HeapSnapshot, loadSnapshot, loadSnapshotSync } = require('./lib/snapshot');
const { takeSnapshot, diff, findLeaks } = require('./lib/compare');
const { checkLeak, assertNoLeak, LeakError } = require('./lib/assert');
const { memoryUsage, startSampling, MemorySampler } = require('./lib/sampler');

require('./lib/relay').installMainRelay();

// Shorthand properties of plain identifiers only: Node finds a CommonJS module's named exports
// for `import { findLeaks } from 'leakguard'` by static analysis (cjs-module-lexer), which stops
// at the first value that is not a bare identifier. Nothing here loads the native addon; the
// Rust-backed calls load it on first use (lib/native.js).
module.exports = {
  // capture (node-heapdump compatible)
  writeSnapshot,
  dumpOnSignal,
  dumpNearHeapLimit,
  configure,
  // snapshots in Rust memory
  loadSnapshot,
  loadSnapshotSync,
  takeSnapshot,
  diff,
  findLeaks,
  HeapSnapshot,
  // leak assertions for tests
  checkLeak,
  assertNoLeak,
  LeakError,
  // memory sampling and trend alerts
  memoryUsage,
  startSampling,
  MemorySampler,
  // errors
  LeakguardError,
  codes,
};
