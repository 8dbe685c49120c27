'use strict';

// The sampler's `onLeak: 'diagnose'` (docs/sampling.md#diagnosis): on a leak alert, three heap
// snapshots of this thread spaced by the measured growth rate, findLeaks over them with the
// growing collections (in Rust, on the libuv thread pool), and the result as one object. With
// `report`, the three dumps and the HTML report are written to the dump directory (mode 0600,
// atomically, lib/atomic-file.js). Each capture blocks the event loop for the snapshot's
// duration (V8 cannot write a snapshot concurrently); everything else runs off the loop.

const fs = require('node:fs');
const path = require('node:path');
const opts = require('./options');
const { invalidArg } = require('./errors');
const { checkHeadroom } = require('./headroom');
const { writeAtomic, commitAtomic } = require('./atomic-file');
const { loadSnapshot, kOrigin } = require('./snapshot');
const { findLeaks, withTempSnapshotFile, ORIGIN } = require('./compare');

const MiB = 1024 * 1024;
/** Snapshots per diagnosis: memlab's three (baseline, target, final), also three growth steps' worth for the collections. */
const SNAPSHOTS = 3;
/** Suspects a diagnosis carries (the report has all of them). */
const MAX_SUSPECTS = 10;

/** `startSampling({ diagnose })`, validated, with defaults. */
function parseDiagnoseOptions(o) {
  const at = (name) => opts.opt('startSampling', `diagnose.${name}`);
  o = opts.options(opts.opt('startSampling', 'diagnose'), o);
  const d = {
    stepBytes: opts.number(at('stepBytes'), o.stepBytes, { min: 0, finite: true, dflt: 4 * MiB }),
    minSpacingMs: opts.number(at('minSpacingMs'), o.minSpacingMs, { min: 0, max: 2 ** 31 - 1, dflt: 5000 }),
    maxSpacingMs: opts.number(at('maxSpacingMs'), o.maxSpacingMs, { min: 0, max: 2 ** 31 - 1, dflt: 300_000 }),
    everyMs: opts.number(at('everyMs'), o.everyMs, { min: 0, allowInfinity: true, dflt: 3_600_000 }),
    report: opts.bool(at('report'), o.report, { dflt: false }),
  };
  if (d.minSpacingMs > d.maxSpacingMs) {
    throw invalidArg(`${at('minSpacingMs')} (${d.minSpacingMs}) must not exceed ${at('maxSpacingMs')} (${d.maxSpacingMs})`);
  }
  return d;
}

/**
 * Time between two snapshots: long enough for the trend's slope to add `stepBytes`, within
 * [minSpacingMs, maxSpacingMs]; the maximum when the slope is unknown.
 */
function spacingFor(trend, d) {
  const perMs = trend && Number.isFinite(trend.slopeBytesPerMinute) ? trend.slopeBytesPerMinute / 60_000 : 0;
  const want = perMs > 0 ? d.stepBytes / perMs : d.maxSpacingMs;
  return Math.round(Math.min(d.maxSpacingMs, Math.max(d.minSpacingMs, want)));
}

/** An unref'd wait: a diagnosis never keeps the process alive. */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A new name in the dump directory like the dumps' (`<prefix>-<sec>.<usec><ext>`). */
function siblingName(name, prefix, ext) {
  return name.replace(/^heapdump-/, `${prefix}-`).replace(/\.heapsnapshot$/, ext);
}

/**
 * One capture: the blocking part timed alone. With `dir`, the dump is kept there (0600,
 * atomic, under a fresh unique name); else it goes through a private temp file deleted once
 * parsed, as takeSnapshot does.
 */
async function capture(dir, names) {
  const load = async (file) => {
    const t0 = performance.now();
    const written = writeAtomic(file, dir ? { exclusive: names } : undefined);
    const pauseMs = performance.now() - t0;
    let snap;
    try {
      snap = await loadSnapshot(written);
    } catch (err) {
      // the dump is ours and useless without its set: it goes with the failed load
      if (dir) fs.rmSync(written, { force: true });
      throw err;
    }
    snap[kOrigin] = ORIGIN; // this thread's heap, as takeSnapshot's
    return { snap, pauseMs, file: dir ? written : null };
  };
  return dir ? load(path.join(dir, names())) : withTempSnapshotFile(undefined, load);
}

