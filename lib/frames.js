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
  // V8's trace names an anonymous function '', its sampling profiler '(anonymous)': one name
  return (user > 0 ? mine.slice(user) : mine).slice(0, max).map((f) => (f.functionName ? f : { ...f, functionName: '(anonymous)' }));
}

/** How far from V8's line a test runner's transform has been seen to move a function (lines). */
const SHIFT = 40;

const escapeRe = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The column (1-based) where V8 places a definition of function `name` on `line`, or 0: the `(`
 * of its parameter list for `function name(`, a method `name(…) {` at the start of a line, and
 * `name = (` / `name: async function (`; the parameter of `name = x =>`; the `constructor(` of
 * a class with one (`ctor`), the `class` keyword of one without. Calls (`name(1);`,
 * `new Name(`, `obj.name(`) are not definitions.
 */
function definitionColumn(line, name, ctor) {
  const n = escapeRe(name);
  // (every pattern has the `d` flag: group 1's start is the place)
  const col = (re) => {
    const m = re.exec(line);
    return m ? m.indices[1][0] + 1 : 0;
  };
  if (ctor === 'explicit') return col(/\bconstructor\s*(\()/du);
  if (ctor === 'implicit') return col(new RegExp(`(?:^|[^\\w$.])(class)\\s+${n}\\b`, 'du'));
  return (
    col(new RegExp(`(?:^|[^\\w$.])function\\s*\\*?\\s*${n}\\s*(\\()`, 'du')) ||
    // a method: at the start of its line, its body opened there or its parameters running on
    (/(?:\{|\(|,)\s*$/u.test(line) && !/;\s*$/u.test(line)
      ? col(new RegExp(`^\\s*(?:(?:static|async|get|set|override|public|private|protected|readonly)\\s+)*\\*?\\s*(?:['"]${n}['"]|\\[?${n}\\]?)\\s*(\\()`, 'du'))
      : 0) ||
    col(new RegExp(`(?:^|[^\\w$.])['"]?${n}['"]?\\s*[:=](?![=>])\\s*(?:async\\s*)?(?:function\\s*\\*?\\s*[\\w$]*\\s*)?(\\()`, 'du')) ||
    col(new RegExp(`(?:^|[^\\w$.])['"]?${n}['"]?\\s*[:=](?![=>])\\s*(?:async\\s+)?([\\w$]+)\\s*=>`, 'du'))
  );
}

/**
 * A frame whose line and column were checked against the source file on disk. V8 places a
 * function at its code as V8 ran it, and a test runner runs code it has transformed (Jest's
 * module wrapper and Babel, Vitest's module rewriting: measured one and three lines off): the
 * line V8 gives must define the function there (definitionColumn), else the nearest line
 * within SHIFT that does is taken, else the line and column are dropped (0: only the file is
 * shown) rather than point at the wrong place. Frames of files that cannot be read (node:
 * internals, gone files) and of anonymous functions are kept as V8 gives them.
 * `sourceLines(url)`: the file's lines, or null.
 */
function checkedFrame(f, sourceLines) {
  const name = f.functionName;
  if (!name || name === '(anonymous)' || !(f.line > 0)) return f;
  const lines = sourceLines(f.url);
  if (!lines) return f;
  // A class's objects are made in its constructor, which V8 names after the class.
  const classRe = new RegExp(`(?:^|[^\\w$.])class\\s+${escapeRe(name)}\\b`, 'u');
  const classLine = lines.findIndex((l) => classRe.test(l));
  // its body: up to the `}` at the class line's indentation
  const indent = classLine >= 0 ? /^\s*/u.exec(lines[classLine])[0] : '';
  const end = classLine >= 0 ? lines.findIndex((l, i) => i > classLine && l.startsWith(`${indent}}`)) : -1;
  const body = classLine >= 0 ? lines.slice(classLine, end > classLine ? end + 1 : lines.length) : [];
  const ctor = classLine < 0 ? null : body.some((l) => /\bconstructor\s*\(/u.test(l)) ? 'explicit' : 'implicit';
  const at = (i) => {
    if (i < 0 || i >= lines.length) return 0;
    if (ctor && (i < classLine || i >= classLine + body.length)) return 0;
    return definitionColumn(lines[i], name, ctor);
  };
  if (at(f.line - 1) === f.column) return f;
  for (let d = 0; d <= SHIFT; d++) {
    for (const i of d === 0 ? [f.line - 1] : [f.line - 1 - d, f.line - 1 + d]) {
      const column = at(i);
      if (column > 0) return { ...f, line: i + 1, column };
    }
  }
  return { ...f, line: 0, column: 0 };
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

/**
 * Turns V8's inlining off until the returned function is called. V8's heap profilers walk
 * physical frames only: a function inlined into its caller vanishes from every allocation
 * stack, and optimised code inlines small hot functions (`readChunk` into its caller, the
 * function under test into the check's own call loop, which is then cut with everything above
 * it), so a leak's allocation site would depend on what the JIT did (measured on Node 24:
 * `buffer` instead of `readChunk ← buffer`). The flags are read when a function is optimised,
 * so this holds for code optimised from now on. The flags are the process's while each worker
 * thread has its own copy of this file, so the checks running are counted in the addon, once
 * per process (leakguard_core::holds): the first turns inlining off, the last puts each flag
 * back as the process had it.
 */
function withoutInlining() {
  const { binding } = require('./native');
  if (binding().inliningHolds(1) === 1) for (const f of INLINING) v8.setFlagsFromString(`--no-${f.name}`);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (binding().inliningHolds(-1) === 0) for (const f of INLINING) if (f.on) v8.setFlagsFromString(`--${f.name}`);
  };
}

module.exports = { OWN_DIR, RUNNER, isNode, userStack, withoutInlining, checkedFrame };
