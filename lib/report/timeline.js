'use strict';

// The memory timeline's data, prepared on the Node side (lib/report/index.js embeds the result,
// the page's script only draws it): a sampler file may hold 100 000 points per series, which
// would make the page huge and the chart slow. prepareTimeline() keeps the min and the max of
// each of ~1000 time buckets (one per horizontal unit of the chart), which draws the same
// envelope, and places the trend line.

const CHART_BUCKETS = 1000;

/** [times[], values[]] of the points with finite numbers, sorted by time. */
function extract(points, value) {
  const t = [];
  const v = [];
  if (!Array.isArray(points)) return { t, v };
  let sorted = true;
  for (const p of points) {
    if (p === null || typeof p !== 'object') continue;
    const time = p.time;
    const val = value(p);
    if (typeof time !== 'number' || !Number.isFinite(time) || typeof val !== 'number' || !Number.isFinite(val)) continue;
    if (t.length && time < t[t.length - 1]) sorted = false;
    t.push(time);
    v.push(val);
  }
  if (!sorted) {
    const idx = t.map((_, i) => i).sort((a, b) => t[a] - t[b] || a - b);
    return { t: idx.map((i) => t[i]), v: idx.map((i) => v[i]) };
  }
  return { t, v };
}

/**
 * Min/max decimation: per time bucket, the lowest and the highest point in time order, plus
 * the first and the last point. A line through them has the same envelope as the full series
 * at one bucket per horizontal unit. Times become seconds since t0 (ms precision).
 */
function downsample(s, t0, span, buckets) {
  const n = s.t.length;
  const outT = [];
  const outV = [];
  let last = -1;
  const push = (i) => {
    if (i <= last) return;
    last = i;
    outT.push(Math.round(s.t[i] - t0) / 1000);
    outV.push(Math.round(s.v[i]));
  };
  if (n <= buckets * 2) {
    for (let i = 0; i < n; i++) push(i);
    return { t: outT, v: outV };
  }
  push(0);
  let cur = -1;
  let lo = 0;
  let hi = 0;
  const flush = () => {
    if (cur < 0) return;
    push(Math.min(lo, hi));
    push(Math.max(lo, hi));
  };
  for (let i = 0; i < n; i++) {
    const b = Math.min(buckets - 1, Math.floor(((s.t[i] - t0) / span) * buckets));
    if (b !== cur) {
      flush();
      cur = b;
      lo = hi = i;
    } else {
      if (s.v[i] < s.v[lo]) lo = i;
      if (s.v[i] > s.v[hi]) hi = i;
    }
  }
  flush();
  push(n - 1);
  return { t: outT, v: outV };
}

function median(xs) {
  const a = xs.slice().sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/**
 * The trend report without its points, and its Theil–Sen line over its window (if any). The
 * sampler's trend carries the intercept (the line's value at the window's first point); a
 * file from an older sampler lacks it, and then it is derived here the same way.
 */
function prepareTrend(trend, t0) {
  if (!trend || typeof trend !== 'object') return { trend: null, line: null };
  const { samples, ...rest } = trend;
  let line = null;
  const pts = extract(samples, (p) => p.value);
  const slope = trend.slopeBytesPerMinute;
  const ta = pts.t[0];
  const tb = pts.t[pts.t.length - 1];
  // Two distinct times at least: with one time there is no slope (the sampler then sends
  // slope 0 and intercept 0, which is no line at all, not a line at 0 bytes).
  if (pts.t.length >= 2 && tb > ta && typeof slope === 'number' && Number.isFinite(slope)) {
    const perMs = slope / 60000;
    const given = trend.intercept;
    // Theil–Sen intercept: the median of the residuals of the median slope.
    const c = typeof given === 'number' && Number.isFinite(given) ? given : median(pts.v.map((v, i) => v - perMs * (pts.t[i] - ta)));
    line = {
      t: [Math.round(ta - t0) / 1000, Math.round(tb - t0) / 1000],
      v: [Math.round(c), Math.round(c + perMs * (tb - ta))],
    };
  }
  return { trend: rest, line };
}

/**
 * The chart data of a samples file: RSS (the sampler thread's series, else the heap samples'
 * rss), heapUsed and heapTotal as lines, the post-GC baselines as points, all decimated.
 */
function prepareTimeline(samples) {
  const heap = Array.isArray(samples.heap) ? samples.heap : [];
  let rss = extract(samples.rss, (p) => p.value);
  if (!rss.t.length) rss = extract(heap, (p) => p.rss);
  const raw = [
    { key: 'rss', label: 'RSS', s: rss },
    { key: 'heapTotal', label: 'heapTotal', s: extract(heap, (p) => p.heapTotal) },
    { key: 'heapUsed', label: 'heapUsed', s: extract(heap, (p) => p.heapUsed) },
    { key: 'baseline', label: 'post-GC baseline', s: extract(samples.gc, (p) => p.baseline) },
  ];
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const r of raw) {
    if (!r.s.t.length) continue;
    t0 = Math.min(t0, r.s.t[0]);
    t1 = Math.max(t1, r.s.t[r.s.t.length - 1]);
  }
  if (t0 === Infinity) t0 = t1 = 0;
  const span = t1 - t0;
  const series = raw.map((r) => ({ key: r.key, label: r.label, n: r.s.t.length, ...downsample(r.s, t0, span || 1, CHART_BUCKETS) }));
  const { trend, line } = prepareTrend(samples.trend, t0);
  return { start: t0 || null, span: Math.round(span) / 1000, series, trend, trendLine: line };
}

module.exports = { prepareTimeline, downsample, CHART_BUCKETS };
