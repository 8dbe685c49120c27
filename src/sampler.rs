//! `NativeSampler`: memory samples kept in Rust ring buffers, RSS read by a Rust thread, and
//! the leak trend over post-GC heap baselines pushed from JS.
//!
//! RSS is read on a thread of our own so that sampling goes on while JS is blocked (a heap
//! snapshot, a long synchronous loop): those are the moments memory moves most. A plain std
//! thread is invisible to libuv, so it never keeps the process alive; `stop()`, the finalizer
//! and an environment cleanup hook (worker termination) all wake it at once and let it end.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use leakguard_core::sampling::{read_rss, trend, AlertState, Point, Ring, TrendOptions};
use leakguard_core::Error as CoreError;
use napi::{CleanupEnvHook, Env};
use napi_derive::napi;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{guard, to_napi};

/// One reading of the JS heap figures, pushed from JS.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct HeapSample {
    time: u64,
    rss: u64,
    heap_total: u64,
    heap_used: u64,
    external: u64,
    array_buffers: u64,
}

/// One major GC: the heap outside the young generation right after it (the baseline) and the
/// whole heap used at that moment.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct GcSample {
    time: u64,
    baseline: u64,
    heap_used: u64,
}

/// Tells the RSS thread to end; shared with the thread and the env cleanup hook.
#[derive(Default)]
struct Control {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Control {
    fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }
}

/// What JS and the RSS thread share.
struct Inner {
    control: Arc<Control>,
    rss: Mutex<Ring<Point>>,
    heap: Mutex<Ring<HeapSample>>,
    gc: Mutex<Ring<GcSample>>,
    options: TrendOptions,
    alert: Mutex<AlertState>,
    /// Why RSS cannot be read here (not Linux), if it cannot.
    rss_error: Mutex<Option<String>>,
}

/// Trend options as the JS wrapper sends them (validated there).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TrendOptionsJs {
    sensitivity: Option<String>,
    window: Option<f64>,
    window_ms: Option<f64>,
    min_points: Option<f64>,
    min_slope_bytes_per_minute: Option<f64>,
    min_confidence: Option<f64>,
    min_growth_bytes: Option<f64>,
    min_growth_ratio: Option<f64>,
}

fn trend_options(json: &str) -> Result<TrendOptions, CoreError> {
    let o: TrendOptionsJs = serde_json::from_str(json)
        .map_err(|e| CoreError::InvalidArg(format!("sampler options: {e}")))?;
    let mut t = match o.sensitivity.as_deref().unwrap_or("normal") {
        "normal" => TrendOptions::normal(),
        "high" => TrendOptions::high(),
        "low" => TrendOptions::low(),
        other => {
            return Err(CoreError::InvalidArg(format!(
                "sensitivity must be 'low', 'normal' or 'high', not {other:?}"
            )))
        }
    };
    // `as` saturates (and maps NaN to 0): JS numbers cannot overflow these fields.
    if let Some(v) = o.window {
        t.window_points = v as usize;
    }
    t.window_ms = o.window_ms.map(|v| v as u64);
    if let Some(v) = o.min_points {
        t.min_points = v as usize;
    }
    if let Some(v) = o.min_slope_bytes_per_minute {
        t.min_slope_bytes_per_minute = v;
    }
    if let Some(v) = o.min_confidence {
        t.min_confidence = v;
    }
    if let Some(v) = o.min_growth_bytes {
        t.min_growth_bytes = v as u64;
    }
    if let Some(v) = o.min_growth_ratio {
        t.min_growth_ratio = v;
    }
    Ok(t)
}

/// Wall-clock ms, the clock of JS's `Date.now()`, so samples from both sides line up.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn run_rss_thread(inner: &Inner, interval: Duration) {
    loop {
        match read_rss() {
            Ok(rss) => inner.rss.lock().push(Point {
                t_ms: now_ms(),
                value: rss,
            }),
            Err(e) => {
                // Not Linux: nothing to sample, and no point in retrying.
                *inner.rss_error.lock() = Some(e.to_string());
                return;
            }
        }
        let mut stopped = inner.control.stopped.lock();
        if *stopped {
            return;
        }
        // wait_for returns early on stop(); spurious wake-ups just take a sample sooner.
        inner.control.wake.wait_for(&mut stopped, interval);
        if *stopped {
            return;
        }
    }
}

/// A running memory sampler (see `lib/sampler.js`).
#[napi]
pub struct NativeSampler {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
    hook: Option<CleanupEnvHook<Arc<Control>>>,
}

