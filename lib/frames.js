'use strict';

// Which frames of a call stack are the program's own: what the leak check shows as a leak's
// allocation site, and what its survivor rounds count as a site at all (lib/survivors.js).
// Node's internals, leakguard's own code and the test runners' packages are not the program's.

const path = require('node:path');

/** leakguard's lib/ directory: the check's own call loop and everything below it. */
const OWN_DIR = __dirname + path.sep;

/** Node's own code (and frames with no script). */
const isNode = (url) => !url || url.startsWith('node:') || url.startsWith('internal/');

/** Frames of test runners' own packages (Jest, Vitest, Mocha). */
const RUNNER = /[\\/]node_modules[\\/](?:jest|jest-[^\\/]+|@jest[\\/][^\\/]+|jest-circus|vitest|@vitest[\\/][^\\/]+|tinypool|mocha)[\\/]/;

/**
 * An allocation stack (allocating frame first, `{ functionName, url, line, column }`) as the
 * program sees it: cut where leakguard's call loop called the function under test (what called
 * it is the same for every call), and started at the nearest frame outside Node's internals, so
 * that an object Node made for the program (an IncomingMessage, a Buffer's pool) is put down to
 * the program's call that led there. At most `max` frames; empty when nothing is left (the
 * object was made by leakguard itself).
 */
function userStack(frames, max = 8) {
  const cut = frames.findIndex((f) => f.url.startsWith(OWN_DIR));
  const mine = cut >= 0 ? frames.slice(0, cut) : frames;
  const user = mine.findIndex((f) => !isNode(f.url));
  return (user > 0 ? mine.slice(user) : mine).slice(0, max);
}

module.exports = { OWN_DIR, RUNNER, isNode, userStack };
