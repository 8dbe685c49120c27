'use strict';

// In-memory snapshots and comparisons: takeSnapshot, diff, findLeaks. The work runs in Rust
// on the thread pool (src/compare.rs -> crates/leakguard-core/src/compare).

const fs = require('fs');
const os = require('os');
const path = require('path');
const { threadId } = require('worker_threads');
const { binding } = require('./native');
const { writeAtomic } = require('./atomic-file');
const { loadSnapshot, runJob, handleOf, kOrigin } = require('./snapshot');
const { LeakguardError, codes, invalidArg } = require('./errors');

/** Which heap a takeSnapshot() result shows: ids are only comparable within one isolate. */
const ORIGIN = `${process.pid}:${threadId}`;

/**
 * Captures this thread's heap and loads it into Rust memory. V8 blocks the thread while it
 * captures (nothing can change that); the parse runs off the event loop. The capture goes
 * through a private temp file (mode 0600 in a 0700 directory) that is deleted once parsed:
 * measured here, that peaks lower than streaming v8.getHeapSnapshot() into memory.
 */
async function takeSnapshot(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('takeSnapshot(options): options must be an object');
  binding(); // without the addon, fail before V8 spends seconds writing a snapshot nobody can parse
  if (options.signal && options.signal.aborted) {
    throw new LeakguardError(codes.ABORTED, 'the operation was aborted', { cause: options.signal.reason });
  }
  return withTempSnapshotFile(options.tmpdir, async (file) => {
    const snap = await loadSnapshot(writeAtomic(file), options);
    snap[kOrigin] = ORIGIN;
    return snap;
  });
}

/**
 * Runs `use(file)` with a path `heap.heapsnapshot` in a new private temp directory (under
 * `tmpdir`, default the system's), and removes both afterwards, whatever happened. unlink +
 * rmdir, not rmSync({ recursive }): Node loads its rimraf module on the first recursive
 * rmSync, and objects a leak check's own work creates must not show up as leaks.
 */
async function withTempSnapshotFile(tmpdir, use) {
  let dir;
  try {
    dir = fs.mkdtempSync(path.join(tmpdir || os.tmpdir(), 'leakguard-'));
  } catch (err) {
    throw new LeakguardError(codes.IO, `cannot create a temp directory for the snapshot: ${err.message}`, { cause: err });
  }
  const file = path.join(dir, 'heap.heapsnapshot');
  try {
    return await use(file);
  } finally {
    removeQuiet(file);
    removeQuiet(dir, true);
  }
}

function removeQuiet(p, isDir = false) {
  try {
    if (isDir) fs.rmdirSync(p);
    else fs.unlinkSync(p);
  } catch {
    // already gone (the write failed before creating it), or not ours to report
  }
}

function checkOrigins(snaps) {
  const known = snaps.filter((s) => s[kOrigin]);
  if (known.some((s) => s[kOrigin] !== known[0][kOrigin])) {
    throw new LeakguardError(
      codes.MISMATCH,
      `these snapshots show different heaps (${known.map((s) => s[kOrigin]).join(' vs ')}); object ids are only comparable within one process and thread`,
    );
  }
}

function sizesOf(o, fn) {
  const sizes = o.sizes === undefined ? 'devtools' : o.sizes;
  if (sizes !== 'devtools' && sizes !== 'raw') throw invalidArg(`${fn}({ sizes }): sizes must be 'devtools' or 'raw'`);
  return sizes;
}

/**
 * Per-class changes from `base` to `current` (DevTools Comparison semantics: objects matched
 * by id; classes with nothing new or deleted omitted), biggest size delta first.
 */
function diff(base, current, options = {}) {
  let args;
  try {
    binding(); // without the addon no HeapSnapshot can exist: say so rather than "not a HeapSnapshot"
    if (options === null || typeof options !== 'object') throw invalidArg('diff(base, current, options): options must be an object');
    args = [handleOf(base, 'diff(base)'), handleOf(current, 'diff(current)')];
    checkOrigins([base, current]);
    args.push(sizesOf(options, 'diff'));
  } catch (err) {
    return Promise.reject(err);
  }
  return runJob((job) => binding().diffSnapshots(args[0], args[1], job, args[2]), options, 'diff').then(JSON.parse);
}

function optCount(o, name) {
  const v = o[name];
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw invalidArg(`findLeaks({ ${name} }) must be a whole number >= 0`);
  return v;
}

/**
 * The three-snapshot method: objects created after `baseline`, present in `target` and still
 * alive in `final`, grouped by class and retainer path, biggest retained size first, each with
 * the chain of references that keeps it alive.
 */
function findLeaks(snapshots, options = {}) {
  let handles;
  let opts;
  try {
    binding(); // as in diff()
    if (snapshots === null || typeof snapshots !== 'object') throw invalidArg('findLeaks({ baseline, target, final }): argument must be an object');
    if (options === null || typeof options !== 'object') throw invalidArg('findLeaks(snapshots, options): options must be an object');
    const { baseline, target } = snapshots;
    const fin = snapshots.final;
    handles = [handleOf(baseline, 'findLeaks({ baseline })'), handleOf(target, 'findLeaks({ target })'), handleOf(fin, 'findLeaks({ final })')];
    checkOrigins([baseline, target, fin]);
    const ignore = options.ignoreClasses === undefined ? [] : options.ignoreClasses;
    if (!Array.isArray(ignore) || ignore.some((c) => typeof c !== 'string')) throw invalidArg('findLeaks({ ignoreClasses }) must be an array of class names');
    const pathKind = options.pathKind === undefined ? 'devtools' : options.pathKind;
    if (pathKind !== 'devtools' && pathKind !== 'shortest') throw invalidArg("findLeaks({ pathKind }) must be 'devtools' or 'shortest'");
    opts = JSON.stringify({
      sizes: sizesOf(options, 'findLeaks'),
      minCount: optCount(options, 'minCount'),
      minRetainedSize: optCount(options, 'minRetainedSize'),
      maxSamples: optCount(options, 'maxSamples'),
      maxPathSteps: optCount(options, 'maxPathSteps'),
      ignoreClasses: ignore,
      pathKind,
    });
  } catch (err) {
    return Promise.reject(err);
  }
  return runJob((job) => binding().findLeaksIn(handles[0], handles[1], handles[2], job, opts), options, 'findLeaks').then(JSON.parse);
}

module.exports = { takeSnapshot, diff, findLeaks, withTempSnapshotFile };
