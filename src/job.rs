//! Cancellation and progress shared between a JS caller and a task on the thread pool.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use napi_derive::napi;

use crate::guard;

/// State one background task shares with JS. Progress is polled by the JS wrapper rather
/// than pushed through a threadsafe function: polling coalesces updates for free and never
/// keeps the event loop alive.
#[derive(Default)]
pub(crate) struct JobState {
    pub(crate) cancel: AtomicBool,
    /// Progress fraction scaled to millionths, so it fits an atomic integer.
    progress: AtomicU32,
}

impl JobState {
    /// Records progress; called from worker threads.
    pub(crate) fn report(&self, fraction: f64) {
        let v = (fraction.clamp(0.0, 1.0) * 1e6) as u32;
        self.progress.fetch_max(v, Ordering::Relaxed);
    }
}

/// A handle on one background job: cancel it, read its progress.
#[napi]
pub struct Job {
    pub(crate) state: Arc<JobState>,
}

#[napi]
impl Job {
    /// Creates a job handle to pass to one async call.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> napi::Result<Self> {
        // These three cannot fail today; the barrier is there so that no entry point of the
        // addon is ever outside it.
        guard(|| {
            Ok(Job {
                state: Arc::new(JobState::default()),
            })
        })
    }

    /// Asks the job to stop; it rejects with `ERR_LEAKGUARD_ABORTED` at its next check.
    #[napi]
    pub fn cancel(&self) -> napi::Result<()> {
        guard(|| {
            self.state.cancel.store(true, Ordering::Relaxed);
            Ok(())
        })
    }

    /// Progress fraction in [0, 1].
    #[napi(getter)]
    pub fn progress(&self) -> napi::Result<f64> {
        guard(|| Ok(f64::from(self.state.progress.load(Ordering::Relaxed)) / 1e6))
    }
}
