'use strict';

// The data of `leakguard report`: everything the HTML renderer (lib/report/) shows, computed
// here so that the renderer never touches a snapshot. The contract (field by field) is
// documented with buildReportModel below and in the README.

const fs = require('node:fs');
const path = require('node:path');
const { loadSnapshot } = require('../snapshot');
const { diff, findLeaks } = require('../compare');
const { codes, ioError, invalidArg } = require('../errors');
const check = require('../options');
const { tagFile } = require('./load');
const { shortPath } = require('../format');
const loc = require('../locations');
const { collectionLine, collectionSizes, collectionSamples, collectionLocation } = require('../collections');

const MODEL_VERSION = 1;
const TOOL = { name: 'leakguard', version: require('../../package.json').version };

/**
 * Orders diff rows by the size of the change, growth and shrinkage alike (|sizeDelta|, then
 * |countDelta|, then name), as people scan a comparison for the biggest movers.
 * @param {import('../../index').DiffRow[]} rows
 */
function byAbsoluteDelta(rows) {
  return rows
    .slice()
    .sort(
      (a, b) =>
        Math.abs(b.sizeDelta) - Math.abs(a.sizeDelta) ||
        Math.abs(b.countDelta) - Math.abs(a.countDelta) ||
        (a.className < b.className ? -1 : a.className > b.className ? 1 : 0),
    );
}

/** `{ code, message }` of an error, for the model (the renderer shows it in place of data). */
function errorEntry(err) {
  return {
    code: err && typeof err.code === 'string' && err.code.startsWith('ERR_LEAKGUARD_') ? err.code : codes.INTERNAL,
    message: String(err?.message || err),
  };
}

/** Basenames, made unique with ` #2`, ` #3`… in order of appearance. */
function uniqueLabels(files) {
  const seen = new Map();
  return files.map((f) => {
    const base = path.basename(f);
    const n = (seen.get(base) || 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} #${n}`;
  });
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** Checks an array of plain objects whose `fields` are all finite numbers; returns copies. */
function points(arr, where, fields) {
  if (!Array.isArray(arr)) throw invalidArg(`${where} must be an array`);
  return arr.map((p, i) => {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) throw invalidArg(`${where}[${i}] must be an object`);
    const out = {};
    for (const f of fields) {
      if (!isNum(p[f])) throw invalidArg(`${where}[${i}].${f} must be a number`);
      out[f] = p[f];
    }
    return out;
  });
}

const VERDICTS = ['insufficient', 'flat', 'growing', 'leak'];
const TREND_NUMBERS = [
  'window',
  'windowMs',
  'slopeBytesPerMinute',
  'intercept',
  'confidence',
  'pValue',
  'z',
  'mannKendallS',
  'positiveFraction',
  'baselineStart',
  'baselineEnd',
  'growthBytes',
  'growthRatio',
  'tailSlopeBytesPerMinute',
  'tailConfidence',
];

/** A TrendReport (MemorySampler#trend()), checked and copied field by field. */
function trendOf(t, where) {
  if (t === undefined || t === null) return null;
  if (typeof t !== 'object' || Array.isArray(t)) throw invalidArg(`${where} must be an object (a MemorySampler trend() report)`);
  if (!VERDICTS.includes(t.verdict)) throw invalidArg(`${where}.verdict must be one of ${VERDICTS.join(', ')}`);
  const out = { verdict: t.verdict };
  for (const k of ['leak', 'flat']) {
    if (typeof t[k] !== 'boolean') throw invalidArg(`${where}.${k} must be a boolean`);
    out[k] = t[k];
  }
  if (typeof t.reason !== 'string') throw invalidArg(`${where}.reason must be a string`);
  out.reason = t.reason;
  for (const k of TREND_NUMBERS) {
    // Older samplers may lack a field; a present one must be a number.
    if (t[k] === undefined) continue;
    if (!isNum(t[k])) throw invalidArg(`${where}.${k} must be a number`);
    out[k] = t[k];
  }
  out.samples = t.samples === undefined ? [] : points(t.samples, `${where}.samples`, ['time', 'value']);
  return out;
}

/**
 * Checks memory samples (JSON of `MemorySampler#samples()`, optionally with a `trend` key
 * holding `MemorySampler#trend()`) and returns a clean copy with exactly the model's fields.
 * Throws ERR_LEAKGUARD_INVALID_ARG naming the first bad entry.
 * @param {unknown} data
 * @param {string} [where] what to call the data in messages
 * @returns {{ rss: object[], heap: object[], gc: object[], trend: object | null }}
 */
