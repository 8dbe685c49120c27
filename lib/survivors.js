'use strict';

// The leak assertion's fast path: decide "no leak" without serialising the heap.
//
// After the warm-up, V8's sampling heap profiler (an in-process inspector session, the
// current thread's isolate) records a sample for nearly every allocation; a sample stays in
// the profile while its object is alive. The function is called in rounds, each followed by a
// GC; at the round ends the rule needs (STAGES), the profile is read and what was allocated since
// sampling began and is still alive is totalled per allocation site (its stack) and over all
// sites, as objects and bytes (each sample weighted by the inverse of its chance to be sampled,
// as V8 itself scales them). The series go to the core's rule (leakguard_core::rounds, binding
// `roundsVerdict`): bounded → clean, no snapshot; growing or undecided → run twice as many
// calls, up to three stages (2, 4, 8 × `iterations` calls); still growing at the end → a leak,
// which the snapshot path confirms and explains (its holder); undecided at the end → the
// snapshot path decides.
//
// What the session itself allocates (the profile's JSON and its parse) and what this file
// allocates are left out: samples whose stack passes through node:inspector, or whose nearest
// non-Node frame is in this directory. (The parse's samples even outlive their objects: on Node
// 20 every read leaves its parsed sample records, ~48 bytes each, in the profile for good, so
// the profile, and each read's cost, grows with the number of reads; read only when needed.)
// So is what the test runner does on its own timers while the rounds run (siteOf).

const { postSync } = require('./inspector');
const v8 = require('node:v8');
const timers = require('node:timers');
const { performance } = require('node:perf_hooks');
const { binding } = require('./native');
const { OWN_DIR, RUNNER, isNode, userStack } = require('./frames');

/** Objects per call the per-site series must gain: half the slowest leak promised (1 per 10). */
const MIN_RATE = 0.05;
/** Samples the first stage may record in all (each costs a stack walk, ~3.5 µs). */
const SAMPLE_BUDGET = 20000;
/**
 * The schedule, in rounds of a quarter of the first stage's calls (`iterations / 2`), each
 * followed by one GC: 4 rounds (2 × iterations calls), then 4 and 8 more while the series grows
 * or is undecided (4 and 8 × iterations in all). The rule (leakguard_core::rounds) reads a series
 * only at the round ends nearest to the quarters of the run, so the profile is read only there:
 * after every round of the first stage, after every second round of the second (3/4 and 4/4 of
 * 4 × iterations; 1/4 and 2/4 are the first stage's reads) and every fourth of the third. The
 * rule sees the same points as when every round was read (it was 8 + 4 + 4 rounds of iterations
 * / 4, 2 and 1 calls, each read), with a third of the GCs and half the reads: in Jest a full GC
 * takes ~50-100 ms (its heap is big), and each read parses the whole profile.
 */
const STAGES = [
  { rounds: 4, readEvery: 1 },
  { rounds: 4, readEvery: 2 },
  { rounds: 8, readEvery: 4 },
];
const MAX_SITES = 48;
/** The size probe before sampling: PROBES runs of PROBE_CALLS calls (bytesPerCall). */
const PROBES = 3;
const PROBE_CALLS = 4;

const macrotask = () => new Promise((resolve) => timers.setImmediate(resolve));

/**
 * Starts sampling on the shared session (lib/inspector.js: never disconnected, so heap object
 * ids survive the check), or returns null when sampling is unavailable here (no inspector,
 * or another sampling profiler already runs).
 */
function openSession(interval) {
  try {
    postSync('HeapProfiler.enable');
    postSync('HeapProfiler.startSampling', { samplingInterval: interval });
  } catch {
    return null;
  }
  return {
    read: () => postSync('HeapProfiler.getSamplingProfile').profile,
    close() {
      try {
        postSync('HeapProfiler.stopSampling');
      } catch {
        // already stopped
      }
    },
  };
}

const frameOf = (cf) => ({ functionName: cf.functionName || '(anonymous)', url: cf.url, line: cf.lineNumber + 1, column: cf.columnNumber + 1 });

