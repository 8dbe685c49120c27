'use strict';

// Snapshot capture: node-heapdump's writeSnapshot, signal dumps and near-heap-limit dumps.
// This lives in JS because Node-API has no heap-profiler call: only v8.writeHeapSnapshot can
// take a snapshot. What leakguard adds is the safety around it: a private temp file created
// 0600 before V8 writes into it (V8 truncates but keeps the mode, so no window where the
// secrets are world-readable), a completeness check, fsync, then an atomic rename.

const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const { isMainThread } = require('node:worker_threads');
const { codes, LeakguardError, ioError, invalidArg } = require('./errors');
const opts = require('./options');
const { writeAtomic, sweepStale } = require('./atomic-file');
const { oldGenerationLimit, oldGenerationUsed } = require('./heap-stats');
const { checkHeadroom, parseHeadroom, HEAP_ROOM_SHARE } = require('./headroom');

const settings = { directory: null };

/**
 * Sets defaults: `directory` is where unnamed dumps go (default: the current directory at the
 * time of the dump).
 */
function configure(options = {}) {
  opts.options('configure(options)', options);
  if (options.directory !== undefined) {
    // null restores the default (the working directory at the time of each dump).
    const dir = options.directory === null ? null : opts.string(opts.opt('configure', 'directory'), options.directory, { nonEmpty: true });
    settings.directory = dir === null ? null : path.resolve(dir);
  }
  return { ...settings };
}

let lastStamp = 0;

/** node-heapdump's name: heapdump-<sec>.<usec>.heapsnapshot, unique within this process. */
function defaultName() {
  let us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  if (us <= lastStamp) us = lastStamp + 1;
  lastStamp = us;
  return `heapdump-${Math.floor(us / 1e6)}.${us % 1e6}.heapsnapshot`;
}

/** Where an unnamed dump goes: `directory`, else configure()'s, else the working directory. */
function dumpDirectory(directory) {
  return path.resolve(directory || settings.directory || process.cwd());
}

function resolveTarget(filename, directory) {
  if (filename === undefined || filename === null || filename === '') {
    return path.join(dumpDirectory(directory), defaultName());
  }
  return path.resolve(opts.string('writeSnapshot(filename)', filename));
}

/**
 * node-heapdump's `writeSnapshot([filename], [callback])`. Returns the absolute path written.
 * With a callback, errors go to it (and the return value is undefined); without, they throw.
 */
function writeSnapshot(filename, callback) {
  if (typeof filename === 'function' && callback === undefined) {
    callback = filename;
    filename = undefined;
  }
  opts.func('writeSnapshot(filename, callback)', callback);
  let file;
  try {
    file = writeAtomic(resolveTarget(filename));
  } catch (err) {
    if (!callback || err.code === codes.INVALID_ARG) throw err;
    process.nextTick(callback, err);
    return undefined;
  }
  if (callback) process.nextTick(callback, null, file);
  return file;
}

function ensureDir(dir) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError(`cannot create dump directory ${dir}`, err, dir);
  }
}

function reportError(onError, err) {
  if (onError) {
    try {
      onError(err);
      return;
    } catch (cbErr) {
      err = callbackError('onError', cbErr, err.path);
    }
  }
  process.emitWarning(err.message, { type: 'LeakguardWarning', code: err.code });
}

/** A user callback threw: its own error, never confused with a failed dump. */
function callbackError(name, cause, file) {
  return new LeakguardError(codes.CALLBACK, `the ${name} callback threw (the dump itself was written): ${cause?.message ?? cause}`, { cause, path: file });
}

/**
 * The dumps one dumper wrote, oldest first, each with the inode it had: rotation deletes only
 * these, and only while the name still is that file. A file leakguard did not write (another
 * process's, another worker's, a planted "future" name) is never counted or deleted.
 */
function ownedDumps() {
  const files = [];
  const drop = (entry) => {
    try {
      const st = fs.lstatSync(entry.file);
      if (st.isFile() && st.ino === entry.ino && st.dev === entry.dev) fs.unlinkSync(entry.file);
    } catch {
      /* already gone */
    }
  };
  return {
    add(file) {
      try {
        const st = fs.lstatSync(file);
        files.push({ file, ino: st.ino, dev: st.dev });
      } catch {
        /* renamed away already: nothing of ours to rotate */
      }
    },
    /** Deletes the oldest so at most `keep` remain. */
    trim(keep) {
      while (files.length > Math.max(0, keep)) drop(files.shift());
    },
  };
}

