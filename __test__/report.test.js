'use strict';

// The HTML report (lib/report/). Two halves:
// - pure tests of renderReport(): self-contained (no URL, CSP), the embedded JSON (escaping,
//   round trip of hostile strings and lone surrogates), the timeline decimation (100 000
//   points stay small and keep their envelope), the formatters;
// - the page itself in headless Chromium (--dump-dom after its script ran): tables, sorting
//   through the header buttons (?sort=… in the URL), filtering, diffs, retainer chains, the
//   SVG chart, every empty/error state, and hostile class names shown as text.
// The Chromium runs go in parallel, started once in before(): together ~2 s.
// Chromium missing: these tests fail when CI or LEAKGUARD_REQUIRE_CHROMIUM is set (.ci/run
// installs it and sets the latter), else they are skipped.
// LEAKGUARD_SCREENSHOT=1 also rewrites bench/report.png (bench/report-screenshot.js).

const test = require('node:test');
const { describe, before } = test;
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { renderReport, _internal } = require('../lib/report');
const { formatBytes, formatDelta, formatCount } = require('../lib/format');
const { realisticModel, HOSTILE } = require('./fixtures/report-model');
const { findChromium, dumpDom } = require('./chromium');
const { tempDir } = require('./helpers');

// ---- helpers ------------------------------------------------------------------------------

/** The JSON model embedded in the page, parsed as the browser would. */
function embedded(html) {
  const m = /<script type="application\/json" id="lg-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'no lg-data script');
  return JSON.parse(m[1]);
}

const count = (s, re) => (s.match(re) || []).length;

function decode(s) {
  return s
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');
}

/** The outer HTML of the element `<tag … id="id" …>…</tag>`, nested `<tag>`s balanced. */
function byId(dom, tag, id) {
  const open = new RegExp(`<${tag}\\b[^>]*\\bid="${id}"[^>]*>`).exec(dom);
  assert.ok(open, `no <${tag} id="${id}"> in the page`);
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  re.lastIndex = open.index + open[0].length;
  let depth = 1;
  for (let m = re.exec(dom); m; m = re.exec(dom)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return dom.slice(open.index, m.index + m[0].length);
  }
  assert.fail(`<${tag} id="${id}"> is not closed`);
}

/** Body rows of a table: { hidden, cells: [text…] }. */
function rows(tableHtml) {
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(tableHtml);
  assert.ok(tbody, 'table without tbody');
  return [...tbody[1].matchAll(/<tr([^>]*)>([\s\S]*?)<\/tr>/g)].map((m) => ({
    hidden: /\bhidden/.test(m[1]),
    cells: [...m[2].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => decode(c[1])),
  }));
}

function ariaSort(tableHtml, key) {
  const m = new RegExp(`<th[^>]*data-key="${key}"[^>]*aria-sort="(\\w+)"`).exec(tableHtml);
  assert.ok(m, `no header ${key}`);
  return m[1];
}

/** Stable sort of row indices, missing values last: what the page does. */
function expectedOrder(list, get, dir, text) {
  const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
  const sign = dir === 'asc' ? 1 : -1;
  return list
    .map((_, i) => i)
    .sort((a, b) => {
      const d = text ? collator.compare(get(list[a]), get(list[b])) : get(list[a]) - get(list[b]);
      return d ? sign * d : a - b;
    })
    .map((i) => list[i]);
}

/** A regex or substring check on a whole page, whose failure message is not the whole page. */
function has(dom, what, msg) {
  const ok = typeof what === 'string' ? dom.includes(what) : what.test(dom);
  assert.ok(ok, `${msg ? msg + ': ' : ''}the page lacks ${what}`);
}

const errorsOf = (dom) => /<ul id="lg-errors" role="alert">([\s\S]*?)<\/ul>/.exec(dom)[1];

function baseModel(extra) {
  return {
    version: 1,
    title: 't',
    generatedAt: '2026-11-26T20:00:00.000Z',
    tool: { name: 'leakguard', version: '0.1.0' },
    sizes: 'raw',
    files: [],
    diffs: [],
    leaks: null,
    samples: null,
    ...extra,
  };
}

// ---- pure tests ---------------------------------------------------------------------------

