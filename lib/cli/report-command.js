'use strict';

// `leakguard report`: builds the report model (report-model.js), renders it with lib/report/
// and writes the HTML atomically. Everything that can fail cheaply (flags, the samples file,
// the output directory) is checked before the snapshots are loaded, which can
// take minutes on big dumps.

const fs = require('node:fs');
const path = require('node:path');
const { codes, LeakguardError, ioError } = require('../errors');
const { UsageError, wholeNumber, oneOf } = require('./args');
const { buildReportModel, readSamples } = require('./report-model');
const { tagFile } = require('./load');
const { formatBytes, cleanText, jsonText } = require('./format');
const { renderReport } = require('../report');
const { commitAtomic } = require('../atomic-file');

/** Fails early, before any snapshot is loaded, if `file` cannot be created. */
function checkWritable(file) {
  const dir = path.dirname(path.resolve(file));
  try {
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw tagFile(ioError(`cannot write ${file}`, err, file), file);
  }
  try {
    if (fs.statSync(file).isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' });
  } catch (err) {
    if (err.code !== 'ENOENT') throw tagFile(ioError(`cannot write ${file}`, err, file), file);
  }
}

/** Writes the report as leakguard writes dumps: atomically, mode 0600 (it quotes heap contents). */
function writeReport(file, html) {
  try {
    return commitAtomic(path.resolve(file), 'report', (tmp) => fs.writeFileSync(tmp, html));
  } catch (err) {
    throw tagFile(err, file);
  }
}

/**
 * Runs `leakguard report` with parsed arguments.
 * @param {{ values: object, positionals: string[] }} parsed
 * @param {{ out(s: string): void, err(s: string): void, progress: import('./load').Progress, signal?: AbortSignal }} ctx
 * @param {{ sizes: string[] }} consts
 * @returns {Promise<number>} the exit code
 */
async function runReport({ values, positionals: files }, ctx, { sizes: SIZES }) {
  const top = wholeNumber(values.top, '--top', 100, 'report');
  const sizes = oneOf(values.sizes, '--sizes', SIZES, 'report');
  const minCount = wholeNumber(values['min-count'], '--min-count', undefined, 'report');
  const minRetainedSize = wholeNumber(values['min-size'], '--min-size', undefined, 'report');
  const out = values.html;
  if (out === undefined && !values.json) throw new UsageError('missing --html <out.html> (or --json for the model)', 'report');
  if (out === '') throw new UsageError('--html needs a file name', 'report');

  if (files.length === 0 && values.samples === undefined) {
    throw new UsageError('missing <files…> (snapshot files, or --samples for a memory timeline alone)', 'report');
  }
  if (out !== undefined) checkWritable(out);
  const samples = values.samples === undefined ? null : await readSamples(values.samples);

  const model = await buildReportModel(files, {
    top,
    sizes,
    title: values.title,
    samples,
    minCount,
    minRetainedSize,
    ignoreClasses: values.ignore || [],
    signal: ctx.signal,
    onProgress: ctx.progress.enabled ? (label, fraction) => ctx.progress.update(label, fraction) : undefined,
  });
  ctx.progress.clear();

  if (out !== undefined) {
    const html = renderReport(model);
    if (typeof html !== 'string' || html === '') throw new LeakguardError(codes.INTERNAL, 'the HTML renderer returned no document');
    const abs = writeReport(out, html);
    const suspects = model.leaks && !model.leaks.error ? model.leaks.suspects.length : null;
    const what = [
      `${model.files.length} ${model.files.length === 1 ? 'snapshot' : 'snapshots'}`,
      `${model.diffs.length} ${model.diffs.length === 1 ? 'comparison' : 'comparisons'}`,
      suspects === null ? null : `${suspects} leak ${suspects === 1 ? 'suspect' : 'suspects'}`,
    ]
      .filter(Boolean)
      .join(', ');
    // With --json, stdout carries the model alone (machine-readable); the note goes to stderr.
    const note = `report written to ${cleanText(abs)} (${formatBytes(Buffer.byteLength(html))}; ${what})\n`;
    if (values.json) ctx.err(note);
    else ctx.out(note);
  }
  if (values.json) ctx.out(jsonText(model));
  return 0;
}

module.exports = { runReport };
