'use strict';

// `node -r leakguard/register app.js`: dump on a signal, configured from the environment.
//   LEAKGUARD_SIGNAL           signal name (default SIGUSR2)
//   LEAKGUARD_DIR              dump directory (default: the working directory)
//   LEAKGUARD_MAX_FILES        keep at most this many dumps (default: no limit)
//   LEAKGUARD_MIN_INTERVAL_MS  coalesce signals closer together than this (default 1000)

const { dumpOnSignal } = require('..');
const { invalidArg } = require('./errors');

function intFromEnv(name) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw invalidArg(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return n;
}

const uninstall = dumpOnSignal({
  signal: process.env.LEAKGUARD_SIGNAL || undefined,
  directory: process.env.LEAKGUARD_DIR || undefined,
  maxFiles: intFromEnv('LEAKGUARD_MAX_FILES'),
  minIntervalMs: intFromEnv('LEAKGUARD_MIN_INTERVAL_MS'),
});

module.exports = { uninstall };