/**
 * A sample node's site: its stack from the allocating frame down to (not including) this file's
 * call loop; null when the sample is not fn's: ours (its nearest non-Node frame is in this
 * directory), the inspector session's (its stack passes through node:inspector), or the test
 * runner's own (a callback from the event loop, not from our call loop, with a frame in a test
 * runner's package: Jest's reporters update their status on a timer while a test runs).
 * `here`: the node's frames, the allocating one first.
 */
function siteOf(here) {
  if (here.some((f) => f.url.startsWith('node:inspector'))) return null;
  const firstOwn = here.findIndex((f) => !isNode(f.url));
  if (firstOwn >= 0 && here[firstOwn].url.startsWith(OWN_DIR)) return null;
  // Cut at our call loop: what called fn is the same for every call.
  const cut = here.findIndex((f) => f.url.startsWith(OWN_DIR));
  const frames = (cut >= 0 ? here.slice(0, cut) : here).filter((f) => f.functionName !== '(root)');
  // (Any runner frame will do: Jest's status line calls packages of its own, e.g. char-regex, the
  // first time it is drawn; fn's own code, even after an await, has no runner frame below it.)
  if (cut < 0 && firstOwn >= 0 && frames.some((f) => RUNNER.test(f.url))) return null;
  const key = frames.map((f) => `${f.functionName}@${f.url}:${f.lineNumber}:${f.columnNumber}`).join('<') || '(root)';
  return { key, frames: userStack(frames.map(frameOf)) };
}

/**
 * Totals of the live samples per site and over all sites. `cache` (Map nodeId → site | null)
 * carries the sites over from one read of the session to the next: V8 numbers a stack node once
 * per session (a node that goes away and comes back gets a new id), so only the nodes new since
 * the last read are resolved, by walking up their parents; when every sample's node is known,
 * the tree is not walked at all.
 *
 * The sampler is still on while this runs, at an interval of a few dozen bytes, so nearly every
 * object allocated here is sampled, a stack walk each; and until V8 optimises this loop, every
 * floating-point result is a new heap number. So the loop over the samples only counts samples
 * per site and size (small integers, no allocation); the weights, which depend on the size
 * alone, are applied once per site and size at the end. Same totals, ~10x faster on a leak's
 * profile.
 */
function tally(profile, interval, cache = new Map()) {
  const samples = profile.samples;
  let known = true;
  for (let i = 0; i < samples.length && known; i++) known = cache.has(samples[i].nodeId);
  if (!known) resolveSites(profile.head, samples, cache);
  const bySite = new Map();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const site = cache.get(s.nodeId);
    if (!site) continue;
    let e = bySite.get(site.key);
    if (!e) {
      e = { site, sizes: new Map() };
      bySite.set(site.key, e);
    }
    e.sizes.set(s.size, (e.sizes.get(s.size) || 0) + 1);
  }
  const per = new Map();
  const all = { count: 0, bytes: 0, varCount: 0, varBytes: 0 };
  for (const [key, e] of bySite) {
    const t = { site: e.site, count: 0, bytes: 0, varCount: 0, varBytes: 0 };
    for (const [size, n] of e.sizes) {
      const w = 1 / -Math.expm1(-size / interval);
      const vc = n * w * (w - 1);
      for (const x of [t, all]) {
        x.count += n * w;
        x.bytes += n * w * size;
        x.varCount += vc;
        x.varBytes += size * size * vc;
      }
    }
    per.set(key, t);
  }
  return { per, all };
}

/** Puts the site of every sample node not yet in `cache` there (siteOf of its stack). */
function resolveSites(head, samples, cache) {
  const parent = new Map();
  const nodes = new Map();
  const todo = [head];
  while (todo.length) {
    const node = todo.pop();
    nodes.set(node.id, node);
    for (const c of node.children) {
      parent.set(c.id, node);
      todo.push(c);
    }
  }
  for (const s of samples) {
    if (cache.has(s.nodeId)) continue;
    const here = [];
    for (let n = nodes.get(s.nodeId); n; n = parent.get(n.id)) here.push(n.callFrame);
    cache.set(s.nodeId, siteOf(here));
  }
}

