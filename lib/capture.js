'use strict';

// Snapshot capture: node-heapdump's writeSnapshot, signal dumps and near-heap-limit dumps.
// This lives in JS because Node-API has no heap-profiler call: only v8.writeHeapSnapshot can
// take a snapshot. What leakguard adds is the safety around it: a private temp file created
// 0600 before V8 writes into it (V8 truncates but keeps the mode, so no window where the
// secrets are world-readable), a completeness check, fsync, then an atomic rename.

const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const { isMainThread, threadId } = require('worker_threads');
const { codes, LeakguardError, ioError, invalidArg } = require('./errors');
const { TEMP_NAME, writeAtomic, unlinkQuiet } = require('./atomic-file');

const settings = { directory: null };

/**
 * Sets defaults: `directory` is where unnamed dumps go (default: the current directory at the
 * time of the dump).
 */
function configure(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('configure(options): options must be an object');
  if (options.directory !== undefined) {
    if (options.directory !== null && typeof options.directory !== 'string') {
      throw invalidArg('configure({ directory }): directory must be a string or null');
    }
    settings.directory = options.directory === null ? null : path.resolve(options.directory);
  }
  return { ...settings };
}

const DUMP_NAME = /^heapdump-(\d+)\.(\d+)\.heapsnapshot$/;
let lastStamp = 0;

/** node-heapdump's name: heapdump-<sec>.<usec>.heapsnapshot, unique within this process. */
function defaultName() {
  let us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  if (us <= lastStamp) us = lastStamp + 1;
  lastStamp = us;
  return `heapdump-${Math.floor(us / 1e6)}.${us % 1e6}.heapsnapshot`;
}

function resolveTarget(filename, directory) {
  if (filename === undefined || filename === null || filename === '') {
    return path.join(directory || settings.directory || process.cwd(), defaultName());
  }
  if (typeof filename !== 'string') throw invalidArg('writeSnapshot(filename): filename must be a string');
  if (filename.includes('\0')) throw invalidArg('writeSnapshot(filename): filename contains a NUL byte');
  return path.resolve(filename);
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
  if (callback !== undefined && typeof callback !== 'function') {
    throw invalidArg('writeSnapshot(filename, callback): callback must be a function');
  }
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

/** Our dumps in `dir`, oldest first (by the timestamp in the name, not mtime). */
function listDumps(dir) {
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: DUMP_NAME.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]) || Number(a.m[2]) - Number(b.m[2]))
    .map((x) => path.join(dir, x.n));
}

/** Deletes the oldest dumps in `dir` so at most `maxFiles` remain. */
function rotate(dir, maxFiles) {
  if (!Number.isFinite(maxFiles)) return;
  const dumps = listDumps(dir);
  for (const f of dumps.slice(0, Math.max(0, dumps.length - maxFiles))) unlinkQuiet(f);
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Removes temp files left by processes that died mid-dump (a crash, SIGKILL). */
function sweepStaleTemps(dir) {
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) unlinkQuiet(path.join(dir, n));
  }
}

function ensureDir(dir) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError(`cannot create dump directory ${dir}`, err, dir);
  }
}

function checkNumber(name, v, min, dflt) {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min) {
    throw invalidArg(`${name} must be a number >= ${min}`);
  }
  return v;
}

function checkFn(name, f) {
  if (f !== undefined && typeof f !== 'function') throw invalidArg(`${name} must be a function`);
  return f;
}

function reportError(onError, err) {
  if (onError) onError(err);
  else process.emitWarning(err.message, { type: 'LeakguardWarning', code: err.code });
}

/**
 * The rate-limited dumper behind dumpOnSignal and the worker relay: the first request dumps
 * at once, requests inside `minIntervalMs` of the last dump collapse into one trailing dump.
 */
