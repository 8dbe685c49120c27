//! The memory sampler's state: [`Sampler`] holds the three sample rings (RSS, JS heap figures,
//! post-GC baselines), the trend options and the alert state, and runs the RSS reading loop on
//! whatever thread the caller gives it until [`Sampler::stop`].

use super::{read_rss, trend, AlertState, Point, Ring, Trend, TrendOptions};
use crate::{Error, Result};
use parking_lot::{Condvar, Mutex};
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One reading of the JS heap figures (bytes; `time` in ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeapSample {
    pub time: u64,
    pub rss: u64,
    pub heap_total: u64,
    pub heap_used: u64,
    pub external: u64,
    pub array_buffers: u64,
}

/// One major GC: the heap outside the young generation right after it (the baseline) and the
/// whole heap used at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcSample {
    pub time: u64,
    pub baseline: u64,
    pub heap_used: u64,
}

/// A series whose trend can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Post-GC baselines over the configured window: what alerts use.
    Baseline,
    /// Every RSS sample held.
    Rss,
    /// Every `heapUsed` sample held.
    HeapUsed,
}

impl std::str::FromStr for Series {
    type Err = Error;

    fn from_str(s: &str) -> Result<Series> {
        match s {
            "baseline" => Ok(Series::Baseline),
            "rss" => Ok(Series::Rss),
            "heapUsed" => Ok(Series::HeapUsed),
            _ => Err(Error::InvalidArg(format!(
                "series must be 'baseline', 'rss' or 'heapUsed', not {s:?}"
            ))),
        }
    }
}

/// The preset trend options by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sensitivity {
    Low,
    #[default]
    Normal,
    High,
}

impl std::str::FromStr for Sensitivity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Sensitivity> {
        match s {
            "low" => Ok(Sensitivity::Low),
            "normal" => Ok(Sensitivity::Normal),
            "high" => Ok(Sensitivity::High),
            _ => Err(Error::InvalidArg(format!(
                "sensitivity must be 'low', 'normal' or 'high', not {s:?}"
            ))),
        }
    }
}

impl Sensitivity {
    /// The preset's options.
    pub fn options(self) -> TrendOptions {
        match self {
            Sensitivity::Low => TrendOptions::low(),
            Sensitivity::Normal => TrendOptions::normal(),
            Sensitivity::High => TrendOptions::high(),
        }
    }
}

/// Counters and memory use of the sampler itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplerStats {
    pub rss_samples: usize,
    pub rss_samples_taken: u64,
    pub last_rss: Option<u64>,
    pub heap_samples: usize,
    pub gc_samples: usize,
    pub gc_samples_taken: u64,
    pub capacity: usize,
    pub buffer_bytes: usize,
    /// Why RSS cannot be read here (not Linux), if it cannot.
    pub rss_error: Option<String>,
}

/// Every sample held, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Samples {
    pub rss: Vec<Point>,
    pub heap: Vec<HeapSample>,
    pub gc: Vec<GcSample>,
}

/// The sampler's state, shared by the caller and the RSS thread.
pub struct Sampler {
    stopped: Mutex<bool>,
    wake: Condvar,
    rss: Mutex<Ring<Point>>,
    heap: Mutex<Ring<HeapSample>>,
    gc: Mutex<Ring<GcSample>>,
    options: TrendOptions,
    alert: Mutex<AlertState>,
    rss_error: Mutex<Option<String>>,
}

/// Most samples a ring may hold: a million samples of each kind reserve 88 MB up front (an
/// hour of samples every 4 ms), and the capacity comes from a user's option, which must not
/// be able to ask for terabytes (an allocation failure aborts the process).
pub const MAX_CAPACITY: usize = 1_000_000;

