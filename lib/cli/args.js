'use strict';

// Argument parsing for the command line: util.parseArgs in strict mode plus validators that
// turn a bad value into a UsageError (exit code 2), never into an engine error (exit code 3).
// The exit codes live here so that the commands and index.js share them without a cycle.

const { parseArgs } = require('node:util');

/** A mistake in the command line itself: printed with the command's usage, exit code 2. */
class UsageError extends Error {
  /**
   * @param {string} message
   * @param {string} [command] the command whose usage to print
   */
  constructor(message, command) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/**
 * The exit codes of `leakguard`. 1 means one thing, "leak suspects found" (leaks), so a CI gate
 * can tell a leak from a broken run: an unreadable or corrupt file, an I/O error or a bug is 3.
 */
const EXIT = Object.freeze({ OK: 0, LEAKS: 1, USAGE: 2, ERROR: 3, INTERRUPTED: 130 });

/** The largest count the engine accepts (u32). */
const U32_MAX = 4294967295;

/**
 * Parses `argv` for one command. `spec.options` is util.parseArgs' option table; `spec.min` /
 * `spec.max` bound the number of positionals and `spec.names` names them for messages.
 * @returns {{ values: object, positionals: string[] }}
 */
function parse(command, argv, spec) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec.options, allowPositionals: true, strict: true });
  } catch (err) {
    // util.parseArgs' own messages are good ("Unknown option '--foo'"); keep them, minus the
    // long hint about '--' that only confuses on a usage error.
    if (err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' '), command);
    }
    throw err;
  }
  const { positionals } = parsed;
  if (positionals.length < spec.min) {
    throw new UsageError(
      `missing ${spec.names
        .slice(positionals.length, spec.min)
        .map((n) => `<${n}>`)
        .join(' ')}`,
      command,
    );
  }
  if (spec.max !== Infinity && positionals.length > spec.max) {
    throw new UsageError(`unexpected argument '${positionals[spec.max]}'`, command);
  }
  for (const p of positionals) {
    if (p === '') throw new UsageError('empty file name', command);
  }
  return parsed;
}

/**
 * A whole number >= 0 from a flag value (`--top 20`); `dflt` when the flag is absent.
 * @param {string|undefined} value
 * @param {string} flag e.g. '--top'
 * @param {number} dflt
 * @param {string} command
 */
function wholeNumber(value, flag, dflt, command) {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value) || Number(value) > U32_MAX) {
    throw new UsageError(`${flag} must be a whole number >= 0, got '${value}'`, command);
  }
  return Number(value);
}

/** One of `choices` from a flag value; `choices[0]` when absent. */
function oneOf(value, flag, choices, command) {
  if (value === undefined) return choices[0];
  if (!choices.includes(value)) {
    throw new UsageError(`${flag} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got '${value}'`, command);
  }
  return value;
}

/** A V8 object id from a positional: a whole number in the engine's id range. */
function objectId(value, command) {
  // V8 prints ids as `@123` in DevTools; accept that spelling too.
  const v = value.startsWith('@') ? value.slice(1) : value;
  if (!/^\d+$/.test(v) || Number(v) > U32_MAX) {
    throw new UsageError(`<id> must be a V8 object id (a whole number >= 0, as in '@123'), got '${value}'`, command);
  }
  return Number(v);
}

module.exports = { EXIT, UsageError, parse, wholeNumber, oneOf, objectId, U32_MAX };