/**
 * The rate-limited dumper behind dumpOnSignal and the worker relay: the first request dumps
 * at once, requests inside `minIntervalMs` of the last dump collapse into one trailing dump.
 * Rotation keeps this dumper's newest `maxFiles` dumps; after a failed dump it also makes room
 * (maxFiles - 1), so a full disk is relieved for the next attempt.
 */
function makeDumper({ directory, maxFiles, minIntervalMs, onDump, onError, headroom }) {
  let last = -Infinity;
  let running = false;
  let timer = null;
  let stopped = false;
  const owned = ownedDumps();

  function dumpNow() {
    timer = null;
    if (stopped || running) return;
    running = true;
    last = performance.now();
    let file;
    try {
      const lack = checkHeadroom({ factor: headroom, what: 'heap dump' });
      if (lack) {
        reportError(onError, lack);
        return;
      }
      ensureDir(directory);
      file = writeAtomic(path.join(directory, defaultName()), { exclusive: defaultName });
      owned.add(file);
      owned.trim(maxFiles);
    } catch (err) {
      owned.trim(maxFiles - 1);
      reportError(onError, err instanceof LeakguardError ? err : ioError('heap dump failed', err, directory));
      return;
    } finally {
      running = false;
    }
    if (onDump) {
      try {
        onDump(file);
      } catch (err) {
        reportError(onError, callbackError('onDump', err, file));
      }
    }
  }

  function request() {
    if (stopped || timer) return;
    const wait = last + minIntervalMs - performance.now();
    // setImmediate even when due now: a burst of signals delivered together becomes one dump.
    if (wait <= 0) timer = setImmediate(dumpNow);
    else {
      timer = setTimeout(dumpNow, wait);
      timer.unref(); // a trailing dump must not keep a finished app alive
    }
  }

  function stop() {
    stopped = true;
    if (timer) {
      clearTimeout(timer);
      clearImmediate(timer);
    }
  }
  return { request, stop };
}

function dumpOptions(options, fnName) {
  options = opts.options(`${fnName}(options)`, options);
  const directory = opts.string(opts.opt(fnName, 'directory'), options.directory);
  return {
    directory: dumpDirectory(directory),
    onDump: opts.func(opts.opt(fnName, 'onDump'), options.onDump),
    onError: opts.func(opts.opt(fnName, 'onError'), options.onError),
    headroom: parseHeadroom(opts.opt(fnName, 'headroom'), options.headroom),
  };
}

