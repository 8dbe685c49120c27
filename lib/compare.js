'use strict';

// In-memory snapshots and comparisons: takeSnapshot, diff, findLeaks. The work runs in Rust
// on the thread pool (src/compare.rs -> crates/leakguard-core/src/compare).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { threadId } = require('node:worker_threads');
const { binding } = require('./native');
const { writeAtomic } = require('./atomic-file');
const { loadSnapshot, runJob, handleOf, kOrigin } = require('./snapshot');
const { LeakguardError, codes, invalidArg } = require('./errors');
const opts = require('./options');

/** Which heap a takeSnapshot() result shows: ids are only comparable within one isolate. */
const ORIGIN = `${process.pid}:${threadId}`;

/**
 * Captures this thread's heap and loads it into Rust memory. V8 blocks the thread while it
 * captures (nothing can change that); the parse runs off the event loop. The capture goes
 * through a private temp file (mode 0600 in a 0700 directory) that is deleted once parsed:
 * measured here, that peaks lower than streaming v8.getHeapSnapshot() into memory.
 */
async function takeSnapshot(options = {}) {
  opts.options('takeSnapshot(options)', options);
  opts.abortSignal(opts.opt('takeSnapshot', 'signal'), options.signal);
  const tmpdir = opts.string(opts.opt('takeSnapshot', 'tmpdir'), options.tmpdir, { nonEmpty: true });
  binding(); // without the addon, fail before V8 spends seconds writing a snapshot nobody can parse
  opts.throwIfAborted(options.signal);
  return withTempSnapshotFile(tmpdir, async (file) => {
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
  return opts.oneOf(opts.opt(fn, 'sizes'), o.sizes, ['devtools', 'raw'], { dflt: 'devtools' });
}

/**
 * Per-class changes from `base` to `current` (DevTools Comparison semantics: objects matched
 * by id; classes with nothing new or deleted omitted), biggest size delta first.
 */
function diff(base, current, options = {}) {
  let args;
  try {
    binding(); // without the addon no HeapSnapshot can exist: say so rather than "not a HeapSnapshot"
    opts.options('diff(base, current, options)', options);
    args = [handleOf(base, 'diff(base)'), handleOf(current, 'diff(current)')];
    checkOrigins([base, current]);
    args.push(sizesOf(options, 'diff'));
  } catch (err) {
    return Promise.reject(err);
  }
  return runJob((job) => binding().diffSnapshots(args[0], args[1], job, args[2]), options, 'diff').then(JSON.parse);
}

function optCount(o, name) {
  return opts.wholeNumber(opts.opt('findLeaks', name), o[name]);
}

/** `classes`: regroup the suspects by class, as the leak assertions report them (see docs/leaks.md). */
function classOptions(c) {
  if (c === undefined) return undefined;
  const at = (name) => opts.opt('findLeaks', `classes.${name}`);
  opts.options(opts.opt('findLeaks', 'classes'), c);
  return {
    calls: opts.wholeNumber(at('calls'), c.calls === undefined ? 'missing' : c.calls, { min: 1 }),
    threshold: opts.number(at('threshold'), c.threshold, { min: 0, finite: true, dflt: 0 }),
    minCount: opts.wholeNumber(at('minCount'), c.minCount),
    ignoreClasses: opts.stringArray(at('ignoreClasses'), c.ignoreClasses),
  };
}

/** findLeaks' options (validated) as the engine takes them, a JSON text. */
function leakEngineOptions(options) {
  const ignore = opts.stringArray(opts.opt('findLeaks', 'ignoreClasses'), options.ignoreClasses);
  const pathKind = opts.oneOf(opts.opt('findLeaks', 'pathKind'), options.pathKind, ['devtools', 'shortest'], { dflt: 'devtools' });
  return JSON.stringify({
    sizes: sizesOf(options, 'findLeaks'),
    minCount: optCount(options, 'minCount'),
    minRetainedSize: optCount(options, 'minRetainedSize'),
    maxSamples: optCount(options, 'maxSamples'),
    maxPathSteps: optCount(options, 'maxPathSteps'),
    ignoreClasses: ignore,
    pathKind,
    classes: classOptions(options.classes),
  });
}

/**
 * `collections`: the growing collections (docs/leaks.md#growing-collections); `true` for the
 * defaults, `false` for none, or an object of thresholds. Returns the engine's JSON (`null`
 * for none).
 */
function collectionOptions(c, dflt) {
  const at = (name) => opts.opt('findLeaks', `collections.${name}`);
  if (c === undefined) c = dflt;
  if (c === false) return 'null';
  if (c === true) return '{}';
  opts.options(`${opts.opt('findLeaks', 'collections')} (or true/false)`, c);
  return JSON.stringify({
    minGrowth: opts.wholeNumber(at('minGrowth'), c.minGrowth),
    minRetainedGrowth: opts.wholeNumber(at('minRetainedGrowth'), c.minRetainedGrowth),
    minProperties: opts.wholeNumber(at('minProperties'), c.minProperties),
    maxCollections: opts.wholeNumber(at('maxCollections'), c.maxCollections),
    maxSamples: opts.wholeNumber(at('maxSamples'), c.maxSamples),
  });
}

/**
 * findLeaks over an array of two or more snapshots of one heap, oldest first: the suspects of
 * the first, second-to-last and last (the three-snapshot method), and the collections that grew
 * in every step (on by default here).
 */
function findLeaksSeries(snapshots, options) {
  let handles;
  let engineOptions;
  let collections;
  let ownHeap;
  try {
    if (snapshots.length < 2) {
      throw invalidArg(`findLeaks(snapshots) needs at least two snapshots, got ${snapshots.length}`);
    }
    handles = snapshots.map((s, i) => handleOf(s, `findLeaks(snapshots[${i}])`));
    checkOrigins(snapshots);
    // All taken by this thread (takeSnapshot, the sampler's diagnosis): the engine's same-heap
    // guard is skipped, because in a busy process V8 reuses a dead object's id for a new object
    // at its address, which the guard reads as another heap.
    ownHeap = snapshots.every((s) => s[kOrigin] === ORIGIN);
    engineOptions = leakEngineOptions(options);
    collections = collectionOptions(options.collections, true);
  } catch (err) {
    return Promise.reject(err);
  }
  return runJob((job) => binding().findLeaksSeries(handles, job, engineOptions, collections, ownHeap), options, 'findLeaks').then(JSON.parse);
}

/**
 * The three-snapshot method: objects created after `baseline`, present in `target` and still
 * alive in `final`, grouped by class and retainer path, biggest retained size first, each with
 * the chain of references that keeps it alive. `snapshots` may also be an array of two or more
 * snapshots, oldest first (see findLeaksSeries); `collections: true` adds the growing
 * collections of the three.
 */
function findLeaks(snapshots, options = {}) {
  let handles;
  let engineOptions;
  try {
    binding(); // as in diff()
    if (snapshots === undefined) snapshots = null; // required, unlike an options object
    if (Array.isArray(snapshots)) {
      opts.options('findLeaks(snapshots, options)', options);
      return findLeaksSeries(snapshots, options);
    }
    opts.options('findLeaks({ baseline, target, final })', snapshots);
    opts.options('findLeaks(snapshots, options)', options);
    const { baseline, target } = snapshots;
    const fin = snapshots.final;
    handles = [handleOf(baseline, 'findLeaks({ baseline })'), handleOf(target, 'findLeaks({ target })'), handleOf(fin, 'findLeaks({ final })')];
    checkOrigins([baseline, target, fin]);
    engineOptions = leakEngineOptions(options);
    if (options.collections !== undefined && collectionOptions(options.collections, false) !== 'null') {
      return findLeaksSeries([baseline, target, fin], options);
    }
  } catch (err) {
    return Promise.reject(err);
  }
  return runJob((job) => binding().findLeaksIn(handles[0], handles[1], handles[2], job, engineOptions), options, 'findLeaks').then(JSON.parse);
}

/**
 * findLeaks with V8 heap object id boundaries standing in for the baseline and the target (the
 * leak assertions, lib/boundaries.js): the objects of `fin` with `after < id <= upto`. Internal:
 * the ids are only meaningful to the process that took `fin`, with heap object tracking on.
 */
function findLeaksInWindow(window, fin, options) {
  let handle;
  let engineOptions;
  try {
    handle = handleOf(fin, 'findLeaks({ final })');
    engineOptions = leakEngineOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  const { after, upto } = window;
  return runJob((job) => binding().findLeaksInWindow(after, upto, handle, job, engineOptions), options, 'findLeaks').then(JSON.parse);
}

module.exports = { takeSnapshot, diff, findLeaks, findLeaksInWindow, withTempSnapshotFile, ORIGIN };
