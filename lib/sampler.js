'use strict';

// Memory sampling and trend-based leak alerts. The ring buffers, the RSS thread and the trend
// maths live in Rust (src/sampler.rs, crates/leakguard-core/src/sampling); this file reads
// what only JS can read (V8's heap figures, GC events) and turns verdicts into events.

const EventEmitter = require('node:events');
const path = require('node:path');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const { binding } = require('./native');
const { codes, fromNative, invalidArg, ioError, LeakguardError } = require('./errors');
const opts = require('./options');
const { checkHeadroom, parseHeadroom } = require('./headroom');
const { memoryUsage, heapOutsideYoungGeneration } = require('./heap-stats');
const { getGc } = require('./gc');

// The ring capacity and the window are sizes a user picks; the capacity is reserved up front,
// so it is capped (the addon refuses more too: crates/leakguard-core sampling::MAX_CAPACITY).
const MAX_SAMPLES = 1_000_000;
const MAX_WINDOW = 100_000;

// The confirming GC (confirmGc): V8 raises its major-GC limit by a factor after each one, so a
// fast leak gets few and ever sparser major GCs (3 in 40 s measured on a loaded machine), too
// few for any rule. When none came for CONFIRM_AFTER_MS while heapUsed doubled since the last
// baseline (and grew by CONFIRM_MIN_BYTES), the sampler runs one full GC itself, at most every
// CONFIRM_AFTER_MS: a process whose heap doubles without V8 collecting gets a point every 10 s.
const CONFIRM_AFTER_MS = 10_000;
const CONFIRM_MIN_BYTES = 16 * 1024 * 1024;

