'use strict';

// `node -r leakguard/register app.js`: dump on a signal, configured from the environment.
//   LEAKGUARD_SIGNAL           signal name (default SIGUSR2; never SIGTERM, SIGINT, SIGHUP, SIGQUIT)
//   LEAKGUARD_DIR              dump directory (default: the working directory)
//   LEAKGUARD_MAX_FILES        keep at most this many of this process's dumps (default: no limit)
//   LEAKGUARD_MIN_INTERVAL_MS  coalesce signals closer together than this (default 1000)
//   LEAKGUARD_HEADROOM         skip a dump unless this many times the used heap is free
//                              (default 8, see lib/headroom.js); 'off' to always dump
// A preload runs before the app: a bad setting must never stop the app from starting, so every
// mistake here becomes a warning (code ERR_LEAKGUARD_INVALID_ARG, or the dump directory's
// ERR_LEAKGUARD_IO) and the app runs without dumps.

const { dumpOnSignal } = require('..');
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

const uninstall = install();

module.exports = { uninstall };
