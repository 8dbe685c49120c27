//! The trend test behind leak alerts: is the post-GC heap baseline growing steadily?
//!
//! node-memwatch fired its `leak` event after five growing GCs in a row: noise on a busy
//! process set it off, a slow leak with one dip every few GCs never did, and its rate was
//! computed in 32-bit ints (the infamous "-2147483648 bytes/hr"). Here the slope is the
//! Theil–Sen estimator (the median of the pairwise slopes: a third of the points can be
//! outliers without moving it), the evidence that the series goes up at all is the
//! Mann–Kendall test (a rank test: it does not care how big a spike is), and two more checks
//! keep ordinary behaviour quiet: the growth must be large in bytes and relative to the start,
//! and the newest part of the window must still be growing, so a cache that fills and then
//! plateaus does not alert. Differences are taken in `i128` and everything else in `f64`, so
//! no input overflows.

use serde::Serialize;

/// One observation: a timestamp (ms, any epoch, non-decreasing in the series) and a value in
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    /// Milliseconds.
    #[serde(rename = "time")]
    pub t_ms: u64,
    /// Bytes.
    pub value: u64,
}

/// Windows longer than this are thinned to evenly spaced points before the O(n²) pair
/// statistics (131 k pairs at most: well under a millisecond).
pub const MAX_TREND_POINTS: usize = 512;

/// Thresholds of the leak decision. The defaults are [`TrendOptions::normal`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrendOptions {
    /// Use at most this many of the newest points.
    pub window_points: usize,
    /// …and only those at most this many ms older than the newest (`None`: no time limit).
    pub window_ms: Option<u64>,
    /// No verdict with fewer points than this in the window.
    pub min_points: usize,
    /// The Theil–Sen slope over the window must reach this.
    pub min_slope_bytes_per_minute: f64,
    /// Mann–Kendall confidence (one-sided) that the series increases.
    pub min_confidence: f64,
    /// Growth from the start of the window to its end (medians of the first and last thirds).
    pub min_growth_bytes: u64,
    /// …and growth relative to the start.
    pub min_growth_ratio: f64,
    /// The newest third of the window (this fraction) must still be growing:
    pub tail_fraction: f64,
    /// …with at least this confidence,
    pub min_tail_confidence: f64,
    /// …at a slope of at least this fraction of the whole window's slope,
    pub min_tail_slope_ratio: f64,
    /// …and the growth from the middle third to the last third (medians) must be at least
    /// this share of the whole growth (first to last third): a steady leak gives about 0.5, a
    /// cache that filled in the older part of the window about 0.
    pub min_recent_growth_share: f64,
    /// The fast-growth rule (see [`trend`]) looks at the newest this many points of the window,
    pub fast_max_points: usize,
    /// …needs at least this many,
    pub fast_min_points: usize,
    /// …spanning at least this many ms,
    pub fast_min_span_ms: u64,
    /// …with at least this share of their pairs going up (0.9: up to 4 points, all pairs),
    pub fast_min_positive_fraction: f64,
    /// …their Theil–Sen line growing over their span by at least this ratio of its start
    /// (1.0: the heap doubled)
    pub fast_min_growth_ratio: f64,
    /// …and by at least this many bytes,
    pub fast_min_growth_bytes: u64,
    /// …and the newest step still rising at this fraction of their Theil–Sen slope at least.
    pub fast_min_tail_slope_ratio: f64,
}

impl Default for TrendOptions {
    fn default() -> Self {
        TrendOptions::normal()
    }
}

impl TrendOptions {
    /// The default: a slope of at least 16 KiB/min (about 1 MB an hour) over 30 post-GC points,
    /// 99% confidence, at least 1 MiB and 5% growth, still growing in the newest third.
    pub fn normal() -> Self {
        TrendOptions {
            window_points: 30,
            window_ms: None,
            min_points: 12,
            min_slope_bytes_per_minute: 16.0 * 1024.0,
            min_confidence: 0.99,
            min_growth_bytes: 1024 * 1024,
            min_growth_ratio: 0.05,
            tail_fraction: 1.0 / 3.0,
            min_tail_confidence: 0.9,
            min_tail_slope_ratio: 0.25,
            min_recent_growth_share: 0.3,
            fast_max_points: 8,
            fast_min_points: 3,
            fast_min_span_ms: 15_000,
            fast_min_positive_fraction: 0.9,
            fast_min_growth_ratio: 1.0,
            fast_min_growth_bytes: 16 * 1024 * 1024,
            fast_min_tail_slope_ratio: 0.5,
        }
    }

    /// Alerts sooner and on smaller leaks (more false alarms on processes that warm up slowly).
    pub fn high() -> Self {
        TrendOptions {
            min_slope_bytes_per_minute: 4.0 * 1024.0,
            min_confidence: 0.95,
            min_growth_bytes: 256 * 1024,
            min_growth_ratio: 0.02,
            min_tail_confidence: 0.8,
            fast_min_span_ms: 10_000,
            fast_min_growth_ratio: 0.5,
            fast_min_growth_bytes: 8 * 1024 * 1024,
            ..TrendOptions::normal()
        }
    }

    /// Alerts only on large, certain growth.
    pub fn low() -> Self {
        TrendOptions {
            min_slope_bytes_per_minute: 256.0 * 1024.0,
            min_confidence: 0.999,
            min_growth_bytes: 8 * 1024 * 1024,
            min_growth_ratio: 0.20,
            min_tail_confidence: 0.95,
            fast_min_span_ms: 20_000,
            fast_min_growth_ratio: 2.0,
            fast_min_growth_bytes: 64 * 1024 * 1024,
            ..TrendOptions::normal()
        }
    }
}

