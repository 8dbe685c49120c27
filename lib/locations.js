'use strict';

// Source locations as people read them (docs/locations.md). The core gives locations as V8
// names scripts: absolute paths for CommonJS, file:// URLs for ES modules, node: for Node's
// own code. Here they become what an editor or terminal wants: paths under the working
// directory relative to it, everything else as it is. Also: the holder of a leak as a
// variable of a place in the code, and allocation stacks as text and as a bottom-up tree.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');

// `url:line:column` (or `url` alone when only the script is known).
const LOCATION = /^(.*?)(?::(\d+):(\d+))?$/;

/**
 * A script name for display: an absolute path under `cwd` becomes relative (`lib/a.js`);
 * `file://` URLs, `node:` internals and paths elsewhere stay as they are.
 * @param {string} url
 * @param {string} [cwd=process.cwd()]
 * @returns {string}
 */
function displayUrl(url, cwd = process.cwd()) {
  if (typeof url !== 'string' || url === '') return '<anonymous>';
  if (!path.isAbsolute(url) || url.startsWith('file:') || url.startsWith('node:')) return url;
  const base = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  return url.startsWith(base) ? url.slice(base.length) : url;
}

/**
 * A core location (`url:line:column`, 1-based) for display, with the path shortened by
 * displayUrl. Anything else (null, a number) gives ''.
 * @param {string | null | undefined} loc
 * @param {string} [cwd]
 * @returns {string}
 */
function displayLocation(loc, cwd) {
  if (typeof loc !== 'string' || loc === '') return '';
  const m = LOCATION.exec(loc);
  return m[2] ? `${displayUrl(m[1], cwd)}:${m[2]}:${m[3]}` : displayUrl(m[1], cwd);
}

/**
 * A retainer path's text with each ` @ location` the core wrote shortened by displayLocation.
 * A location runs to the `)` that closes its step, or to the next ` → `.
 * @param {string} text
 * @param {string} [cwd]
 * @returns {string}
 */
function displayPathText(text, cwd) {
  if (typeof text !== 'string') return '';
  return text.replace(/ @ (.+?)(?=\)(?: → |$)| → |$)/g, (_, loc) => ` @ ${displayLocation(loc, cwd)}`);
}

// Source files read for declaration lines, by path (a report or a CLI run reads few).
const sources = new Map();
const MAX_SOURCE = 8 << 20;

/** The lines of the local file a script name points to; null when it is not readable. */
function sourceLines(url) {
  let file = url;
  try {
    if (url.startsWith('file:')) file = fileURLToPath(url);
  } catch {
    return null;
  }
  if (!path.isAbsolute(file)) return null;
  if (!sources.has(file)) {
    let lines = null;
    try {
      if (fs.statSync(file).size <= MAX_SOURCE) lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
    } catch {
      lines = null;
    }
    sources.set(file, lines);
  }
  return sources.get(file);
}

/**
 * The 1-based line declaring variable `name` (const/let/var, function, class, or a
 * destructuring of one) at or after line `from` of the local file `url`; 0 when the file is
 * not readable or has no such line. The snapshot names the variable but not its line, so this
 * reads the file as it is now: a file edited since the dump can point elsewhere.
 */
function declarationLine(url, name, from = 1) {
  const lines = typeof url === 'string' && typeof name === 'string' && /^[\p{L}\p{N}_$]+$/u.test(name) ? sourceLines(url) : null;
  if (!lines) return 0;
  const id = name.replace(/\$/g, '\\$');
  const re = new RegExp(
    `(?:\\b(?:const|let|var|class)\\s+|\\bfunction\\s*\\*?\\s*|\\b(?:const|let|var)\\s*[\\[{][^=]*?[\\s,{\\[])${id}(?![\\p{L}\\p{N}_$])`,
    'u',
  );
  for (let i = Math.max(0, from - 1); i < lines.length; i++) if (re.test(lines[i])) return i + 1;
  return 0;
}

