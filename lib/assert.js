'use strict';

// Leak assertions for tests: checkLeak, assertNoLeak, LeakError. Plain JS on top of
// takeSnapshot / findLeaks / diff (the analysis runs in Rust off the event loop).
//
// The method (memlab's three snapshots, per call): call fn `warmup` times (fills bounded
// caches, runs lazy initialisation, warms the JIT), GC, snapshot `baseline`; call it
// `iterations` times, GC, `target`; call it `iterations` more times, GC, `final`. Objects new
// in `target` and still alive in `final` were made by the first round and outlived the
// second: a leak leaves about k of them per call, a bounded structure that was full at
// `baseline` has evicted them. Secondary signal, for leaks of bytes rather than objects (a
// string that grows by concatenation and is flattened: each call makes a new, longer string
// and drops the old one, so nothing from round one survives): a class whose heap size grows
// by at least `byteThreshold` bytes per call in *both* rounds.

// The core timers, not the globals: Jest's fake timers replace the globals of a test file.
const timers = require('node:timers');
const { performance } = require('node:perf_hooks');
const fs = require('node:fs');
const { takeSnapshot, findLeaks, findLeaksInWindow, diff, withTempSnapshotFile } = require('./compare');
const { loadSnapshot } = require('./snapshot');
const { commitAtomic, isComplete } = require('./atomic-file');
const { startTracking, SNAPSHOT_META } = require('./boundaries');
const { checkedFrame, isNode, userStack, withoutInlining } = require('./frames');
const { displayLocation, displayPathText, displayUrl, holderLocation, sourceLines } = require('./locations');
const { formatBytes, shortPath } = require('./format');
const { getGc } = require('./gc');
const { sampleRounds, slowSuspects, MIN_RATE } = require('./survivors');
const { nameBlockScopes } = require('./scopes');
const { LeakguardError, codes, invalidArg, aborted } = require('./errors');
const opts = require('./options');
const { binding } = require('./native');

const DEFAULTS = Object.freeze({
  iterations: 100,
  threshold: 0.5,
  minCount: 10,
  byteThreshold: 16,
  timeoutMs: 60000,
  gcRounds: 3,
});

/** Classes the byte-growth signal never looks at: V8 code and metadata that tiers up over time. */
const GROWTH_IGNORED = new Set(['(compiled code)', '(code)', '(system)', '(hidden)', '(object shape)', '(number)']);

const macrotask = () => new Promise((resolve) => timers.setImmediate(resolve));

/**
 * Collects until the heap is quiet: full GCs with a macrotask between them, so
 * FinalizationRegistry callbacks, WeakRef targets kept for the current job, pending
 * nextTick/setImmediate callbacks and promise reactions all run and their garbage goes too.
 */
async function settle(rounds) {
  const gc = getGc();
  for (let i = 0; i < rounds; i++) {
    await macrotask();
    gc();
  }
  await macrotask();
  gc();
}

// ---------------------------------------------------------------------------------------------
// Options

const CHECK = 'checkLeak';
const opt = (name) => opts.opt(CHECK, name);