async function callN(fn, n, state) {
  for (let i = 0; i < n; i++) {
    if (state?.stopped) throw state.stopped;
    if (state) state.calls++;
    const r = fn();
    if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') {
      if (state) state.async = true;
      await r;
    }
  }
}

/**
 * Bytes allocated per call, roughly: the heap's growth over a few calls, the least of three
 * probes. A GC in a probe makes it shrink (skipped); what else runs while an async fn awaits (the
 * check's own finished work, Node's) only adds, and one such probe used to set the sampling
 * interval 4-16x too coarse for growth-after-await's 40-byte records (0.3 of its 1 per call seen,
 * and now and then none: "bounded").
 */
async function bytesPerCall(fn, state) {
  let least = null;
  for (let probe = 0; probe < PROBES; probe++) {
    const h0 = v8.getHeapStatistics().used_heap_size;
    await callN(fn, PROBE_CALLS, state);
    const h1 = v8.getHeapStatistics().used_heap_size;
    if (h1 >= h0 && (least === null || h1 - h0 < least)) least = h1 - h0;
  }
  return least === null ? null : least / PROBE_CALLS;
}

/**
 * Calls fn in rounds under the sampling profiler (after the caller's warm-up) and returns the
 * rounds' verdict: `{ state: 'bounded' | 'growing' | 'undecided', calls, reason, verdict,
 * interval, sites, durationMs }`, or `{ state: 'unavailable', reason }` when sampling cannot
 * run here. `o`: iterations, threshold, byteThreshold, minRate; `gc`: a full synchronous GC.
 */
async function sampleRounds(fn, o, gc, state) {
  const started = performance.now();
  // Where the time goes (result.rounds.phases, ms; bench/assertions.js prints them).
  const phases = { setup: 0, calls: 0, gc: 0, read: 0, tally: 0, verdict: 0 };
  let mark = started;
  const lap = (phase) => {
    const now = performance.now();
    phases[phase] += now - mark;
    mark = now;
  };
  const first = 2 * o.iterations;
  const perCall = await bytesPerCall(fn, state);
  const wanted = perCall === null ? 64 : (perCall * first) / SAMPLE_BUDGET;
  const interval = 2 ** Math.round(Math.log2(Math.min(1024, Math.max(16, wanted))));
  // No GC before sampling starts: only what is allocated from here on is sampled, so the garbage
  // of the warm-up cannot count; the macrotask lets its pending callbacks run first.
  await macrotask();
  const session = openSession(interval);
  if (!session) return { state: 'unavailable', reason: 'the sampling heap profiler is unavailable (another profiler is running?)' };
  lap('setup');
  const k = Math.max(1, Math.round(first / 4));
  const calls = [];
  const reads = [];
  const sites = new Map();
  let total = 0;
  let verdict = null;
  // Each stage's verdict, for the result (why the check ran longer).
  const stages = [];
  let samples = 0;
  try {
    for (const stage of STAGES) {
      for (let r = 1; r <= stage.rounds; r++) {
        await callN(fn, k, state);
        total += k;
        lap('calls');
        // One GC per round, after a macrotask (so the round's promise reactions, immediates and
        // the job that kept its WeakRef targets alive are done). FinalizationRegistry callbacks
        // that this GC triggers run in the next round's macrotask, and what they release (a
        // WeakRef cache's entries) goes in the next GC: every read counts the last round's
        // releases as still alive. That is the same amount at every read, because every round
        // has the same number of calls (a second GC per round would remove it; it cost a GC per
        // round, the most expensive part of a check in Jest).
        await macrotask();
        gc();
        lap('gc');
        if (r % stage.readEvery !== 0) continue;
        calls.push(total);
        const profile = session.read();
        samples = profile.samples.length;
        lap('read');
        reads.push(tally(profile, interval, sites));
        lap('tally');
      }
      verdict = judge(calls, reads, o);
      lap('verdict');
      stages.push({ calls: total, state: verdict.state, reason: verdict.reason, samples });
      if (verdict.state === 'bounded') break;
    }
  } finally {
    session.close();
  }
  for (const k of Object.keys(phases)) phases[k] = Math.round(phases[k]);
  return { ...verdict, interval, stages, phases, durationMs: Math.round(performance.now() - started) };
}

