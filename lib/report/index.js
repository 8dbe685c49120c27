'use strict';

// The self-contained HTML report. renderReport() turns the report model (built by the CLI from
// snapshot files, see lib/cli/report-model.js) into ONE HTML file: inline CSS and JS, no URL
// of any kind, so it opens from file:// offline and can be mailed or attached to an issue.
// This file assembles the page; the parts live next to it:
// - client.js: the page's script, a plain browser script (inlined after the three number
//   formatters of lib/format.js, which it uses);
// - style.css: the page's styles;
// - timeline.js: the memory timeline's decimation and trend line, done here in Node.
// client.js and style.css are read once, on the first render, and inlined.
//
// Design: the model goes into the page as JSON (<script type="application/json">, with the
// characters that could end the script element escaped) and the page's script builds the
// tables, the retainer chains and the SVG chart with DOM APIs (textContent, setAttribute;
// never innerHTML). Class names and retainer paths come from the heap, i.e. from user data:
// building nodes instead of markup makes escaping mistakes impossible rather than unlikely.
// The only server-side markup built from the model is the <title> (escaped below).
// Every string of the model is capped at MAX_STRING characters on the way in, as V8 caps the
// strings it writes into a snapshot: a crafted heap with megabyte-long class names, repeated
// in every table, would otherwise make a report of tens of megabytes.

const fs = require('node:fs');
const path = require('node:path');
const { formatBytes, formatDelta, formatCount } = require('../format');
const { prepareTimeline, downsample, CHART_BUCKETS } = require('./timeline');

/** HTML-escapes text for element content and quoted attribute values. */
function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Replaces lone surrogates by U+FFFD: they cannot be encoded as UTF-8 in the file. */
function wellFormed(s) {
  return String(s).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Longest string the page embeds, in UTF-16 units (V8 cuts snapshot strings at 1024 too). */
const MAX_STRING = 1024;

/**
 * `s` cut to MAX_STRING characters with its length shown: `abc… (12,345 chars)`. A cut never
 * splits a surrogate pair.
 * @param {string} s
 * @returns {string}
 */
function capString(s) {
  if (s.length <= MAX_STRING) return s;
  const code = s.charCodeAt(MAX_STRING - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? MAX_STRING - 1 : MAX_STRING;
  return `${s.slice(0, end)}\u2026 (${formatCount(s.length)} chars)`;
}

/**
 * JSON that can sit inside a <script> element: `<`, `>` and `&` escaped so no `</script>` or
 * `<!--` can appear, U+2028/U+2029 for old JS parsers. JSON.stringify already writes lone
 * surrogates as \udXXX escapes (well-formed JSON.stringify, ES2019), so the file stays valid
 * UTF-8 and the browser's JSON.parse gets the same string back. Every string value is capped
 * (capString).
 */
function jsonForScript(value) {
  return JSON.stringify(value, (_key, v) => (typeof v === 'string' ? capString(v) : v)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

/** What the page's script receives: the model, with the samples replaced by chart data. */
function buildView(model) {
  const { samples, ...view } = model;
  view.timeline = samples && typeof samples === 'object' ? prepareTimeline(samples) : null;
  return view;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

const SECTIONS = [
  ['files', 'Snapshots'],
  ['timeline', 'Memory timeline'],
  ['leaks', 'Leak suspects'],
  ['diffs', 'Diffs'],
  ['summary', 'Class summary'],
  ['largest', 'Largest objects'],
];

let assets = null;

/**
 * The page's script (the shared formatters, then client.js) and styles (style.css), read on
 * the first render and kept. Neither may end its element early: that is checked here, so a
 * bad edit fails every render (and the tests) instead of producing a broken page.
 * @returns {{ script: string, css: string }}
 */
function pageAssets() {
  if (assets) return assets;
  const client = fs.readFileSync(path.join(__dirname, 'client.js'), 'utf8');
  const css = fs.readFileSync(path.join(__dirname, 'style.css'), 'utf8');
  const script = `'use strict';\n${formatBytes}\n${formatDelta}\n${formatCount}\n${client}`;
  if (/<\/script|<!--/i.test(script)) throw new Error('lib/report/client.js: the page script must not contain </script or <!--');
  if (/<\/style/i.test(css)) throw new Error('lib/report/style.css: the styles must not contain </style');
  assets = { script, css };
  return assets;
}

/**
 * Renders the report model (see lib/cli/report-model.js and the model description in the
 * README) as one self-contained HTML5 document: inline CSS and JS, a strict CSP, no URL, so it
 * works from file:// offline. Every string of the model is shown as text, never as markup.
 * @param {object} model the report model: `{ version, title, generatedAt, tool, sizes, files,
 *   diffs, leaks, samples }`; missing parts are shown as absent, not as errors.
 * @returns {string} the HTML document
 */
function renderReport(model) {
  if (model === null || typeof model !== 'object' || Array.isArray(model)) {
    throw new TypeError('renderReport(model): model must be an object');
  }
  const { script, css } = pageAssets();
  const view = buildView(model);
  const title = wellFormed(capString(typeof model.title === 'string' && model.title ? model.title : 'leakguard report'));
  const version = model.tool && typeof model.tool.version === 'string' ? ' ' + model.tool.version : '';
  const sections = SECTIONS.map(
    ([id, name]) => `<section id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${name}</h2><div class="body"></div></section>`,
  ).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="${escapeHtml(wellFormed('leakguard' + version))}">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(title)}</h1><p class="meta" id="lg-meta"></p></header>
<nav class="toc">${SECTIONS.map(([id, name]) => `<a href="#${id}">${name}</a>`).join('')}</nav>
<ul id="lg-errors" role="alert"></ul>
<noscript><p class="notice">This report draws its tables and its chart with JavaScript: allow scripts for this file.</p></noscript>
<main>
${sections}
</main>
<script type="application/json" id="lg-data">${jsonForScript(view)}</script>
<script>${script}</script>
</body>
</html>
`;
}

module.exports = { renderReport, _internal: { prepareTimeline, jsonForScript, capString, downsample, CHART_BUCKETS, MAX_STRING } };