/// Result of the Mann–Kendall trend test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Σ sign(xⱼ − xᵢ) over pairs i < j in time order.
    pub s: i64,
    /// Variance of S under "no trend", corrected for ties.
    pub variance: f64,
    /// Continuity-corrected z-score.
    pub z: f64,
    /// One-sided confidence that the series increases: Φ(z).
    pub confidence: f64,
    /// Share of pairs (later minus earlier) that went up.
    pub positive_fraction: f64,
}

/// What the trend test found over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trend {
    /// `"insufficient"` (too few points), `"flat"`, `"growing"` (some growth, not a leak by the
    /// rule) or `"leak"`.
    pub verdict: &'static str,
    /// Whether every condition of the leak rule holds.
    pub leak: bool,
    /// Whether the window shows no meaningful growth (re-arms alerts).
    pub flat: bool,
    /// The first condition of the trend rule that failed, or `"leak"` (either rule).
    pub reason: &'static str,
    /// Which rule found the leak: `"trend"` (the statistical rule over the window) or `"fast"`
    /// (fast growth over few points); `None` when there is no leak.
    pub rule: Option<&'static str>,
    /// Points in the window.
    pub window: usize,
    /// Time from the first to the last point of the window.
    pub window_ms: u64,
    /// Theil–Sen slope over the window.
    pub slope_bytes_per_minute: f64,
    /// Theil–Sen intercept: the fitted line's value (bytes) at the window's first point's
    /// time, the median of `value − slope × (time − first time)` over the window, so the line
    /// is `intercept + slope × (t − samples[0].time)`. 0 when there is no slope.
    pub intercept: f64,
    /// Mann–Kendall one-sided confidence of an increase.
    pub confidence: f64,
    /// 1 − confidence.
    pub p_value: f64,
    /// Mann–Kendall z-score.
    pub z: f64,
    /// Mann–Kendall S statistic.
    pub mann_kendall_s: i64,
    /// Share of pairwise slopes that are positive.
    pub positive_fraction: f64,
    /// Median of the first third of the window, bytes.
    pub baseline_start: u64,
    /// Median of the middle third of the window, bytes.
    pub baseline_middle: u64,
    /// Median of the last third of the window, bytes.
    pub baseline_end: u64,
    /// `baseline_end − baseline_start` (negative when shrinking), bytes.
    pub growth_bytes: f64,
    /// Growth relative to `baseline_start`.
    pub growth_ratio: f64,
    /// `(baseline_end − baseline_middle) / growth_bytes`: about 0.5 while the growth goes on,
    /// about 0 once it stopped in the older part of the window (0 when there is no growth).
    pub recent_growth_share: f64,
    /// Theil–Sen slope of the newest `tail_fraction` of the window.
    pub tail_slope_bytes_per_minute: f64,
    /// Mann–Kendall confidence of an increase in that tail.
    pub tail_confidence: f64,
    /// The points of the window.
    pub samples: Vec<Point>,
}

/// The median of the pairwise slopes (bytes per ms) over pairs with distinct timestamps;
/// `None` when there is no such pair.
pub fn theil_sen(points: &[Point]) -> Option<f64> {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if let Some(s) = pair_slope(a, b) {
                slopes.push(s);
            }
        }
    }
    median_f64(&mut slopes)
}

/// The Theil–Sen intercept of `points` for `slope` (bytes per ms), taken at the time of the
/// first point: the median of the residuals `value − slope × (t − t₀)`. 0 for no points.
pub fn theil_sen_intercept(points: &[Point], slope: f64) -> f64 {
    let Some(t0) = points.iter().map(|p| p.t_ms).min() else {
        return 0.0;
    };
    let mut residuals: Vec<f64> = points
        .iter()
        .map(|p| p.value as f64 - slope * (p.t_ms - t0) as f64)
        .collect();
    median_f64(&mut residuals).unwrap_or(0.0)
}

/// Slope from `a` to `b` (either order), `None` for equal timestamps.
fn pair_slope(a: &Point, b: &Point) -> Option<f64> {
    let (a, b) = if a.t_ms <= b.t_ms { (a, b) } else { (b, a) };
    let dt = b.t_ms - a.t_ms;
    if dt == 0 {
        return None;
    }
    let dv = i128::from(b.value) - i128::from(a.value);
    Some(dv as f64 / dt as f64)
}

fn median_f64(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, &mut hi, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    if v.len() % 2 == 1 {
        return Some(hi);
    }
    let lo = v[..mid].iter().copied().max_by(f64::total_cmp)?;
    Some(lo / 2.0 + hi / 2.0)
}

fn median_u64(v: &mut [u64]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, &mut hi, _) = v.select_nth_unstable(mid);
    if v.len() % 2 == 1 {
        return Some(hi);
    }
    let lo = *v[..mid].iter().max()?;
    // Halve first: the sum of two values near u64::MAX does not fit.
    Some(lo / 2 + hi / 2 + (lo % 2 + hi % 2) / 2)
}