test('formatBytes: 1024-based, one decimal up to MB, two from GB, sign kept', () => {
  const cases = [
    [0, '0 B'],
    [1, '1 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [1048575, '1.0 MB'], // 1023.999 KB rounds up into the next unit
    [23.4 * 1048576, '23.4 MB'],
    [1.02 * 1073741824, '1.02 GB'],
    [5 * 1024 ** 4, '5.00 TB'],
    [-3 * 1048576, '-3.0 MB'],
    [-512, '-512 B'],
    [-0.2, '0 B'],
    [NaN, '\u2013'],
    [Infinity, '\u2013'],
    [null, '\u2013'],
    ['12', '\u2013'],
  ];
  for (const [n, s] of cases) assert.equal(formatBytes(n), s, `formatBytes(${n})`);
});

test('formatDelta and formatCount: explicit signs', () => {
  assert.equal(formatDelta(3 * 1048576), '+3.0 MB');
  assert.equal(formatDelta(-3 * 1048576), '-3.0 MB');
  assert.equal(formatDelta(0), '0 B');
  assert.equal(formatDelta(0.3), '0 B');
  assert.equal(formatDelta(undefined), '\u2013');
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(-1234, true), '-1,234');
  assert.equal(formatCount(999, true), '+999');
  assert.equal(formatCount(0, true), '0');
  assert.equal(formatCount(Infinity), '\u2013');
});