function validateSamples(data, where = 'samples') {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw invalidArg(`${where} must be an object { rss, heap, gc } (JSON of MemorySampler#samples())`);
  }
  for (const k of ['rss', 'heap', 'gc']) {
    if (!Array.isArray(data[k])) throw invalidArg(`${where}.${k} must be an array (JSON of MemorySampler#samples())`);
  }
  return {
    rss: points(data.rss, `${where}.rss`, ['time', 'value']),
    heap: points(data.heap, `${where}.heap`, ['time', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers']),
    gc: points(data.gc, `${where}.gc`, ['time', 'baseline', 'heapUsed']),
    trend: trendOf(data.trend, `${where}.trend`),
  };
}

/**
 * Reads and checks a samples file (see validateSamples). A file that cannot be read rejects
 * with ERR_LEAKGUARD_IO; one that is not JSON or not samples, with ERR_LEAKGUARD_INVALID_ARG.
 * @param {string} file
 */
async function readSamples(file) {
  let text;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw tagFile(ioError(`cannot read samples ${file}`, err, file), file);
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw tagFile(invalidArg(`samples file is not JSON: ${err.message}`), file);
  }
  try {
    return validateSamples(data, 'samples file');
  } catch (err) {
    throw tagFile(err, file);
  }
}

/**
 * Builds the report model (version 1) from heap snapshot files:
 *
 * - `files[i]`: label (unique basename), path, bytes on disk, node/edge counts, totalSize, the
 *   class summary (biggest retained first, at most `top`; `summaryTotal` rows before the cut)
 *   and the `largest` objects by retained size;
 * - `diffs[i]`: files[i] -> files[i+1], rows by |sizeDelta| (at most `top`, `rowsTotal` before
 *   the cut); a failure (ERR_LEAKGUARD_MISMATCH for dumps of different processes…) is stored in
 *   `error` with empty rows instead of failing the report;
 * - `leaks`: findLeaks on the last three files (null with fewer than three), with its failure
 *   in `error`;
 * - `samples`: the validated `options.samples`, or null.
 *
 * Snapshots are loaded one at a time and released as soon as no diff or leak search needs
 * them: at most three are in memory at once, however many files there are. A file that cannot
 * be loaded rejects (tagged with its name); so does an abort.
 *
 * @param {string[]} files snapshot files, oldest first
 * @param {object} [options]
 * @param {number} [options.top=100] class and diff rows kept (0 = all)
 * @param {number} [options.largest=20] largest objects kept per file
 * @param {'devtools'|'raw'} [options.sizes='devtools']
 * @param {string} [options.title='leakguard report']
 * @param {object|null} [options.samples] MemorySampler#samples() data (+ `trend`), see validateSamples
 * @param {number} [options.minCount] findLeaks' minCount
 * @param {number} [options.minRetainedSize] findLeaks' minRetainedSize
 * @param {string[]} [options.ignoreClasses] findLeaks' ignoreClasses
 * @param {object} [options.leaks] findLeaks' report of the last three files, computed already
 *   (the sampler's diagnosis, lib/diagnose.js: its own heap, no same-heap guard): used instead
 * @param {AbortSignal} [options.signal]
 * @param {(label: string, fraction: number) => void} [options.onProgress] per step, e.g. ('loading a.heapsnapshot (1/3)', 0.4)
 * @param {Date} [options.now] the generation time (tests)
 * @returns {Promise<object>} the model documented in the README ("HTML report")
 */
