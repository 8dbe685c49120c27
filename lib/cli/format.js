'use strict';

// Text output of the command line: aligned, width-aware tables, distances, safe heap text.
// Everything that comes from a heap (class names, strings, property names) is user data and
// may hold newlines, terminal escape sequences or lone surrogates: it goes through cleanText()
// before it reaches a terminal.

// One byte formatter for the whole package (lib/format.js), which the HTML report's page
// also embeds, so terminal and page print the same numbers (`1.5 KB`, `+24 B`, `1,234`).
const { formatBytes, formatDelta, formatCount } = require('../format');

/**
 * A signed count: `+1`, `-2`, `0`.
 * @param {number} n
 * @returns {string}
 */
function formatCountDelta(n) {
  return formatCount(n, true);
}

/**
 * A row's distance from a global object: the number, `-` when unreachable (negative), `sys` when
 * the engine flags the object as reachable only through V8's internal roots (`system`).
 * @param {{ distance: number, system: boolean }} row a ClassRow or ObjectRow
 * @returns {string}
 */
function formatDistance(row) {
  const d = row.distance;
  if (typeof d !== 'number' || d < 0) return '-';
  return row.system ? 'sys' : String(d);
}

// C0/C1 controls, DEL, and the bidirectional overrides/isolates (they can reorder what a
// terminal shows: "Trojan Source").
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const ESCAPES = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Makes heap text safe for a terminal: control and bidi characters become visible escapes
 * (`\n`, `\x1b`, `\u202e`), lone surrogates become U+FFFD.
 * @param {unknown} s
 * @returns {string}
 */
function cleanText(s) {
  const str = typeof s === 'string' ? s : String(s);
  const safe = str.replace(UNSAFE, (c) => {
    if (ESCAPES[c]) return ESCAPES[c];
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return typeof safe.toWellFormed === 'function'
    ? safe.toWellFormed()
    : safe.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

// In JSON text: DEL, the C1 controls and the bidi overrides/isolates. JSON.stringify passes them
// through raw (it escapes only C0 controls, quotes, backslashes and lone surrogates); escaped,
// `leakguard … --json` cannot reorder or hide text in a terminal, and parses to the same value.
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `JSON.stringify(value, null, 2)` plus a newline, with DEL, C1 controls (U+0080–009F) and bidi
 * overrides and isolates (U+202A–202E, U+2066–2069) written as `\uXXXX` escapes. These
 * characters can only occur inside JSON strings, so the text parses to the same value.
 * @param {unknown} value
 * @returns {string}
 */
function jsonText(value) {
  return `${JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

// Tested against one code point at a time, so a mark next to a selector in the class is fine.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: one code point per test, never a sequence
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200d\u2060\ufe00-\ufe0f]$/u;
// East Asian wide and fullwidth ranges, and emoji shown as pictures: two terminal cells.
const WIDE =
  /^[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]$|^\p{Emoji_Presentation}$/u;

function charWidth(ch) {
  if (ZERO_WIDTH.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

/**
 * How many terminal cells a (clean) string takes: combining marks take none, CJK and emoji two.
 * @param {string} s
 * @returns {number}
 */
function displayWidth(s) {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/**
 * Cuts a string to at most `width` cells, ending with `…` when something was cut.
 * @param {string} s
 * @param {number} width
 * @returns {string}
 */
function truncate(s, width) {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

function pad(s, width, align) {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? fill + s : s + fill;
}

const GAP = '  ';
/** A flexible column is never squeezed below this many cells to fit the terminal. */
const MIN_FLEX = 12;

/**
 * Renders rows as an aligned table with a header line. Numbers (align 'right') are never cut;
 * 'flex' columns (class names, object names) are cut with `…` at their `max` width and, when
 * `width` (the terminal's) is known, shrunk further so a line fits it.
 * @param {{ header: string, align?: 'left'|'right', flex?: boolean, max?: number }[]} columns
 * @param {string[][]} rows cells, already formatted (they are cleaned here)
 * @param {{ width?: number }} [options] total line width; Infinity or absent for no limit
 * @returns {string} the lines, each ending with a newline
 */
function table(columns, rows, options = {}) {
  const width = options.width > 0 ? options.width : Infinity;
  const cells = rows.map((r) => r.map((c) => cleanText(c)));
  const widths = columns.map((col, i) => {
    let w = displayWidth(col.header);
    for (const r of cells) w = Math.max(w, displayWidth(r[i]));
    return col.flex && col.max ? Math.max(Math.min(w, col.max), displayWidth(col.header)) : w;
  });
  // Line width minus trailing padding of the last column, which is never printed.
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1);
  let excess = total() - width;
  if (excess > 0) {
    // Shrink the widest flexible column first, a cell at a time, down to MIN_FLEX.
    const flex = columns.map((c, i) => (c.flex ? i : -1)).filter((i) => i >= 0);
    while (excess > 0) {
      let best = -1;
      for (const i of flex) if (widths[i] > Math.max(MIN_FLEX, displayWidth(columns[i].header)) && (best < 0 || widths[i] > widths[best])) best = i;
      if (best < 0) break;
      widths[best]--;
      excess--;
    }
  }
  const line = (r) =>
    r
      .map((c, i) => {
        const col = columns[i];
        const text = truncate(c, widths[i]);
        return i === r.length - 1 && col.align !== 'right' ? text : pad(text, widths[i], col.align);
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

module.exports = {
  formatBytes,
  formatDelta,
  formatCount,
  formatCountDelta,
  formatDistance,
  cleanText,
  jsonText,
  displayWidth,
  truncate,
  table,
};