impl Drop for NativeSampler {
    fn drop(&mut self) {
        // The finalizer of a sampler JS forgot to stop: end the thread. Joining is quick (the
        // thread only waits on the condvar we just signalled), and no Env is at hand to remove
        // the cleanup hook, which is harmless: it only holds the stopped Control.
        self.inner.control.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[napi]
impl NativeSampler {
    /// Starts the RSS thread, reading every `interval_ms`; each ring keeps `max_samples`.
    /// `options` is the trend options object as JSON.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        interval_ms: u32,
        max_samples: u32,
        options: String,
    ) -> napi::Result<Self> {
        let options = trend_options(&options).map_err(to_napi)?;
        let cap = max_samples.max(1) as usize;
        let control = Arc::new(Control::default());
        let inner = Arc::new(Inner {
            control: control.clone(),
            rss: Mutex::new(Ring::new(cap)),
            heap: Mutex::new(Ring::new(cap)),
            gc: Mutex::new(Ring::new(cap)),
            options,
            alert: Mutex::new(AlertState::default()),
            rss_error: Mutex::new(None),
        });
        let interval = Duration::from_millis(u64::from(interval_ms.max(1)));
        let shared = inner.clone();
        let thread = std::thread::Builder::new()
            .name("leakguard-sampler".into())
            .spawn(move || run_rss_thread(&shared, interval))
            .map_err(|e| {
                to_napi(CoreError::Io {
                    path: "<thread>".into(),
                    message: format!("cannot start the sampling thread: {e}"),
                })
            })?;
        // A worker that is terminated never calls stop(): end the thread with its environment.
        let hook = env.add_env_cleanup_hook(control, |c| c.stop())?;
        Ok(NativeSampler {
            inner,
            thread: Some(thread),
            hook: Some(hook),
        })
    }

    /// Stops the RSS thread and waits for it (it wakes at once). Samples stay readable.
    #[napi]
    pub fn stop(&mut self, env: Env) -> napi::Result<()> {
        self.inner.control.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(h) = self.hook.take() {
            env.remove_env_cleanup_hook(h)?;
        }
        Ok(())
    }

    /// Whether the RSS thread is running.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Records one reading of the JS heap figures (bytes; `time` in ms since the epoch).
    #[napi]
    pub fn push_heap(
        &self,
        time: f64,
        rss: f64,
        heap_total: f64,
        heap_used: f64,
        external: f64,
        array_buffers: f64,
    ) {
        self.inner.heap.lock().push(HeapSample {
            time: time as u64,
            rss: rss as u64,
            heap_total: heap_total as u64,
            heap_used: heap_used as u64,
            external: external as u64,
            array_buffers: array_buffers as u64,
        });
    }

    /// Records the heap after a major GC and runs the trend test. Returns JSON
    /// `{ trend, alert }`: `alert` is true once per leak episode.
    #[napi]
    pub fn push_gc(&self, time: f64, baseline: f64, heap_used: f64) -> napi::Result<String> {
        self.inner.gc.lock().push(GcSample {
            time: time as u64,
            baseline: baseline as u64,
            heap_used: heap_used as u64,
        });
        guard(|| {
            let t = self.baseline_trend();
            let alert = self.inner.alert.lock().update(&t);
            Ok(json!({ "trend": t, "alert": alert }).to_string())
        })
    }

    /// The trend of one series as JSON: `baseline` (post-GC, what alerts use, over the
    /// configured window), or `rss` / `heapUsed` (every sample held, or `windowMs`).
    #[napi]
    pub fn trend(&self, series: String) -> napi::Result<String> {
        guard(|| self.trend_of(&series))
    }

    /// Every sample held, as JSON `{ rss: [{time, value}], heap: [...], gc: [...] }`,
    /// oldest first.
    #[napi]
    pub fn samples(&self) -> String {
        let rss: Vec<Point> = self.inner.rss.lock().iter().copied().collect();
        let heap: Vec<HeapSample> = self.inner.heap.lock().iter().copied().collect();
        let gc: Vec<GcSample> = self.inner.gc.lock().iter().copied().collect();
        json!({ "rss": rss, "heap": heap, "gc": gc }).to_string()
    }

    /// Counters and memory use of the sampler itself, as JSON.
    #[napi]
    pub fn stats(&self) -> String {
        let rss = self.inner.rss.lock();
        let heap = self.inner.heap.lock();
        let gc = self.inner.gc.lock();
        json!({
            "rssSamples": rss.len(),
            "rssSamplesTaken": rss.total_pushed(),
            "lastRss": rss.last().map(|p| p.value),
            "heapSamples": heap.len(),
            "gcSamples": gc.len(),
            "gcSamplesTaken": gc.total_pushed(),
            "capacity": rss.capacity(),
            "bufferBytes": rss.reserved_bytes() + heap.reserved_bytes() + gc.reserved_bytes(),
            "rssError": *self.inner.rss_error.lock(),
        })
        .to_string()
    }
}

impl NativeSampler {
    /// The trend of `series` as JSON (see `trend`).
    fn trend_of(&self, series: &str) -> Result<String, CoreError> {
        let t = match series {
            "baseline" => self.baseline_trend(),
            "rss" | "heapUsed" => {
                let pts: Vec<Point> = if series == "rss" {
                    self.inner.rss.lock().iter().copied().collect()
                } else {
                    let heap = self.inner.heap.lock();
                    heap.iter()
                        .map(|s| Point {
                            t_ms: s.time,
                            value: s.heap_used,
                        })
                        .collect()
                };
                let opts = TrendOptions {
                    window_points: pts.len(),
                    ..self.inner.options.clone()
                };
                trend(&pts, &opts)
            }
            _ => {
                return Err(CoreError::InvalidArg(format!(
                    "series must be 'baseline', 'rss' or 'heapUsed', not {series:?}"
                )))
            }
        };
        serde_json::to_string(&t).map_err(|e| CoreError::InvalidArg(e.to_string()))
    }

    fn baseline_trend(&self) -> leakguard_core::sampling::Trend {
        let pts: Vec<Point> = self
            .inner
            .gc
            .lock()
            .iter()
            .map(|s| Point {
                t_ms: s.time,
                value: s.baseline,
            })
            .collect();
        trend(&pts, &self.inner.options)
    }
}