/**
 * Where the variable holding a leak lives, for `held by: x (Map), a variable of …`: the step
 * shortPath starts from (the last `->name` context variable before the object), its
 * declaration line when the script is a readable local file, else its context's function,
 * and, when only that function's file is known (a module's top-level code has finished), the
 * closure through which the path reached the context.
 * @param {{ steps: Array<{ edge: { type: string, name: string } | null, location?: string }> } | null} p
 * @param {string} [cwd]
 * @returns {string} e.g. `lib/a.js:9`, `lib/a.js:12:3`, `lib/a.js (closure at lib/a.js:20:18)`, or ''
 */
function holderLocation(p, cwd) {
  const steps = p && Array.isArray(p.steps) ? p.steps : [];
  // The object's own edge counts too (`->cache → Array`), as in shortPath.
  for (let i = steps.length - 1; i >= 1; i--) {
    if (steps[i].edge?.type !== 'context') continue;
    const ctx = steps[i - 1].location;
    const closure = i >= 2 ? steps[i - 2].location : undefined;
    const known = ctx || closure;
    if (!known) return '';
    const m = LOCATION.exec(ctx || '');
    const url = ctx ? m[1] : LOCATION.exec(closure)[1];
    const line = declarationLine(url, steps[i].edge.name, ctx && m[2] ? Number(m[2]) : 1);
    if (line > 0) return `${displayUrl(url, cwd)}:${line}`;
    if (ctx && m[2]) return displayLocation(ctx, cwd);
    if (ctx && closure) return `${displayLocation(ctx, cwd)} (closure at ${displayLocation(closure, cwd)})`;
    return displayLocation(known, cwd);
  }
  return '';
}

/**
 * One allocation frame as `functionName (url:line:column)`; `(anonymous)` for unnamed
 * functions.
 * @param {{ functionName: string, url: string, line: number, column: number }} f
 * @param {string} [cwd]
 * @returns {string}
 */
function frameText(f, cwd) {
  const where = f.line > 0 ? `${displayUrl(f.url, cwd)}:${f.line}:${f.column}` : displayUrl(f.url, cwd);
  return `${f.functionName || '(anonymous)'} (${where})`;
}

/**
 * Whether a frame is Node's or V8's own code, not the user's (node: internals, `(V8 API)`).
 * @param {{ url: string, functionName: string }} f
 */
function isInternalFrame(f) {
  return f.url.startsWith('node:') || f.url === '' || f.functionName.startsWith('(');
}

/**
 * The frame a person looks at first: the first frame in user code (objects Node's modules
 * allocate are attributed to the nearest user frame that led there), else the first frame.
 * @param {Array<{ functionName: string, url: string, line: number, column: number }>} frames
 */
function userFrame(frames) {
  return frames.find((f) => !isInternalFrame(f)) || frames[0] || null;
}

/**
 * Allocation sites ({ frames, count, size }, allocating function first) merged into a
 * bottom-up tree: the roots are the allocating functions, each node's children its callers,
 * siblings biggest first. `depth` caps the tree's height.
 * @param {Array<{ frames: Array<object>, count: number, size: number }>} sites
 * @param {number} [depth=8]
 * @returns {Array<{ frame: object, count: number, size: number, children: Array<object> }>}
 */
function bottomUpTree(sites, depth = 8) {
  const roots = [];
  for (const s of sites || []) {
    let level = roots;
    for (const f of s.frames.slice(0, depth)) {
      let node = level.find((n) => n.frame.functionName === f.functionName && n.frame.url === f.url && n.frame.line === f.line && n.frame.column === f.column);
      if (!node) {
        node = { frame: f, count: 0, size: 0, children: [] };
        level.push(node);
      }
      node.count += s.count;
      node.size += s.size;
      level = node.children;
    }
  }
  const sort = (list) => {
    list.sort((a, b) => b.size - a.size || b.count - a.count);
    for (const n of list) sort(n.children);
    return list;
  };
  return sort(roots);
}

module.exports = {
  displayUrl,
  displayLocation,
  displayPathText,
  declarationLine,
  holderLocation,
  frameText,
  isInternalFrame,
  userFrame,
  bottomUpTree,
  sourceLines,
};