function parseOptions(options) {
  const at = (name) => opts.opt('startSampling', name);
  const o = opts.options('startSampling(options)', options);
  if (o.onLeak !== undefined && o.onLeak !== 'snapshot' && o.onLeak !== 'diagnose' && typeof o.onLeak !== 'function') {
    throw invalidArg(`${at('onLeak')} must be 'snapshot', 'diagnose' or a function, got ${opts.describe(o.onLeak)}`);
  }
  const trend = {
    sensitivity: opts.oneOf(at('sensitivity'), o.sensitivity, ['low', 'normal', 'high'], { dflt: 'normal' }),
    window: opts.wholeNumber(at('window'), o.window, { min: 3, max: MAX_WINDOW }),
    windowMs: opts.number(at('windowMs'), o.windowMs, { min: 1 }),
    minPoints: opts.wholeNumber(at('minPoints'), o.minPoints, { min: 3, max: MAX_WINDOW }),
    minSlopeBytesPerMinute: opts.number(at('minSlopeBytesPerMinute'), o.minSlopeBytesPerMinute, { min: 0 }),
    minConfidence: opts.number(at('minConfidence'), o.minConfidence, { min: 0, max: 1 }),
    minGrowthBytes: opts.number(at('minGrowthBytes'), o.minGrowthBytes, { min: 0 }),
    minGrowthRatio: opts.number(at('minGrowthRatio'), o.minGrowthRatio, { min: 0 }),
  };
  return {
    intervalMs: Math.round(opts.number(at('intervalMs'), o.intervalMs, { min: 10, max: 2 ** 31 - 1, dflt: 1000 })),
    maxSamples: opts.wholeNumber(at('maxSamples'), o.maxSamples, { min: 16, max: MAX_SAMPLES, dflt: 3600 }),
    trend,
    onLeak: o.onLeak,
    directory: opts.string(at('directory'), o.directory),
    maxSnapshots: opts.wholeNumber(at('maxSnapshots'), o.maxSnapshots, { min: 0, allowInfinity: true, dflt: 1 }),
    confirmGc: opts.bool(at('confirmGc'), o.confirmGc, { dflt: true }),
    headroom: parseHeadroom(at('headroom'), o.headroom),
    // onLeak: 'diagnose' (lib/diagnose.js); validated whatever onLeak is, so a typo shows early.
    diagnose: require('./diagnose').parseDiagnoseOptions(o.diagnose),
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
    this._lastGc = null; // { time, baseline } of the newest major GC
    this._lastConfirm = 0;
    this._confirmGcs = 0;
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
    const last = this._lastGc;
    if (
      this.options.confirmGc &&
      last &&
      time - last.time >= CONFIRM_AFTER_MS &&
      time - this._lastConfirm >= CONFIRM_AFTER_MS &&
      m.heapUsed >= 2 * last.baseline &&
      m.heapUsed - last.baseline >= CONFIRM_MIN_BYTES
    ) {
      this._lastConfirm = time;
      this._confirmGcs++;
      // Its major-GC entry reaches _onMajorGc like any other. A timer callback must not throw
      // into the app: without a GC function the sampler goes on watching, and says so once.
      try {
        getGc()();
      } catch (err) {
        this.options.confirmGc = false;
        this._fail(err);
      }
    }
  }

  _onMajorGc(entry) {
    if (this._stopped) return;
    const { baseline, heapUsed } = heapOutsideYoungGeneration();
    const time = performance.timeOrigin + entry.startTime + entry.duration;
    this._lastGc = { time, baseline };
    const { trend, alert } = JSON.parse(this._native.pushGc(time, baseline, heapUsed));
    this.emit('gc', { time, baseline, heapUsed, durationMs: entry.duration });
    this.emit('stats', trend);
    if (alert) this._onLeak(trend);
  }

  _onLeak(trend) {
    this.emit('leak', trend);
    const o = this.options;
    if (typeof o.onLeak === 'function') o.onLeak(trend);
    else if (o.onLeak === 'diagnose') this._diagnose(trend);
    else if (o.onLeak === 'snapshot' && !this._snapshotPending && this._snapshots < o.maxSnapshots) {
      this._snapshotPending = true;
      // Written after 'leak' has been delivered: the dump blocks for a while.
      setImmediate(() => {
        this._snapshotPending = false;
        this._snapshot(trend);
      });
    }
  }

  /**
   * onLeak: 'diagnose': three snapshots, findLeaks with the growing collections, then
   * 'diagnosis' (lib/diagnose.js). One at a time, at most once per diagnose.everyMs (a skipped
   * one does not count); failures go to _fail, never to the app.
   */
  _diagnose(trend) {
    const d = this.options.diagnose;
    const now = Date.now();
    if (this._diagnosing || (this._lastDiagnosis !== undefined && now - this._lastDiagnosis < d.everyMs)) return;
    this._diagnosing = true;
    // After 'leak' has been delivered: the first capture blocks for a while.
    setImmediate(() => {
      require('./diagnose')
        .diagnose(this, trend, d, { headroom: this.options.headroom, directory: this.options.directory })
        .then((result) => {
          if (!result) return;
          this._lastDiagnosis = now;
          this._diagnoses = (this._diagnoses || 0) + 1;
          this.emit('diagnosis', result);
        })
        .catch((err) =>
          this._fail(err instanceof LeakguardError ? err : new LeakguardError(codes.INTERNAL, `diagnosis failed: ${err?.message}`, { cause: err })),
        )
        .finally(() => {
          this._diagnosing = false;
        });
    });
  }

  /** A failure the app did not cause: to 'error' listeners, else a process warning; never a throw. */
  _fail(err) {
    if (this.listenerCount('error')) this.emit('error', err);
    else process.emitWarning(err.message, { type: 'LeakguardWarning', code: err.code });
  }

  _snapshot(trend) {
    if (this._stopped) return;
    const { writeAtomic } = require('./atomic-file');
    const { defaultName, dumpDirectory } = require('./capture');
    // Like every other unnamed dump: the sampler's directory, else configure({ directory }),
    // else the working directory, read at the time of the dump.
    const dir = dumpDirectory(this.options.directory);
    // A leaking process is the one most likely to be near its memory limit: a dump that would
    // get it OOM-killed is skipped and said so instead (and does not use up maxSnapshots).
    const lack = checkHeadroom({ factor: this.options.headroom, what: 'leak snapshot' });
    if (lack) return this._fail(lack);
    let file;
    try {
      require('node:fs').mkdirSync(dir, { recursive: true, mode: 0o700 });
      file = writeAtomic(path.join(dir, defaultName()), { exclusive: defaultName });
    } catch (err) {
      return this._fail(err instanceof LeakguardError ? err : ioError('leak snapshot failed', err, dir));
    }
    this._snapshots++;
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
    return {
      ...JSON.parse(this._native.stats()),
      snapshots: this._snapshots,
      diagnoses: this._diagnoses || 0,
      confirmGcs: this._confirmGcs,
      running: !this._stopped,
    };
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
