'use strict';

// Option validation for every public call, with one message style:
//   `<call>({ <option> }) must be <what>, got <value>`
// Each validator returns the value to use (its default when the option is undefined) or throws
// ERR_LEAKGUARD_INVALID_ARG (a TypeError). `label` is the whole subject of the message, built
// with opt('dumpOnSignal', 'maxFiles') -> 'dumpOnSignal({ maxFiles })', or any other phrase
// ('LEAKGUARD_MAX_FILES', 'retainerPath(id)'). AbortSignal handling lives here too, so every
// call accepts the same signal-likes and fails with the same "aborted" error.

const { invalidArg, aborted } = require('./errors');

/** `fn({ name })`: the subject of an option's messages. */
function opt(fn, name) {
  return `${fn}({ ${name} })`;
}

/** A short, safe rendering of a bad value for a message (never calls user code). */
function describe(v) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  return Array.isArray(v) ? 'an array' : 'an object';
}

function fail(label, what, v) {
  return invalidArg(`${label} must be ${what}, got ${describe(v)}`);
}

/** The options argument itself: `{}` when undefined, else it must be a (non-array) object. */
function options(label, v) {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail(label, 'an object', v);
  return v;
}

function range(min, max, minExclusive) {
  const lo = min === -Infinity ? '' : `${minExclusive ? '>' : '>='} ${min}`;
  const hi = max === Infinity ? '' : `<= ${max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

/**
 * A number in [min, max] (or (min, max] with `minExclusive`), NaN never. `finite: true`
 * refuses ±Infinity, which a timer or a rate limit would silently turn into "never" or
 * "always"; `allowInfinity` lets +Infinity through past `max` (meaning "no limit").
 */
function number(label, v, { min = -Infinity, max = Infinity, minExclusive = false, finite = false, allowInfinity = false, dflt } = {}) {
  if (v === undefined) return dflt;
  if (allowInfinity && v === Infinity) return v;
  const ok = typeof v === 'number' && !Number.isNaN(v) && (!finite || Number.isFinite(v)) && (minExclusive ? v > min : v >= min) && v <= max;
  if (!ok) {
    const bounds = range(min, max, minExclusive);
    const what = `a ${finite ? 'finite ' : ''}number${bounds ? ` ${bounds}` : ''}${allowInfinity ? ' (or Infinity)' : ''}`;
    throw fail(label, what, v);
  }
  return v;
}

/** A whole number in [min, max] (default 0 .. 2^53-1); `allowInfinity` for "no limit". */
function wholeNumber(label, v, { min = 0, max = Number.MAX_SAFE_INTEGER, allowInfinity = false, dflt } = {}) {
  if (v === undefined) return dflt;
  if (allowInfinity && v === Infinity) return v;
  if (!Number.isInteger(v) || v < min || v > max) {
    const hi = max === Number.MAX_SAFE_INTEGER ? '' : ` and <= ${max}`;
    throw fail(label, `a whole number >= ${min}${hi}${allowInfinity ? ' (or Infinity)' : ''}`, v);
  }
  return v;
}

/** A finite number > 0. */
function positive(label, v, { dflt } = {}) {
  return number(label, v, { min: 0, minExclusive: true, finite: true, dflt });
}

/** One of `values` (compared with ===). */
function oneOf(label, v, values, { dflt } = {}) {
  if (v === undefined) return dflt;
  if (!values.includes(v)) {
    const list = values.map((x) => (typeof x === 'string' ? `'${x}'` : String(x)));
    const what = list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
    throw fail(label, what, v);
  }
  return v;
}

/** true or false. */
function bool(label, v, { dflt } = {}) {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw fail(label, 'true or false', v);
  return v;
}

/** An optional function. */
function func(label, v) {
  if (v !== undefined && typeof v !== 'function') throw fail(label, 'a function', v);
  return v;
}

/** A string; `nonEmpty` refuses ''; a NUL byte is always refused (it cannot name a file). */
function string(label, v, { nonEmpty = false, dflt } = {}) {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || (nonEmpty && v === '')) throw fail(label, nonEmpty ? 'a non-empty string' : 'a string', v);
  if (v.includes('\0')) throw invalidArg(`${label} must not contain a NUL byte`);
  return v;
}

/** An array of strings. */
function stringArray(label, v, { dflt = [] } = {}) {
  if (v === undefined) return dflt;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw fail(label, 'an array of strings', v);
  return v;
}

/**
 * A whole number from an environment variable: undefined when unset or empty, else the
 * strict decimal value checked like wholeNumber ('10k', '1e3', ' 5' are refused).
 */
function envWholeNumber(name, raw, spec = {}) {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw invalidArg(`${name} must be a whole number, got ${describe(raw)}`);
  return wholeNumber(name, Number(raw), spec);
}

/**
 * An AbortSignal or a look-alike: an object whose `aborted` is a boolean and which has an
 * `addEventListener` method. `removeEventListener` is optional (see onAbort).
 */
function abortSignal(label, v) {
  if (v === undefined) return undefined;
  let ok = false;
  try {
    ok = v !== null && typeof v === 'object' && typeof v.aborted === 'boolean' && typeof v.addEventListener === 'function';
  } catch {
    /* a throwing getter: not a usable signal */
  }
  if (!ok) throw fail(label, 'an AbortSignal', v);
  return v;
}

/** Throws the one "aborted" error when `signal` is already aborted. */
function throwIfAborted(signal) {
  if (signal?.aborted) throw aborted(signal.reason);
}

/**
 * Calls `handler` once when `signal` aborts; returns a function that detaches it and never
 * throws. A signal-like without removeEventListener (or whose methods throw) is handled by a
 * flag instead: a late abort then does nothing, so no promise is left pending and nothing is
 * rejected unhandled.
 */
function onAbort(signal, handler) {
  if (!signal) return () => {};
  let live = true;
  const listener = () => {
    if (!live) return;
    live = false;
    handler(signal.reason);
  };
  try {
    signal.addEventListener('abort', listener, { once: true });
  } catch (err) {
    throw invalidArg(`the AbortSignal's addEventListener threw: ${err?.message}`);
  }
  return function detach() {
    live = false;
    try {
      if (typeof signal.removeEventListener === 'function') signal.removeEventListener('abort', listener);
    } catch {
      /* the flag already made the listener inert */
    }
  };
}

module.exports = {
  opt,
  describe,
  options,
  number,
  wholeNumber,
  positive,
  oneOf,
  bool,
  func,
  string,
  stringArray,
  envWholeNumber,
  abortSignal,
  throwIfAborted,
  onAbort,
  aborted,
};
