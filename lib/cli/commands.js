'use strict';

// The commands of `leakguard`: one entry per command with its usage, help text, option table
// and run(). run() receives parsed arguments and a context ({ out, progress, signal, width })
// and resolves the exit code; errors propagate to index.js, which prints them on one line.

const { diff, findLeaks } = require('../compare');
const { invalidArg } = require('../errors');
const { shortPath } = require('../format');
const { collectionLine, collectionSizes, collectionSamples, collectionLocation } = require('../collections');
const loc = require('../locations');
const { EXIT, wholeNumber, oneOf, objectId } = require('./args');
const { withSnapshots, about, shortName, tagFile } = require('./load');
const { byAbsoluteDelta } = require('./report-model');
const { runReport } = require('./report-command');
const f = require('./format');

const SIZES = ['devtools', 'raw'];
const json = f.jsonText;

const COMMON_HELP = `
Exit codes: 0 ok, 2 bad usage, 3 error (one line on stderr with its ERR_LEAKGUARD_* code),
130 interrupted.
Environment: LEAKGUARD_DEBUG=1 prints stack traces; LEAKGUARD_PROGRESS=1 shows progress on
stderr even when it is not a terminal (LEAKGUARD_PROGRESS=0 hides it).`;

const sizesHelp = `  --sizes <mode>     devtools (default: as Chrome DevTools shows them, an internal array's
                     size counted in its owner) or raw (V8's self sizes as written)`;

/** Human output of `summary`. */
function summaryText(file, snap, sizes, classes, total, width, defined = new Map()) {
  let s = `${f.cleanText(file)}: ${f.formatCount(snap.nodeCount)} nodes, ${f.formatCount(snap.edgeCount)} edges, ${f.formatBytes(snap.totalSize)} total (sizes: ${sizes})\n\n`;
  const cols = [
    { header: 'Class', flex: true, max: 60 },
    { header: 'Count', align: 'right' },
    { header: 'Shallow', align: 'right' },
    { header: 'Retained', align: 'right' },
    { header: 'Distance', align: 'right' },
  ];
  if (defined.size > 0) cols.push({ header: 'Defined at', flex: true, max: 80 });
  s += f.table(
    cols,
    classes.map((r) => {
      const row = [r.className, f.formatCount(r.count), f.formatBytes(r.shallowSize), f.formatBytes(r.retainedSize), f.formatDistance(r)];
      if (defined.size > 0) row.push(loc.displayLocation(defined.get(r.className)));
      return row;
    }),
    { width },
  );
  if (classes.length < total) s += `… ${f.formatCount(total - classes.length)} more classes (--top 0 shows all)\n`;
  return s;
}