// SIGKILL and SIGSTOP cannot be caught. The others end a process: a listener for them would
// disable Node's default exit, so an app asked to stop would write a heap dump and carry on.
const FORBIDDEN_SIGNALS = new Set(['SIGKILL', 'SIGSTOP', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);

/**
 * Dumps a snapshot each time `signal` arrives (default SIGUSR2). Adds a listener with
 * process.on, so the app's own listeners keep running; returns a function that removes it.
 */
function dumpOnSignal(options) {
  const base = dumpOptions(options, 'dumpOnSignal');
  const o = options || {};
  const signal = o.signal === undefined ? 'SIGUSR2' : o.signal;
  if (typeof signal !== 'string' || !(signal in require('node:os').constants.signals) || FORBIDDEN_SIGNALS.has(signal)) {
    const why =
      FORBIDDEN_SIGNALS.has(signal) && signal !== 'SIGKILL' && signal !== 'SIGSTOP' ? ' (it asks the process to stop; a listener would keep it running)' : '';
    throw invalidArg(`dumpOnSignal({ signal }) must be a signal that can be listened for and does not stop the process, got ${opts.describe(signal)}${why}`);
  }
  const maxFiles = opts.wholeNumber(opts.opt('dumpOnSignal', 'maxFiles'), o.maxFiles, { min: 1, allowInfinity: true, dflt: Infinity });
  // Finite: Infinity would mean "never dump again" to a timer, and 2^31 ms is already 24 days.
  const minIntervalMs = opts.number(opts.opt('dumpOnSignal', 'minIntervalMs'), o.minIntervalMs, { min: 0, max: 2 ** 31 - 1, finite: true, dflt: 1000 });
  ensureDir(base.directory);
  sweepStale(base.directory);
  const dumper = makeDumper({ ...base, maxFiles, minIntervalMs });
  const listener = () => dumper.request();
  let unsubscribe;
  if (isMainThread) {
    process.on(signal, listener);
    unsubscribe = () => process.removeListener(signal, listener);
  } else {
    unsubscribe = require('./relay').subscribe(signal, listener);
  }
  let installed = true;
  return function uninstall() {
    if (!installed) return;
    installed = false;
    unsubscribe();
    dumper.stop();
  };
}

/**
 * Writes a snapshot when the heap nears its limit (what --heapsnapshot-near-heap-limit and
 * node-oom-heapdump do), into `directory`, at most `maxCount` times. The check runs after
 * every major GC reported to a PerformanceObserver, comparing the old generation's use with
 * `threshold` times its limit. With `native: true` it also arms V8's in-allocation hook
 * (v8.setHeapSnapshotNearHeapLimit) as a backstop for leaks that never yield to the event
 * loop; Node writes those into the working directory under its own names.
 */
function dumpNearHeapLimit(options) {
  const base = dumpOptions(options, 'dumpNearHeapLimit');
  const o = options || {};
  const maxCount = opts.wholeNumber(opts.opt('dumpNearHeapLimit', 'maxCount'), o.maxCount, { min: 1, max: 2 ** 31 - 1, dflt: 1 });
  const threshold = opts.number(opts.opt('dumpNearHeapLimit', 'threshold'), o.threshold, { min: 0.05, max: 0.99, dflt: 0.8 });
  const native = opts.bool(opts.opt('dumpNearHeapLimit', 'native'), o.native, { dflt: false });
  if (base.headroom && threshold > 1 - HEAP_ROOM_SHARE) {
    // The headroom check wants that share of the old generation free to take a snapshot: above
    // this threshold every dump would be skipped.
    throw invalidArg(
      `dumpNearHeapLimit({ threshold }) above ${1 - HEAP_ROOM_SHARE} leaves V8 too little heap to write the snapshot, so the headroom check would skip every dump; lower it or set headroom: false, got ${threshold}`,
    );
  }
  ensureDir(base.directory);
  sweepStale(base.directory);
  if (native) {
    if (typeof v8.setHeapSnapshotNearHeapLimit !== 'function') {
      throw invalidArg('dumpNearHeapLimit({ native: true }) needs Node >= 18.10');
    }
    v8.setHeapSnapshotNearHeapLimit(maxCount);
  }
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const limit = oldGenerationLimit();
  let count = 0;
  let active = true;
  // A dump skipped for want of memory does not use up maxCount (the next GC over the threshold
  // tries again), and is reported once until the heap drops below the threshold again.
  let skipReported = false;
  const check = () => {
    if (!active || count >= maxCount) return;
    if (oldGenerationUsed() < threshold * limit) {
      skipReported = false;
      return;
    }
    let file;
    try {
      const lack = checkHeadroom({ factor: base.headroom, what: 'near-heap-limit dump', oldGen: { used: oldGenerationUsed(), limit } });
      if (lack) {
        if (!skipReported) reportError(base.onError, lack);
        skipReported = true;
        return;
      }
      count++;
      file = writeAtomic(path.join(base.directory, defaultName()), { exclusive: defaultName });
    } catch (err) {
      reportError(base.onError, err);
    }
    if (count >= maxCount) stop();
    if (file && base.onDump) {
      try {
        base.onDump(file);
      } catch (err) {
        reportError(base.onError, callbackError('onDump', err, file));
      }
    }
  };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail ? e.detail.kind : e.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) return check();
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  function stop() {
    if (!active) return;
    active = false;
    obs.disconnect();
  }
  return stop;
}

module.exports = {
  configure,
  writeSnapshot,
  dumpOnSignal,
  dumpNearHeapLimit,
  // for the sampler and tests: not part of the package's API
  makeDumper,
  defaultName,
  dumpDirectory,
};