function makeDumper({ directory, maxFiles, minIntervalMs, onDump, onError }) {
  let last = -Infinity;
  let pending = false;
  let running = false;
  let timer = null;
  let stopped = false;

  function dumpNow() {
    timer = null;
    if (stopped || running) return;
    pending = false;
    running = true;
    last = performance.now();
    try {
      ensureDir(directory);
      const file = writeAtomic(path.join(directory, defaultName()));
      rotate(directory, maxFiles);
      if (onDump) onDump(file);
    } catch (err) {
      reportError(onError, err instanceof LeakguardError ? err : ioError('heap dump failed', err, directory));
    } finally {
      running = false;
    }
  }

  function request() {
    if (stopped) return;
    if (timer) {
      pending = true;
      return;
    }
    const wait = last + minIntervalMs - performance.now();
    // setImmediate even when due now: a burst of signals delivered together becomes one dump.
    if (wait <= 0) timer = setImmediate(dumpNow);
    else {
      pending = true;
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
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw invalidArg(`${fnName}(options): options must be an object`);
  if (options.directory !== undefined && typeof options.directory !== 'string') {
    throw invalidArg(`${fnName}({ directory }): directory must be a string`);
  }
  return {
    directory: path.resolve(options.directory || settings.directory || process.cwd()),
    onDump: checkFn('onDump', options.onDump),
    onError: checkFn('onError', options.onError),
  };
}

const FORBIDDEN_SIGNALS = new Set(['SIGKILL', 'SIGSTOP']);

/**
 * Dumps a snapshot each time `signal` arrives (default SIGUSR2). Adds a listener with
 * process.on, so the app's own listeners keep running; returns a function that removes it.
 */
function dumpOnSignal(options) {
  const base = dumpOptions(options, 'dumpOnSignal');
  const o = options || {};
  const signal = o.signal === undefined ? 'SIGUSR2' : o.signal;
  if (typeof signal !== 'string' || !(signal in require('os').constants.signals) || FORBIDDEN_SIGNALS.has(signal)) {
    throw invalidArg(`dumpOnSignal({ signal }): ${String(signal)} is not a signal that can be listened for`);
  }
  const maxFiles = checkNumber('dumpOnSignal({ maxFiles })', o.maxFiles, 1, Infinity);
  const minIntervalMs = checkNumber('dumpOnSignal({ minIntervalMs })', o.minIntervalMs, 0, 1000);
  ensureDir(base.directory);
  sweepStaleTemps(base.directory);
  const dumper = makeDumper({ ...base, maxFiles, minIntervalMs });
  const listener = () => dumper.request();
  const unsubscribe = isMainThread
    ? (process.on(signal, listener), () => process.removeListener(signal, listener))
    : require('./relay').subscribe(signal, listener);
  let installed = true;
  return function uninstall() {
    if (!installed) return;
    installed = false;
    unsubscribe();
    dumper.stop();
  };
}

const MiB = 1024 * 1024;

function flagValue(names) {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)];
  let found;
  for (const a of args) {
    const m = /^--([a-z_-]+)=(\d+)$/.exec(a);
    if (m && names.includes(m[1].replace(/_/g, '-'))) found = Number(m[2]);
  }
  return found;
}

/**
 * The old generation's limit: the heap dies when the old generation fills, while
 * heap_size_limit also counts the young generation's reserve (3 semi-spaces, 48 MiB on 64-bit
 * Node by default), which would make a small heap look half empty when it is about to die.
 */
function oldGenerationLimit() {
  const { resourceLimits } = require('worker_threads');
  if (!isMainThread && resourceLimits && resourceLimits.maxOldGenerationSizeMb > 0) {
    return resourceLimits.maxOldGenerationSizeMb * MiB;
  }
  const explicit = flagValue(['max-old-space-size']);
  if (explicit) return explicit * MiB;
  const semi = (flagValue(['max-semi-space-size']) || 16) * MiB;
  const total = v8.getHeapStatistics().heap_size_limit;
  return Math.max(total / 2, total - 3 * semi);
}

/** Bytes used outside the young generation (whose garbage a scavenge frees anyway). */
function oldGenerationUsed() {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') used += s.space_used_size;
  }
  return used;
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
  const maxCount = checkNumber('dumpNearHeapLimit({ maxCount })', o.maxCount, 1, 1);
  const threshold = checkNumber('dumpNearHeapLimit({ threshold })', o.threshold, 0.05, 0.8);
  if (threshold >= 1) throw invalidArg('dumpNearHeapLimit({ threshold }) must be below 1');
  ensureDir(base.directory);
  sweepStaleTemps(base.directory);
  if (o.native) {
    if (typeof v8.setHeapSnapshotNearHeapLimit !== 'function') {
      throw new LeakguardError(codes.INVALID_ARG, 'dumpNearHeapLimit({ native: true }) needs Node >= 18.10');
    }
    v8.setHeapSnapshotNearHeapLimit(maxCount);
  }
  const { PerformanceObserver, constants } = require('perf_hooks');
  const limit = oldGenerationLimit();
  let count = 0;
  let active = true;
  const check = () => {
    if (!active || count >= maxCount || oldGenerationUsed() < threshold * limit) return;
    count++;
    try {
      const file = writeAtomic(path.join(base.directory, defaultName()));
      if (base.onDump) base.onDump(file);
    } catch (err) {
      reportError(base.onError, err);
    }
    if (count >= maxCount) stop();
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
  // for the relay, the sampler and tests: not part of the package's API
  makeDumper,
  listDumps,
  rotate,
  defaultName,
};