// Classes whose objects have no one constructor in user code: functions (each its own code),
// V8 internals, strings, arrays.
const NO_CONSTRUCTOR = /^(?:\(|system \/ |Function$|Object$|Array$)/;

/**
 * Where each of the first summary rows' classes is defined (its constructor, docs/locations.md),
 * from one object of the class; empty without the locations table. At most 50 lookups.
 */
async function classLocations(snap, classes, sizes, ctx) {
  const out = new Map();
  if (!snap.hasLocations) return out;
  for (const r of classes.slice(0, 50)) {
    if (NO_CONSTRUCTOR.test(r.className)) continue;
    const [o] = await snap.objects(r.className, { sizes, limit: 1, signal: ctx.signal });
    if (o?.location) out.set(r.className, o.location);
  }
  return out;
}

/** Flags most commands share (util.parseArgs option specs). */
const COMMON_OPTIONS = Object.freeze({
  sizes: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
});

const summary = {
  name: 'summary',
  synopsis: 'summary <file>',
  usage: 'leakguard summary <file> [--top N] [--sizes devtools|raw] [--json]',
  brief: 'classes of one snapshot by retained size',
  names: ['file'],
  min: 1,
  max: 1,
  options: {
    top: { type: 'string' },
    ...COMMON_OPTIONS,
  },
  help: `Usage: leakguard summary <file> [--top N] [--sizes devtools|raw] [--json]

The class summary of a heap snapshot (Chrome DevTools' Summary view): one row per class with
its object count, shallow size (the objects' own bytes), retained size (what freeing all of
them would free) and distance (fewest references from a global object; '-' = unreachable,
'sys' = reachable only from V8 internals). Biggest retained size first.

Options:
  --top N            show the N biggest classes (default 20; 0 = all)
${sizesHelp}
  --json             print JSON instead of a table:
                     { file, nodeCount, edgeCount, totalSize, sizes,
                       classes: [{ className, count, shallowSize, retainedSize, distance,
                                   system }],
                       classesTotal }   (classesTotal: rows before the --top cut)
  -h, --help         show this help
${COMMON_HELP}`,
  async run({ values, positionals: [file] }, ctx) {
    const top = wholeNumber(values.top, '--top', 20, 'summary');
    const sizes = oneOf(values.sizes, '--sizes', SIZES, 'summary');
    return withSnapshots([file], ctx, async ([snap]) => {
      const all = await about(snap.summary({ sizes, signal: ctx.signal, onProgress: ctx.progress.callback(`analysing ${shortName(file)}`) }), file);
      ctx.progress.clear();
      const classes = top === 0 ? all : all.slice(0, top);
      if (values.json) {
        ctx.out(json({ file, nodeCount: snap.nodeCount, edgeCount: snap.edgeCount, totalSize: snap.totalSize, sizes, classes, classesTotal: all.length }));
      } else {
        ctx.out(summaryText(file, snap, sizes, classes, all.length, ctx.width, await classLocations(snap, classes, sizes, ctx)));
      }
      return 0;
    });
  },
};

const diffCommand = {
  name: 'diff',
  synopsis: 'diff <base> <current>',
  usage: 'leakguard diff <base> <current> [--top N] [--sizes devtools|raw] [--json]',
  brief: 'what changed between two snapshots of one process',
  names: ['base', 'current'],
  min: 2,
  max: 2,
  options: {
    top: { type: 'string' },
    ...COMMON_OPTIONS,
  },
  help: `Usage: leakguard diff <base> <current> [--top N] [--sizes devtools|raw] [--json]

Per-class changes from <base> to <current> (Chrome DevTools' Comparison view): objects are
matched by their V8 id, so both snapshots must come from the same process (otherwise: error
ERR_LEAKGUARD_MISMATCH). Columns: +Count new objects, -Count deleted ones, ΔCount the net
change; +Size, -Size, ΔSize the same in bytes. Classes with nothing new or deleted are left
out; the biggest changes (|ΔSize|) come first.

Options:
  --top N            show the N biggest changes (default 20; 0 = all)
${sizesHelp}
  --json             print JSON instead of a table:
                     { base, current, sizes,
                       rows: [{ className, addedCount, removedCount, countDelta,
                                addedSize, removedSize, sizeDelta }],
                       rowsTotal }   (rowsTotal: rows before the --top cut)
  -h, --help         show this help
${COMMON_HELP}`,
  async run({ values, positionals: [base, current] }, ctx) {
    const top = wholeNumber(values.top, '--top', 20, 'diff');
    const sizes = oneOf(values.sizes, '--sizes', SIZES, 'diff');
    return withSnapshots([base, current], ctx, async ([a, b]) => {
      const all = byAbsoluteDelta(
        await about(diff(a, b, { sizes, signal: ctx.signal, onProgress: ctx.progress.callback('comparing') }), `${base} vs ${current}`),
      );
      ctx.progress.clear();
      const rows = top === 0 ? all : all.slice(0, top);
      if (values.json) {
        ctx.out(json({ base, current, sizes, rows, rowsTotal: all.length }));
        return 0;
      }
      let s = `${f.cleanText(base)} → ${f.cleanText(current)}: ${f.formatCount(a.nodeCount)} → ${f.formatCount(b.nodeCount)} nodes, ${f.formatBytes(a.totalSize)} → ${f.formatBytes(b.totalSize)} total (sizes: ${sizes})\n\n`;
      if (all.length === 0) {
        ctx.out(`${s}no class has new or deleted objects\n`);
        return 0;
      }
      s += f.table(
        [
          { header: 'Class', flex: true, max: 60 },
          { header: '+Count', align: 'right' },
          { header: '-Count', align: 'right' },
          { header: 'ΔCount', align: 'right' },
          { header: '+Size', align: 'right' },
          { header: '-Size', align: 'right' },
          { header: 'ΔSize', align: 'right' },
        ],
        rows.map((r) => [
          r.className,
          f.formatCount(r.addedCount),
          f.formatCount(r.removedCount),
          f.formatCountDelta(r.countDelta),
          f.formatBytes(r.addedSize),
          f.formatBytes(r.removedSize),
          f.formatDelta(r.sizeDelta),
        ]),
        { width: ctx.width },
      );
      if (rows.length < all.length) s += `… ${f.formatCount(all.length - rows.length)} more classes (--top 0 shows all)\n`;
      const net = all.reduce((acc, r) => [acc[0] + r.countDelta, acc[1] + r.sizeDelta], [0, 0]);
      s += `\n${f.formatCount(all.length)} ${all.length === 1 ? 'class' : 'classes'} changed; net ${f.formatCountDelta(net[0])} objects, ${f.formatDelta(net[1])}\n`;
      ctx.out(s);
      return 0;
    });
  },
};

/** How many frames of each allocation stack the text output shows. */
const STACK_FRAMES = 4;

/**
 * A suspect's (or one object's) allocation stacks: each site's size and count, then its frames,
 * allocating function first; '' without any.
 */
function allocationText(sites, indent) {
  if (!Array.isArray(sites) || sites.length === 0) return '';
  let s = `${indent}allocated:\n`;
  for (const site of sites.slice(0, 3)) {
    s += stackText(site.frames, `${f.formatBytes(site.size)} ×${f.formatCount(site.count)}  `, `${indent}  `);
  }
  if (sites.length > 3) s += `${indent}  … ${sites.length - 3} more stacks (--json lists them)\n`;
  return s;
}

/** One stack: `head` and the allocating frame, then `← caller` lines aligned under it. */
function stackText(frames, head, indent) {
  const pad = ' '.repeat(Math.max(0, f.displayWidth(head) - 2));
  let s = '';
  frames.slice(0, STACK_FRAMES).forEach((fr, i) => {
    s += `${indent}${i === 0 ? head : `${pad}← `}${f.cleanText(loc.frameText(fr))}\n`;
  });
  if (frames.length > STACK_FRAMES) s += `${indent}${pad}← … ${frames.length - STACK_FRAMES} more\n`;
  return s;
}

/** The growing collections section of `leaks` ('' without any). */
function collectionsText(list) {
  if (!Array.isArray(list) || list.length === 0) return '';
  let s = `${list.length} growing ${list.length === 1 ? 'collection' : 'collections'} (entries or retained size up in every step), biggest growth first:\n`;
  list.forEach((c, i) => {
    s += `\n${i + 1}. ${f.cleanText(collectionLine(c))}\n`;
    s += `   retained: ${collectionSizes(c)}\n`;
    if (c.path) s += `   path:     ${f.cleanText(loc.displayPathText(c.path.text))}\n`;
    const where = collectionLocation(c);
    if (where) s += `   defined:  ${f.cleanText(where)}\n`;
    const newest = collectionSamples(c);
    if (newest.length > 0) s += `   newest:   ${newest.map((x) => f.cleanText(x)).join(', ')}\n`;
  });
  return `${s}\n`;
}

/** Human output of `leaks`. */
function leaksText(files, report) {
  const [baseline, target, final] = files.map((x) => f.cleanText(x));
  let s = `baseline ${baseline} → target ${target} → final ${final}\n`;
  s += `${f.formatCount(report.newInTarget)} objects new in target, ${f.formatCount(report.stillAlive)} of them still alive in final\n\n`;
  s += collectionsText(report.collections);
  const n = report.suspects.length;
  if (n === 0) return `${s}no leak suspects\n`;
  s += `${n} leak ${n === 1 ? 'suspect' : 'suspects'}, biggest first:\n`;
  report.suspects.forEach((sus, i) => {
    s += `\n${i + 1}. ${f.cleanText(sus.className)} ×${f.formatCount(sus.count)}, retained ${f.formatBytes(sus.retainedSize)} (shallow ${f.formatBytes(sus.shallowSize)})\n`;
    const via = sus.heldVia == null ? null : report.suspects[sus.heldVia];
    if (via) s += `   kept alive through suspect ${sus.heldVia + 1} (${f.cleanText(via.className)}): fixing that leak frees these too\n`;
    if (sus.paths.length > 0) {
      // The variable or property that holds them first (what a user greps for), then the rest.
      const text = loc.displayPathText(sus.paths[0].text);
      const held = shortPath(text);
      const where = held === text ? '' : loc.holderLocation(sus.paths[0]);
      if (held !== text) s += `   held by: ${f.cleanText(held)}${where ? `, a variable of ${f.cleanText(where)}` : ''}\n`;
      s += `   path:    ${f.cleanText(text)}\n`;
    }
    if (sus.location) s += `   class:   ${f.cleanText(sus.className)} defined at ${f.cleanText(loc.displayLocation(sus.location))}\n`;
    s += allocationText(sus.allocations, '   ');
    s += `   shape:   ${f.cleanText(loc.displayPathText(sus.shape))}\n`;
    if (sus.sampleIds.length > 0) s += `   ids:     ${sus.sampleIds.map((id) => `@${id}`).join(' ')}\n`;
  });
  s += `\nFor one object's full path: leakguard path ${final} <id>\n`;
  return s;
}

const leaks = {
  name: 'leaks',
  synopsis: 'leaks <baseline> <target> <final>',
  usage: 'leakguard leaks <baseline> <target> <final> [--min-count N] [--min-size BYTES] [--ignore CLASS]… [--json]',
  brief: 'objects created and kept: the three-snapshot method (exit 1 if any)',
  names: ['baseline', 'target', 'final'],
  min: 3,
  max: 3,
  options: {
    'min-count': { type: 'string' },
    'min-size': { type: 'string' },
    ignore: { type: 'string', multiple: true },
    'path-kind': { type: 'string' },
    ...COMMON_OPTIONS,
  },
  help: `Usage: leakguard leaks <baseline> <target> <final> [options]

The three-snapshot method (as memlab): take <baseline>, run the suspect action, take <target>,
run it again, take <final> — all of one process. Objects that are new in <target> and still
alive in <final> are leak candidates; internal noise is dropped, the rest is grouped by class
and by the chain of references that keeps it alive (its retainer path), biggest first.

Growing collections are listed first: a Map, Set, array, typed array or dictionary object whose
entries (or retained size) grew in both steps, with its variable, entries per snapshot and
newest entries (the seed of most production leaks, even when its entries are plain strings).

Exit code 1 when there is at least one suspect or growing collection, 0 when there is none:
usable as a CI gate (an error, such as a corrupt or unreadable file, is 3, never 1).

Options:
  --min-count N      ignore groups of fewer objects (default 5)
  --min-size BYTES   ignore groups retaining fewer bytes (default 0)
  --ignore CLASS     never report this class (repeatable)
  --path-kind KIND   devtools (default: the chain DevTools' Retainers view expands) or shortest
${sizesHelp}
  --json             print findLeaks()' LeakReport as JSON:
                     { suspects: [{ className, count, retainedSize, shallowSize, shape,
                                    sampleIds, paths: [RetainerPath] }],
                       newInTarget, stillAlive, nodes: { baseline, target, final },
                       collections: [{ name, kind, className, entries, retainedSizes,
                                       path, newest, location, … }] }
  -h, --help         show this help
${COMMON_HELP}`,
  async run({ values, positionals }, ctx) {
    const minCount = wholeNumber(values['min-count'], '--min-count', undefined, 'leaks');
    const minRetainedSize = wholeNumber(values['min-size'], '--min-size', undefined, 'leaks');
    const pathKind = oneOf(values['path-kind'], '--path-kind', ['devtools', 'shortest'], 'leaks');
    const sizes = oneOf(values.sizes, '--sizes', SIZES, 'leaks');
    const ignoreClasses = values.ignore || [];
    return withSnapshots(positionals, ctx, async ([baseline, target, final]) => {
      const report = await about(
        findLeaks(
          { baseline, target, final },
          {
            sizes,
            minCount,
            minRetainedSize,
            ignoreClasses,
            pathKind,
            collections: true,
            signal: ctx.signal,
            onProgress: ctx.progress.callback('finding leaks'),
          },
        ),
        positionals.join(', '),
      );
      ctx.progress.clear();
      ctx.out(values.json ? json(report) : leaksText(positionals, report));
      return report.suspects.length > 0 || report.collections.length > 0 ? EXIT.LEAKS : EXIT.OK;
    });
  },
};

/** Human output of `path`: one step per line, the edge that leads to it first. */
function pathText(file, id, p, maxSteps, source) {
  const steps = p.steps.map((st) => {
    // The engine writes each edge in DevTools' notation (`.prop`, `[3]`, `->ctxVar`, `{internal}`).
    const edge = st.edge ? f.cleanText(st.edge.text) : '';
    const cls = f.cleanText(st.className);
    const name = st.name && st.name !== st.className ? ` ${f.truncate(f.cleanText(JSON.stringify(st.name)), 80)}` : '';
    const at = st.location ? `  at ${f.cleanText(loc.displayLocation(st.location))}` : '';
    return { edge, what: `${cls}${name} @${st.id}${at}` };
  });
  const w = Math.max(0, ...steps.map((st) => f.displayWidth(st.edge)));
  let s = `retainer path of @${id} in ${f.cleanText(file)} (${p.kind}, ${p.steps.length - 1} ${p.steps.length === 2 ? 'step' : 'steps'}):\n`;
  for (const st of steps) s += `  ${st.edge}${' '.repeat(w - f.displayWidth(st.edge))}${w > 0 ? '  ' : ''}${st.what}\n`;
  if (!p.complete) {
    s +=
      p.steps.length - 1 >= maxSteps
        ? `(cut after ${maxSteps} ${maxSteps === 1 ? 'step' : 'steps'}; --max-steps raises the limit)\n`
        : '(does not reach a root: the object is garbage, or held only by weak references)\n';
  }
  if (source?.location) s += `defined at: ${f.cleanText(loc.displayLocation(source.location))}\n`;
  if (source?.allocationStack) s += stackText(source.allocationStack, 'allocated at: ', '');
  return s;
}

const pathCommand = {
  name: 'path',
  synopsis: 'path <file> <id>',
  usage: 'leakguard path <file> <id> [--kind devtools|shortest] [--max-steps N] [--json]',
  brief: 'why an object is alive: its retainer path',
  names: ['file', 'id'],
  min: 2,
  max: 2,
  options: {
    kind: { type: 'string' },
    'max-steps': { type: 'string' },
    json: COMMON_OPTIONS.json,
    help: COMMON_OPTIONS.help,
  },
  help: `Usage: leakguard path <file> <id> [--kind devtools|shortest] [--max-steps N] [--json]

Why the object with V8 id <id> (as DevTools shows it, '@123' or '123'; 'leakguard largest' and
'leakguard leaks' print ids) is alive: the chain of references from a root, usually the global
object, down to it. One step per line, each after the reference that leads to it: '.prop' a
property, '[3]' an element, '->name' a closure variable, '{name}' an internal reference.

Options:
  --kind KIND        devtools (default: the chain DevTools' Retainers view expands, each step
                     the retainer closest to a root) or shortest (a true shortest path)
  --max-steps N      longest path shown (default 20, as DevTools)
  --json             print the RetainerPath as JSON:
                     { steps: [{ id, className, name, edge: null | { type, name, text } }],
                       text, kind, complete }
  -h, --help         show this help

An id that is not in the snapshot is an error (exit 3).
${COMMON_HELP}`,
  async run({ values, positionals: [file, idText] }, ctx) {
    const id = objectId(idText, 'path');
    const kind = oneOf(values.kind, '--kind', ['devtools', 'shortest'], 'path');
    const maxSteps = wholeNumber(values['max-steps'], '--max-steps', 20, 'path');
    return withSnapshots([file], ctx, async ([snap]) => {
      const p = await about(
        snap.retainerPath(id, { kind, maxSteps, signal: ctx.signal, onProgress: ctx.progress.callback(`analysing ${shortName(file)}`) }),
        file,
      );
      ctx.progress.clear();
      if (p === null) {
        const err = invalidArg(`object @${id} is not retained by anything / not in the snapshot`);
        throw tagFile(err, file);
      }
      ctx.out(values.json ? json(p) : pathText(file, id, p, maxSteps, snap.sourceInfo(id)));
      return 0;
    });
  },
};

const largest = {
  name: 'largest',
  synopsis: 'largest <file>',
  usage: 'leakguard largest <file> [--top N] [--sizes devtools|raw] [--json]',
  brief: 'the objects with the biggest retained size',
  names: ['file'],
  min: 1,
  max: 1,
  options: {
    top: { type: 'string' },
    ...COMMON_OPTIONS,
  },
  help: `Usage: leakguard largest <file> [--top N] [--sizes devtools|raw] [--json]

The objects that keep the most memory alive (retained size), biggest first, with their V8 id
for 'leakguard path <file> <id>'.

Options:
  --top N            show the N biggest objects (default 20; 0 = all)
${sizesHelp}
  --json             print JSON instead of a table:
                     { file, nodeCount, edgeCount, totalSize, sizes,
                       objects: [{ id, className, name, shallowSize, retainedSize, distance,
                                   system }] }
  -h, --help         show this help
${COMMON_HELP}`,
  async run({ values, positionals: [file] }, ctx) {
    const top = wholeNumber(values.top, '--top', 20, 'largest');
    const sizes = oneOf(values.sizes, '--sizes', SIZES, 'largest');
    return withSnapshots([file], ctx, async ([snap]) => {
      const objects = await about(
        snap.largestObjects(top === 0 ? Infinity : top, { sizes, signal: ctx.signal, onProgress: ctx.progress.callback(`analysing ${shortName(file)}`) }),
        file,
      );
      ctx.progress.clear();
      if (values.json) {
        ctx.out(json({ file, nodeCount: snap.nodeCount, edgeCount: snap.edgeCount, totalSize: snap.totalSize, sizes, objects }));
        return 0;
      }
      let s = `${f.cleanText(file)}: ${f.formatCount(snap.nodeCount)} nodes, ${f.formatBytes(snap.totalSize)} total (sizes: ${sizes})\n\n`;
      s += objectTable(objects, ctx.width);
      ctx.out(s);
      return 0;
    });
  },
};

/** The object table of `largest` and `objects`; a Location column when any row has one. */
function objectTable(objects, width) {
  const located = objects.some((o) => o.location);
  const cols = [
    { header: 'Id', align: 'right' },
    { header: 'Class', flex: true, max: 40 },
    { header: 'Name', flex: true, max: 40 },
    { header: 'Shallow', align: 'right' },
    { header: 'Retained', align: 'right' },
    { header: 'Distance', align: 'right' },
  ];
  if (located) cols.push({ header: 'Location', flex: true, max: 80 });
  return f.table(
    cols,
    objects.map((o) => {
      const row = [`@${o.id}`, o.className, o.name, f.formatBytes(o.shallowSize), f.formatBytes(o.retainedSize), f.formatDistance(o)];
      if (located) row.push(o.location ? loc.displayLocation(o.location) : '');
      return row;
    }),
    { width },
  );
}

const objectsCommand = {
  name: 'objects',
  synopsis: 'objects <file> <class>',
  usage: 'leakguard objects <file> <class> [--limit N] [--sort retained|shallow|distance|id] [--sizes devtools|raw] [--json]',
  brief: "one class's objects: ids, sizes, distance, location",
  names: ['file', 'class'],
  min: 2,
  max: 2,
  options: {
    limit: { type: 'string' },
    sort: { type: 'string' },
    ...COMMON_OPTIONS,
  },
  help: `Usage: leakguard objects <file> <class> [options]

The objects of one class (as 'leakguard summary' names it, e.g. Session or '(closure)'), with
their V8 id for 'leakguard path <file> <id>', their sizes, their distance from a root and,
when the snapshot tells (docs/locations.md), where their code is: a function's own
file:line:column, a context's function, an object's constructor.

Options:
  --limit N          show at most N objects (default 20; 0 = all)
  --sort KEY         retained (default: biggest retained size first), shallow, distance
                     (closest to a root first) or id
${sizesHelp}
  --json             print JSON instead of a table:
                     { file, className, sizes, sort,
                       objects: [{ id, className, name, shallowSize, retainedSize, distance,
                                   system, location? }],
                       objectsTotal }   (objectsTotal: objects of the class before --limit)
  -h, --help         show this help

A class with no objects prints an empty list (exit 0).
${COMMON_HELP}`,
  async run({ values, positionals: [file, className] }, ctx) {
    const limit = wholeNumber(values.limit, '--limit', 20, 'objects');
    const sort = oneOf(values.sort, '--sort', ['retained', 'shallow', 'distance', 'id'], 'objects');
    const sizes = oneOf(values.sizes, '--sizes', SIZES, 'objects');
    return withSnapshots([file], ctx, async ([snap]) => {
      const onProgress = ctx.progress.callback(`analysing ${shortName(file)}`);
      const rows = await about(snap.summary({ sizes, signal: ctx.signal, onProgress }), file);
      const cls = rows.find((r) => r.className === className);
      const total = cls ? cls.count : 0;
      const objects = cls
        ? await about(snap.objects(className, { sizes, sortBy: sort || 'retained', limit: limit === 0 ? Infinity : limit, signal: ctx.signal }), file)
        : [];
      ctx.progress.clear();
      if (values.json) {
        ctx.out(json({ file, className, sizes, sort: sort || 'retained', objects, objectsTotal: total }));
        return 0;
      }
      let s = `${f.cleanText(file)}: ${f.formatCount(total)} ${f.cleanText(className)} ${total === 1 ? 'object' : 'objects'}`;
      s += objects.length < total ? `, the first ${f.formatCount(objects.length)} by ${sort || 'retained'} (--limit 0 shows all)\n\n` : '\n\n';
      if (objects.length > 0) {
        s += objectTable(objects, ctx.width);
        s += `\nWhy one is alive: leakguard path ${f.cleanText(file)} <id>\n`;
      } else if (!cls) {
        s += `no class named ${JSON.stringify(className)} (leakguard summary lists the classes)\n`;
      }
      ctx.out(s);
      return 0;
    });
  },
};

const report = {
  name: 'report',
  synopsis: 'report <files…> --html <out.html>',
  usage: 'leakguard report <files…> --html <out.html> [--samples <file.json>] [--top N] [--json] …',
  brief: 'a self-contained HTML report of one or more snapshots',
  names: ['file'],
  // 0: a report of --samples alone (a memory timeline before any dump was taken).
  min: 0,
  max: Infinity,
  options: {
    html: { type: 'string' },
    samples: { type: 'string' },
    top: { type: 'string' },
    title: { type: 'string' },
    'min-count': { type: 'string' },
    'min-size': { type: 'string' },
    ignore: { type: 'string', multiple: true },
    ...COMMON_OPTIONS,
  },
  help: `Usage: leakguard report <files…> --html <out.html> [options]

One self-contained HTML file about snapshots of one process, given oldest first: each
file's class summary and largest objects, a comparison of each consecutive pair
(an error such as ERR_LEAKGUARD_MISMATCH is shown in place, it does not stop the report), and,
with three or more files, the leak suspects of the last three (as 'leakguard leaks').
Snapshots are analysed one after another, so at most three are held in memory.
With --samples, the files may be left out: a memory timeline alone.

Options:
  --html FILE        where to write the report (written to a temp file, then renamed)
  --samples FILE     memory samples to chart: JSON.stringify(sampler) of a running
                     MemorySampler (or of sampler.samples()), i.e.
                     { rss: [{ time, value }], heap: [{ time, rss, heapTotal, heapUsed,
                     external, arrayBuffers }], gc: [{ time, baseline, heapUsed }] }, with an
                     optional "trend" key holding MemorySampler#trend()
  --top N            class rows and comparison rows per table (default 100; 0 = all)
  --title TEXT       the report's title (default "leakguard report")
  --min-count N, --min-size BYTES, --ignore CLASS   as for 'leakguard leaks'
${sizesHelp}
  --json             print the report model (the data the HTML shows) as JSON on stdout;
                     --html is then optional
  -h, --help         show this help

The exit code does not depend on leak suspects (use 'leakguard leaks' as a CI gate).
${COMMON_HELP}`,
  run(parsed, ctx) {
    return runReport(parsed, ctx, { sizes: SIZES });
  },
};

/** Every command, by name, in the order the global help lists them. */
const commands = { summary, diff: diffCommand, leaks, path: pathCommand, largest, objects: objectsCommand, report };

module.exports = { commands };