/// The Mann–Kendall test for a monotonic trend, pairs taken in time order (points with equal
/// timestamps are not compared). `None` for fewer than 3 points.
pub fn mann_kendall(points: &[Point]) -> Option<MannKendall> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let mut s: i64 = 0;
    let mut pairs: u64 = 0;
    let mut up: u64 = 0;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if a.t_ms == b.t_ms {
                continue;
            }
            let (a, b) = if a.t_ms < b.t_ms { (a, b) } else { (b, a) };
            pairs += 1;
            match b.value.cmp(&a.value) {
                std::cmp::Ordering::Greater => {
                    s += 1;
                    up += 1;
                }
                std::cmp::Ordering::Less => s -= 1,
                std::cmp::Ordering::Equal => {}
            }
        }
    }
    // Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18 over groups of t tied values.
    let tie_term = |t: f64| t * (t - 1.0) * (2.0 * t + 5.0);
    let mut values: Vec<u64> = points.iter().map(|p| p.value).collect();
    values.sort_unstable();
    let mut ties = 0.0;
    let mut run = 1usize;
    for w in 1..=values.len() {
        if w < values.len() && values[w] == values[w - 1] {
            run += 1;
        } else {
            if run > 1 {
                ties += tie_term(run as f64);
            }
            run = 1;
        }
    }
    let variance = ((tie_term(n as f64) - ties) / 18.0).max(0.0);
    let z = if variance <= 0.0 || s == 0 {
        0.0
    } else if s > 0 {
        (s - 1) as f64 / variance.sqrt()
    } else {
        (s + 1) as f64 / variance.sqrt()
    };
    let confidence = normal_cdf(z);
    Some(MannKendall {
        s,
        variance,
        z,
        confidence,
        positive_fraction: if pairs == 0 {
            0.0
        } else {
            up as f64 / pairs as f64
        },
    })
}

/// Φ(z), the standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative error < 1.2e-7:
/// far finer than any threshold here).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The newest points within the window of `opts`, in time order, thinned to at most
/// [`MAX_TREND_POINTS`].
fn window_of(points: &[Point], opts: &TrendOptions) -> Vec<Point> {
    let mut pts: Vec<Point> = points.to_vec();
    pts.sort_by_key(|p| p.t_ms);
    let keep = opts.window_points.max(1);
    if pts.len() > keep {
        pts.drain(..pts.len() - keep);
    }
    if let (Some(ms), Some(last)) = (opts.window_ms, pts.last().map(|p| p.t_ms)) {
        let from = last.saturating_sub(ms);
        pts.retain(|p| p.t_ms >= from);
    }
    if pts.len() > MAX_TREND_POINTS {
        let n = pts.len();
        pts = (0..MAX_TREND_POINTS)
            .map(|k| pts[k * (n - 1) / (MAX_TREND_POINTS - 1)])
            .collect();
    }
    pts
}

