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
});

/** Every error leakguard raises: an Error with a stable `code`. */
class LeakguardError extends Error {
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = code === codes.INVALID_ARG ? 'TypeError' : 'LeakguardError';
    this.code = code;
    for (const [k, v] of Object.entries(extra)) if (k !== 'cause' && v !== undefined) this[k] = v;
  }
}

/**
 * The binding prefixes every message with its code ("ERR_LEAKGUARD_PARSE: …") because
 * napi-rs async rejections cannot carry properties; this turns it back into `err.code`.
 */
function fromNative(err) {
  if (err instanceof LeakguardError) return err;
  const m = /^(ERR_LEAKGUARD_[A-Z_]+): ([\s\S]*)$/.exec(err && err.message);
  if (!m) return new LeakguardError(codes.INTERNAL, String(err && err.message), { cause: err });
  const extra = {};
  const at = /at byte (\d+)$/.exec(m[2]);
  if (at) extra.offset = Number(at[1]);
  return new LeakguardError(m[1], m[2], extra);
}

/** Wraps a Node fs/v8 error as ERR_LEAKGUARD_IO, keeping errno details. */
function ioError(message, cause, path) {
  return new LeakguardError(codes.IO, `${message}: ${cause && cause.message ? cause.message : cause}`, {
    cause,
    path,
    syscall: cause && cause.syscall,
    errno: cause && cause.code,
  });
}

function invalidArg(message) {
  return new LeakguardError(codes.INVALID_ARG, message);
}

function aborted(reason) {
  return new LeakguardError(codes.ABORTED, 'the operation was aborted', { cause: reason });
}

module.exports = { codes, LeakguardError, fromNative, ioError, invalidArg, aborted };