/**
 * Runs one diagnosis for `sampler` after the alert `trend`. Resolves the diagnosis, or null when
 * the sampler was stopped meanwhile. Rejects with the error that stopped it (no headroom, an
 * I/O failure): the caller routes that to the sampler's error path.
 */
async function diagnose(sampler, trend, d, { headroom, directory }) {
  const { defaultName, dumpDirectory } = require('./capture');
  const started = Date.now();
  const spacingMs = spacingFor(trend, d);
  const dir = d.report ? dumpDirectory(directory) : null;
  if (dir) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const taken = [];
  let done = false;
  // All three captures' headroom first (the last needs the most): a diagnosis that cannot finish
  // must not pause the app twice before finding out.
  if (headroom) {
    const lack = checkHeadroom({ factor: headroom * SNAPSHOTS, what: `diagnosis (${SNAPSHOTS} snapshots)` });
    if (lack) throw lack;
  }
  try {
    for (let i = 0; i < SNAPSHOTS; i++) {
      if (i > 0) await sleep(spacingMs);
      if (!sampler.running) return null;
      // Three snapshots of a process that leaks: each one checked, none risks the OOM killer. The
      // parsed snapshots and their analyses stay in memory until the end (measured: the RSS grew
      // ~24x the heap over the three), so the i-th asks for i times the headroom of one dump.
      const factor = headroom ? headroom * (i + 1) : headroom;
      const lack = checkHeadroom({ factor, what: `diagnosis snapshot ${i + 1}/${SNAPSHOTS}` });
      if (lack) throw lack;
      taken.push(await capture(dir, defaultName));
    }
    const t0 = performance.now();
    const report = await findLeaks(
      taken.map((t) => t.snap),
      { collections: true },
    );
    const analysisMs = performance.now() - t0;
    for (const t of taken) t.snap.dispose();
    const files = taken.map((t) => t.file).filter(Boolean);
    let reportFile = null;
    if (dir) {
      // The diagnosis stands without its page: a failed report is reported, not fatal.
      try {
        const pageName = () => siblingName(defaultName(), 'leakguard-diagnosis', '.html');
        reportFile = await writeReport(sampler, files, report, path.join(dir, pageName()), pageName);
      } catch (err) {
        sampler._fail(err);
      }
    }
    done = true;
    const pauses = taken.map((t) => Math.round(t.pauseMs));
    return {
      time: Date.now(),
      trend,
      spacingMs,
      suspects: report.suspects.slice(0, MAX_SUSPECTS),
      collections: report.collections,
      newInTarget: report.newInTarget,
      stillAlive: report.stillAlive,
      snapshots: files,
      report: reportFile,
      cost: {
        pausesMs: pauses,
        maxPauseMs: Math.max(...pauses),
        analysisMs: Math.round(analysisMs),
        totalMs: Date.now() - started,
      },
    };
  } finally {
    for (const t of taken) if (!t.snap.disposed) t.snap.dispose();
    // A diagnosis that did not finish leaves no dump behind (they are only useful as a set).
    if (!done) for (const t of taken) if (t.file) fs.rmSync(t.file, { force: true });
  }
}

/** The HTML report of the three dumps and the sampler's timeline, as `leakguard report` writes it. */
async function writeReport(sampler, files, leaks, file, fresh) {
  const { buildReportModel } = require('./cli/report-model');
  const { renderReport } = require('./report');
  const model = await buildReportModel(files, { samples: sampler.toJSON(), title: 'leakguard diagnosis', leaks });
  const html = renderReport(model);
  // never over a file already there (another process's, the user's): a fresh name instead
  return commitAtomic(file, 'report', { exclusive: fresh }, (tmp) => fs.writeFileSync(tmp, html));
}

module.exports = { diagnose, parseDiagnoseOptions, spacingFor };