/// Runs the leak rule over the newest points of `points` (post-GC heap baselines):
///
/// leak ⇔ at least `min_points` points
///   ∧ Theil–Sen slope ≥ `min_slope_bytes_per_minute`
///   ∧ Mann–Kendall confidence ≥ `min_confidence`
///   ∧ growth (median of the last third − median of the first third) ≥ `min_growth_bytes`
///     and ≥ `min_growth_ratio` × the first third's median
///   ∧ the newest `tail_fraction` still grows: its Theil–Sen slope > 0 and
///     ≥ `min_tail_slope_ratio` × the window's slope, with Mann–Kendall confidence ≥
///     `min_tail_confidence`, and the medians still rise from the middle third to the last
///     by at least `min_recent_growth_share` of the whole growth (a cache that filled and
///     plateaued fails here: its tail alone is a few noisy points that rise by chance now and
///     then, but the plateau's medians do not move).
///
/// …or, the fast-growth rule, over the newest `fast_max_points` (8) points of the window:
///
/// leak ⇔ at least `fast_min_points` (3) of them, spanning ≥ `fast_min_span_ms` (15 s)
///   ∧ ≥ `fast_min_positive_fraction` (0.9) of their pairs going up
///   ∧ their Theil–Sen line grows over their span by ≥ `fast_min_growth_ratio` (1.0: doubled)
///     × its start (the intercept) and by ≥ `fast_min_growth_bytes` (16 MiB), at a slope ≥
///     `min_slope_bytes_per_minute`
///   ∧ the newest step still rises at ≥ `fast_min_tail_slope_ratio` (0.5) × that slope.
///
/// Why a second rule: V8 runs a major GC when the old generation reaches a limit that it
/// raises by a factor after each one, so a fast leak gets geometrically spaced GCs: heaps
/// growing 1–6 MB/s from 10 MB saw only 3–5 major GCs in 40 s, and the trend rule (12 points
/// by default, 8 with the short test window) never had enough of them. A heap that at least
/// doubles over 15 s or more through rising post-GC baselines is not noise, and the other
/// conditions keep the usual false alarms out: a cache that filled or a start-up that
/// finished fails the newest-step check (its last step is flat), a saw-tooth fails the pair
/// share or the doubling, and ordinary warm-up the doubling and the byte floor. What it
/// cannot tell from a leak is a start-up or a batch job that really does double the heap at
/// a steady rate for 15 s or more: that alerts once (sensitivity `low` wants 3× over 20 s).
/// The sensitivity presets move the ratio, the bytes and the span (high: 0.5, 8 MiB, 10 s;
/// low: 2.0, 64 MiB, 20 s).
///
/// `flat` (at least `min_points`, and no meaningful growth: slope below half the minimum, or
/// confidence below 0.5) is what re-arms an alert after it fired; see [`AlertState`].
pub fn trend(points: &[Point], opts: &TrendOptions) -> Trend {
    let pts = window_of(points, opts);
    let n = pts.len();
    let mut t = Trend {
        verdict: "insufficient",
        leak: false,
        flat: false,
        reason: "too few points",
        rule: None,
        window: n,
        window_ms: match (pts.first(), pts.last()) {
            (Some(a), Some(b)) => b.t_ms - a.t_ms,
            _ => 0,
        },
        slope_bytes_per_minute: 0.0,
        intercept: 0.0,
        confidence: 0.5,
        p_value: 0.5,
        z: 0.0,
        mann_kendall_s: 0,
        positive_fraction: 0.0,
        baseline_start: 0,
        baseline_middle: 0,
        baseline_end: 0,
        growth_bytes: 0.0,
        growth_ratio: 0.0,
        recent_growth_share: 0.0,
        tail_slope_bytes_per_minute: 0.0,
        tail_confidence: 0.5,
        samples: Vec::new(),
    };
    let third = n.div_ceil(3).max(1);
    if n > 0 {
        let mut first: Vec<u64> = pts[..third.min(n)].iter().map(|p| p.value).collect();
        let mut last: Vec<u64> = pts[n - third.min(n)..].iter().map(|p| p.value).collect();
        t.baseline_start = median_u64(&mut first).unwrap_or(0);
        t.baseline_end = median_u64(&mut last).unwrap_or(0);
        // The middle by index range [n/3, ⌈2n/3⌉): never empty, even for 3 or 4 points.
        let mut middle: Vec<u64> = pts[n / 3..(2 * n).div_ceil(3)]
            .iter()
            .map(|p| p.value)
            .collect();
        t.baseline_middle = median_u64(&mut middle).unwrap_or(0);
        let growth = i128::from(t.baseline_end) - i128::from(t.baseline_start);
        t.growth_bytes = growth as f64;
        if growth > 0 {
            let recent = i128::from(t.baseline_end) - i128::from(t.baseline_middle);
            t.recent_growth_share = recent as f64 / growth as f64;
        }
        t.growth_ratio = if t.baseline_start == 0 {
            if growth > 0 {
                f64::MAX
            } else {
                0.0
            }
        } else {
            growth as f64 / t.baseline_start as f64
        };
    }
    let (slope, mk) = match (theil_sen(&pts), mann_kendall(&pts)) {
        (Some(s), Some(mk)) => (s, mk),
        _ => {
            t.samples = pts;
            return t;
        }
    };
    t.slope_bytes_per_minute = slope * 60_000.0;
    t.intercept = theil_sen_intercept(&pts, slope);
    t.confidence = mk.confidence;
    t.p_value = 1.0 - mk.confidence;
    t.z = mk.z;
    t.mann_kendall_s = mk.s;
    t.positive_fraction = mk.positive_fraction;

    // At least 5 points: with 4, a single out-of-order pair already drops a rising tail below
    // 90% confidence; with 5 it does not.
    let tail_len = ((n as f64 * opts.tail_fraction).ceil() as usize)
        .max(5)
        .min(n);
    let tail = &pts[n - tail_len..];
    t.tail_slope_bytes_per_minute = theil_sen(tail).unwrap_or(0.0) * 60_000.0;
    t.tail_confidence = mann_kendall(tail).map_or(0.5, |m| m.confidence);

    let enough = n >= opts.min_points.max(3);
    t.flat = enough
        && (t.slope_bytes_per_minute < opts.min_slope_bytes_per_minute / 2.0 || t.confidence < 0.5);
    t.reason = if !enough {
        "too few points"
    } else if t.slope_bytes_per_minute < opts.min_slope_bytes_per_minute {
        "slope below minimum"
    } else if t.confidence < opts.min_confidence {
        "confidence below threshold"
    } else if t.growth_bytes < opts.min_growth_bytes as f64
        || t.growth_ratio < opts.min_growth_ratio
    {
        "growth too small"
    } else if t.tail_slope_bytes_per_minute <= 0.0
        || t.tail_slope_bytes_per_minute < opts.min_tail_slope_ratio * t.slope_bytes_per_minute
        || t.tail_confidence < opts.min_tail_confidence
        || t.recent_growth_share < opts.min_recent_growth_share
    {
        "levelled off"
    } else {
        "leak"
    };
    if t.reason == "leak" {
        t.rule = Some("trend");
    } else if fast_growth(&pts, opts) {
        t.reason = "leak";
        t.rule = Some("fast");
    }
    t.leak = t.reason == "leak";
    t.verdict = if t.leak {
        "leak"
    } else if !enough {
        "insufficient"
    } else if t.flat {
        "flat"
    } else {
        "growing"
    };
    t.samples = pts;
    t
}

/// The fast-growth rule of [`trend`] over the window `pts` (time order).
fn fast_growth(pts: &[Point], opts: &TrendOptions) -> bool {
    let k = pts.len().min(opts.fast_max_points);
    if k < opts.fast_min_points.max(3) {
        return false;
    }
    let w = &pts[pts.len() - k..];
    let (first, prev, last) = (w[0], w[k - 2], w[k - 1]);
    let (Some(slope), Some(mk)) = (theil_sen(w), mann_kendall(w)) else {
        return false;
    };
    let span = last.t_ms - first.t_ms;
    // Growth and start from the fitted line, not the end points: one early GC taken before
    // the app had loaded would otherwise make any later growth look like a doubling.
    let growth = slope * span as f64;
    let start = theil_sen_intercept(w, slope).max(0.0);
    let newest_step = pair_slope(&prev, &last).unwrap_or(0.0);
    span >= opts.fast_min_span_ms
        && mk.positive_fraction >= opts.fast_min_positive_fraction
        && growth >= opts.fast_min_growth_bytes as f64
        && growth >= opts.fast_min_growth_ratio * start
        && slope * 60_000.0 >= opts.min_slope_bytes_per_minute
        && newest_step > 0.0
        && newest_step >= opts.fast_min_tail_slope_ratio * slope
}

