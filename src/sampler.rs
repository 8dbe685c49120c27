//! `NativeSampler`: the binding of the core's [`Sampler`] (rings, alert state, RSS loop). It
//! converts arguments and results, starts the RSS thread and ends it on `stop()`, in the
//! finalizer, or from an environment cleanup hook (worker termination).
//!
//! RSS is read on a thread of our own so that sampling goes on while JS is blocked (a heap
//! snapshot, a long synchronous loop): those are the moments memory moves most. A plain std
//! thread is invisible to libuv, so it never keeps the process alive.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use leakguard_core::sampling::{
    GcSample, HeapSample, Sampler, Sensitivity, Series, TrendOptions, MAX_CAPACITY,
};
use leakguard_core::Error as CoreError;
use napi::{CleanupEnvHook, Env};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::json;

use crate::{guard, result_json, to_napi};

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
    let sensitivity: Sensitivity = o.sensitivity.as_deref().unwrap_or("normal").parse()?;
    let mut t = sensitivity.options();
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

/// A whole number in `min..=max` from JS, or [`CoreError::InvalidArg`] naming `what`. The
/// sizes arrive as f64, not u32: napi's u32 conversion wraps (2³² + 5 would become 5), and a
/// wrapped size is a different request, not an error.
fn whole_in(what: &str, v: f64, min: u64, max: u64) -> Result<u64, CoreError> {
    if v.fract() == 0.0 && v >= min as f64 && v <= max as f64 {
        Ok(v as u64)
    } else {
        Err(CoreError::InvalidArg(format!(
            "{what} must be a whole number from {min} to {max}, not {v}"
        )))
    }
}

/// A running memory sampler (see `lib/sampler.js`).
#[napi]
pub struct NativeSampler {
    sampler: Arc<Sampler>,
    thread: Option<JoinHandle<()>>,
    hook: Option<CleanupEnvHook<Arc<Sampler>>>,
}

impl Drop for NativeSampler {
    fn drop(&mut self) {
        // The finalizer of a sampler JS forgot to stop: end the thread. Joining is quick (the
        // thread only waits on the condvar we just signalled), and no Env is at hand to remove
        // the cleanup hook, which is harmless: it only holds the stopped sampler.
        self.sampler.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[napi]
impl NativeSampler {
    /// Starts the RSS thread, reading every `interval_ms` (1 ms to 2³¹ − 1); each ring keeps
    /// `max_samples` (1 to `MAX_CAPACITY`). `options` is the trend options object as JSON.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        interval_ms: f64,
        max_samples: f64,
        options: String,
    ) -> napi::Result<Self> {
        let interval_ms =
            whole_in("intervalMs", interval_ms, 1, i32::MAX as u64).map_err(to_napi)?;
        let max_samples =
            whole_in("maxSamples", max_samples, 1, MAX_CAPACITY as u64).map_err(to_napi)?;
        let options = trend_options(&options).map_err(to_napi)?;
        let sampler =
            Arc::new(Sampler::with_capacity(max_samples as usize, options).map_err(to_napi)?);
        let interval = Duration::from_millis(interval_ms);
        let shared = sampler.clone();
        let thread = std::thread::Builder::new()
            .name("leakguard-sampler".into())
            .spawn(move || shared.run_rss_loop(interval))
            .map_err(|e| {
                to_napi(CoreError::Io {
                    path: "<thread>".into(),
                    message: format!("cannot start the sampling thread: {e}"),
                })
            })?;
        // A worker that is terminated never calls stop(): end the thread with its environment.
        let hook = env.add_env_cleanup_hook(sampler.clone(), |s| s.stop())?;
        Ok(NativeSampler {
            sampler,
            thread: Some(thread),
            hook: Some(hook),
        })
    }

    /// Stops the RSS thread and waits for it (it wakes at once). Samples stay readable.
    #[napi]
    pub fn stop(&mut self, env: Env) -> napi::Result<()> {
        self.sampler.stop();
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
        self.sampler.push_heap(HeapSample {
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
        guard(|| {
            let (trend, alert) = self.sampler.push_gc(GcSample {
                time: time as u64,
                baseline: baseline as u64,
                heap_used: heap_used as u64,
            });
            result_json(&json!({ "trend": trend, "alert": alert }))
        })
    }

    /// The trend of one series as JSON: `baseline` (post-GC, what alerts use, over the
    /// configured window), or `rss` / `heapUsed` (every sample held, or `windowMs`).
    #[napi]
    pub fn trend(&self, series: String) -> napi::Result<String> {
        guard(|| {
            let t = self.sampler.trend(series.parse::<Series>()?);
            // Field order, as this result has always had.
            serde_json::to_string(&t).map_err(|e| CoreError::InvalidArg(e.to_string()))
        })
    }

    /// Every sample held, as JSON `{ rss: [{time, value}], heap: [...], gc: [...] }`,
    /// oldest first.
    #[napi]
    pub fn samples(&self) -> napi::Result<String> {
        guard(|| result_json(&self.sampler.samples()))
    }

    /// Counters and memory use of the sampler itself, as JSON.
    #[napi]
    pub fn stats(&self) -> napi::Result<String> {
        guard(|| result_json(&self.sampler.stats()))
    }
}
