'use strict';

// leakguard's public API. Capture lives in JS (only V8's JS API can take a snapshot); parsing
// and analysis run in Rust on the libuv thread pool (lib/snapshot.js -> src/ -> crates/).

const { codes, LeakguardError } = require('./lib/errors');
const capture = require('./lib/capture');
const { HeapSnapshot, loadSnapshot, loadSnapshotSync } = require('./lib/snapshot');
const { takeSnapshot, diff, findLeaks } = require('./lib/compare');
const { checkLeak, assertNoLeak, LeakError } = require('./lib/assert');
const { memoryUsage, startSampling, MemorySampler } = require('./lib/sampler');

require('./lib/relay').installMainRelay();

module.exports = {
  // capture (node-heapdump compatible)
  writeSnapshot: capture.writeSnapshot,
  dumpOnSignal: capture.dumpOnSignal,
  dumpNearHeapLimit: capture.dumpNearHeapLimit,
  configure: capture.configure,
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
