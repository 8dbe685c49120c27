'use strict';

// Snapshots held in Rust memory. Heavy work runs on the libuv thread pool; this file only
// validates arguments, wires AbortSignal and progress, and maps errors to stable codes.

const { binding } = require('./native');
const { fromNative, invalidArg } = require('./errors');
const opts = require('./options');

// Symbol.for, not Symbol(): Jest may load this module more than once in one process, and
// snapshots from one copy must still be recognised by another.
const kNative = Symbol.for('leakguard.native');
const kOrigin = Symbol.for('leakguard.origin');

/** A parsed heap snapshot kept in Rust memory. Obtain one from loadSnapshot(). */
class HeapSnapshot {
  constructor(handle, origin = null) {
    if (!(handle instanceof binding().NativeSnapshot)) {
      throw invalidArg('HeapSnapshot cannot be constructed directly; use loadSnapshot()');
    }
    this[kNative] = handle;
    this[kOrigin] = origin;
  }
  /**
   * For snapshots taken by takeSnapshot(): "pid:threadId" of the heap they show (ids are
   * only comparable within one heap). null for snapshots loaded from files.
   */
  get origin() {
    return this[kOrigin];
  }
  /** Number of nodes (heap objects, including synthetic roots). */
  get nodeCount() {
    return this[kNative].nodeCount;
  }
  /** Number of edges (references). */
  get edgeCount() {
    return this[kNative].edgeCount;
  }
  /** Sum of all nodes' self sizes, in bytes. */
  get totalSize() {
    return this[kNative].totalSize;
  }
  /** Approximate bytes of native memory held by this snapshot. */
  get memoryBytes() {
    return this[kNative].memoryBytes;
  }
  /** Whether the snapshot has V8's closure locations table (docs/locations.md). */
  get hasLocations() {
    return this[kNative].hasLocations;
  }
  /** Whether the snapshot was written with allocation tracking on (allocation stacks). */
  get hasAllocationTrace() {
    return this[kNative].hasAllocationTrace;
  }
  /**
   * Where the object with V8 id `id` comes from: { id, location, allocationStack } (location
   * `url:line:column` of a closure, a context's function or an object's constructor; the
   * stack, allocating function first, only in snapshots written with allocation tracking).
   * null when no object has that id. Synchronous (one pass over the ids).
   */
  sourceInfo(id) {
    if (!Number.isInteger(id) || id < 0 || id > U32_MAX) {
      throw invalidArg(`sourceInfo(id) must be a V8 object id (a whole number), got ${opts.describe(id)}`);
    }
    let text;
    try {
      text = this[kNative].sourceInfo(id);
    } catch (err) {
      throw fromNative(err);
    }
    return text == null ? null : JSON.parse(text);
  }
  /** Whether dispose() was called. */
  get disposed() {
    return this[kNative].disposed;
  }
  /** Frees the Rust memory now; further analysis calls reject with ERR_LEAKGUARD_INVALID_ARG. */
  dispose() {
    this[kNative].dispose();
  }

  /**
   * Per-class rows { className, count, shallowSize, retainedSize, distance }, biggest
   * retained size first. The first analysis call computes dominators and retained sizes on a
   * worker thread and caches them; later calls are cheap.
   */
  summary(options = {}) {
    return this.#query('summary', options, (o) => [sizesOf(o, 'summary'), count(o.top, opts.opt('summary', 'top'), U32_MAX)]);
  }

  /** Objects of one class: { id, className, name, shallowSize, retainedSize, distance }. */
  objects(className, options = {}) {
    return this.#query('objects', options, (o) => {
      opts.string('objects(className)', className);
      const sortBy = opts.string(opts.opt('objects', 'sortBy'), o.sortBy, { dflt: 'retained' });
      return [className, sizesOf(o, 'objects'), sortBy, count(o.limit, opts.opt('objects', 'limit'), 100)];
    });
  }

  /** The n objects with the biggest retained size (same rows as objects()). */
  largestObjects(n = 20, options = {}) {
    return this.#query('largestObjects', options, (o) => [count(n, 'largestObjects(n)', 20), sizesOf(o, 'largestObjects')]);
  }

  /**
   * Why is this object alive: { steps: [{ id, className, name, edge: { type, name } | null }],
   * text, kind, complete } from a user root (usually the global object) down to the object.
   * kind 'devtools' (default) is the chain DevTools' Retainers view auto-expands (each step
   * takes the retainer closest to a root); 'shortest' is a true shortest path from a root.
   * Resolves null for an object nothing retains.
   */
  retainerPath(id, options = {}) {
    return this.#query('retainerPath', options, (o) => {
      if (!Number.isInteger(id) || id < 0 || id > U32_MAX) {
        throw invalidArg(`retainerPath(id) must be a V8 object id (a whole number), got ${opts.describe(id)}`);
      }
      const kind = opts.oneOf(opts.opt('retainerPath', 'kind'), o.kind, ['devtools', 'shortest'], { dflt: 'devtools' });
      return [id, kind, count(o.maxSteps, opts.opt('retainerPath', 'maxSteps'), 20)];
    });
  }

  #query(method, options, args) {
    let list;
    try {
      opts.options(`${method}(options)`, options);
      list = args(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const handle = this[kNative];
    return runJob((job) => handle[method](job, ...list), options, method).then((text) => JSON.parse(text));
  }
}

