//! The leak verdict from survivor rounds: does what a function keeps alive grow with the number
//! of calls, steadily, to the end of the check?
//!
//! The leak assertion's fast path (lib/survivors.js) calls the function in rounds under V8's
//! sampling heap profiler, with a GC at the end of each round, and at the round ends this rule
//! looks at (the quarters, below) reads how much of what was allocated since sampling began is
//! still alive (objects and bytes, per allocation site and in total). This module owns the
//! decision on those series; it sees numbers only, no profiler.
//!
//! The rule, for one series of live totals `L` read at the ends of the rounds (cumulative calls
//! `c`, N in all): split the calls into four quarters at the round ends nearest to N/4, N/2,
//! 3N/4 and N. The first quarter may hold one-off initialisation (a lazy client, a table's
//! first growth), so the rates that count are those after it. The series is
//! - [`State::Growing`] when it gains at least `floor` per call after the first quarter, every
//!   quarter gains at least a third of the floor ([`QUARTER_SHARE`]) and the last quarter at
//!   least [`LATE_SHARE`] of the median quarter: a leak keeps everything it ever took, so this
//!   holds for it at any length of run, however slowly it grows (one object per ten calls);
//! - [`State::Bounded`] when it gains under half the floor after the first quarter, or falls in
//!   some quarter (a collection flushed now and then), or its second half is flat or gains
//!   under a quarter of what the second quarter did (a pool at its cap, a cache that evicts as
//!   fast as it inserts), or its last quarter is flat or slowed down (under a third of the
//!   floor or under [`LATE_SHARE`] of the median quarter) where a leak at the floor would have
//!   gained at least [`MIN_EXPECTED`] (with fewer, a slow leak's quarter can come out flat by
//!   chance: undecided);
//! - [`State::Undecided`] in between (a slow leak with a handful of objects per quarter whose
//!   quarters came out uneven, a structure that slows down as it nears its cap).
//!
//! What no rule can see is a bound beyond the run: a cache that reaches its cap after the last
//! call, a collection flushed less often than once in three quarters of the run. The caller
//! therefore runs longer (doubling the calls) while a series grows or is undecided, and calls
//! it a leak only when it still grows at the longest run.

use serde::Serialize;

use crate::{Error, Result};

/// Every quarter must gain at least this share of the floor per call.
pub const QUARTER_SHARE: f64 = 1.0 / 3.0;

/// A flat or slowed last quarter proves a stop only when a leak at the floor would have gained
/// at least this much in it (with fewer, a slow leak's quarter can come out flat by chance).
pub const MIN_EXPECTED: f64 = 8.0;

/// The last quarter must gain at least this share of the median quarter's gain per call.
pub const LATE_SHARE: f64 = 0.35;

/// What a series counts (only used in the reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Objects (estimated from the samples).
    Objects,
    /// Bytes.
    Bytes,
}

impl Unit {
    fn word(self) -> &'static str {
        match self {
            Unit::Objects => "objects",
            Unit::Bytes => "bytes",
        }
    }
}

/// What the rounds say about a series (or about all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// It stopped, or never grew: under half the floor after the first quarter, a flat second
    /// half, or a quarter in which it fell.
    Bounded,
    /// It grows, but not steadily enough to call it either way (a slow leak with few objects
    /// per quarter in a short run): run longer.
    Undecided,
    /// It grows steadily to the end: the rule above.
    Growing,
}

/// One series: the live total after each round (same length as the calls).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Who the series belongs to (an allocation site, or "all sites"), for the reason.
    pub label: String,
    /// Objects or bytes.
    pub unit: Unit,
    /// Live total after round i, counting what was allocated since the first round began.
    pub live: Vec<f64>,
    /// The least gain per call that counts as growth (in `unit`s).
    pub floor: f64,
    /// How far apart two readings may be by chance alone (in `unit`s; the sampler's own
    /// noise: a full cache's count moves a little as sampled entries are evicted and new ones
    /// come in). Every gain is taken this much smaller before it is judged, a fall this much
    /// larger.
    pub tolerance: f64,
}

/// The decision on one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesVerdict {
    /// Index of the series in the input.
    pub index: usize,
    /// The series' label.
    pub label: String,
    /// Objects or bytes.
    pub unit: Unit,
    /// Growing, bounded or undecided.
    pub state: State,
    /// Gain per call after the first quarter (the first may hold one-off initialisation).
    pub late_per_call: f64,
    /// Gain per call over the whole run.
    pub per_call: f64,
    /// Gain per call in each quarter, oldest first.
    pub quarters: [f64; 4],
    /// Why it grows or not, in words.
    pub reason: String,
}