test('renderReport: one self-contained document, strict CSP, no URL of any kind', () => {
  const html = renderReport(realisticModel());
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.ok(
    html.includes(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    ),
  );
  assert.doesNotMatch(html, /\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:|\/\/|ftp:)/i);
  assert.doesNotMatch(html, /@import/i);
  assert.doesNotMatch(html, /url\(\s*["']?\s*(?:https?:|\/\/)/i);
  assert.doesNotMatch(html, /<(?:img|iframe|object|embed|link(?![^>]*href="data:,")|base|audio|video|source)\b/i);
  for (const m of html.matchAll(/\bhref="([^"]*)"/g)) assert.match(m[1], /^(?:#[\w-]+|data:,)$/, `href ${m[1]}`);
  assert.equal(count(html, /<script\b/g), 2);
  assert.equal(count(html, /<\/script>/g), 2);
  assert.equal(count(html, /<style>/g), 1);
  for (const id of ['files', 'summary', 'largest', 'diffs', 'leaks', 'timeline', 'lg-errors', 'lg-data']) assert.ok(html.includes(`id="${id}"`), id);
});

test('renderReport: hostile strings only inside escaped JSON, and they round-trip exactly', () => {
  const model = realisticModel({ hostile: true });
  const html = renderReport(model);
  assert.equal(count(html, /<img/gi), 0);
  assert.ok(!html.includes('</script><img'));
  assert.ok(!html.includes(`"&'<`));
  assert.equal(count(html, /<\/script/gi), 2, 'only the two real closing tags');
  assert.equal(count(html, /<script\b/gi), 2);
  assert.ok(!/[\u2028\u2029]/.test(html));
  // The title is the one server-side string: HTML-escaped.
  assert.ok(html.includes('<title>leakguard report &#60;/script&#62;&#60;img src=x onerror=alert(1)&#62; &#34;&#38;&#39;&#60;</title>'));
  // Valid UTF-8 even with a lone surrogate in the model.
  assert.equal(Buffer.from(html, 'utf8').toString('utf8'), html);
  const data = embedded(html);
  assert.deepEqual(data.files, model.files);
  assert.deepEqual(data.diffs, model.diffs);
  assert.deepEqual(data.leaks, model.leaks);
  assert.equal(data.title, model.title);
  assert.ok(data.files[0].summary.some((r) => r.className === HOSTILE[0]));
  assert.ok(
    data.files[0].summary.some((r) => r.className === 'lone \ud800 surrogate'),
    'the lone surrogate survives',
  );
  assert.equal(data.samples, undefined, 'samples are replaced by the timeline');
  // Lone surrogates in the title become U+FFFD (they cannot be written as UTF-8).
  assert.ok(renderReport({ title: 'a\udc00b' }).includes('<title>a\ufffdb</title>'));
});

test('renderReport: the page script has no way out of its element', () => {
  const html = renderReport(baseModel());
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)[1];
  assert.doesNotMatch(script, /<\/script|<!--/i);
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  new Function(script); // it parses
});

test('renderReport: empty and partial models render; a non-object throws', () => {
  for (const m of [{}, baseModel(), { files: null, diffs: 'x', leaks: 5, samples: null }]) {
    const html = renderReport(m);
    assert.match(html, /<title>leakguard report<\/title>|<title>t<\/title>/);
    embedded(html);
  }
  for (const bad of [null, undefined, 'x', 42, []]) assert.throws(() => renderReport(bad), TypeError);
});

test('timeline: 100 000 samples are decimated to the chart width, envelope and ends kept', () => {
  const model = realisticModel({ samples: 100000, gcPoints: 5000 });
  const t0 = Date.now();
  const html = renderReport(model);
  const ms = Date.now() - t0;
  assert.ok(html.length < 2 * 1024 * 1024, `report of ${html.length} bytes`);
  assert.ok(ms < 2000, `rendered in ${ms} ms`);
  const tl = embedded(html).timeline;
  const src = {
    rss: model.samples.rss.map((p) => p.value),
    heapTotal: model.samples.heap.map((p) => p.heapTotal),
    heapUsed: model.samples.heap.map((p) => p.heapUsed),
    baseline: model.samples.gc.map((p) => p.baseline),
  };
  assert.deepEqual(
    tl.series.map((s) => s.key),
    ['rss', 'heapTotal', 'heapUsed', 'baseline'],
  );
  for (const s of tl.series) {
    const v = src[s.key];
    assert.equal(s.n, v.length, s.key);
    assert.ok(s.t.length <= 2 * _internal.CHART_BUCKETS + 2, `${s.key}: ${s.t.length} points`);
    assert.ok(s.t.length >= Math.min(v.length, _internal.CHART_BUCKETS), `${s.key}: ${s.t.length} points`);
    const max = (a) => a.reduce((m, x) => Math.max(m, x), -Infinity);
    const min = (a) => a.reduce((m, x) => Math.min(m, x), Infinity);
    assert.equal(max(s.v), max(v), `${s.key} max`);
    assert.equal(min(s.v), min(v), `${s.key} min`);
    assert.equal(s.v[0], v[0]);
    assert.equal(s.v[s.v.length - 1], v[v.length - 1]);
    for (let i = 1; i < s.t.length; i++) assert.ok(s.t[i] >= s.t[i - 1], `${s.key} time order`);
  }
  assert.equal(tl.series[0].t[0], 0.003, 'seconds since the first sample (rss is read 3 ms after the heap)');
  const times = [...model.samples.rss, ...model.samples.heap, ...model.samples.gc].map((p) => p.time);
  assert.equal(tl.span, (times.reduce((m, x) => Math.max(m, x)) - times.reduce((m, x) => Math.min(m, x))) / 1000);
});

test('timeline: 0 points, 1 point, unsorted and non-finite input, rss fallback, trend line', () => {
  const prep = _internal.prepareTimeline;
  const empty = prep({ rss: [], heap: [], gc: [], trend: null });
  assert.ok(empty.series.every((s) => s.n === 0 && s.t.length === 0));
  assert.equal(empty.trend, null);
  assert.equal(prep({}).series.length, 4, 'missing arrays are empty series');

  const one = prep({ rss: [], heap: [{ time: 5000, rss: 30, heapTotal: 20, heapUsed: 10 }], gc: [{ time: 5000, baseline: 8, heapUsed: 9 }] });
  assert.deepEqual(
    one.series.map((s) => [s.key, s.t, s.v]),
    [
      ['rss', [0], [30]], // no rss series: the heap samples' rss
      ['heapTotal', [0], [20]],
      ['heapUsed', [0], [10]],
      ['baseline', [0], [8]],
    ],
  );
  assert.equal(one.span, 0);
  assert.equal(one.start, 5000);

  const messy = prep({
    rss: [{ time: 3000, value: 3 }, { time: 1000, value: 1 }, { time: NaN, value: 9 }, null, { time: 2000, value: Infinity }, { time: 2000, value: 2 }],
  });
  assert.deepEqual(
    [messy.series[0].t, messy.series[0].v],
    [
      [0, 1, 2],
      [1, 2, 3],
    ],
  );

  const trend = {
    verdict: 'growing',
    slopeBytesPerMinute: 60000,
    samples: [0, 1, 2, 3, 4].map((i) => ({ time: 10000 + i * 60000, value: 500 + i * 60000 + (i === 2 ? 7 : 0) })),
  };
  const withTrend = prep({ gc: trend.samples.map((p) => ({ time: p.time, baseline: p.value })), trend });
  assert.deepEqual(withTrend.trendLine, { t: [0, 240], v: [500, 240500] });
  // the sampler's intercept, when the trend carries it, is used as it is (not recomputed)
  const given = prep({ gc: trend.samples.map((p) => ({ time: p.time, baseline: p.value })), trend: { ...trend, intercept: 1000 } });
  assert.deepEqual(given.trendLine, { t: [0, 240], v: [1000, 241000] });
  // samples all at one time: the sampler has no slope (0, intercept 0) and there is no line
  const sameTime = [1, 2, 3].map((v) => ({ time: 5000, value: 1e6 * v }));
  assert.equal(
    prep({
      gc: sameTime.map((p) => ({ time: p.time, baseline: p.value })),
      trend: { verdict: 'insufficient', slopeBytesPerMinute: 0, intercept: 0, samples: sameTime },
    }).trendLine,
    null,
  );
  assert.equal(withTrend.trend.samples, undefined, 'the trend points are not embedded twice');
  assert.equal(withTrend.trend.verdict, 'growing');
});

test('heap strings are capped at 1024 characters with their length shown (a crafted heap cannot blow the report up)', () => {
  const huge = 'A'.repeat(1_200_000);
  const model = realisticModel();
  const f = model.files[0];
  f.summary[0].className = huge;
  f.largest[0].name = huge;
  f.largest[1].className = huge;
  model.leaks.suspects[0].className = huge;
  model.leaks.suspects[0].shape = huge;
  model.leaks.suspects[0].paths[0].text = huge;
  model.leaks.suspects[0].paths[0].steps[1].edge.text = huge;
  const plain = renderReport(realisticModel()).length;
  const html = renderReport(model);
  assert.ok(html.length < plain + 10 * 1100, `report of ${html.length} bytes (${plain} without the huge strings)`);
  const data = embedded(html);
  const capped = `${'A'.repeat(_internal.MAX_STRING)}\u2026 (1,200,000 chars)`;
  assert.equal(data.files[0].summary[0].className, capped);
  assert.equal(data.files[0].largest[0].name, capped);
  assert.equal(data.leaks.suspects[0].paths[0].steps[1].edge.text, capped);
  // exactly 1024 stays as it is; a cut never splits a surrogate pair
  assert.equal(_internal.capString('b'.repeat(1024)), 'b'.repeat(1024));
  const pairs = _internal.capString(`${'c'.repeat(1023)}\u{1F600}tail`);
  assert.equal(pairs, `${'c'.repeat(1023)}\u2026 (1,029 chars)`);
  assert.ok(renderReport({ title: 'T'.repeat(5000) }).includes(`<title>${'T'.repeat(1024)}\u2026 (5,000 chars)</title>`));
});

test('json escaping: <, >, &, U+2028/9 as \\u escapes; lone surrogates as \\u escapes', () => {
  const s = _internal.jsonForScript({ a: '</script><!--&\u2028\u2029', b: '\ud800' });
  assert.equal(s, '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029","b":"\\ud800"}');
  assert.deepEqual(JSON.parse(s), { a: '</script><!--&\u2028\u2029', b: '\ud800' });
});

// ---- in headless Chromium -------------------------------------------------------------------

const chromium = findChromium();
const NO_CHROMIUM = 'Chromium not found: install the chromium package (apt-get install -y chromium) or set LEAKGUARD_CHROMIUM';

if (!chromium && (process.env.CI || process.env.LEAKGUARD_REQUIRE_CHROMIUM)) {
  test('Chromium is installed (required in CI)', () => assert.fail(`${NO_CHROMIUM}. CI must install it (.ci/run does).`));
}

describe('the report in headless Chromium', { skip: chromium ? false : `${NO_CHROMIUM}; skipping the browser tests` }, () => {
  const realistic = realisticModel();
  const hostile = realisticModel({ hostile: true });
  const oneFile = baseModel({
    title: 'one file',
    files: realisticModel({ files: 1, classes: 12, samples: null }).files,
    samples: {
      rss: [],
      heap: [{ time: 1e12, rss: 90e6, heapTotal: 40e6, heapUsed: 30e6, external: 0, arrayBuffers: 0 }],
      gc: [{ time: 1e12, baseline: 20e6, heapUsed: 25e6 }],
      trend: null,
    },
  });
  const errors = realisticModel({ classes: 10, samples: null });
  errors.diffs[1] = {
    base: errors.files[1].label,
    current: errors.files[2].label,
    rows: [],
    rowsTotal: 0,
    error: { code: 'ERR_LEAKGUARD_MISMATCH', message: 'the snapshots come from different processes' },
  };
  errors.leaks = { ...errors.leaks, suspects: [], error: { code: 'ERR_LEAKGUARD_MISMATCH', message: 'baseline and final do not share objects' } };
  errors.samples = { rss: [], heap: [], gc: [], trend: null };
  const big = realisticModel({ classes: 10, samples: 100000, gcPoints: 3000 });
  big.leaks.suspects = [];
  big.samples.trend = null;

  const pages = {
    realistic: { model: realistic },
    sorted: {
      model: realistic,
      query: '?sort=summary-0:count:asc&sort=diff-1:className:desc&sort=largest-2:retainedSize:asc&sort=files-table:totalSize:desc&filter=sess',
    },
    hostile: { model: hostile },
    empty: { model: {} },
    badUrl: { model: {}, query: '?sort=nope:count:asc' },
    oneFile: { model: oneFile },
    errors: { model: errors },
    big: { model: big },
  };
  const dom = {};
  let dumpMs = 0;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'lg-report-'));
    try {
      const t0 = Date.now();
      const queue = Object.entries(pages);
      // A few browsers at a time: each is a handful of processes and ~150 MB.
      const worker = async () => {
        while (queue.length > 0) {
          const [name, p] = queue.shift();
          const file = path.join(dir, `${name}.html`);
          fs.writeFileSync(file, renderReport(p.model));
          const raw = await dumpDom(file, { query: p.query, timeoutMs: 30000, chromium });
          assert.equal(count(raw, /<script\b/g), 2, `${name}: the two scripts and no other`);
          // Checks look at the rendered DOM, not at the page script's source.
          dom[name] = raw.replace(/<script>[\s\S]*?<\/script>/, '<script></script>');
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      dumpMs = Date.now() - t0;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every page ran its script to the end without an error', (t) => {
    t.diagnostic(`${Object.keys(pages).length} pages loaded in parallel in ${dumpMs} ms`);
    for (const name of Object.keys(pages)) {
      if (name === 'badUrl') continue;
      has(dom[name], /<html lang="en" data-lg-ready="1">/, name);
      assert.equal(errorsOf(dom[name]), '', `${name}: #lg-errors`);
    }
  });

  test('errors are reported in #lg-errors (a bad ?sort= here)', () => {
    has(dom.badUrl, /data-lg-ready="1"/);
    assert.match(errorsOf(dom.badUrl), /<li>url: Error: sort=nope:count:asc: no such table or column/);
  });

  test('header and the per-file facts table', () => {
    const d = dom.realistic;
    has(d, /<h1>leakguard report: api-server<\/h1>/);
    has(d, /id="lg-meta">Generated 2026-11-26 20:00:00 UTC · by leakguard 0.1\.0 · sizes: devtools/);
    const r = rows(byId(d, 'table', 'files-table'));
    assert.equal(r.length, 3);
    const f = realistic.files;
    assert.deepEqual(r[0].cells, [
      '1',
      f[0].label,
      formatBytes(f[0].bytes),
      formatCount(f[0].nodeCount),
      formatCount(f[0].edgeCount),
      formatBytes(f[0].totalSize),
      '',
    ]);
    assert.equal(r[2].cells[6], formatDelta(f[2].totalSize - f[1].totalSize));
  });

  test('class summary: one table per file, rows in the model order, sizes formatted', () => {
    const d = dom.realistic;
    realistic.files.forEach((f, i) => {
      const t = byId(d, 'table', `summary-${i}`);
      const r = rows(t);
      assert.equal(r.length, f.summary.length, `summary-${i} rows`);
      assert.ok(r.length >= 60);
      assert.deepEqual(
        r.map((x) => x.cells[0]),
        f.summary.map((x) => x.className),
      );
      const s = f.summary[0];
      assert.deepEqual(r[0].cells.slice(0, 4), [s.className, formatCount(s.count), formatBytes(s.shallowSize), formatBytes(s.retainedSize)]);
      assert.equal(r[0].cells[4], `${((100 * s.retainedSize) / f.totalSize).toFixed(1)} %`);
      assert.equal(ariaSort(t, 'retainedSize'), 'descending');
      assert.equal(ariaSort(t, 'count'), 'none');
      assert.ok(r.every((x) => !x.hidden));
    });
    const sys = rows(byId(d, 'table', 'summary-0')).find((x) => x.cells[0] === '(system)');
    assert.equal(sys.cells[5], 'sys', 'distance 100000000: reachable from system roots only');
    // The last file's tab is selected, the others hidden.
    has(d, /<button type="button" role="tab" id="summary-tab-2" aria-controls="summary-panel-2" aria-selected="true"/);
    has(d, /<div role="tabpanel" id="summary-panel-0" aria-labelledby="summary-tab-0" hidden="">/);
    has(d, /<div role="tabpanel" id="summary-panel-2" aria-labelledby="summary-tab-2">/);
    assert.equal(rows(byId(d, 'table', 'largest-1')).length, realistic.files[1].largest.length);
  });

  test('sorting from the URL goes through the header buttons: numeric, text, toggling, aria-sort', () => {
    const d = dom.sorted;
    const s0 = byId(d, 'table', 'summary-0');
    const want0 = expectedOrder(realistic.files[0].summary, (r) => r.count, 'asc');
    assert.deepEqual(
      rows(s0).map((x) => x.cells[0]),
      want0.map((r) => r.className),
    );
    const counts = rows(s0).map((x) => Number(x.cells[1].replace(/,/g, '')));
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
    );
    assert.equal(ariaSort(s0, 'count'), 'ascending', 'two clicks: descending, then ascending');
    assert.equal(ariaSort(s0, 'retainedSize'), 'none');
    has(d, /id="summary-tab-0" aria-controls="summary-panel-0" aria-selected="true"/, 'the sorted table is shown');

    const d1 = byId(d, 'table', 'diff-1');
    const want1 = expectedOrder(realistic.diffs[1].rows, (r) => r.className, 'desc', true);
    assert.deepEqual(
      rows(d1).map((x) => x.cells[0]),
      want1.map((r) => r.className),
    );
    assert.equal(ariaSort(d1, 'className'), 'descending');

    const l2 = byId(d, 'table', 'largest-2');
    const want2 = expectedOrder(realistic.files[2].largest, (r) => r.retainedSize, 'asc');
    assert.deepEqual(
      rows(l2).map((x) => x.cells[0]),
      want2.map((r) => `@${r.id}`),
    );
    assert.equal(ariaSort(l2, 'retainedSize'), 'ascending', 'one click from the initial descending order');

    const ft = rows(byId(d, 'table', 'files-table'));
    const want3 = expectedOrder(realistic.files, (f) => f.totalSize, 'desc');
    assert.deepEqual(
      ft.map((x) => x.cells[1]),
      want3.map((f) => f.label),
    );
  });

  test('the class filter hides the rows that do not match', () => {
    const d = dom.sorted;
    for (const id of ['summary-1', 'diff-0']) {
      const r = rows(byId(d, 'table', id));
      const shown = r.filter((x) => !x.hidden).map((x) => x.cells[0]);
      assert.deepEqual(shown, ['Session'], id);
      assert.ok(r.length > 10);
    }
    assert.ok(rows(byId(dom.realistic, 'table', 'diff-0')).every((x) => !x.hidden));
  });

  test('diffs: one table per consecutive pair, signed deltas', () => {
    const d = dom.realistic;
    realistic.diffs.forEach((df, i) => {
      const box = byId(d, 'div', `diff-box-${i}`);
      assert.ok(decode(box).startsWith(`${df.base} \u2192 ${df.current}`));
      const r = rows(byId(d, 'table', `diff-${i}`));
      assert.equal(r.length, df.rows.length);
      const x = df.rows[0];
      assert.deepEqual(r[0].cells, [
        x.className,
        formatCount(x.addedCount),
        formatCount(x.removedCount),
        formatCount(x.countDelta, true),
        formatBytes(x.addedSize),
        formatBytes(x.removedSize),
        formatDelta(x.sizeDelta),
      ]);
      assert.match(r[0].cells[6], /^[+-]/);
    });
    has(d, /<td class="num up">\+/, 'growth is marked');
  });

  test('leak suspects: facts, shape, and each path as a chain of steps with the edges between', () => {
    const d = dom.realistic;
    const sec = byId(d, 'section', 'leaks');
    assert.equal(count(sec, /<article class="suspect"/g), 2);
    assert.match(decode(sec), /28,311 objects were new in the target snapshot; 2,407 of them are still alive/);
    const card = byId(d, 'article', 'suspect-0');
    const text = decode(card);
    assert.match(text, /#1 RequestContext/);
    assert.match(text, /count 1,800/);
    assert.match(text, new RegExp(`retained ${formatBytes(14_600_000).replace('.', '\\.')}`));
    assert.ok(text.includes(`Shape: ${realistic.leaks.suspects[0].shape}`));
    assert.ok(text.includes(`Held by: ${realistic.leaks.suspects[0].heldBy}`));
    const chains = [...card.matchAll(/<ol class="chain">([\s\S]*?)<\/ol>/g)].map((m) => m[1]);
    assert.equal(chains.length, 2);
    const items = [...chains[0].matchAll(/<li class="(step|edge)[^"]*"[^>]*>([\s\S]*?)<\/li>/g)].map((m) => [m[1], decode(m[2])]);
    assert.deepEqual(items, [
      ['step', '(GC roots)@1'],
      ['edge', '[7]element'],
      ['step', '(Global handles)@3'],
      ['edge', '[12]element'],
      ['step', 'Server@4127'],
      ['edge', '.sessionsproperty'],
      ['step', 'Map@4130'],
      ['edge', '{table}internal'],
      ['step', '(internal array)@4131'],
      ['edge', '[17]element'],
      ['step', 'RequestContext@90211'],
    ]);
    assert.match(chains[1], /<li class="edge"><code>…<\/code><span class="etype">shortened chain<\/span><\/li>/);
    const second = decode(byId(d, 'article', 'suspect-1'));
    assert.match(second, /\(closure\)onData@77001/);
    assert.match(second, /shortest, incomplete: does not reach a GC root/);
    assert.match(second, /Kept alive through suspect #1 \(RequestContext\): fixing that leak frees these too\./);
    assert.match(byId(d, 'article', 'suspect-1'), /<a href="#suspect-0">suspect #1/);
    assert.doesNotMatch(text, /Kept alive through/);
  });

  test('timeline: SVG lines, post-GC points, trend line, axis ticks and legend', () => {
    const d = dom.realistic;
    const svg = byId(d, 'svg', 'timeline-chart');
    const paths = Object.fromEntries([...svg.matchAll(/<path class="([^"]+)"(?: data-series="\w+")? d="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    for (const k of ['line s-rss', 'line s-heapTotal', 'line s-heapUsed', 'dots s-baseline', 'trendline', 'grid']) {
      assert.ok(paths[k] && paths[k].length > 10, `path ${k}`);
    }
    assert.equal(count(paths['line s-rss'], /L/g), 2000 - 1, 'every RSS sample (2000 < the decimation threshold)');
    assert.equal(count(paths['dots s-baseline'], /h0/g), 30);
    // No NaN, all inside the viewBox.
    for (const [k, dd] of Object.entries(paths)) {
      assert.doesNotMatch(dd, /NaN|Infinity/, k);
      for (const n of dd.match(/-?\d+(\.\d+)?/g)) assert.ok(Number(n) >= 0 && Number(n) <= 1000, `${k}: ${n}`);
    }
    const yTicks = [...svg.matchAll(/<text[^>]*class="tick y"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const xTicks = [...svg.matchAll(/<text[^>]*class="tick x"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.ok(yTicks.length >= 3 && yTicks.every((t) => /^\d+(\.\d+)? (B|KB|MB|GB)$/.test(t)), yTicks.join());
    assert.equal(yTicks[0], '0 MB');
    assert.ok(xTicks.length >= 3 && xTicks[0] === '0 s' && xTicks.every((t) => /^\d+(\.\d+)? s$/.test(t)), xTicks.join());
    const legend = decode(byId(d, 'ul', 'legend'));
    for (const l of ['RSS (2,000)', 'heapTotal (2,000)', 'heapUsed (2,000)', 'post-GC baseline (30)', 'trend (Theil–Sen)', 'y axis from 0'])
      assert.ok(legend.includes(l), l);
    const trend = decode(byId(d, 'div', 'trend'));
    assert.match(trend, /^Leak/);
    assert.ok(trend.includes(`slope ${formatDelta(realistic.samples.trend.slopeBytesPerMinute)}/min`), trend);
    assert.match(trend, /confidence 99\.95 %/);
  });

  test('hostile class names, labels and edge names show as text; nothing is injected', () => {
    const d = dom.hostile;
    assert.equal(count(d, /<img/gi), 0, 'no img element');
    assert.equal(count(d, /<script/gi), 2);
    const esc = '&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;';
    has(d, /<h1>leakguard report &lt;\/script&gt;&lt;img src=x onerror=alert\(1\)&gt; "&amp;'&lt;<\/h1>/);
    assert.ok(byId(d, 'table', 'summary-0').includes(`<td class="cls mono" title="${esc}">${esc}</td>`));
    assert.ok(byId(d, 'table', 'summary-0').includes(`<td class="cls mono" title="&quot;&amp;'&lt;">"&amp;'&lt;</td>`));
    assert.ok(byId(d, 'table', 'diff-0').includes(`>${esc}</td>`));
    assert.ok(rows(byId(d, 'table', 'files-table'))[1].cells[1] === `${HOSTILE[0]}.heapsnapshot`);
    has(d, `>${esc}.heapsnapshot</button>`, 'tab label');
    const card = byId(d, 'article', 'suspect-0');
    assert.ok(card.includes(`<span class="cls">${esc}</span>`), 'chain step');
    assert.ok(card.includes(`<code title=".&quot;&amp;'&lt;">."&amp;'&lt;</code><span class="etype">property</span>`), 'edge name');
    assert.ok(card.includes('<span class="nm">lone \ufffd surrogate</span>'), 'a lone surrogate shows as U+FFFD');
    assert.equal(errorsOf(d), '');
  });

  test('empty model: every section says what is missing', () => {
    const d = dom.empty;
    const text = (id) => decode(byId(d, 'section', id));
    assert.match(text('files'), /No snapshot files in this report/);
    assert.match(text('summary'), /No snapshot files, no class summary/);
    assert.match(text('largest'), /No snapshot files, no objects/);
    assert.match(text('diffs'), /A diff needs at least two snapshot files/);
    assert.match(text('leaks'), /Leak detection needs three snapshots .* this report has 0\./);
    assert.match(text('timeline'), /No samples were given/);
    assert.ok(text('timeline').includes("fs.writeFileSync('samples.json', JSON.stringify(sampler)); // samples + trend"));
    assert.doesNotMatch(d, /<table/);
    has(d, /<h1>leakguard report<\/h1>/);
  });

  test('one file and one sample: no tab bar, no diff, each series drawn as a dot', () => {
    const d = dom.oneFile;
    assert.equal(rows(byId(d, 'table', 'summary-0')).length, 12);
    assert.doesNotMatch(byId(d, 'section', 'summary'), /role="tablist"/);
    assert.match(decode(byId(d, 'section', 'diffs')), /at least two snapshot files/);
    assert.match(decode(byId(d, 'section', 'leaks')), /this report has 1\./);
    const svg = byId(d, 'svg', 'timeline-chart');
    for (const k of ['rss', 'heapTotal', 'heapUsed', 'baseline'])
      assert.match(svg, new RegExp(`<path class="dots s-${k}" data-series="${k}" d="M[\\d.]+,[\\d.]+h0"`), k);
    assert.doesNotMatch(svg, /class="line /);
    assert.doesNotMatch(svg, /NaN/);
    assert.doesNotMatch(d, /id="trend"/);
  });

  test('a diff error and a leak error are shown as notices; an empty samples file says so', () => {
    const d = dom.errors;
    has(d, '<table id="diff-0"');
    const box = byId(d, 'div', 'diff-box-1');
    assert.doesNotMatch(box, /<table/);
    assert.match(box, /<p class="notice error"><b>ERR_LEAKGUARD_MISMATCH<\/b>: the snapshots come from different processes<\/p>/);
    const leaks = byId(d, 'section', 'leaks');
    assert.match(leaks, /<p class="notice error"><b>ERR_LEAKGUARD_MISMATCH<\/b>: baseline and final do not share objects<\/p>/);
    assert.doesNotMatch(leaks, /class="suspect"|id="no-suspects"/);
    assert.match(decode(byId(d, 'section', 'timeline')), /The samples file holds no points\./);
    assert.doesNotMatch(d, /<svg/);
  });

  test('no suspects, and a 100 000-sample timeline drawn decimated', () => {
    const d = dom.big;
    assert.match(byId(d, 'section', 'leaks'), /<p class="notice ok" id="no-suspects">No leak suspects/);
    const svg = byId(d, 'svg', 'timeline-chart');
    const rss = /<path class="line s-rss" data-series="rss" d="([^"]*)"/.exec(svg)[1];
    const n = count(rss, /L/g) + 1;
    assert.ok(n > 1000 && n <= 2 * _internal.CHART_BUCKETS + 2, `${n} points drawn`);
    assert.match(decode(byId(d, 'ul', 'legend')), /RSS \(100,000\)/);
    assert.ok(byId(d, 'svg', 'timeline-chart').length < 400_000);
  });
});

// ---- the screenshot in bench/ (only on request) -------------------------------------------------

test('bench/report.png (LEAKGUARD_SCREENSHOT=1)', {
  skip: process.env.LEAKGUARD_SCREENSHOT === '1' ? false : 'set LEAKGUARD_SCREENSHOT=1 to rewrite bench/report.png',
}, async (t) => {
  if (!chromium) return t.skip(NO_CHROMIUM);
  const { writeScreenshot } = require('../bench/report-screenshot');
  const dir = tempDir(t, 'lg-shot-');
  const png = await writeScreenshot({ htmlFile: path.join(dir, 'report.html') });
  const head = fs.readFileSync(png).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});
