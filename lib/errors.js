'use strict';

/** Stable error codes; users and tests match on these, so never rename one. */
const codes = Object.freeze({
  PARSE: 'ERR_LEAKGUARD_PARSE',
  IO: 'ERR_LEAKGUARD_IO',
  INVALID_ARG: 'ERR_LEAKGUARD_INVALID_ARG',
  ABORTED: 'ERR_LEAKGUARD_ABORTED',
  MISMATCH: 'ERR_LEAKGUARD_MISMATCH',
  TOO_LARGE: 'ERR_LEAKGUARD_TOO_LARGE',
  INTERNAL: 'ERR_LEAKGUARD_INTERNAL',
  LEAK: 'ERR_LEAKGUARD_LEAK',
  TIMEOUT: 'ERR_LEAKGUARD_TIMEOUT',
  // No compiled addon for this platform (lib/native.js): only the Rust-backed calls fail.
  NO_BINARY: 'ERR_LEAKGUARD_NO_BINARY',
  // A dump skipped because writing it could exhaust the memory left (lib/headroom.js).
  NO_HEADROOM: 'ERR_LEAKGUARD_NO_HEADROOM',
  // A user callback (onDump) threw: its error is the cause; the dump itself was written.
  CALLBACK: 'ERR_LEAKGUARD_CALLBACK',
});

function assignExtra(err, extra) {
  for (const [k, v] of Object.entries(extra)) if (k !== 'cause' && v !== undefined) err[k] = v;
}

/**
 * Every error leakguard raises: an Error with a stable `code`. Invalid-argument errors are
 * InvalidArgError instances, which are TypeErrors (as Node's own argument errors are) and still
 * pass `instanceof LeakguardError`.
 */
class LeakguardError extends Error {
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'LeakguardError';
    this.code = code;
    assignExtra(this, extra);
  }

  // One class cannot extend both Error and TypeError: instanceof LeakguardError also accepts
  // InvalidArgError, so callers can keep testing for either.
  static [Symbol.hasInstance](value) {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about (a subclass too)
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // biome-ignore lint/complexity/noThisInStatic: only LeakguardError itself, never a subclass, includes them
    return this === LeakguardError && value instanceof InvalidArgError;
  }
}

/** ERR_LEAKGUARD_INVALID_ARG: a TypeError named 'TypeError', `instanceof LeakguardError` too. */
class InvalidArgError extends TypeError {
  constructor(message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'TypeError';
    this.code = codes.INVALID_ARG;
    assignExtra(this, extra);
  }
}

// napi-rs statuses that mean a wrong argument type.
const NAPI_ARG_STATUS = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NumberExpected',
  'BooleanExpected',
  'FunctionExpected',
  'ArrayExpected',
  'BigintExpected',
]);

/**
 * The binding prefixes every message with its code ("ERR_LEAKGUARD_PARSE: …") because
 * napi-rs async rejections cannot carry properties; this turns it back into `err.code`.
 */
function fromNative(err) {
  if (err instanceof LeakguardError) return err;
  const m = /^(ERR_LEAKGUARD_[A-Z_]+): ([\s\S]*)$/.exec(err?.message);
  // napi-rs checks `this` and argument types before leakguard's code runs (a method called on
  // another object: "Illegal invocation", or a napi status as the code): the caller's mistake.
  if (!m && (NAPI_ARG_STATUS.has(err?.code) || /Illegal invocation/.test(err?.message))) {
    return new InvalidArgError(`wrong object or value passed to a native call: ${err.message}`, { cause: err });
  }
  if (!m) return new LeakguardError(codes.INTERNAL, String(err?.message), { cause: err });
  const extra = {};
  const at = /at byte (\d+)$/.exec(m[2]);
  if (at) extra.offset = Number(at[1]);
  return create(m[1], m[2], extra);
}

/** An error for `code`: InvalidArgError (a TypeError) for ERR_LEAKGUARD_INVALID_ARG. */
function create(code, message, extra = {}) {
  return code === codes.INVALID_ARG ? new InvalidArgError(message, extra) : new LeakguardError(code, message, extra);
}

/** Wraps a Node fs/v8 error as ERR_LEAKGUARD_IO, keeping errno details. */
function ioError(message, cause, path) {
  return new LeakguardError(codes.IO, `${message}: ${cause?.message ? cause.message : cause}`, {
    cause,
    path,
    syscall: cause?.syscall,
    errno: cause?.code,
  });
}

/** An argument error (ERR_LEAKGUARD_INVALID_ARG, a TypeError). */
function invalidArg(message) {
  return new InvalidArgError(message);
}

/** The one "aborted" error: ERR_LEAKGUARD_ABORTED with the signal's reason as its cause. */
function aborted(reason) {
  return new LeakguardError(codes.ABORTED, 'the operation was aborted', { cause: reason });
}

module.exports = { codes, LeakguardError, InvalidArgError, create, fromNative, ioError, invalidArg, aborted };
