'use strict';

// Memory sampling and trend-based leak alerts. The ring buffers, the RSS thread and the trend
// maths live in Rust (src/sampler.rs, crates/leakguard-core/src/sampling); this file reads
// what only JS can read (V8's heap figures, GC events) and turns verdicts into events.

const EventEmitter = require('events');
const path = require('path');
const v8 = require('v8');
const { PerformanceObserver, constants } = require('perf_hooks');
const { binding } = require('./native');
const { fromNative, invalidArg, ioError, LeakguardError } = require('./errors');

/**
 * One reading: process.memoryUsage() plus the V8 heap limit and the number of detached
 * contexts (a classic leak: iframes/vm contexts kept alive). Cheap (a few µs).
 */
function memoryUsage() {
  const m = process.memoryUsage();
  const h = v8.getHeapStatistics();
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    heapSizeLimit: h.heap_size_limit,
    numberOfDetachedContexts: h.number_of_detached_contexts,
  };
}

/**
 * The heap outside the young generation. Read in the GC observer's callback, which runs a
 * little after the GC: by then new objects fill the young generation again, but almost none
 * reached the old one, so this is close to the heap right after the collection.
 */
function heapOutsideYoungGeneration() {
  let used = 0;
  let all = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    all += s.space_used_size;
    if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') used += s.space_used_size;
  }
  return { baseline: used, heapUsed: all };
}

function num(name, v, min, dflt, max = Infinity) {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    throw invalidArg(`startSampling({ ${name} }) must be a number from ${min} to ${max}`);
  }
  return v;
}

const SENSITIVITIES = new Set(['low', 'normal', 'high']);

function parseOptions(options) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw invalidArg('startSampling(options): options must be an object');
  const o = options;
  const sensitivity = o.sensitivity === undefined ? 'normal' : o.sensitivity;
  if (!SENSITIVITIES.has(sensitivity)) throw invalidArg("startSampling({ sensitivity }) must be 'low', 'normal' or 'high'");
  if (o.onLeak !== undefined && o.onLeak !== 'snapshot' && typeof o.onLeak !== 'function') {
    throw invalidArg("startSampling({ onLeak }) must be 'snapshot' or a function");
  }
  if (o.directory !== undefined && typeof o.directory !== 'string') throw invalidArg('startSampling({ directory }) must be a string');
  const trend = {
    sensitivity,
    window: num('window', o.window, 3, undefined, 100000),
    windowMs: num('windowMs', o.windowMs, 1, undefined),
    minPoints: num('minPoints', o.minPoints, 3, undefined),
    minSlopeBytesPerMinute: num('minSlopeBytesPerMinute', o.minSlopeBytesPerMinute, 0, undefined),
    minConfidence: num('minConfidence', o.minConfidence, 0, undefined, 1),
    minGrowthBytes: num('minGrowthBytes', o.minGrowthBytes, 0, undefined),
    minGrowthRatio: num('minGrowthRatio', o.minGrowthRatio, 0, undefined),
  };
  return {
    intervalMs: Math.round(num('intervalMs', o.intervalMs, 10, 1000, 2 ** 31 - 1)),
    maxSamples: Math.floor(num('maxSamples', o.maxSamples, 16, 3600, 10_000_000)),
    trend,
    onLeak: o.onLeak,
    directory: o.directory,
    maxSnapshots: num('maxSnapshots', o.maxSnapshots, 0, 1),
  };
}

/**
 * A running sampler: RSS every `intervalMs` from a Rust thread, the JS heap figures from an
 * unref'd timer, and the heap after each major GC, whose trend decides `'leak'`.
 */