/// The decision on all series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundsVerdict {
    /// Growing when any series grows, bounded when all are, else undecided.
    pub state: State,
    /// Calls in the run.
    pub calls: u64,
    /// Every series' decision, growing ones first, then undecided, then bounded; within each by
    /// gain per call (after the first quarter) relative to the floor.
    pub series: Vec<SeriesVerdict>,
    /// The reason of the first series.
    pub reason: String,
}

/// The indices (into the rounds) that end the four quarters: the round ends nearest to N/4,
/// N/2, 3N/4 (each later than the one before) and the last round.
fn quarter_ends(calls: &[u64]) -> [usize; 4] {
    let n = calls[calls.len() - 1] as f64;
    let mut ends = [0usize; 4];
    let mut from = 0usize;
    for (q, end) in ends.iter_mut().enumerate().take(3) {
        let mark = n * (q + 1) as f64 / 4.0;
        // Leave room for the quarters still to come (each needs a round of its own).
        let last = calls.len() - (4 - q);
        let mut best = from;
        for i in from..=last {
            if (calls[i] as f64 - mark).abs() < (calls[best] as f64 - mark).abs() {
                best = i;
            }
        }
        *end = best;
        from = best + 1;
    }
    ends[3] = calls.len() - 1;
    ends
}

fn fmt_num(x: f64) -> String {
    if x.abs() >= 10.0 || x == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn judge(index: usize, s: &Series, calls: &[u64], ends: &[usize; 4]) -> SeriesVerdict {
    let tol = s.tolerance;
    let last = calls.len() - 1;
    // Gain per call between two round ends (`None`: the start, nothing alive), less the
    // tolerance; a fall is made larger by it.
    let rate = |from: Option<usize>, to: usize| {
        let (l0, c0) = from.map_or((0.0, 0), |i| (s.live[i], calls[i]));
        let gain = s.live[to] - l0;
        let gain = if gain >= 0.0 {
            (gain - tol).max(0.0)
        } else {
            gain - tol
        };
        gain / (calls[to] - c0) as f64
    };
    let mut quarters = [0.0; 4];
    let mut prev = None;
    for (q, &end) in ends.iter().enumerate() {
        quarters[q] = rate(prev, end);
        prev = Some(end);
    }
    let per_call = s.live[last] / calls[last] as f64;
    let after_first = rate(Some(ends[0]), last);
    let second_half = rate(Some(ends[1]), last);
    let mut sorted = quarters;
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = (sorted[1] + sorted[2]) / 2.0;
    let slowest = sorted[0];
    let slowest_q = quarters.iter().position(|x| *x == slowest).unwrap_or(0) + 1;
    let unit = s.unit.word();
    let q_text = quarters
        .iter()
        .map(|q| fmt_num(*q))
        .collect::<Vec<_>>()
        .join(", ");
    let bar = s.floor * QUARTER_SHARE;
    let (state, why) = if after_first < s.floor / 2.0 {
        let what = format!(
            "gains {} {unit} per call after the first quarter of the calls",
            fmt_num(after_first)
        );
        (
            State::Bounded,
            format!("{what}, under half the floor of {}", fmt_num(s.floor)),
        )
    } else if slowest < -bar {
        (
            State::Bounded,
            format!(
                "falls in quarter {slowest_q} of the calls ({} {unit} per call there)",
                fmt_num(slowest)
            ),
        )
    } else if second_half < bar || second_half < quarters[1] / 4.0 {
        let what = format!(
            "{} {unit} per call there, {} in the second quarter",
            fmt_num(second_half),
            fmt_num(quarters[1])
        );
        (
            State::Bounded,
            format!("stops growing in the second half of the calls ({what})"),
        )
    } else if (quarters[3] < bar || quarters[3] < LATE_SHARE * median)
        && s.floor * (calls[last] - calls[ends[2]]) as f64 >= MIN_EXPECTED
    {
        let what = format!(
            "{} {unit} per call there, {} in a typical quarter",
            fmt_num(quarters[3]),
            fmt_num(median)
        );
        (
            State::Bounded,
            format!("stops growing in the last quarter of the calls ({what})"),
        )
    } else if after_first < s.floor {
        (
            State::Undecided,
            format!(
                "gains {} {unit} per call after the first quarter, under the floor of {}",
                fmt_num(after_first),
                fmt_num(s.floor)
            ),
        )
    } else if slowest < bar {
        (
            State::Undecided,
            format!(
                "hardly grows in quarter {slowest_q} of the calls ({} {unit} per call there)",
                fmt_num(slowest)
            ),
        )
    } else if quarters[3] < LATE_SHARE * median {
        let what = format!(
            "{} {unit} per call in the last quarter, {} in a typical one",
            fmt_num(quarters[3]),
            fmt_num(median)
        );
        (State::Undecided, format!("slows down at the end ({what})"))
    } else {
        (
            State::Growing,
            format!(
                "gains {} {unit} per call, in every quarter of the calls",
                fmt_num(after_first)
            ),
        )
    };
    SeriesVerdict {
        index,
        label: s.label.clone(),
        unit: s.unit,
        state,
        late_per_call: after_first,
        per_call,
        quarters,
        reason: format!(
            "{}: {why} (per quarter: {q_text}; {} calls)",
            s.label,
            calls[calls.len() - 1]
        ),
    }
}

/// Decides every series over the rounds whose cumulative call counts are `calls` (strictly
/// increasing, at least four rounds). Errors (`InvalidArg`) on malformed input, never panics.
pub fn rounds_verdict(calls: &[u64], series: &[Series]) -> Result<RoundsVerdict> {
    if calls.len() < 4 {
        return Err(Error::InvalidArg(format!(
            "the rounds verdict needs at least 4 rounds, got {}",
            calls.len()
        )));
    }
    if calls[0] == 0 || calls.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::InvalidArg(
            "the rounds' cumulative call counts must be positive and strictly increasing".into(),
        ));
    }
    for s in series {
        if s.live.len() != calls.len() {
            return Err(Error::InvalidArg(format!(
                "series {:?} has {} values for {} rounds",
                s.label,
                s.live.len(),
                calls.len()
            )));
        }
        if s.live.iter().any(|v| !v.is_finite())
            || !(s.floor.is_finite() && s.floor > 0.0)
            || !(s.tolerance.is_finite() && s.tolerance >= 0.0)
        {
            let what = "values must be finite, the floor positive and the tolerance zero or more";
            return Err(Error::InvalidArg(format!("series {:?}: {what}", s.label)));
        }
    }
    let ends = quarter_ends(calls);
    let mut out: Vec<SeriesVerdict> = series
        .iter()
        .enumerate()
        .map(|(i, s)| judge(i, s, calls, &ends))
        .collect();
    let score = |v: &SeriesVerdict| v.late_per_call / series[v.index].floor;
    out.sort_by(|a, b| b.state.cmp(&a.state).then(score(b).total_cmp(&score(a))));
    let state = out.first().map_or(State::Bounded, |v| v.state);
    let reason = out
        .first()
        .map_or_else(|| "nothing was sampled".to_string(), |v| v.reason.clone());
    Ok(RoundsVerdict {
        state,
        calls: calls[calls.len() - 1],
        series: out,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise (xorshift), so the replays are the same on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The reads of a check with the default options that suspects a leak (lib/survivors.js:
    /// rounds of 50 calls, read after each of the first 4, then after every 2nd of the next 4
    /// and every 4th of the last 8): 200, 400 and 800 calls, the quarter ends of each.
    fn schedule() -> Vec<u64> {
        vec![50, 100, 150, 200, 300, 400, 600, 800]
    }

    fn first_stage() -> Vec<u64> {
        (1..=4).map(|i| i * 50).collect()
    }

    /// A series of objects alive after each round from a model `alive(calls) -> objects` (the
    /// newest that many of the objects made so far, `made(calls)`: a flush or an eviction drops
    /// the oldest), each object seen by the sampler or not once and for all with probability
    /// `p` (and counted as 1/p), plus one-off survivors at random, a chance of `noise` per 25
    /// calls.
    fn sampled(
        calls: &[u64],
        made: impl Fn(u64) -> f64,
        alive: impl Fn(u64) -> f64,
        p: f64,
        noise: f64,
        rng: &mut Rng,
    ) -> Vec<f64> {
        let mut seen: Vec<bool> = Vec::new();
        let mut extra = 0.0;
        let mut prev = 0;
        calls
            .iter()
            .map(|&c| {
                while (seen.len() as f64) < made(c) {
                    seen.push(rng.next() < p);
                }
                let n = (alive(c).round() as usize).min(seen.len());
                let visible = seen[seen.len() - n..].iter().filter(|s| **s).count() as f64;
                for _ in (prev..c).step_by(25) {
                    if rng.next() < noise {
                        extra += 1.0;
                    }
                }
                prev = c;
                visible / p + extra
            })
            .collect()
    }

    /// The objects floor the check uses: half the slowest leak it promises to find (1 per 10).
    const FLOOR: f64 = 0.05;

    fn objects(live: Vec<f64>, floor: f64) -> Series {
        Series {
            label: "site".into(),
            unit: Unit::Objects,
            live,
            floor,
            tolerance: 0.0,
        }
    }

    /// Twice the standard deviation of a count of `n` objects each seen with probability `p`
    /// and counted as 1/p (what lib/survivors.js passes, from the samples' weights).
    fn tolerance(n: f64, p: f64) -> f64 {
        2.0 * (n * (1.0 - p)).sqrt() / p
    }

    fn state(calls: &[u64], live: Vec<f64>, floor: f64) -> State {
        rounds_verdict(calls, &[objects(live, floor)])
            .unwrap()
            .state
    }

    #[test]
    fn steady_leaks_grow_however_slowly() {
        let calls = schedule();
        let mut rng = Rng(7);
        for rate in [1.0, 0.5, 0.2, 0.1] {
            for _ in 0..200 {
                // 100 calls of warm-up before the rounds: the leak's objects from then are not
                // seen (sampling starts after them).
                let live = sampled(
                    &calls,
                    |c| (c as f64 * rate).floor(),
                    |c| (c as f64 * rate).floor(),
                    0.9,
                    0.3,
                    &mut rng,
                );
                assert_eq!(
                    state(&calls, live.clone(), FLOOR),
                    State::Growing,
                    "rate {rate}: {live:?}"
                );
                // After the first 200 calls a slow leak may be undecided (5 objects a quarter),
                // never bounded: the check runs on.
                let first: Vec<u64> = first_stage();
                let live1 = sampled(
                    &first,
                    |c| (c as f64 * rate).floor(),
                    |c| (c as f64 * rate).floor(),
                    0.9,
                    0.3,
                    &mut rng,
                );
                assert_ne!(
                    state(&first, live1.clone(), FLOOR),
                    State::Bounded,
                    "rate {rate}, 200 calls: {live1:?}"
                );
            }
        }
    }

    #[test]
    fn bytes_only_growth_is_a_leak() {
        // A flat string rebuilt longer on every call: only the newest copy is alive, so the live
        // bytes are the string's length, about 60 bytes more per call.
        let calls = schedule();
        let live: Vec<f64> = calls
            .iter()
            .map(|&c| 4000.0 + 60.0 * (100 + c) as f64 - 4000.0)
            .collect();
        let v = rounds_verdict(
            &calls,
            &[Series {
                label: "flatLog".into(),
                unit: Unit::Bytes,
                live,
                floor: 16.0,
                tolerance: 0.0,
            }],
        )
        .unwrap();
        assert_eq!(v.state, State::Growing, "{}", v.reason);
        assert!(v.reason.contains("bytes per call"), "{}", v.reason);
    }

    #[test]
    fn fill_then_plateau_is_not_a_leak() {
        // Caches and pools that reach their cap after several hundred calls (100 of them in the
        // warm-up, before sampling): full at 300-700 calls into the check's 800.
        let calls = schedule();
        let mut rng = Rng(11);
        for cap in [300u64, 400, 500, 600, 700] {
            for _ in 0..100 {
                let visible_cap = (cap - 100) as f64;
                let live = sampled(
                    &calls,
                    |c| c as f64,
                    |c| (c as f64).min(visible_cap),
                    0.9,
                    0.3,
                    &mut rng,
                );
                let s = Series {
                    tolerance: tolerance(visible_cap, 0.9),
                    ..objects(live.clone(), FLOOR)
                };
                let v = rounds_verdict(&calls, &[s]).unwrap();
                assert_eq!(v.state, State::Bounded, "cap {cap}: {} {live:?}", v.reason);
            }
        }
        // An LRU full before sampling began: each insert evicts one, the visible entries stop
        // at the capacity.
        let live: Vec<f64> = calls.iter().map(|&c| (c as f64).min(50.0)).collect();
        assert_eq!(state(&calls, live, FLOOR), State::Bounded);
    }

    #[test]
    fn structures_nearing_their_cap_slowly_are_not_leaks() {
        // Memoisation over 1000 random keys: fills fast, then slower and slower.
        let calls = schedule();
        let live: Vec<f64> = calls
            .iter()
            .map(|&c| 1000.0 * (1.0 - (-(c as f64) / 250.0).exp()))
            .collect();
        let v = rounds_verdict(&calls, &[objects(live, FLOOR)]).unwrap();
        assert_ne!(v.state, State::Growing, "{}", v.reason);
    }

    #[test]
    fn saw_tooth_flushes_are_not_leaks() {
        let calls = schedule();
        let mut rng = Rng(5);
        for period in [50u64, 100, 150, 250, 400, 550] {
            for phase in [0u64, 30, 70] {
                let live = sampled(
                    &calls,
                    |c| c as f64,
                    |c| ((c + phase) % period) as f64,
                    0.95,
                    0.2,
                    &mut rng,
                );
                let v = rounds_verdict(&calls, &[objects(live.clone(), FLOOR)]).unwrap();
                assert_eq!(
                    v.state,
                    State::Bounded,
                    "period {period} phase {phase}: {} {live:?}",
                    v.reason
                );
            }
        }
    }

    #[test]
    fn noise_alone_never_grows() {
        let mut rng = Rng(3);
        for (calls, at_most) in [
            (schedule(), State::Bounded),
            (first_stage(), State::Undecided),
        ] {
            for _ in 0..500 {
                // One-off survivors (lazy initialisation in the first 50 calls, code tiering up
                // now and then: a chance of 0.2 per 25 calls), and samples that die again.
                let mut acc = 0.0;
                let mut prev = 0;
                let live: Vec<f64> = calls
                    .iter()
                    .map(|&c| {
                        for at in (prev..c).step_by(25) {
                            if at < 50 {
                                acc += 20.0 * rng.next();
                            }
                            if rng.next() < 0.2 {
                                acc += 1.0;
                            }
                        }
                        prev = c;
                        acc + if rng.next() < 0.3 { 1.0 } else { 0.0 }
                    })
                    .collect();
                // 200 calls with a few stray survivors may be undecided (the check runs on);
                // 800 calls are bounded.
                assert!(state(&calls, live.clone(), FLOOR) <= at_most, "{live:?}");
            }
        }
    }

    #[test]
    fn the_floor_is_a_real_bar() {
        // 1 object per 50 calls is under half the floor of 1 per 20.
        let calls = schedule();
        let live: Vec<f64> = calls.iter().map(|&c| (c / 50) as f64).collect();
        let v = rounds_verdict(&calls, &[objects(live, FLOOR)]).unwrap();
        assert_eq!(v.state, State::Bounded);
        assert!(v.reason.contains("under half the floor"), "{}", v.reason);
    }

    #[test]
    fn the_growing_series_comes_first() {
        let calls = first_stage();
        let flat = objects(vec![5.0; calls.len()], FLOOR);
        let leak = Series {
            label: "Request".into(),
            ..objects(calls.iter().map(|&c| c as f64).collect(), FLOOR)
        };
        let v = rounds_verdict(&calls, &[flat, leak]).unwrap();
        assert_eq!(v.state, State::Growing);
        assert_eq!(v.series[0].index, 1);
        assert!(
            v.reason.starts_with("Request: gains 1.00 objects per call"),
            "{}",
            v.reason
        );
        assert_eq!(v.calls, 200);
    }

    #[test]
    fn bad_input_is_an_error() {
        let s = |n: usize| objects(vec![0.0; n], FLOOR);
        assert!(rounds_verdict(&[1, 2, 3], &[s(3)]).is_err());
        assert!(rounds_verdict(&[1, 2, 2, 3], &[s(4)]).is_err());
        assert!(rounds_verdict(&[0, 1, 2, 3], &[s(4)]).is_err());
        assert!(rounds_verdict(&[1, 2, 3, 4], &[s(3)]).is_err());
        assert!(rounds_verdict(
            &[1, 2, 3, 4],
            &[objects(vec![f64::NAN, 0.0, 0.0, 0.0], FLOOR)]
        )
        .is_err());
        assert!(rounds_verdict(&[1, 2, 3, 4], &[objects(vec![0.0; 4], 0.0)]).is_err());
        let negative = Series {
            tolerance: -1.0,
            ..objects(vec![0.0; 4], FLOOR)
        };
        assert!(rounds_verdict(&[1, 2, 3, 4], &[negative]).is_err());
        let e = rounds_verdict(&[1, 2, 3], &[]).unwrap_err();
        assert_eq!(e.code(), "ERR_LEAKGUARD_INVALID_ARG");
        // no series: bounded, a reason all the same
        let v = rounds_verdict(&[1, 2, 3, 4], &[]).unwrap();
        assert_eq!(v.state, State::Bounded);
    }

    #[test]
    fn quarters_follow_uneven_rounds() {
        let calls = schedule();
        let ends = quarter_ends(&calls);
        assert_eq!(ends.map(|i| calls[i]), [200, 400, 600, 800]);
        let ends = quarter_ends(&first_stage());
        assert_eq!(ends.map(|i| first_stage()[i]), [50, 100, 150, 200]);
        let four = [1, 2, 3, 100];
        assert_eq!(quarter_ends(&four), [0, 1, 2, 3]);
    }
}
