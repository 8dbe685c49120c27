//! The control block every parse work item shares: cancellation, the early stop after an
//! earlier-ranked item failed, progress reporting and the `LEAKGUARD_PARSE_TIMING` trace.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Shared control block: cancellation, early stop after another item's failure, progress.
pub(crate) struct Shared<'a> {
    pub(super) cancel: Option<&'a AtomicBool>,
    pub(super) progress: Option<&'a (dyn Fn(f64) + Sync)>,
    /// Lowest rank of a work item that failed, `usize::MAX` while none has.
    pub(super) failed: AtomicUsize,
    pub(super) done: AtomicU64,
    pub(super) total: u64,
    pub(super) last_pct: AtomicU32,
    pub(super) report: Mutex<()>,
    /// Set from `LEAKGUARD_PARSE_TIMING`: when the parse started, for a per-item timing trace on
    /// stderr (a tuning aid, off in normal use).
    pub(super) timing: Option<Instant>,
}

/// Ranks: the order in which a serial parse runs the work items.
pub(super) const STRUCTURE: usize = 0;
pub(super) const NODES: usize = 1;
/// The edges array, or its first chunk; chunk `k` has rank `EDGES + k`.
pub(super) const EDGES: usize = 2;

/// One work item's view of [`Shared`]. Its rank decides which failures stop it: only those of
/// items ranked before it, whose errors a serial parse would report first. Items ranked before a
/// failure run to the end, so the earliest real error is always known.
#[derive(Clone, Copy)]
pub(crate) struct Ctl<'a> {
    pub(super) sh: &'a Shared<'a>,
    pub(super) rank: usize,
}

/// Share of the progress range given to parsing; the rest covers the retainer index.
pub(super) const PARSE_SHARE: f64 = 0.9;

impl<'a> Shared<'a> {
    pub(super) fn new(opts: &LoadOptions<'a>, len: usize) -> Self {
        Shared {
            cancel: opts.cancel,
            progress: opts.progress,
            failed: AtomicUsize::new(usize::MAX),
            done: AtomicU64::new(0),
            // Every byte is scanned once and parsed once.
            total: (2 * len as u64).max(1),
            last_pct: AtomicU32::new(0),
            report: Mutex::new(()),
            timing: std::env::var_os("LEAKGUARD_PARSE_TIMING").map(|_| Instant::now()),
        }
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    pub(super) fn ctl(&'a self, rank: usize) -> Ctl<'a> {
        Ctl { sh: self, rank }
    }

    /// Prints one line of the `LEAKGUARD_PARSE_TIMING` trace: which thread ran what, when.
    pub(super) fn trace(&self, what: std::fmt::Arguments<'_>, from: Instant) {
        if let Some(t0) = self.timing {
            let ms = |t: Instant| t.saturating_duration_since(t0).as_secs_f64() * 1e3;
            eprintln!(
                "leakguard parse: {:<16} {what}: {:.1}..{:.1} ms",
                std::thread::current().name().unwrap_or("?"),
                ms(from),
                ms(Instant::now())
            );
        }
    }

    /// Reports `frac` if it is at least one percent past the last report. The lock makes the
    /// check-and-call atomic, so concurrent threads can never deliver values out of order.
    pub(super) fn report(&self, frac: f64) {
        let Some(cb) = self.progress else { return };
        let pct = (frac * 100.0).floor().clamp(0.0, 100.0) as u32;
        if pct <= self.last_pct.load(Ordering::Relaxed) {
            return;
        }
        let _guard = self.report.lock();
        if pct > self.last_pct.load(Ordering::Relaxed) {
            self.last_pct.store(pct, Ordering::Relaxed);
            cb(f64::from(pct) / 100.0);
        }
    }
}

impl Ctl<'_> {
    /// Err(Aborted) if the caller cancelled or an item ranked before this one failed.
    pub(crate) fn check(&self) -> Result<()> {
        if self.sh.cancelled() || self.sh.failed.load(Ordering::Relaxed) < self.rank {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    /// Records that this item failed, which stops every item ranked after it.
    pub(super) fn fail(&self) {
        self.sh.failed.fetch_min(self.rank, Ordering::Relaxed);
    }

    /// Records `units` of parse work and polls for cancellation.
    pub(crate) fn advance(&self, units: u64) -> Result<()> {
        self.check()?;
        let sh = self.sh;
        if sh.progress.is_some() {
            let done = sh.done.fetch_add(units, Ordering::Relaxed) + units;
            let frac = (done as f64 / sh.total as f64).min(1.0) * PARSE_SHARE;
            sh.report(frac);
        }
        Ok(())
    }
}
