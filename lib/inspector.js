'use strict';

// The in-process inspector session that leakguard's live-heap work shares: the leak check's
// sampling rounds (lib/survivors.js) and the naming of block-scoped holders (lib/scopes.js).
//
// One session per isolate, connected once and never disconnected: when a session that enabled
// the HeapProfiler domain goes away, V8 clears its heap object ids, so snapshots taken before
// and after (a user's takeSnapshot around a checkLeak, or a check running at the same time)
// could no longer be compared. The session is kept on the `inspector` module object under a
// Symbol.for key because Jest and Vitest load this file once per test file while core modules
// are loaded once per thread.

const KEY = Symbol.for('leakguard.inspectorSession');

/** The shared connected session, or null where there is no inspector (node --without-inspector). */
function session() {
  let inspector;
  try {
    inspector = require('node:inspector');
  } catch {
    return null;
  }
  if (!Object.hasOwn(inspector, KEY)) {
    let s = null;
    try {
      s = new inspector.Session();
      s.connect();
    } catch {
      s = null;
    }
    Object.defineProperty(inspector, KEY, { value: s });
  }
  return inspector[KEY];
}

/** Posts a command and resolves with its result. */
function post(method, params = {}) {
  const s = session();
  if (!s) return Promise.reject(new Error('no inspector in this process'));
  return new Promise((resolve, reject) => {
    s.post(method, params, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * Posts a command that an in-process session answers before `post` returns (they all do
 * today) and returns its result; throws its error, or if it was not answered synchronously.
 */
function postSync(method, params = {}) {
  const s = session();
  if (!s) throw new Error('no inspector in this process');
  let done = false;
  let error = null;
  let result;
  s.post(method, params, (err, r) => {
    done = true;
    error = err;
    result = r;
  });
  if (!done) throw new Error(`inspector ${method} did not answer synchronously`);
  if (error) throw error;
  return result;
}

module.exports = { session, post, postSync };
