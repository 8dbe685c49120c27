'use strict';

// Loading snapshots for the commands: progress on stderr, cancellation, errors tagged with
// the file they concern, and no native memory left behind when one of several loads fails.

const { loadSnapshot } = require('../snapshot');
const { cleanText, truncate, displayWidth } = require('./format');

/** Where an error came from (the file name as the user typed it), for the one-line message. */
const kFile = Symbol('leakguard.cli.file');

/**
 * Tags `err` with the file it concerns (the first tag wins) and returns it.
 * @param {unknown} err
 * @param {string} file
 */
function tagFile(err, file) {
  if (err && typeof err === 'object' && err[kFile] === undefined) {
    Object.defineProperty(err, kFile, { value: file, enumerable: false, configurable: true });
  }
  return err;
}

/**
 * A one-line progress indicator (`\rloading big.heapsnapshot 37%`) on stderr. Disabled, it
 * writes nothing at all, and callers pass no onProgress to the engine (no polling timer).
 */
class Progress {
  /**
   * @param {{ write(s: string): unknown }} stream
   * @param {boolean} enabled
   * @param {number} [width] the terminal's width: a longer line would wrap, and `\r` could
   *   then no longer overwrite it
   */
  constructor(stream, enabled, width = Infinity) {
    this.stream = stream;
    this.enabled = enabled;
    this.width = width > 1 ? width - 1 : Infinity;
    this.last = '';
    this.shown = 0;
  }

  /** Shows `label NN%`; repeated identical lines are not rewritten. */
  update(label, fraction) {
    if (!this.enabled) return;
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    const suffix = ` ${pct}%`;
    const text = `${truncate(label, Math.max(1, this.width - suffix.length))}${suffix}`;
    if (text === this.last) return;
    // Pad over the previous, possibly longer, line: no ANSI escapes, as stderr may be a file.
    const w = displayWidth(text);
    const padding = ' '.repeat(Math.max(0, this.shown - w));
    this.stream.write(`\r${text}${padding}`);
    this.last = text;
    this.shown = Math.max(w, this.shown);
  }

  /** An onProgress callback for the engine showing `label`, or undefined when disabled. */
  callback(label) {
    return this.enabled ? (f) => this.update(label, f) : undefined;
  }

  /** Erases the line (call before printing anything else, and when done). */
  clear() {
    if (this.shown > 0) this.stream.write(`\r${' '.repeat(this.shown)}\r`);
    this.shown = 0;
    this.last = '';
  }
}

/** A file name short enough for a progress line: its end, where the name is, survives. */
function shortName(file) {
  const clean = cleanText(file);
  if (displayWidth(clean) <= 48) return clean;
  const tail = [...clean].reverse().join('');
  return `…${[...truncate(tail, 48)].slice(0, -1).reverse().join('')}`;
}

/**
 * Loads `files` in parallel (each parse runs on its own thread-pool thread). Resolves the
 * snapshots in the order given; on the first failure the others are disposed (including loads
 * still running) and the error, tagged with its file, rejects.
 * @param {string[]} files
 * @param {{ progress: Progress, signal?: AbortSignal }} ctx
 * @returns {Promise<import('../../index').HeapSnapshot[]>}
 */
async function loadAll(files, ctx) {
  const { progress, signal } = ctx;
  const fractions = files.map(() => 0);
  const label = files.length === 1 ? `loading ${shortName(files[0])}` : `loading ${files.length} snapshots`;
  const settled = await Promise.allSettled(
    files.map((file, i) =>
      loadSnapshot(file, {
        signal,
        onProgress: progress.enabled
          ? (f) => {
              fractions[i] = f;
              progress.update(label, fractions.reduce((a, b) => a + b, 0) / files.length);
            }
          : undefined,
      }),
    ),
  );
  progress.clear();
  const failed = settled.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    for (const r of settled) if (r.status === 'fulfilled') r.value.dispose();
    throw tagFile(settled[failed].reason, files[failed]);
  }
  return settled.map((r) => r.value);
}

/**
 * Runs `fn(snapshots)` on freshly loaded `files` and disposes them afterwards, whatever happens.
 * @template T
 * @param {string[]} files
 * @param {{ progress: Progress, signal?: AbortSignal }} ctx
 * @param {(snaps: import('../../index').HeapSnapshot[]) => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withSnapshots(files, ctx, fn) {
  const snaps = await loadAll(files, ctx);
  try {
    return await fn(snaps);
  } finally {
    ctx.progress.clear();
    for (const s of snaps) s.dispose();
  }
}

/**
 * Awaits an analysis call on `file`'s snapshot, tagging its error with the file name.
 * @template T
 * @param {Promise<T>} promise
 * @param {string} file
 * @returns {Promise<T>}
 */
function about(promise, file) {
  return promise.catch((err) => {
    throw tagFile(err, file);
  });
}

module.exports = { kFile, tagFile, Progress, loadAll, withSnapshots, about, shortName };