async function buildReportModel(files, options = {}) {
  // The options through lib/options.js: the library's one message style.
  const label = (name) => check.opt('buildReportModel', name);
  options = check.options('buildReportModel(files, options)', options);
  // No files is fine with samples: a memory timeline before any dump was taken.
  const minFiles = options.samples ? 0 : 1;
  if (!Array.isArray(files) || files.length < minFiles || files.some((f) => typeof f !== 'string' || f === '')) {
    throw invalidArg('buildReportModel(files): files must be an array of file names (non-empty without samples)');
  }
  const top = check.wholeNumber(label('top'), options.top, { dflt: 100 });
  const largestN = check.wholeNumber(label('largest'), options.largest, { dflt: 20 });
  const sizes = check.oneOf(label('sizes'), options.sizes, ['devtools', 'raw'], { dflt: 'devtools' });
  const title = check.string(label('title'), options.title, { dflt: 'leakguard report' });
  check.func(label('onProgress'), options.onProgress);
  const samples = options.samples === undefined || options.samples === null ? null : validateSamples(options.samples);
  const { signal } = options;
  const report = typeof options.onProgress === 'function' ? options.onProgress : null;
  const step = (label) => (report ? (f) => report(label, f) : undefined);
  const cut = (rows) => (top === 0 ? rows : rows.slice(0, top));

  const labels = uniqueLabels(files);
  const n = files.length;
  const model = {
    version: MODEL_VERSION,
    title,
    generatedAt: (options.now instanceof Date ? options.now : new Date()).toISOString(),
    tool: { ...TOOL },
    sizes,
    files: [],
    diffs: [],
    leaks: null,
    samples,
  };

  const held = new Map(); // index -> HeapSnapshot still needed
  try {
    for (let i = 0; i < n; i++) {
      const file = files[i];
      const abs = path.resolve(file);
      let bytes;
      try {
        bytes = (await fs.promises.stat(abs)).size;
      } catch (err) {
        throw tagFile(ioError(`cannot read ${file}`, err, file), file);
      }
      const of = n > 1 ? ` (${i + 1}/${n})` : '';
      let snap;
      try {
        snap = await loadSnapshot(abs, { signal, onProgress: step(`loading ${labels[i]}${of}`) });
      } catch (err) {
        throw tagFile(err, file);
      }
      held.set(i, snap);
      let rows;
      let largest;
      try {
        rows = await snap.summary({ sizes, signal, onProgress: step(`analysing ${labels[i]}${of}`) });
        largest = await snap.largestObjects(largestN, { sizes, signal });
      } catch (err) {
        throw tagFile(err, file);
      }
      model.files.push({
        label: labels[i],
        path: abs,
        bytes,
        nodeCount: snap.nodeCount,
        edgeCount: snap.edgeCount,
        totalSize: snap.totalSize,
        summary: cut(rows),
        summaryTotal: rows.length,
        // Locations as the CLI shows them (lib/locations.js): relative to the cwd when under it.
        largest: largest.map((o) => (o.location ? { ...o, location: loc.displayLocation(o.location) } : o)),
      });

      if (i > 0) {
        const entry = { base: labels[i - 1], current: labels[i], rows: [], rowsTotal: 0, error: null };
        try {
          const d = byAbsoluteDelta(await diff(held.get(i - 1), snap, { sizes, signal, onProgress: step(`comparing ${labels[i - 1]} → ${labels[i]}`) }));
          entry.rows = cut(d);
          entry.rowsTotal = d.length;
        } catch (err) {
          if (err && err.code === codes.ABORTED) throw err;
          entry.error = errorEntry(err);
        }
        model.diffs.push(entry);
        // The previous snapshot is done with unless the leak search (last three) needs it.
        if (i - 1 < n - 3) {
          held.get(i - 1).dispose();
          held.delete(i - 1);
        }
      }
    }

    if (n >= 3) {
      const [b, t, f] = [n - 3, n - 2, n - 1];
      const entry = { baseline: labels[b], target: labels[t], final: labels[f], newInTarget: 0, stillAlive: 0, suspects: [], error: null };
      try {
        // A report the caller computed already (the sampler's diagnosis, over its own heap) is used as is.
        const r =
          options.leaks ||
          (await findLeaks(
            { baseline: held.get(b), target: held.get(t), final: held.get(f) },
            {
              sizes,
              signal,
              minCount: options.minCount,
              minRetainedSize: options.minRetainedSize,
              ignoreClasses: options.ignoreClasses,
              collections: true,
              onProgress: step('finding leaks'),
            },
          ));
        entry.newInTarget = r.newInTarget;
        entry.stillAlive = r.stillAlive;
        // `heldBy`: the first path from the holding variable on, as the CLI and assertions print it.
        // Locations as the CLI shows them (lib/locations.js): paths under the cwd relative, the
        // holder's declaration line, allocation stacks as a bottom-up tree. The page cannot read files.
        entry.suspects = r.suspects.map((s) => suspectModel(s));
        // The collections' lines as the CLI prints them (lib/collections.js), so page and terminal agree.
        entry.collections = (r.collections || []).map((c) => ({
          ...c,
          line: collectionLine(c),
          sizes: collectionSizes(c),
          samples: collectionSamples(c),
          defined: collectionLocation(c),
        }));
      } catch (err) {
        // Bad options are the caller's mistake, not a property of the snapshots.
        if (err && (err.code === codes.ABORTED || err.code === codes.INVALID_ARG)) throw err;
        entry.error = errorEntry(err);
      }
      model.leaks = entry;
    }
  } finally {
    for (const s of held.values()) s.dispose();
  }
  return model;
}

/** A findLeaks suspect with its locations ready for the page (see the leaks entry above). */
function suspectModel(s) {
  const paths = s.paths.map((p) => ({
    ...p,
    text: loc.displayPathText(p.text),
    steps: p.steps.map((st) => (st.location ? { ...st, location: loc.displayLocation(st.location) } : st)),
  }));
  const heldBy = paths.length ? shortPath(paths[0].text) : null;
  const out = { ...s, paths, shape: loc.displayPathText(s.shape), heldBy, heldAt: heldBy ? loc.holderLocation(s.paths[0]) || null : null };
  if (s.location) out.location = loc.displayLocation(s.location);
  if (s.allocations) {
    const text = (nodes) =>
      nodes.map((n) => ({ frame: loc.frameText(n.frame), user: !loc.isInternalFrame(n.frame), count: n.count, size: n.size, children: text(n.children) }));
    out.allocationTree = text(loc.bottomUpTree(s.allocations));
  }
  return out;
}

module.exports = { buildReportModel, validateSamples, readSamples, byAbsoluteDelta, uniqueLabels, MODEL_VERSION };
