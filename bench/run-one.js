#!/usr/bin/env node
'use strict';
// Child process of parse.js and analyse.js: loads one snapshot with one contender
// and prints one result line on stdout:
//   @@RESULT {"ok":true,"ms":..,"maxRssMB":..,"nodes":..}
//
//   node --max-old-space-size=16000 bench/run-one.js <contender> <file.heapsnapshot>
//   node --max-old-space-size=16000 bench/run-one.js --analyse <contender> <file.heapsnapshot>
//
// Parse mode times only the load call; requiring the library and counting nodes
// are not timed. Analyse mode (--analyse) times the load, then the contender's
// class summary with retained sizes, then its extra queries (leakguard only),
// each step separately; the result line gets "steps": {load, summary, ...} in ms,
// "ms" = load + summary, and "top": the first rows of the summary.
// Some libraries log progress to stdout, hence the marker on the result line.

const fs = require('node:fs');

// Each contender: setup() -> loaded module (untimed), load(mod, file) -> graph
// (timed), count(graph) -> node count (untimed sanity check).
// For analyse mode: summary(graph, mod) -> the class rows with retained sizes,
// biggest first, as { className, count, shallowSize, retainedSize } (timed, and
// the conversion to that shape is inside the timing: it is what a caller does),
// and optionally extras: [[stepName, async (graph, ctx) => info]], run in order
// after the summary, each timed.
const TOP = 20;
const CONTENDERS = {
  leakguard: {
    setup() {
      let lg;
      try {
        lg = require('..');
      } catch (e) {
        throw notBuilt(`require('..') failed: ${e.message.split('\n')[0]}`);
      }
      if (typeof lg.loadSnapshot !== 'function') throw notBuilt('no loadSnapshot export');
      return lg;
    },
    load: (lg, file) => lg.loadSnapshot(file),
    count: (s) => s.nodeCount,
    // The first analysis call computes distances, dominators and retained sizes
    // (on a worker thread) and caches them.
    summary: (s) => s.summary({ top: TOP, sizes: 'devtools' }),
    extras: [
      [
        'largestObjects',
        async (s, ctx) => {
          ctx.big = await s.largestObjects(10);
          return ctx.big.slice(0, 3).map((o) => `${o.className} @${o.id} ${o.retainedSize}`);
        },
      ],
      // The path to the biggest object that is not a root-level global: the
      // question "why is this alive" is asked about an object deep in the heap.
      [
        'retainerPath',
        async (s, ctx) => {
          const target = ctx.big.find((o) => o.distance > 2) || ctx.big[0];
          const p = await s.retainerPath(target.id);
          return p ? { id: target.id, steps: p.steps.length, complete: p.complete, kind: p.kind } : null;
        },
      ],
    ],
  },

  // memlab's documented loader (@memlab/heap-analysis): parses the file into
  // typed arrays + a HeapSnapshot object, then preparePathFinder() computes
  // dominators and retained sizes.
  memlab: {
    setup: () => require('@memlab/heap-analysis'),
    load: (m, file) => m.getFullHeapFromFile(file),
    count: (heap) => heap.nodes.length,
    // memlab has no call that lists classes. Its documented pieces do it:
    // heap.nodes.forEach (class name, self size), then per class
    // getDominatorNodes(ids, heap) (the members not dominated by another member)
    // and the sum of their node.retainedSize, as DevTools counts a class.
    summary: (heap, m) => memlabClassSummary(heap, m),
  },

  // The parse step of getFullHeapFromFile alone (@memlab/core utils, not in
  // memlab's API docs): no dominators / retained sizes.
  'memlab-parse': {
    setup: () => require('@memlab/core'),
    load: (core, file) => core.utils.getSnapshotFromFile(file, { buildNodeIdIndex: true }),
    count: (heap) => heap.nodes.length,
  },

  // Chrome DevTools' HeapSnapshotLoader + JSHeapSnapshot, fed by a stream as
  // its README recommends; builds the full DevTools snapshot (retainers,
  // dominators, retained sizes, distances). ESM-only, hence import().
  'heap-snapshot-toolkit': {
    setup: () => import('heap-snapshot-toolkit'),
    load: (m, file) => m.parse(fs.createReadStream(file, 'utf-8')),
    count: (snap) => snap.nodeCount,
    // DevTools' class aggregates, as the README shows: maxRet is the class's
    // retained size (members not dominated by another member).
    summary: (snap) =>
      Object.values(snap.aggregatesWithFilter({}))
        .sort((a, b) => b.maxRet - a.maxRet)
        .slice(0, TOP)
        .map((a) => ({ className: a.name, count: a.count, shallowSize: a.self, retainedSize: a.maxRet })),
  },

  // Rust compiled to WASM; decode_bytes() takes the whole file as bytes,
  // copies it into WASM memory (32-bit: 4 GiB at most) and builds its graph
  // with retained sizes. The graph has no node count: sum the class groups.
  '@vscode/v8-heap-parser': {
    setup: () => require('@vscode/v8-heap-parser'),
    load: (p, file) => p.decode_bytes(fs.readFileSync(file)),
    count: (g) => g.get_class_groups(0, 0x7fffffff, true).reduce((n, c) => n + c.children_len, 0),
    // Class groups sorted by retained size (no_retained = false).
    summary: (g) =>
      g.get_class_groups(0, TOP, false).map((c) => {
        const row = { className: c.name(), count: c.children_len, shallowSize: Number(c.self_size), retainedSize: Number(c.retained_size) };
        c.free();
        return row;
      }),
  },

  // The floor for any JS loader: the file as one string, then JSON.parse.
  'JSON.parse': {
    setup: () => null,
    load: (_, file) => JSON.parse(fs.readFileSync(file, 'utf8')),
    count: (s) => s.nodes.length / s.snapshot.meta.node_fields.length,
  },
};