/// Turns a stream of trends into alerts: one per leak episode. It fires on the first leak
/// verdict, then stays quiet until a trend comes out flat (the window no longer grows), so a
/// persisting leak is reported once, not at every GC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertState {
    armed: bool,
}

impl Default for AlertState {
    fn default() -> Self {
        AlertState { armed: true }
    }
}

impl AlertState {
    /// Feeds one trend; true when it should raise an alert.
    pub fn update(&mut self, t: &Trend) -> bool {
        if self.armed && t.leak {
            self.armed = false;
            return true;
        }
        if !self.armed && t.flat {
            self.armed = true;
        }
        false
    }

    /// Whether the next leak verdict raises an alert.
    pub fn armed(&self) -> bool {
        self.armed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic PRNG (xorshift), so the synthetic noise is the same on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Uniform in [-1, 1).
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    const MB: f64 = 1024.0 * 1024.0;

    /// The trend without its samples, for assertion messages.
    fn brief(t: &Trend) -> String {
        format!(
            "{} slope={:.0}/min conf={:.4} growth={:.0} ({:.3}) tail={:.0}/min conf={:.3} n={}",
            t.reason,
            t.slope_bytes_per_minute,
            t.confidence,
            t.growth_bytes,
            t.growth_ratio,
            t.tail_slope_bytes_per_minute,
            t.tail_confidence,
            t.window
        )
    }

    /// Post-GC points every `every_ms`, value = f(i) + uniform noise of ±`noise` bytes.
    fn series(
        n: usize,
        every_ms: u64,
        noise: f64,
        seed: u64,
        f: impl Fn(usize) -> f64,
    ) -> Vec<Point> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|i| Point {
                t_ms: 1_700_000_000_000 + i as u64 * every_ms,
                value: (f(i) + noise * rng.unit()).max(0.0) as u64,
            })
            .collect()
    }

    #[test]
    fn theil_sen_and_mann_kendall_on_a_line() {
        let pts: Vec<Point> = (0..10)
            .map(|i| Point {
                t_ms: i * 1000,
                value: 1000 + i * 500,
            })
            .collect();
        assert_eq!(theil_sen(&pts), Some(0.5));
        assert_eq!(theil_sen_intercept(&pts, 0.5), 1000.0);
        let t = trend(
            &pts,
            &TrendOptions {
                min_points: 5,
                ..TrendOptions::default()
            },
        );
        assert_eq!((t.slope_bytes_per_minute, t.intercept), (30_000.0, 1000.0));
        let mk = mann_kendall(&pts).unwrap();
        assert_eq!(mk.s, 45);
        assert!((mk.variance - 125.0).abs() < 1e-9);
        assert!((mk.z - 44.0 / 125f64.sqrt()).abs() < 1e-9);
        assert!(mk.confidence > 0.9999);
        assert_eq!(mk.positive_fraction, 1.0);
        // Φ sanity: the approximation matches known values.
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-2.326_348) - 0.01).abs() < 1e-6);
    }

    #[test]
    fn one_spike_does_not_move_the_slope() {
        let mut pts: Vec<Point> = (0..11)
            .map(|i| Point {
                t_ms: i * 1000,
                value: 5000,
            })
            .collect();
        pts[5].value = u64::MAX;
        assert_eq!(theil_sen(&pts), Some(0.0));
    }

    #[test]
    fn linear_growth_with_noise_is_a_leak_at_default_sensitivity() {
        // 60 MB baseline growing 3 MB/min, one GC point every 4 s, ±1 MB noise.
        let pts = series(30, 4000, MB, 7, |i| 60.0 * MB + i as f64 * 3.0 * MB / 15.0);
        let t = trend(&pts, &TrendOptions::default());
        assert!(t.leak, "{}", brief(&t));
        assert_eq!(t.verdict, "leak");
        let expected = 3.0 * MB;
        assert!(
            (t.slope_bytes_per_minute - expected).abs() < 0.25 * expected,
            "{}",
            t.slope_bytes_per_minute
        );
        assert!(t.confidence > 0.99);
        assert!(t.baseline_end > t.baseline_start);
        assert_eq!(t.samples.len(), 30);
    }

    #[test]
    fn a_slow_leak_is_found_over_a_long_window_too() {
        // 200 MB baseline, +100 KB per point at one point a minute (6 MB an hour), ±500 KB noise.
        let opts = TrendOptions {
            window_points: 240,
            ..TrendOptions::default()
        };
        let pts = series(240, 60_000, 500_000.0, 3, |i| {
            200.0 * MB + i as f64 * 100_000.0
        });
        let t = trend(&pts, &opts);
        assert!(t.leak, "{}", brief(&t));
        // The default 30-point window (half an hour) sees 3 MB, 1.5%: too little to claim a leak.
        assert!(!trend(&pts, &TrendOptions::default()).leak);
    }

    #[test]
    fn sensitivity_moves_the_bar_both_ways() {
        let verdicts = |pts: &[Point]| {
            [
                TrendOptions::low(),
                TrendOptions::normal(),
                TrendOptions::high(),
            ]
            .map(|o| trend(pts, &o).leak)
        };
        // 20 MB growing 0.6 MB over a minute (3%): only 'high' calls it a leak (normal wants
        // 1 MiB and 5%).
        let small = series(30, 2000, 10_000.0, 21, |i| {
            20.0 * MB + i as f64 * 0.6 * MB / 29.0
        });
        assert_eq!(verdicts(&small), [false, false, true]);
        // 40 MB growing 4 MB (10%): normal and high, not 'low' (8 MiB and 20%).
        let medium = series(30, 2000, 10_000.0, 22, |i| {
            40.0 * MB + i as f64 * 4.0 * MB / 29.0
        });
        assert_eq!(verdicts(&medium), [false, true, true]);
        // 40 MB growing 20 MB: all three.
        let big = series(30, 2000, 10_000.0, 23, |i| {
            40.0 * MB + i as f64 * 20.0 * MB / 29.0
        });
        assert_eq!(verdicts(&big), [true, true, true]);
    }

    #[test]
    fn sawtooth_noise_is_not_a_leak() {
        // GC baselines that ramp up and drop back every 6 points (periodic batch work).
        let pts = series(30, 2000, 0.3 * MB, 11, |i| {
            50.0 * MB + (i % 6) as f64 * 2.0 * MB
        });
        let t = trend(&pts, &TrendOptions::default());
        assert!(!t.leak, "{}", brief(&t));
        // Plain noise around a constant is flat and re-arms.
        let pts = series(30, 2000, 4.0 * MB, 5, |_| 50.0 * MB);
        let t = trend(&pts, &TrendOptions::default());
        assert!(!t.leak && t.verdict != "leak", "{}", brief(&t));
    }

    #[test]
    fn fill_then_plateau_is_not_a_leak() {
        // A cache filling 1 MB per point for 15 points, then full (the rest of the window).
        let pts = series(30, 2000, 0.2 * MB, 13, |i| {
            40.0 * MB + (i.min(15) as f64) * MB
        });
        let t = trend(&pts, &TrendOptions::default());
        assert!(!t.leak, "{}", brief(&t));
        assert_eq!(t.reason, "levelled off");
        // While it is still filling, it does look like a leak: that is why the tail check exists.
        let filling = trend(
            &pts[..15],
            &TrendOptions {
                min_points: 12,
                ..TrendOptions::default()
            },
        );
        assert!(filling.leak, "{}", brief(&filling));
        // Later, with the fill out of the window, the trend is flat.
        let later = series(60, 2000, 0.2 * MB, 13, |i| {
            40.0 * MB + (i.min(15) as f64) * MB
        });
        let t = trend(&later, &TrendOptions::default());
        assert!(t.flat && !t.leak, "{}", brief(&t));
    }

    /// Replays a series GC by GC through [`AlertState`], as the sampler does; the index of the
    /// first alert.
    fn first_alert(pts: &[Point], opts: &TrendOptions) -> Option<usize> {
        let mut a = AlertState::default();
        (1..=pts.len()).find(|&k| a.update(&trend(&pts[..k], opts)))
    }

    /// Fails with the count and the first few when a series that must not alert did.
    fn assert_no_alerts<T: std::fmt::Debug>(alerts: &[T]) {
        assert!(
            alerts.is_empty(),
            "{} false alerts, e.g. {:?}",
            alerts.len(),
            &alerts[..alerts.len().min(3)]
        );
    }

    /// The test's short window (10 points, verdicts from 8), as in `sampling.test.js`.
    fn short_window() -> TrendOptions {
        TrendOptions {
            window_points: 10,
            min_points: 8,
            ..TrendOptions::default()
        }
    }

    #[test]
    fn a_cache_filling_early_in_a_short_window_never_alerts() {
        // Measured on the plateau child (sampling-child.js): one major GC every ~4 s, a 9 MB
        // cache full after 1–4 of them, then a 54 MB baseline with ±0.5 MB of noise. The fill
        // stays in a 10-point window for 40 s; a tail of 5 noisy points rises at random now and
        // then, which is how the tail check alone let one run through (94 of these 2000 series
        // alerted with it; none do with the middle-to-last-third share).
        let mut alerts = Vec::new();
        for seed in 1..=2000u64 {
            let fill = 1 + (seed % 4) as usize;
            let pts = series(14, 4000, 0.5 * MB, seed * 7919, |i| {
                45.0 * MB + 9.0 * MB * (i.min(fill) as f64 / fill as f64)
            });
            if let Some(k) = first_alert(&pts, &short_window()) {
                alerts.push((seed, k, brief(&trend(&pts[..k], &short_window()))));
            }
        }
        assert_no_alerts(&alerts);
    }

    #[test]
    fn a_steady_leak_alerts_within_a_short_window() {
        // The leak child: ~1.8 MB more per major GC (450 KB/s, a GC every ~4 s), ±0.5 MB noise.
        for seed in 1..=2000u64 {
            let pts = series(14, 4000, 0.5 * MB, seed * 104_729, |i| {
                30.0 * MB + i as f64 * 1.8 * MB
            });
            let k = first_alert(&pts, &short_window());
            assert!(
                matches!(k, Some(k) if k <= 9),
                "seed {seed}: {k:?} {}",
                brief(&trend(&pts, &short_window()))
            );
        }
    }

    /// The post-GC baselines of a fast leak as V8 spaces them: a major GC each time the heap
    /// reached `factor` × the last baseline (V8 raises its limit by a factor after each GC), the
    /// live heap growing `rate` bytes/s from `start` bytes, ±0.5 MB of noise.
    fn geometric_gcs(start: f64, rate: f64, factor: f64, first_ms: f64, seed: u64) -> Vec<Point> {
        let mut rng = Rng(seed);
        let mut t = first_ms;
        let mut pts = Vec::new();
        while t < 120_000.0 {
            let live = start + rate * t / 1000.0;
            pts.push(Point {
                t_ms: t as u64,
                value: (live + 0.5 * MB * rng.unit()) as u64,
            });
            // Until the heap reaches factor × live: garbage allocated meanwhile counts too
            // (the child allocates about as much garbage as it keeps).
            t += (factor - 1.0) * live / (2.0 * rate) * 1000.0;
        }
        pts
    }

    #[test]
    fn a_fast_leak_alerts_within_40_s_however_few_major_gcs() {
        // Measured: the fast-leak child (200 objects kept every 10 ms), default options: five
        // major GCs in 40 s, 10 → 67 MB. The trend rule never had its 12 (or 8) points.
        let measured: Vec<Point> = [
            (3808, 10_339_008),
            (7156, 16_364_552),
            (14_646, 31_240_168),
            (22_700, 45_849_744),
            (32_786, 67_170_616),
        ]
        .map(|(t_ms, value)| Point { t_ms, value })
        .to_vec();
        for opts in [TrendOptions::default(), short_window()] {
            assert_eq!(first_alert(&measured, &opts), Some(4));
            let t = trend(&measured[..4], &opts);
            assert_eq!((t.verdict, t.rule), ("leak", Some("fast")), "{}", brief(&t));
            assert!(t.slope_bytes_per_minute > 60.0 * MB, "{}", brief(&t));
            // The first 3 points span less than 15 s: no verdict yet.
            assert!(!trend(&measured[..3], &opts).leak);
        }
        // Measured, two children at once on 2 cores: 400 objects per tick (only 3 major GCs
        // in 40 s) and 100 (~0.9 MB/s: 10 → 45 MB in 40 s, 3 GCs).
        for (pts, at) in [
            (
                [(2124, 11_071_752), (9332, 35_045_632), (23_932, 97_943_120)],
                3,
            ),
            (
                [
                    (7665, 10_269_712),
                    (14_547, 16_463_624),
                    (28_276, 28_571_712),
                ],
                3,
            ),
        ] {
            let pts = pts.map(|(t_ms, value)| Point { t_ms, value }).to_vec();
            assert_eq!(first_alert(&pts, &TrendOptions::default()), Some(at));
        }
        // Replays: 1.5–4 MB/s from 8–16 MB, V8's factor 1.5–2.5, first GC after 1–6 s.
        let mut worst = 0;
        for seed in 1..=2000u64 {
            let mut r = Rng(seed * 31);
            let start = 12.0 * MB + 4.0 * MB * r.unit();
            let rate = 2.75 * MB + 1.25 * MB * r.unit();
            let factor = 2.0 + 0.5 * r.unit();
            let first = 3500.0 + 2500.0 * r.unit();
            let pts = geometric_gcs(start, rate, factor, first, seed * 7);
            for opts in [TrendOptions::default(), short_window()] {
                let k = first_alert(&pts, &opts);
                let at = k.map(|k| pts[k - 1].t_ms);
                assert!(
                    matches!(at, Some(ms) if ms <= 40_000),
                    "seed {seed}: alert at {at:?} ms; points {:?}",
                    pts.iter()
                        .map(|p| (p.t_ms, p.value >> 20))
                        .collect::<Vec<_>>()
                );
                worst = worst.max(at.unwrap_or(u64::MAX));
            }
        }
        assert!(worst <= 40_000, "{worst}");
    }

    #[test]
    fn few_gc_points_of_a_plateau_a_start_up_or_a_saw_tooth_never_alert() {
        let mut alerts = Vec::new();
        for seed in 1..=2000u64 {
            let mut r = Rng(seed * 613);
            let every = 4000 + (2000.0 * r.unit()) as u64;
            // A start-up: a tiny first point (before the app loaded), then a fill to 3–8× that
            // within 10 s (over 1–4 GCs), then flat.
            let tiny = 4.0 * MB + 2.0 * MB * r.unit();
            let full = tiny * (5.5 + 2.5 * r.unit());
            let fill = (1 + (seed % 4) as usize)
                .min((10_000 / every) as usize)
                .max(1);
            let startup = series(20, every, 0.5 * MB, seed * 7919, |i| {
                if i == 0 {
                    tiny
                } else {
                    full * (i.min(fill) as f64 / fill as f64).max(0.5)
                }
            });
            // The plateau child's cache (9 MB on 45 MB) with one early GC before the
            // in-flight requests built up.
            let plateau = series(20, every, 0.5 * MB, seed * 31, |i| {
                if i == 0 {
                    tiny
                } else {
                    45.0 * MB + 9.0 * MB * (i.min(fill) as f64 / fill as f64)
                }
            });
            // Batch work: the baseline ramps up 30–90% over three GCs, then drops back.
            let ramp = 8.0 * MB + 4.0 * MB * r.unit();
            let saw = series(20, every, 0.5 * MB, seed * 104_729, |i| {
                40.0 * MB + (i % 4) as f64 * ramp
            });
            let cases = [
                ("start-up", &startup),
                ("plateau", &plateau),
                ("saw-tooth", &saw),
            ];
            for (name, pts) in cases {
                for opts in [TrendOptions::default(), short_window()] {
                    if let Some(k) = first_alert(pts, &opts) {
                        alerts.push((name, seed, k, brief(&trend(&pts[..k], &opts))));
                    }
                }
            }
        }
        assert_no_alerts(&alerts);
    }

    #[test]
    fn the_fast_rule_needs_every_condition() {
        let opts = TrendOptions::default();
        // 10 → 50 MB over 4 points 6 s apart: a leak by the fast rule.
        let base = |f: &dyn Fn(usize) -> f64| series(4, 6000, 0.0, 1, f);
        let leak = base(&|i| 10.0 * MB + i as f64 * 13.0 * MB);
        assert_eq!(trend(&leak, &opts).rule, Some("fast"));
        // Under 15 s.
        let short = series(4, 4000, 0.0, 1, |i| 10.0 * MB + i as f64 * 13.0 * MB);
        assert!(!trend(&short, &opts).leak);
        // Not doubled: 40 → 70 MB.
        assert!(!trend(&base(&|i| 40.0 * MB + i as f64 * 10.0 * MB), &opts).leak);
        // Doubled but under 16 MiB.
        assert!(!trend(&base(&|i| 4.0 * MB + i as f64 * 4.0 * MB), &opts).leak);
        // One pair going down among the 6.
        let dip = base(&|i| [10.0, 30.0, 25.0, 50.0][i] * MB);
        assert!(!trend(&dip, &opts).leak, "{}", brief(&trend(&dip, &opts)));
        // The newest step levelled off.
        let off = base(&|i| [10.0, 30.0, 48.0, 50.0][i] * MB);
        assert!(!trend(&off, &opts).leak);
        // A leak found by the trend rule says so.
        let steady = series(30, 4000, 0.1 * MB, 3, |i| 60.0 * MB + i as f64 * MB);
        assert_eq!(trend(&steady, &opts).rule, Some("trend"));
    }

    #[test]
    fn single_outlier_spikes_are_not_a_leak() {
        let mut pts = series(30, 2000, 0.1 * MB, 17, |_| 80.0 * MB);
        pts[25].value = (500.0 * MB) as u64;
        pts[28].value = (300.0 * MB) as u64;
        pts[29].value = (400.0 * MB) as u64;
        let t = trend(&pts, &TrendOptions::default());
        assert!(!t.leak, "{}", brief(&t));
    }

    #[test]
    fn huge_values_do_not_overflow() {
        // Values and timestamps near u64::MAX, growing and shrinking.
        let pts: Vec<Point> = (0..40u64)
            .map(|i| Point {
                t_ms: u64::MAX - 40_000 + i * 1000,
                value: if i % 2 == 0 { u64::MAX - i } else { i },
            })
            .collect();
        let t = trend(&pts, &TrendOptions::default());
        assert!(t.slope_bytes_per_minute.is_finite() && t.growth_bytes.is_finite());
        let up: Vec<Point> = (0..40u64)
            .map(|i| Point {
                t_ms: i,
                value: u64::MAX / 2 + i * (u64::MAX / 100),
            })
            .collect();
        let t = trend(&up, &TrendOptions::default());
        assert!(t.leak, "{}", brief(&t));
        assert!(t.slope_bytes_per_minute > 0.0 && t.slope_bytes_per_minute.is_finite());
        assert!(t.baseline_end > t.baseline_start);
        assert_eq!(
            median_u64(&mut [u64::MAX, u64::MAX - 2]),
            Some(u64::MAX - 1)
        );
        assert_eq!(median_u64(&mut [u64::MAX, u64::MAX]), Some(u64::MAX));
        // JSON has no NaN or infinity: every number must serialise as a number.
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("null"), "{json}");
    }

    #[test]
    fn too_few_points_give_no_verdict() {
        for n in [0, 1, 2, 5, 11] {
            let pts = series(n, 1000, 0.0, 1, |i| i as f64 * 10.0 * MB);
            let t = trend(&pts, &TrendOptions::default());
            assert_eq!(t.verdict, "insufficient", "{n}");
            assert!(!t.leak && !t.flat);
        }
        // Equal timestamps carry no slope.
        let same: Vec<Point> = (0..20).map(|i| Point { t_ms: 5, value: i }).collect();
        assert_eq!(
            trend(&same, &TrendOptions::default()).verdict,
            "insufficient"
        );
    }

    #[test]
    fn window_limits_by_points_and_time_and_thins() {
        let pts = series(1000, 1000, 0.0, 1, |i| i as f64);
        let opts = TrendOptions {
            window_points: 100,
            window_ms: Some(49_000),
            ..TrendOptions::default()
        };
        let w = window_of(&pts, &opts);
        assert_eq!(w.len(), 50);
        assert_eq!(w.last(), pts.last());
        let all = TrendOptions {
            window_points: 1000,
            ..TrendOptions::default()
        };
        let w = window_of(&pts, &all);
        assert_eq!(w.len(), MAX_TREND_POINTS);
        assert_eq!((w[0], w[MAX_TREND_POINTS - 1]), (pts[0], pts[999]));
    }

    #[test]
    fn alerts_once_per_episode_and_rearm_when_flat() {
        let opts = TrendOptions::default();
        let leak = trend(
            &series(30, 2000, 0.0, 1, |i| 50.0 * MB + i as f64 * MB),
            &opts,
        );
        let flat = trend(&series(30, 2000, 0.0, 1, |_| 50.0 * MB), &opts);
        let growing = trend(
            &series(30, 2000, 0.0, 1, |i| 40.0 * MB + (i.min(15) as f64) * MB),
            &opts,
        );
        assert!(leak.leak && flat.flat && !growing.leak && !growing.flat);
        let mut a = AlertState::default();
        assert!(a.update(&leak));
        assert!(!a.update(&leak));
        assert!(!a.update(&growing));
        assert!(!a.update(&leak));
        assert!(!a.update(&flat));
        assert!(a.armed());
        assert!(a.update(&leak));
    }
}