function judge(calls, reads, o) {
  const minRate = o.minRate === undefined ? MIN_RATE : o.minRate;
  const last = reads[reads.length - 1];
  // The sites worth a series: the most alive at the end, and any that ever held much.
  const peak = new Map();
  for (const rd of reads) for (const [key, t] of rd.per) peak.set(key, Math.max(peak.get(key) || 0, t.count));
  const keys = [...peak.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, MAX_SITES)
    .map(([k]) => k);
  const series = [];
  const meta = [];
  const tol = (v) => 2 * Math.sqrt(v) + 1;
  const add = (label, unit, get, floor, variance, site) => {
    series.push({ label, unit, live: reads.map(get), floor, tolerance: tol(variance) });
    meta.push(site);
  };
  add('all sites', 'objects', (rd) => rd.all.count, o.threshold, last.all.varCount, null);
  if (o.byteThreshold !== Infinity) add('all sites', 'bytes', (rd) => rd.all.bytes, o.byteThreshold, last.all.varBytes, null);
  for (const key of keys) {
    const t = reads.find((rd) => rd.per.has(key)).per.get(key);
    const label = t.site.frames[0] ? `${t.site.frames[0].functionName} (${t.site.frames[0].url}:${t.site.frames[0].line})` : key;
    const lt = last.per.get(key);
    const get = (field) => (rd) => (rd.per.has(key) ? rd.per.get(key)[field] : 0);
    add(label, 'objects', get('count'), minRate, lt ? lt.varCount : 0, t.site);
    if (o.byteThreshold !== Infinity) add(label, 'bytes', get('bytes'), o.byteThreshold, lt ? lt.varBytes : 0, t.site);
  }
  const v = JSON.parse(binding().roundsVerdict(JSON.stringify({ calls, series })));
  const sites = v.series
    .filter((s) => s.state !== 'bounded' && meta[s.index])
    .slice(0, 5)
    .map((s) => {
      const lt = last.per.get(meta[s.index].key);
      return {
        state: s.state,
        unit: s.unit,
        perCall: s.latePerCall,
        reason: s.reason,
        allocation: { frames: meta[s.index].frames, count: Math.round(lt ? lt.count : 0), size: Math.round(lt ? lt.bytes : 0) },
      };
    });
  return { state: v.state, calls: v.calls, reason: v.reason, verdict: v, sites };
}

/**
 * The suspects of a leak under the snapshot rule's bar: the report's biggest groups of
 * survivors held from the program's roots (not V8's handles), by class.
 */
function slowSuspects(report, o) {
  if (!report) return [];
  const internal = (t) => typeof t !== 'string' || t.startsWith('(synthetic)') || t.includes('{native_context}');
  const classes = new Map();
  for (const g of report.suspects) {
    const text = g.paths[0] ? g.paths[0].text : '';
    if (internal(text)) continue;
    const c = classes.get(g.className) || { className: g.className, count: 0, retainedSize: 0, paths: [] };
    c.count += g.count;
    c.retainedSize += g.retainedSize;
    if (text && c.paths.length < 5) c.paths.push(text);
    classes.set(g.className, c);
  }
  return [...classes.values()]
    .filter((c) => c.count >= 3)
    .sort((a, b) => b.count - a.count || b.retainedSize - a.retainedSize)
    .slice(0, 3)
    .map((c) => ({ ...c, perIteration: c.count / o.iterations, path: c.paths[0] || '', via: null, calls: o.iterations }));
}

module.exports = { sampleRounds, slowSuspects, MIN_RATE };