/// Wall-clock ms, the clock of JS's `Date.now()`, so samples from both sides line up.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Sampler {
    /// A sampler whose rings keep `capacity` samples each (clamped to 1..=[`MAX_CAPACITY`]).
    pub fn new(capacity: usize, options: TrendOptions) -> Sampler {
        let cap = capacity.clamp(1, MAX_CAPACITY);
        Sampler {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            rss: Mutex::new(Ring::new(cap)),
            heap: Mutex::new(Ring::new(cap)),
            gc: Mutex::new(Ring::new(cap)),
            options,
            alert: Mutex::new(AlertState::default()),
            rss_error: Mutex::new(None),
        }
    }

    /// A sampler whose rings keep `capacity` samples each, for capacities that come from
    /// users: [`Error::InvalidArg`] outside 1..=[`MAX_CAPACITY`].
    pub fn with_capacity(capacity: usize, options: TrendOptions) -> Result<Sampler> {
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(Error::InvalidArg(format!(
                "the sampler's capacity (maxSamples) must be from 1 to {MAX_CAPACITY}, not {capacity}"
            )));
        }
        Ok(Sampler::new(capacity, options))
    }

    /// Ends [`Sampler::run_rss_loop`] at once (it wakes from its wait). Idempotent.
    pub fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }

    /// Whether [`Sampler::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        *self.stopped.lock()
    }

    /// The RSS thread's body: reads RSS every `interval` until stopped. Returns at once, with
    /// the reason kept for [`Sampler::stats`], where RSS cannot be read (not Linux).
    pub fn run_rss_loop(&self, interval: Duration) {
        loop {
            match read_rss() {
                Ok(rss) => self.push_rss(Point {
                    t_ms: now_ms(),
                    value: rss,
                }),
                Err(e) => {
                    *self.rss_error.lock() = Some(e.to_string());
                    return;
                }
            }
            let mut stopped = self.stopped.lock();
            if *stopped {
                return;
            }
            // wait_for returns early on stop(); spurious wake-ups just take a sample sooner.
            self.wake.wait_for(&mut stopped, interval);
            if *stopped {
                return;
            }
        }
    }

    /// Records one RSS reading.
    pub fn push_rss(&self, p: Point) {
        self.rss.lock().push(p);
    }

    /// Records one reading of the JS heap figures.
    pub fn push_heap(&self, s: HeapSample) {
        self.heap.lock().push(s);
    }

    /// Records the heap after a major GC and runs the trend test on the baselines: the trend,
    /// and whether to alert (once per leak episode).
    pub fn push_gc(&self, s: GcSample) -> (Trend, bool) {
        self.gc.lock().push(s);
        let t = self.baseline_trend();
        let alert = self.alert.lock().update(&t);
        (t, alert)
    }

    /// The trend of `series`: baselines over the configured window, or every RSS / `heapUsed`
    /// sample held (with the configured `windowMs`, if any).
    pub fn trend(&self, series: Series) -> Trend {
        let pts: Vec<Point> = match series {
            Series::Baseline => return self.baseline_trend(),
            Series::Rss => self.rss.lock().iter().copied().collect(),
            Series::HeapUsed => self
                .heap
                .lock()
                .iter()
                .map(|s| Point {
                    t_ms: s.time,
                    value: s.heap_used,
                })
                .collect(),
        };
        let opts = TrendOptions {
            window_points: pts.len(),
            ..self.options.clone()
        };
        trend(&pts, &opts)
    }

    fn baseline_trend(&self) -> Trend {
        let pts: Vec<Point> = self
            .gc
            .lock()
            .iter()
            .map(|s| Point {
                t_ms: s.time,
                value: s.baseline,
            })
            .collect();
        trend(&pts, &self.options)
    }

    /// Every sample held, oldest first.
    pub fn samples(&self) -> Samples {
        Samples {
            rss: self.rss.lock().iter().copied().collect(),
            heap: self.heap.lock().iter().copied().collect(),
            gc: self.gc.lock().iter().copied().collect(),
        }
    }

    /// Counters and memory use of the sampler itself.
    pub fn stats(&self) -> SamplerStats {
        let rss = self.rss.lock();
        let heap = self.heap.lock();
        let gc = self.gc.lock();
        SamplerStats {
            rss_samples: rss.len(),
            rss_samples_taken: rss.total_pushed(),
            last_rss: rss.last().map(|p| p.value),
            heap_samples: heap.len(),
            gc_samples: gc.len(),
            gc_samples_taken: gc.total_pushed(),
            capacity: rss.capacity(),
            buffer_bytes: rss.reserved_bytes() + heap.reserved_bytes() + gc.reserved_bytes(),
            rss_error: self.rss_error.lock().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_from_users_is_validated_and_capped() {
        for bad in [0, MAX_CAPACITY + 1, 1 << 32, usize::MAX] {
            let e = Sampler::with_capacity(bad, TrendOptions::normal()).err();
            assert!(
                matches!(&e, Some(Error::InvalidArg(m)) if m.contains("maxSamples")),
                "{bad}: {e:?}"
            );
        }
        let s = Sampler::with_capacity(MAX_CAPACITY, TrendOptions::normal()).unwrap();
        assert_eq!(s.stats().capacity, MAX_CAPACITY);
        // The infallible constructor clamps instead of aborting on a huge allocation.
        assert_eq!(
            Sampler::new(usize::MAX, TrendOptions::normal())
                .stats()
                .capacity,
            MAX_CAPACITY
        );
    }
}
