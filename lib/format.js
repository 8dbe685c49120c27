'use strict';

// The words and numbers leakguard prints, in one place: the assertion messages, the CLI and the
// HTML report show the same byte counts and the same holder paths. The three number formatters
// use nothing but the language itself, because the report's browser script embeds them too.

/**
 * Formats a byte count with 1024-based units: `512 B`, `1.5 KB`, `23.4 MB`, `1.02 GB`
 * (one decimal for KB and MB, two from GB on). Negative values keep their sign (`-3.0 MB`).
 * Anything that is not a finite number gives `–`.
 * Self-contained on purpose: the report page's script embeds this very function.
 * @param {number} n bytes
 * @returns {string}
 */
function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '\u2013';
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  const sign = n < 0 ? '-' : '';
  let a = Math.abs(n);
  if (Math.round(a) < 1024) {
    a = Math.round(a);
    return (a === 0 ? '' : sign) + a + ' B';
  }
  let i = -1;
  let s;
  do {
    a /= 1024;
    i++;
    s = a.toFixed(i >= 2 ? 2 : 1);
  } while (Number(s) >= 1024 && i < units.length - 1); // 1023.97 KB rounds to 1024.0: next unit
  return sign + s + ' ' + units[i];
}

/**
 * Formats a change in bytes with an explicit sign: `+3.0 MB`, `-3.0 MB`, `0 B`.
 * @param {number} n bytes (may be negative)
 * @returns {string}
 */
function formatDelta(n) {
  const s = formatBytes(n);
  return typeof n === 'number' && n > 0 && s !== '0 B' ? '+' + s : s;
}

/**
 * Formats a count with thousands separators: `12,345`; with `signed`, positive values get a
 * `+` (`+1,200`, `-3`, `0`). Anything that is not a finite number gives `–`.
 * @param {number} n
 * @param {boolean} [signed=false]
 * @returns {string}
 */
function formatCount(n, signed) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '\u2013';
  const r = Math.round(n);
  const s = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (r < 0 ? '-' : signed && r > 0 ? '+' : '') + s;
}

// Property names on the way that say nothing about who holds the objects.
const PLUMBING = new Set(['.__proto__', '.constructor', '.prototype', '.exports', '.children', '.value']);

// V8 14 (Node 26) makes the native context the root's user root and hangs the global object off
// it, so a path through a global reads `(system) → {security_token} (global (global*)) → .x`
// where older V8 gave `global → .x`. The same holder gets the same words on every Node.
const NATIVE_CONTEXT_HEAD = /^\(system\) → \{(?:global_object|security_token)\} \(global(?: \(global\*?\))?\)(?= → )/;

/**
 * The part of a retainer path a person reads: from the last variable (`->name`, a closure or
 * module variable) or, failing that, the last meaningful property (`.name`) before the
 * Map/array/listener internals, to the leaked object. `->sessionStore (Map) → {table} (array)
 * → [] → Session` reads better as `sessionStore (Map) → {table} (array) → [] → Session`.
 */
function shortPath(text) {
  if (typeof text !== 'string' || !text) return '';
  text = text.replace(NATIVE_CONTEXT_HEAD, 'global');
  const parts = text.split(' → ');
  if (parts.length < 3) return text;
  let start = -1;
  for (let i = parts.length - 2; i >= 1 && start < 0; i--) if (parts[i].startsWith('->')) start = i;
  // Properties: skip `_private` ones and the keys inside them (`bus._events.data` is held by `bus`).
  const prop = (i) => parts[i].replace(/ \(.*\)$/, '');
  for (let i = parts.length - 2; i >= 1 && start < 0; i--) {
    const name = prop(i);
    if (!name.startsWith('.') || PLUMBING.has(name) || /^\.\d+$/.test(name) || name.startsWith('._')) continue;
    if (i > 1 && prop(i - 1).startsWith('._')) continue;
    start = i;
  }
  // Nothing to cut, or the holder hangs right off the root (`global → .x`): keep it all.
  if (start < 0 || (start === 1 && parts[1].startsWith('.'))) return text;
  const head = parts[start].replace(/^(->|\.)/, '');
  return [head, ...parts.slice(start + 1)].join(' → ');
}

module.exports = { formatBytes, formatDelta, formatCount, shortPath };