function memlabClassSummary(heap, m) {
  const byClass = new Map();
  heap.nodes.forEach((node) => {
    // DevTools' class name: the constructor name for objects and native
    // objects, "(type)" for the rest.
    const t = node.type;
    const key = t === 'object' || t === 'native' ? node.name : `(${t})`;
    let c = byClass.get(key);
    if (!c) {
      c = { className: key, count: 0, shallowSize: 0, ids: [] };
      byClass.set(key, c);
    }
    c.count++;
    c.shallowSize += node.self_size;
    c.ids.push(node.id);
  });
  const rows = [];
  for (const c of byClass.values()) {
    let retainedSize = 0;
    const tops = m.getDominatorNodes(new Set(c.ids), heap);
    for (const id of tops) retainedSize += heap.getNodeById(id).retainedSize;
    rows.push({ className: c.className, count: c.count, shallowSize: c.shallowSize, retainedSize });
  }
  return rows.sort((a, b) => b.retainedSize - a.retainedSize).slice(0, TOP);
}

function notBuilt(msg) {
  const e = new Error(msg);
  e.notBuilt = true;
  return e;
}

// "RuntimeError: unreachable" (a WASM trap) says more than "unreachable".
function describe(e) {
  if (!(e instanceof Error)) return String(e);
  const msg = e.message.split('\n')[0];
  return e.name && e.name !== 'Error' ? `${e.name}: ${msg}` : msg;
}

function report(result) {
  const maxRssMB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  process.stdout.write(`\n@@RESULT ${JSON.stringify({ ...result, maxRssMB: Math.round(maxRssMB) })}\n`);
}

const elapsedMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const args = process.argv.slice(2);
  const analyse = args[0] === '--analyse';
  const [name, file] = analyse ? args.slice(1) : args;
  const c = CONTENDERS[name];
  if (!c || !file || (analyse && !c.summary)) {
    console.error(`usage: run-one.js [--analyse] <${Object.keys(CONTENDERS).join('|')}> <file>`);
    process.exit(2);
  }
  let mod;
  try {
    mod = await c.setup();
  } catch (e) {
    report({ ok: false, skipped: Boolean(e.notBuilt), error: e.notBuilt ? `not built: ${e.message}` : e.message });
    return;
  }
  const rssBeforeMB = Math.round(process.memoryUsage().rss / 1048576);
  let graph;
  const t0 = process.hrtime.bigint();
  try {
    graph = await c.load(mod, file);
  } catch (e) {
    report({ ok: false, error: describe(e), rssBeforeMB });
    return;
  }
  const ms = elapsedMs(t0);
  if (!analyse) {
    report({ ok: true, ms, nodes: c.count(graph), rssBeforeMB });
    return;
  }
  const steps = { load: ms };
  // Each finished step is also printed at once, so that a run killed by the
  // parent's timeout still tells how far it got.
  const done = (stepName) => process.stdout.write(`\n@@STEP ${JSON.stringify({ [stepName]: steps[stepName] })}\n`);
  done('load');
  const info = {};
  let step = 'summary';
  try {
    let t = process.hrtime.bigint();
    const rows = await c.summary(graph, mod);
    steps.summary = elapsedMs(t);
    done('summary');
    info.summary = rows.slice(0, 5);
    const ctx = {};
    for (const [extra, fn] of c.extras || []) {
      step = extra;
      t = process.hrtime.bigint();
      info[extra] = await fn(graph, ctx);
      steps[extra] = elapsedMs(t);
      done(extra);
    }
  } catch (e) {
    report({ ok: false, error: `${step}: ${describe(e)}`, steps, rssBeforeMB });
    return;
  }
  // The node count is taken after the clock: for @vscode/v8-heap-parser it
  // lists all class groups.
  report({ ok: true, ms: steps.load + steps.summary, steps, info, nodes: c.count(graph), rssBeforeMB });
}

module.exports = { CONTENDERS };
if (require.main === module) {
  // Exit explicitly: some loaders leave handles open (workers, message ports).
  main().then(
    () => process.exit(0),
    (e) => {
      report({ ok: false, error: describe(e) });
      process.exit(1);
    },
  );
}