/** checkLeak's arguments checked and defaulted, with lib/options.js's one message style. */
function normalize(fn, options) {
  if (typeof fn !== 'function') throw invalidArg(`${CHECK}(fn) must be a function, got ${opts.describe(fn)}`);
  const given = opts.options(`${CHECK}(fn, options)`, options);
  const iterations = opts.wholeNumber(opt('iterations'), given.iterations, { min: 2, dflt: DEFAULTS.iterations });
  const o = {
    iterations,
    warmup: opts.wholeNumber(opt('warmup'), given.warmup, { dflt: Math.max(10, iterations) }),
    threshold: opts.positive(opt('threshold'), given.threshold, { dflt: DEFAULTS.threshold }),
    minCount: opts.wholeNumber(opt('minCount'), given.minCount, { min: 1, dflt: DEFAULTS.minCount }),
    // false: no bytes signal
    byteThreshold: given.byteThreshold === false ? Infinity : opts.positive(opt('byteThreshold'), given.byteThreshold, { dflt: DEFAULTS.byteThreshold }),
    timeoutMs: opts.number(opt('timeoutMs'), given.timeoutMs, { min: 0, minExclusive: true, allowInfinity: true, dflt: DEFAULTS.timeoutMs }),
    gcRounds: opts.wholeNumber(opt('gcRounds'), given.gcRounds, { min: 1, dflt: DEFAULTS.gcRounds }),
    ignoreClasses: opts.stringArray(opt('ignoreClasses'), given.ignoreClasses),
    method: opts.oneOf(opt('method'), given.method, ['sampling', 'snapshots'], { dflt: 'sampling' }),
    minRate: opts.positive(opt('minRate'), given.minRate, { dflt: MIN_RATE }),
    sizes: given.sizes,
    signal: opts.abortSignal(opt('signal'), given.signal),
  };
  return o;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function formatRate(x) {
  if (x >= 10 || Math.abs(x - Math.round(x)) < 0.05) return String(Math.round(x));
  return x.toFixed(x < 1 ? 2 : 1).replace(/\.?0+$/, '');
}

function describeSuspect(s) {
  const per = formatRate(s.perIteration);
  return `each call leaves ${per} ${s.className} alive (${s.count} after ${s.calls} calls, ${formatBytes(s.retainedSize)} retained)`;
}

function describeGrowth(growth) {
  const per = growth.reduce((n, g) => n + g.bytesPerIteration, 0);
  const round = (i) => formatBytes(growth.reduce((n, g) => n + g.sizeDelta[i], 0));
  const classes = growth.slice(0, 4).map((g) => `${g.className} ${formatBytes(g.bytesPerIteration)}`);
  if (growth.length > 4) classes.push('…');
  return `the heap grows by ${formatBytes(per)} per call (${round(0)} and ${round(1)} in two rounds of ${growth[0].calls} calls: ${classes.join(', ')})`;
}

/**
 * `allocated at lib/sessions.js:14:20 (createSession)`, or `allocated within …` for the nearest
 * function whose call made the objects (placeAllocations): a suspect's allocation site, or ''.
 */
function describeAllocation(a) {
  const f = a?.frames[0];
  if (!f) return '';
  const where = f.line > 0 ? displayLocation(`${f.url}:${f.line}:${f.column}`) : displayUrl(f.url);
  return `allocated ${a.within ? 'within' : 'at'} ${where} (${f.functionName || '(anonymous)'})`;
}

/** The assertion message for a result (why it leaked, or that it did not). */
function formatResult(result, subject = 'fn') {
  if (!result.leaked) {
    // What ran: the survivor rounds' calls, or the snapshot path's two rounds (both after the warm-up).
    const ran = `${result.calls} calls (${result.warmup} of them warm-up)`;
    if (result.method === 'sampling') {
      return `expected ${subject} to leak, but ${ran} left no set of objects alive that grows with the calls (survivor rounds, ${result.rounds.calls} calls read)`;
    }
    return `expected ${subject} to leak, but ${ran} left nothing alive (two rounds of ${result.iterations}: no class above ${formatRate(result.threshold)} objects or ${formatBytes(result.byteThreshold)} per call)`;
  }
  const lines = [];
  if (result.suspects.length > 0) {
    // Surviving objects are the primary evidence (every object leak grows the heap too).
    result.suspects.slice(0, 4).forEach((s, i) => {
      const what = describeSuspect(s) + (s.via ? `, kept alive through the leaked ${s.via}` : '');
      lines.push(i === 0 ? `expected ${subject} not to leak, but ${what}` : `  and ${what}`);
      if (s.path) {
        // where the holding variable is declared, when the snapshot places it (lib/locations.js)
        const where = s.holder ? holderLocation(s.holder) : '';
        lines.push(`  held by: ${displayPathText(shortPath(s.path))}${where ? `, a variable of ${where}` : ''}`);
      }
      const at = describeAllocation(s.allocation);
      if (at) lines.push(`  ${at}`);
    });
    if (result.suspects.length > 4) lines.push(`  and ${result.suspects.length - 4} more classes (see err.result.suspects)`);
  } else {
    // Growth in bytes with no class of surviving objects: a string or array that is copied
    // into a bigger one on each call, or a chain whose links are counted under its head.
    lines.push(`expected ${subject} not to leak, but ${describeGrowth(result.growth)}`);
    const paths = [...new Set(result.growth.map((g) => g.path).filter(Boolean))].slice(0, 2);
    for (const p of paths) lines.push(`  held by: ${shortPath(p)}`);
    const at = describeAllocation(result.allocation);
    if (at) lines.push(`  ${at}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The check

/** A leak found by assertNoLeak (code ERR_LEAKGUARD_LEAK); `.result` is checkLeak's result. */
class LeakError extends LeakguardError {
  constructor(result, message = formatResult(result)) {
    super(codes.LEAK, message);
    this.name = 'LeakError';
    Object.defineProperty(this, 'result', { value: result, enumerable: false, writable: true, configurable: true });
  }
}

/**
 * Calls fn `n` times, awaiting what it returns. For an async fn it also notes whether a call
 * turned the event loop (`state.turnsLoop`: a timer, I/O or an immediate, not just microtasks):
 * an immediate queued before the call runs only if the loop got to it. With
 * `state.noLoopTurns` (the one-snapshot explanation's rounds, where every turn can cost a full
 * GC) such a call throws an error marked `loopTurned`.
 */
async function callN(fn, n, state) {
  for (let i = 0; i < n; i++) {
    if (state.stopped) throw state.stopped;
    state.calls++;
    // Queued before the call (once fn is known to be async), so it runs before any immediate
    // the call queues; cleared as soon as the call settles.
    let turned = false;
    const probe = state.async
      ? timers.setImmediate(() => {
          turned = true;
        })
      : null;
    try {
      const r = fn();
      if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') {
        state.async = true;
        await r;
      }
    } finally {
      if (probe) timers.clearImmediate(probe);
    }
    if (turned) {
      state.turnsLoop = true;
      if (state.noLoopTurns) throw Object.assign(new Error('a call turned the event loop'), { loopTurned: true });
    }
  }
}

const PHASES = {
  baseline: ['collecting garbage before the baseline snapshot', 'taking the baseline snapshot'],
  target: ['collecting garbage before the target snapshot', 'taking the target snapshot'],
  final: ['collecting garbage before the final snapshot', 'taking the final snapshot'],
};

async function snapshotAfterGc(o, state, phase) {
  // (phase strings are constants: the check must not grow the heap it measures)
  state.phase = PHASES[phase][0];
  await settle(o.gcRounds);
  state.lap('settle');
  if (state.stopped) throw state.stopped;
  state.phase = PHASES[phase][1];
  const snap = await takeSnapshot({ signal: state.ac.signal });
  state.lap('snapshots');
  state.snaps.push(snap);
  if (state.stopped) throw state.stopped;
  return snap;
}

/**
 * findLeaks' options for a check: every group down to one object, and the suspects regrouped by
 * class in the core (docs/leaks.md#per-class-grouping). ignoreClasses applies to that grouping
 * only: ignoring a class in findLeaks would turn the objects it owns (a Session's user record)
 * into leak roots of their own.
 */
function leakOptions(o, state) {
  return {
    minCount: 1,
    sizes: o.sizes,
    signal: state.ac.signal,
    maxSamples: 3,
    maxPathSteps: pathSteps(o),
    classes: { calls: o.iterations, threshold: o.threshold, minCount: o.minCount, ignoreClasses: o.ignoreClasses },
  };
}

async function growthOf(baseline, target, fin, o, state) {
  if (o.byteThreshold === Infinity) return [];
  const diffOptions = { signal: state.ac.signal };
  if (o.sizes !== undefined) diffOptions.sizes = o.sizes;
  const [d1, d2] = await Promise.all([diff(baseline, target, diffOptions), diff(target, fin, diffOptions)]);
  const first = new Map(d1.map((r) => [r.className, r.sizeDelta]));
  const out = [];
  for (const r of d2) {
    if (GROWTH_IGNORED.has(r.className) || o.ignoreClasses.includes(r.className)) continue;
    const a = first.get(r.className) || 0;
    const b = r.sizeDelta;
    const per = Math.min(a, b) / o.iterations;
    if (per >= o.byteThreshold) out.push({ className: r.className, bytesPerIteration: per, sizeDelta: [a, b], calls: o.iterations, path: '' });
  }
  out.sort((x, y) => y.bytesPerIteration - x.bytesPerIteration);
  if (out.length === 0) return out;
  // Where it grows: the objects of the class that round 2 made and that are alive in `final`
  // (the three-snapshot method with target as baseline), the biggest group first.
  const young = await findLeaks(
    { baseline: target, target: fin, final: fin },
    { minCount: 1, sizes: o.sizes, signal: state.ac.signal, maxSamples: 1, maxPathSteps: pathSteps(o) },
  );
  // Say where: the class's own young group if it accounts for the growth, else the biggest
  // young group (a chain of objects owns the growing class: the Meteor closure leak's strings).
  const held = young.suspects.filter((s) => s.paths[0] && !internalRoot(s.paths[0].text));
  for (const g of out) {
    const own = held.find((s) => s.className === g.className && s.retainedSize >= g.sizeDelta[1] / 2);
    const group = own || held[0];
    if (group) g.path = group.paths[0].text;
  }
  return out;
}

/** Whether a series of the rounds in `unit` ('objects' or 'bytes') kept growing. */
const roundsGrew = (rounds, unit) => rounds.verdict.series.some((x) => x.unit === unit && x.state === 'growing');

/** A path from V8's own roots (handles, stack), not from the program's globals. */
const internalRoot = (text) => typeof text !== 'string' || text.startsWith('(synthetic)') || text.includes('{native_context}');

// Leaked objects often hang off a chain that grew in round 2 (a linked list of listeners, a
// cons-string rope): the path from a root runs through all of it. Runs of one repeated step
// are written once with a count, so a long limit costs little.
const pathSteps = (o) => Math.min(100000, 100 + 20 * (o.iterations + o.warmup));

// A two-object heap snapshot: enough to run the whole analysis pipeline once (see prepare).
const TINY_SNAPSHOT = `{"snapshot":{"meta":${SNAPSHOT_META},"node_count":2,"edge_count":1},"nodes":[9,0,1,0,1,0,3,1,3,16,0,0],"edges":[2,2,6],"strings":["","Object","x"]}`;

let prepared = null;

/**
 * Runs, once per copy of this module, everything the check itself does after its baseline
 * snapshot except V8's own capture: load the addon, create and remove a private temp
 * directory, write a file atomically, parse it on the thread pool, diff and run the leak
 * finder on it. Node creates objects the first time each of these runs (modules loaded on
 * demand, their names in process.moduleLoadList, bindings' data); if that first time fell
 * between the baseline and the target snapshot, those objects would count as the leak's
 * survivors and could be named as its holder.
 */
function prepare() {
  if (!prepared) {
    prepared = withTempSnapshotFile(null, async (file) => {
      commitAtomic(file, 'heap snapshot', (tmp) => fs.writeFileSync(tmp, TINY_SNAPSHOT));
      const snap = await loadSnapshot(file);
      try {
        await findLeaks({ baseline: snap, target: snap, final: snap }, { minCount: 1, maxSamples: 1 });
        // the one-snapshot explanation's (explainFromBoundaries)
        await findLeaksInWindow({ after: 1, upto: 3 }, snap, { minCount: 1, maxSamples: 1 });
        await diff(snap, snap);
      } finally {
        snap.dispose();
      }
    });
    // A failure here (no addon, unwritable temp dir) is reported by the check's own first
    // step with its proper error; let a later check try again.
    prepared.catch(() => {
      prepared = null;
    });
  }
  return prepared;
}

/**
 * The id of the tracker's next id map update after the loop has turned once (a macrotask): what
 * the calls before left pending (microtasks, immediates) has run by then, so the objects it
 * made fall before the boundary. Each update is a full GC and a walk of the heap.
 */
async function boundary(tracker, state) {
  await macrotask();
  const id = await tracker.next();
  if (state.stopped) throw state.stopped;
  return id;
}

/** Loads the snapshot that `write(file)` writes, through a private temp file (lib/compare.js). */
function loadWritten(write, state) {
  return withTempSnapshotFile(null, (file) => {
    write(file);
    if (!isComplete(file)) throw new LeakguardError(codes.IO, 'the heap snapshot was cut off (disk full?)');
    return loadSnapshot(file, { signal: state.ac.signal });
  });
}

/**
 * The snapshot path's report from one snapshot (lib/boundaries.js): id boundary A after the
 * rounds, round 1, boundary B, round 2, then the final snapshot; findLeaks reads the objects
 * with A < id <= B alive at the end, exactly the ones the three snapshots give it. Returns null
 * when id tracking is unavailable here.
 */
async function boundaryReport(fn, o, state) {
  const tracker = startTracking();
  if (!tracker) return null;
  try {
    // Garbage not yet collected at a boundary does not matter: only objects alive in the final
    // snapshot count, and the snapshot collects first (V8 runs full GCs until no weak callback
    // frees more). What round 2 left pending runs in a turn of the loop before it.
    state.phase = 'collecting garbage before the id boundary';
    // A's is the second update: the first runs the whole path of waiting for one (a timer set
    // and cleared, an event), and what Node makes the first time that runs (timers' debuglog on
    // Node 22+: a Function held from clearImmediate) must fall before A, not among round 1's.
    await boundary(tracker, state);
    const after = await boundary(tracker, state);
    state.lap('settle');
    state.phase = 'round 1';
    state.noLoopTurns = true;
    await callN(fn, o.iterations, state);
    state.lap('calls');
    state.phase = 'collecting garbage after round 1';
    state.noLoopTurns = false;
    const upto = await boundary(tracker, state);
    state.lap('settle');
    state.phase = 'round 2';
    state.noLoopTurns = true;
    await callN(fn, o.iterations, state);
    state.noLoopTurns = false;
    state.lap('calls');
    state.phase = 'collecting garbage before the final snapshot';
    await macrotask();
    state.lap('settle');
    state.phase = 'taking the final snapshot';
    const fin = await loadWritten((file) => tracker.stop(file), state);
    state.snaps.push(fin);
    state.lap('snapshots');
    state.phase = 'analysing the snapshots';
    if (state.stopped) throw state.stopped;
    return await findLeaksInWindow({ after, upto }, fin, leakOptions(o, state));
  } catch (err) {
    // No id map update came (the loop was blocked), or an async fn turned the loop after all:
    // the three snapshots decide instead.
    if (err && (err.noUpdate === true || err.loopTurned === true)) return null;
    throw err;
  } finally {
    state.noLoopTurns = false;
    // Tracking must end (a full GC per 50 ms otherwise); without a file when nothing needs it.
    tracker.stop(null);
  }
}

/** Same function at the same place. */
const sameFrame = (x, y) => x.functionName === y.functionName && x.url === y.url && x.line === y.line && x.column === y.column;

/**
 * Where every growing site of the survivor rounds was allocated from, as one allocation: the
 * first frame of the fastest-growing site that is on every growing site's stack, the counts and
 * sizes of them all. `within: false` when that frame allocated them all itself (a Buffer's two
 * objects, made in node:buffer for `readChunk`), `true` when it is the nearest caller they share
 * (a listener closure and its Subscriber, both made in one function's call). Null without one.
 */
function sharedSite(growing) {
  if (growing.length === 0) return null;
  const [big, ...rest] = [...growing].sort((x, y) => y.perCall - x.perCall);
  const frames = big.allocation.frames;
  const k = frames.findIndex((f) => rest.every((r) => r.allocation.frames.some((g) => sameFrame(g, f))));
  if (k < 0) return null;
  const within = k > 0 || rest.some((r) => !sameFrame(r.allocation.frames[0], frames[k]));
  const count = growing.reduce((n, r) => n + r.allocation.count, 0);
  const size = growing.reduce((n, r) => n + r.allocation.size, 0);
  return { frames: frames.slice(k), count, size, within };
}

/**
 * Each suspect's `allocation` ({ frames, count, size, within }, the program's own frames first;
 * null when unknown). Frames give each function's own position: V8 records functions, not
 * statements. `within` says the first frame is not where the objects were made but the
 * nearest function whose call made them (lower down, in code V8 does not tell apart).
 *
 * In this order, the survivor rounds' growing sites (V8's sampling heap profiler, which sees
 * every allocation) having the last word:
 * - The rounds' growing site whose allocating function is the class's constructor
 *   (`new Session()` runs in `Session`).
 * - V8's allocation trace in the one-snapshot explanation's snapshot, per object. Its tracker
 *   does not see every allocation (closures and objects made by optimised code or builtins: a
 *   listener, a Timeout, a Buffer), and an address it did not see keeps the stack of whatever
 *   died there before (measured: Buffers put down to node:inspector's message handler). So a
 *   traced stack counts only when its first frame in the program's code is a growing site's.
 * - The frame all the rounds' growing sites share (sharedSite), else unknown rather than a
 *   guess.
 */
function placeAllocations(result) {
  const rounds = result.rounds && Array.isArray(result.rounds.sites) ? result.rounds.sites : [];
  // Sites the rounds saw grow (not undecided ones) that reach the program's code: a stack of
  // Node's internals alone (async hooks' bookkeeping) is not the program's allocation.
  const program = (r) => r.allocation.frames.some((f) => !isNode(f.url));
  const ours = (r) => r.state === 'growing' && program(r);
  const growing = rounds.filter((r) => r.unit === 'objects' && ours(r));
  const grows = (frame) => growing.some((r) => sameFrame(r.allocation.frames[0], frame));
  const shared = sharedSite(growing);
  for (const s of result.suspects) {
    // The constructor first: optimised code inlines it into its caller, and both V8's trace and
    // some samples then start at the caller (`openSession` for a `new Session()` inside it).
    const ctor = growing.find((r) => r.allocation.frames[0].functionName === s.className);
    let allocation = ctor ? { ...ctor.allocation, within: false } : null;
    for (const site of allocation || !Array.isArray(s.allocations) ? [] : s.allocations) {
      const frames = userStack(site.frames);
      if (frames.length > 0 && grows(frames[0])) {
        allocation = { frames, count: site.count, size: site.size, within: false };
        break;
      }
    }
    s.allocation = checked(allocation || shared);
  }
  // A leak of bytes (a string or array copied into a bigger one per call): no class of
  // surviving objects to place, but the rounds' growing sites, in objects or bytes, still tell
  // where the growth comes from.
  if (result.suspects.length === 0 && result.growth.length > 0) {
    // one series per site: its objects' if they grew, else its bytes' (each site has both)
    const bytes = rounds.filter((r) => r.unit === 'bytes' && ours(r));
    // the snapshots confirmed the growth, so a site the rounds left undecided may speak too (a
    // string copied into a longer one grows in bytes by uneven steps)
    const undecided = rounds.filter((r) => r.unit === 'bytes' && r.state === 'undecided' && program(r));
    result.allocation = checked(sharedSite(growing.length > 0 ? growing : bytes.length > 0 ? bytes : undecided));
  }
}

/** An allocation with its frames' places checked against the files on disk (checkedFrame). */
function checked(a) {
  return a && { ...a, frames: a.frames.map((f) => checkedFrame(f, sourceLines)) };
}

/**
 * A leak the rounds saw grow in objects, explained from one snapshot (boundaryReport): the
 * result when the snapshot rule finds its classes, null when it does not (a leak of bytes, a
 * slow one, no id tracking here): then the three snapshots decide, as before.
 */
async function explainFromBoundaries(fn, o, state, rounds, started) {
  const report = await boundaryReport(fn, o, state);
  if (!report) return null;
  state.lap('findLeaks');
  const suspects = report.classes;
  if (suspects.length === 0) return null;
  const result = {
    leaked: true,
    iterations: o.iterations,
    warmup: o.warmup,
    threshold: o.threshold,
    byteThreshold: o.byteThreshold,
    suspects,
    // The classes' growth in bytes needs the class sizes of all three snapshots; the surviving
    // objects are the evidence here (formatResult shows growth only without them).
    growth: [],
    report,
    snapshots: 1,
    method: 'snapshots',
    rounds,
    calls: 0,
    durationMs: 0,
  };
  await nameBlockScopes(result);
  placeAllocations(result);
  state.lap('scopes');
  result.calls = state.calls;
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

async function run(fn, o, state) {
  const started = performance.now();
  // Where a check's time goes (result.timings, ms; bench/assertions.js prints them).
  const timings = {};
  let mark = started;
  const lap = (phase) => {
    const now = performance.now();
    timings[phase] = (timings[phase] || 0) + Math.round(now - mark);
    mark = now;
  };
  state.lap = lap;
  getGc();
  state.phase = 'preparing';
  await prepare();
  lap('prepare');
  state.phase = 'warm-up';
  await callN(fn, o.warmup, state);
  lap('warmup');
  // The fast path: survivors counted in rounds under the sampling heap profiler, no snapshot.
  // A bounded series is a pass; a growing or undecided one goes on to the snapshots, which
  // confirm and explain (lib/survivors.js, docs/leaks.md).
  let rounds = null;
  if (o.method === 'sampling') {
    state.phase = 'sampling rounds';
    rounds = await sampleRounds(fn, o, getGc(), state);
    lap('rounds');
    if (rounds.state === 'bounded') {
      return {
        leaked: false,
        iterations: o.iterations,
        warmup: o.warmup,
        threshold: o.threshold,
        byteThreshold: o.byteThreshold,
        suspects: [],
        growth: [],
        report: null,
        snapshots: 0,
        method: 'sampling',
        rounds,
        calls: state.calls,
        durationMs: Math.round(performance.now() - started),
        timings,
      };
    }
    // Functions that never turn the event loop only (synchronous ones, and async ones that
    // await microtasks alone: a mocked service): while ids are tracked, V8 updates its id map
    // (a full GC and a heap walk) on a 50 ms timer, and in Jest an update takes longer than
    // that, so every turn of the loop pays one (growth-after-await, an immediate per call:
    // 20 s for two rounds).
    if (rounds.state === 'growing' && roundsGrew(rounds, 'objects') && !state.turnsLoop) {
      const explained = await explainFromBoundaries(fn, o, state, rounds, started);
      if (explained) {
        explained.timings = timings;
        return explained;
      }
    }
  }
  const baseline = await snapshotAfterGc(o, state, 'baseline');
  state.phase = 'round 1';
  await callN(fn, o.iterations, state);
  lap('calls');
  const target = await snapshotAfterGc(o, state, 'target');
  state.phase = 'round 2';
  await callN(fn, o.iterations, state);
  lap('calls');
  const fin = await snapshotAfterGc(o, state, 'final');
  state.phase = 'analysing the snapshots';
  const report = await findLeaks({ baseline, target, final: fin }, leakOptions(o, state));
  lap('findLeaks');
  const suspects = report.classes;
  let growth = await growthOf(baseline, target, fin, o, state);
  lap('growth');
  // Growth that the ignored classes' surviving objects account for is accepted with them.
  const ignoredBytes = report.suspects.filter((s) => o.ignoreClasses.includes(s.className)).reduce((n, s) => n + s.retainedSize, 0);
  const grown = growth.reduce((n, g) => n + g.bytesPerIteration, 0);
  if (ignoredBytes > 0 && grown <= (1.25 * ignoredBytes) / o.iterations + o.byteThreshold) growth = [];
  const result = {
    leaked: suspects.length > 0 || growth.length > 0,
    iterations: o.iterations,
    warmup: o.warmup,
    threshold: o.threshold,
    byteThreshold: o.byteThreshold,
    suspects,
    growth,
    report,
    snapshots: 3,
    method: 'snapshots',
    rounds,
    calls: 0,
    durationMs: 0,
  };
  if (rounds && rounds.state === 'growing') {
    const growing = (unit) => roundsGrew(rounds, unit);
    if (!growing('objects')) {
      // The rounds watched 8 × `iterations` calls, the snapshots two rounds of `iterations`: a
      // bounded structure bigger than that (a cache capped at 500 entries) still holds round
      // one's objects after round two. When the rounds grew in bytes only (one big table
      // reallocated), their objects stopped growing, and the snapshots' survivors are such a
      // structure's.
      result.suspects = [];
      if (!growing('bytes')) result.growth = [];
      result.leaked = result.growth.length > 0;
    } else if (!result.leaked) {
      // A leak slower than the snapshot rule's bar (0.5 per call) that the rounds saw keep
      // growing: the rounds decide, the snapshot report names the holder. ignoreClasses and
      // minCount hold here as in the snapshot rule.
      const slow = slowSuspects(report, o).filter((c) => !o.ignoreClasses.includes(c.className) && c.count >= o.minCount);
      if (slow.length > 0) {
        result.leaked = true;
        result.slow = true;
        result.suspects = slow;
      }
    }
  }
  // A holder in a block scope (every module variable under Vitest) is unnamed in snapshots;
  // name it from the live heap while its objects are still alive (lib/scopes.js).
  if (result.leaked) {
    await nameBlockScopes(result);
    placeAllocations(result);
  }
  lap('scopes');
  result.calls = state.calls;
  result.durationMs = Math.round(performance.now() - started);
  result.timings = timings;
  return result;
}

/**
 * Calls `fn` repeatedly between heap snapshots and tells whether the objects its calls create
 * survive in a number that grows with the number of calls.
 */
function checkLeak(fn, options) {
  let o;
  try {
    o = normalize(fn, options);
    binding(); // without the addon, fail before the warmup calls fn hundreds of times for nothing
  } catch (err) {
    return Promise.reject(err);
  }
  const state = { phase: 'starting', stopped: null, snaps: [], ac: new AbortController(), calls: 0, async: false, turnsLoop: false, noLoopTurns: false };
  const stop = (err) => {
    if (state.stopped) return;
    state.stopped = err;
    state.ac.abort(err);
  };
  let timer = null;
  let detach = () => {};
  const stopped = new Promise((_, reject) => {
    if (o.timeoutMs !== Infinity) {
      timer = timers.setTimeout(() => {
        const err = new LeakguardError(
          codes.TIMEOUT,
          `checkLeak timed out after ${o.timeoutMs} ms while ${state.phase} (timeoutMs; ${o.warmup} + 2 × ${o.iterations} calls)`,
        );
        stop(err);
        reject(err);
      }, o.timeoutMs);
    }
    const onAbort = (reason) => {
      const err = aborted(reason);
      stop(err);
      reject(err);
    };
    // lib/options.js's listener: safe with AbortSignal look-alikes (no removeEventListener).
    if (o.signal?.aborted) onAbort(o.signal.reason);
    else detach = opts.onAbort(o.signal, onAbort);
  });
  stopped.catch(() => {});
  // Allocation stacks with every function in them (lib/frames.js), for as long as fn runs.
  const restoreInlining = withoutInlining();
  const work = run(fn, o, state);
  return Promise.race([work, stopped]).finally(() => {
    // now, not when `work` settles: a call that never settles would leave inlining off for good
    restoreInlining();
    if (timer) timers.clearTimeout(timer);
    detach();
    // Free the snapshots once nothing uses them (a timed-out run may still be parsing one).
    work.then(
      () => dispose(state),
      () => dispose(state),
    );
    if (!state.stopped) state.stopped = new LeakguardError(codes.ABORTED, 'checkLeak finished');
  });
}

function dispose(state) {
  for (const s of state.snaps) if (!s.disposed) s.dispose();
  state.snaps.length = 0;
}

/** checkLeak, rejecting with a LeakError (code ERR_LEAKGUARD_LEAK) when fn leaks. */
async function assertNoLeak(fn, options) {
  const result = await checkLeak(fn, options);
  if (result.leaked) {
    const err = new LeakError(result);
    Error.captureStackTrace(err, assertNoLeak);
    throw err;
  }
  return result;
}

module.exports = { checkLeak, assertNoLeak, LeakError, formatResult, DEFAULTS };