const U32_MAX = 4294967295;

/** The `sizes` option of every analysis call. */
function sizesOf(o, fn) {
  return opts.oneOf(opts.opt(fn, 'sizes'), o.sizes, ['devtools', 'raw'], { dflt: 'devtools' });
}

/** A row or step count for the engine (u32): Infinity and anything larger mean "all". */
function count(v, label, dflt) {
  const n = opts.wholeNumber(label, v, { allowInfinity: true, dflt });
  return Math.min(n, U32_MAX);
}
if (typeof Symbol.dispose === 'symbol') {
  HeapSnapshot.prototype[Symbol.dispose] = HeapSnapshot.prototype.dispose;
}

/**
 * Runs `start(job)` (which returns the native promise) with cancellation and progress.
 * An abort rejects at once; the native work stops at its next check and its result, if any
 * arrives, is dropped.
 */
function runJob(start, { signal, onProgress } = {}, fnName, onLateResult) {
  try {
    opts.abortSignal(opts.opt(fnName, 'signal'), signal);
    opts.func(opts.opt(fnName, 'onProgress'), onProgress);
    opts.throwIfAborted(signal);
  } catch (err) {
    return Promise.reject(err);
  }
  let job;
  try {
    job = new (binding().Job)();
  } catch (err) {
    // No addon (ERR_LEAKGUARD_NO_BINARY): these calls return promises, so reject, never throw.
    return Promise.reject(fromNative(err));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    let lastProgress = -1;
    const poll = () => {
      const p = job.progress;
      if (p > lastProgress) {
        lastProgress = p;
        try {
          onProgress(p);
        } catch {
          /* a throwing progress callback must not break the load */
        }
      }
    };
    const timer = onProgress ? setInterval(poll, 50) : null;
    let detach = () => {};
    const finish = () => {
      settled = true;
      if (timer) clearInterval(timer);
      detach(); // never throws, whatever the signal-like lacks
    };
    let pending;
    try {
      detach = opts.onAbort(signal, (reason) => {
        job.cancel();
        if (!settled) {
          finish();
          reject(opts.aborted(reason));
        }
      });
      pending = start(job);
    } catch (err) {
      finish();
      return reject(fromNative(err));
    }
    pending.then(
      (value) => {
        if (settled) return onLateResult?.(value);
        finish();
        if (onProgress && lastProgress < 1) {
          lastProgress = 1;
          try {
            onProgress(1);
          } catch {
            /* ignore */
          }
        }
        resolve(value);
      },
      (err) => {
        if (settled) return;
        finish();
        reject(fromNative(err));
      },
    );
  });
}

function checkPath(p, fnName) {
  opts.string(`${fnName}(path)`, p, { nonEmpty: true });
}

/** Parses a .heapsnapshot file on a worker thread into a HeapSnapshot. */
function loadSnapshot(path, options = {}) {
  try {
    checkPath(path, 'loadSnapshot');
    opts.options('loadSnapshot(path, options)', options);
  } catch (err) {
    return Promise.reject(err);
  }
  return runJob(
    (job) => binding().loadSnapshot(require('node:path').resolve(path), job),
    options,
    'loadSnapshot',
    (late) => late.dispose(),
  ).then((handle) => new HeapSnapshot(handle));
}

/** Same as loadSnapshot, but blocks the calling thread (for scripts and the CLI). */
function loadSnapshotSync(path) {
  checkPath(path, 'loadSnapshotSync');
  try {
    return new HeapSnapshot(binding().loadSnapshotSync(require('node:path').resolve(path)));
  } catch (err) {
    throw fromNative(err);
  }
}

/** The native handle of a HeapSnapshot, or an argument error naming `what`. */
function handleOf(snap, what) {
  const h = snap && typeof snap === 'object' ? snap[kNative] : undefined;
  if (!h) throw invalidArg(`${what} must be a HeapSnapshot (from takeSnapshot or loadSnapshot)`);
  return h;
}

module.exports = { HeapSnapshot, loadSnapshot, loadSnapshotSync, runJob, handleOf, kNative, kOrigin };
