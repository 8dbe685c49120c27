'use strict';

// Which frames of a call stack are the program's own: what the leak check shows as a leak's
// allocation site, and what its survivor rounds count as a site at all (lib/survivors.js).
// Node's internals, leakguard's own code and the test runners' packages are not the program's.

const path = require('node:path');
const v8 = require('node:v8');

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

const V8_MAJOR = Number.parseInt(process.versions.v8, 10);
const STARTED_WITH = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)];
/**
 * V8's inlining flags, each with whether it is on in this process: on by default (Maglev's
 * since V8 12, Node 22; `node --v8-options` tells) unless the process was started without it.
 */
const INLINING = [
  { name: 'turbo-inlining', dflt: true },
  { name: 'maglev-inlining', dflt: V8_MAJOR >= 12 },
].map(({ name, dflt }) => {
  const under = name.replace('-', '_');
  const given = STARTED_WITH.filter((a) => [`--${name}`, `--no-${name}`, `--${under}`, `--no_${under}`].includes(a)).pop();
  return { name, on: given === undefined ? dflt : !given.startsWith('--no') };
});
let inliningOff = 0;

/**
 * Turns V8's inlining off until the returned function is called (nested calls count). V8's heap
 * profilers walk physical frames only: a function inlined into its caller vanishes from every
 * allocation stack, and optimised code inlines small hot functions (`readChunk` into its caller,
 * the function under test into the check's own call loop, which is then cut with everything
 * above it), so a leak's allocation site would depend on what the JIT did (measured on Node 24:
 * `buffer` instead of `readChunk ← buffer`). The flags are read when a function is optimised,
 * so this holds for code optimised from now on; afterwards each flag is as it was.
 */
function withoutInlining() {
  if (inliningOff++ === 0) for (const f of INLINING) v8.setFlagsFromString(`--no-${f.name}`);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--inliningOff === 0) for (const f of INLINING) if (f.on) v8.setFlagsFromString(`--${f.name}`);
  };
}

module.exports = { OWN_DIR, RUNNER, isNode, userStack, withoutInlining };
