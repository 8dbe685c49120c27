'use strict';

// `node -r leakguard/register app.js`: dump on a signal, configured from the environment.
//   LEAKGUARD_SIGNAL           signal name (default SIGUSR2; never SIGTERM, SIGINT, SIGHUP, SIGQUIT)
//   LEAKGUARD_DIR              dump directory (default: the working directory)
//   LEAKGUARD_MAX_FILES        keep at most this many of this process's dumps (default: no limit)
//   LEAKGUARD_MIN_INTERVAL_MS  coalesce signals closer together than this (default 1000)
//   LEAKGUARD_HEADROOM         skip a dump unless this many times the used heap is free
//                              (default 8, see lib/headroom.js); 'off' to always dump
//   LEAKGUARD_DIAGNOSE         1: sample memory and, on a leak alert, diagnose it in the process
//                              (onLeak: 'diagnose', docs/sampling.md#diagnosis): three snapshots,
//                              the growing collections and leak suspects on stderr, the dumps and
//                              an HTML report in LEAKGUARD_DIR
//   LEAKGUARD_DIAGNOSE_OPTIONS startSampling options as JSON (e.g. '{"diagnose":{"everyMs":600000}}')
// A preload runs before the app: a bad setting must never stop the app from starting, so every
// mistake here becomes a warning (code ERR_LEAKGUARD_INVALID_ARG, or the dump directory's
// ERR_LEAKGUARD_IO) and the app runs without dumps.

const { dumpOnSignal, startSampling } = require('..');
const { envWholeNumber } = require('./options');
const { codes } = require('./errors');

function warn(message, code) {
  process.emitWarning(`leakguard/register: ${message}; heap dumps on a signal are off`, { type: 'LeakguardWarning', code });
}

function install() {
  const env = process.env;
  try {
    return dumpOnSignal({
      signal: env.LEAKGUARD_SIGNAL || undefined,
      directory: env.LEAKGUARD_DIR || undefined,
      maxFiles: envWholeNumber('LEAKGUARD_MAX_FILES', env.LEAKGUARD_MAX_FILES, { min: 1 }),
      minIntervalMs: envWholeNumber('LEAKGUARD_MIN_INTERVAL_MS', env.LEAKGUARD_MIN_INTERVAL_MS, { max: 2 ** 31 - 1 }),
      headroom: env.LEAKGUARD_HEADROOM || undefined,
    });
  } catch (err) {
    warn(err?.message ? err.message : String(err), err?.code || codes.INTERNAL);
    return () => {};
  }
}

/** The diagnosis as a few stderr lines: what grows, what leaks, where the report is. */
function diagnosisText(d) {
  const { collectionLine } = require('./collections');
  const { formatBytes, shortPath } = require('./format');
  let s = `leakguard: leak diagnosis (heap growing ${formatBytes(d.trend.slopeBytesPerMinute)}/min; snapshots ${d.spacingMs} ms apart, longest pause ${d.cost.maxPauseMs} ms)\n`;
  for (const c of d.collections.slice(0, 3)) s += `  growing collection: ${collectionLine(c)}${c.path ? `  [${c.path.text}]` : ''}\n`;
  for (const x of d.suspects.slice(0, 3)) {
    const held = x.paths.length ? `, held by ${shortPath(x.paths[0].text)}` : '';
    s += `  leak suspect: ${x.className} ×${x.count}, retained ${formatBytes(x.retainedSize)}${held}\n`;
  }
  if (d.collections.length === 0 && d.suspects.length === 0) s += '  no growing collection and no leak suspect found\n';
  if (d.report) s += `  report: ${d.report}\n`;
  return s;
}

/** LEAKGUARD_DIAGNOSE=1: a sampler whose leak alerts are diagnosed; null when off or misconfigured. */
function installDiagnosis() {
  const env = process.env;
  const on = String(env.LEAKGUARD_DIAGNOSE ?? '')
    .trim()
    .toLowerCase();
  if (['', '0', 'false', 'off', 'no'].includes(on)) return null;
  if (!['1', 'true', 'on', 'yes'].includes(on)) {
    // a typo must not switch on event-loop-blocking snapshots in production
    process.emitWarning(
      `leakguard/register: LEAKGUARD_DIAGNOSE must be 1 or 0 (true/false, on/off), got ${JSON.stringify(env.LEAKGUARD_DIAGNOSE)}; leak diagnosis is off`,
      {
        type: 'LeakguardWarning',
        code: codes.INVALID_ARG,
      },
    );
    return null;
  }
  try {
    let extra = {};
    if (env.LEAKGUARD_DIAGNOSE_OPTIONS) {
      try {
        extra = JSON.parse(env.LEAKGUARD_DIAGNOSE_OPTIONS);
      } catch (err) {
        throw Object.assign(new Error(`LEAKGUARD_DIAGNOSE_OPTIONS is not JSON: ${err.message}`), { code: codes.INVALID_ARG });
      }
    }
    const sampler = startSampling({
      directory: env.LEAKGUARD_DIR || undefined,
      headroom: env.LEAKGUARD_HEADROOM || undefined,
      ...extra,
      onLeak: 'diagnose',
      diagnose: { report: true, ...extra?.diagnose },
    });
    sampler.on('diagnosis', (d) => process.stderr.write(diagnosisText(d)));
    // Without an 'error' listener the sampler's failures (no headroom, I/O) are LeakguardWarnings.
    return sampler;
  } catch (err) {
    process.emitWarning(`leakguard/register: ${err?.message ? err.message : String(err)}; leak diagnosis is off`, {
      type: 'LeakguardWarning',
      code: err?.code || codes.INTERNAL,
    });
    return null;
  }
}

const uninstall = install();
/** The diagnosing sampler under LEAKGUARD_DIAGNOSE=1 (listen for 'diagnosis'), else null. */
const sampler = installDiagnosis();

module.exports = { uninstall, sampler };