class MemorySampler extends EventEmitter {
  constructor(options) {
    super();
    const o = parseOptions(options);
    this.options = o;
    try {
      this._native = new (binding().NativeSampler)(o.intervalMs, o.maxSamples, JSON.stringify(o.trend));
    } catch (err) {
      throw fromNative(err);
    }
    this._snapshots = 0;
    this._stopped = false;
    this._timer = setInterval(() => this._tick(), o.intervalMs);
    this._timer.unref(); // sampling never keeps the process alive
    this._observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = e.detail ? e.detail.kind : e.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this._onMajorGc(e);
      }
    });
    // A GC observer holds no libuv handle: it does not keep the process alive either.
    this._observer.observe({ entryTypes: ['gc'] });
  }

  _tick() {
    if (this._stopped) return;
    const m = memoryUsage();
    const time = Date.now();
    this._native.pushHeap(time, m.rss, m.heapTotal, m.heapUsed, m.external, m.arrayBuffers);
    if (this.listenerCount('sample')) this.emit('sample', { time, ...m });
  }

  _onMajorGc(entry) {
    if (this._stopped) return;
    const { baseline, heapUsed } = heapOutsideYoungGeneration();
    const time = performance.timeOrigin + entry.startTime + entry.duration;
    const { trend, alert } = JSON.parse(this._native.pushGc(time, baseline, heapUsed));
    this.emit('gc', { time, baseline, heapUsed, durationMs: entry.duration });
    this.emit('stats', trend);
    if (alert) this._onLeak(trend);
  }

  _onLeak(trend) {
    this.emit('leak', trend);
    const o = this.options;
    if (typeof o.onLeak === 'function') o.onLeak(trend);
    else if (o.onLeak === 'snapshot' && this._snapshots < o.maxSnapshots) {
      this._snapshots++;
      // Written after 'leak' has been delivered: the dump blocks for a while.
      setImmediate(() => this._snapshot(trend));
    }
  }

  _snapshot(trend) {
    if (this._stopped) return;
    const { writeAtomic } = require('./atomic-file');
    const { defaultName } = require('./capture');
    const dir = path.resolve(this.options.directory || process.cwd());
    let file;
    try {
      require('fs').mkdirSync(dir, { recursive: true, mode: 0o700 });
      file = writeAtomic(path.join(dir, defaultName()));
    } catch (err) {
      const e = err instanceof LeakguardError ? err : ioError('leak snapshot failed', err, dir);
      if (this.listenerCount('error')) this.emit('error', e);
      else process.emitWarning(e.message, { type: 'LeakguardWarning', code: e.code });
      return;
    }
    this.emit('snapshot', file, trend);
  }

  /** Every sample held, oldest first: `{ rss, heap, gc }`. */
  samples() {
    return JSON.parse(this._native.samples());
  }

  /** The current trend of `series` (`'baseline'`: post-GC heap, what alerts use). */
  trend(series = 'baseline') {
    if (series !== 'baseline' && series !== 'rss' && series !== 'heapUsed') {
      throw invalidArg("trend(series): series must be 'baseline', 'rss' or 'heapUsed'");
    }
    try {
      return JSON.parse(this._native.trend(series));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * What `JSON.stringify(sampler)` writes: the samples plus the current trend of the post-GC
   * baseline. `leakguard report --samples <file>` reads exactly this, for the memory timeline.
   */
  toJSON() {
    return { ...this.samples(), trend: this.trend() };
  }

  /** Counters and the memory held by the ring buffers. */
  stats() {
    return { ...JSON.parse(this._native.stats()), snapshots: this._snapshots, running: !this._stopped };
  }

  /** Whether stop() has not been called. */
  get running() {
    return !this._stopped;
  }

  /** Stops sampling (the thread, the timer, the GC observer). Samples stay readable. */
  stop() {
    if (this._stopped) return;
    this._stopped = true;
    clearInterval(this._timer);
    this._observer.disconnect();
    this._native.stop();
  }
}

/** Starts sampling memory; see MemorySampler. */
function startSampling(options) {
  return new MemorySampler(options);
}

module.exports = { memoryUsage, startSampling, MemorySampler };
