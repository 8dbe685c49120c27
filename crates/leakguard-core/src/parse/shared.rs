//! The block every parse work item shares: the caller's [`Control`] (cancellation, progress),
//! the early stop after an earlier-ranked item failed, progress accounting across threads and
//! the `LEAKGUARD_PARSE_TIMING` trace.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Shared by all work items: the caller's control, early stop after another item's failure,
/// progress accounting.
pub(crate) struct Shared<'a> {
    /// The caller's cancel flag and progress range; a parse reports into all of it.
    pub(super) ctl: Control<'a>,
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

/// One work item's view of [`Shared`]: the caller's [`Control`] plus what only a parallel parse
/// needs, its rank. The rank decides which failures stop it: only those of items ranked before
/// it, whose errors a serial parse would report first. Items ranked before a failure run to the
/// end, so the earliest real error is always known.
#[derive(Clone, Copy)]
pub(crate) struct Item<'a> {
    pub(super) sh: &'a Shared<'a>,
    pub(super) rank: usize,
}

/// Share of the progress range given to parsing; the rest covers the retainer index.
pub(super) const PARSE_SHARE: f64 = 0.9;

impl<'a> Shared<'a> {
    pub(super) fn new(ctl: Control<'a>, len: usize) -> Self {
        Shared {
            ctl,
            failed: AtomicUsize::new(usize::MAX),
            done: AtomicU64::new(0),
            // Every byte is scanned once and parsed once.
            total: (2 * len as u64).max(1),
            last_pct: AtomicU32::new(0),
            report: Mutex::new(()),
            timing: std::env::var_os("LEAKGUARD_PARSE_TIMING").map(|_| Instant::now()),
        }
    }

    /// The view of the work item ranked `rank`.
    pub(super) fn item(&'a self, rank: usize) -> Item<'a> {
        Item { sh: self, rank }
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
        if self.ctl.progress.is_none() {
            return;
        }
        let pct = (frac * 100.0).floor().clamp(0.0, 100.0) as u32;
        if pct <= self.last_pct.load(Ordering::Relaxed) {
            return;
        }
        let _guard = self.report.lock();
        if pct > self.last_pct.load(Ordering::Relaxed) {
            self.last_pct.store(pct, Ordering::Relaxed);
            self.ctl.report(f64::from(pct) / 100.0);
        }
    }

    /// Reports the end of the parse, whatever was reported before.
    pub(super) fn finish(&self) {
        if self.ctl.progress.is_some() {
            let _guard = self.report.lock();
            self.last_pct.store(100, Ordering::Relaxed);
            self.ctl.report(1.0);
        }
    }
}

impl Item<'_> {
    /// Err(Aborted) if the caller cancelled or an item ranked before this one failed.
    pub(crate) fn check(&self) -> Result<()> {
        if self.sh.ctl.is_cancelled() || self.sh.failed.load(Ordering::Relaxed) < self.rank {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    /// Runs this item's work; if it fails, records that, which stops every item ranked after it.
    pub(super) fn run<T>(&self, work: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        let r = work(self);
        if r.is_err() {
            self.sh.failed.fetch_min(self.rank, Ordering::Relaxed);
        }
        r
    }

    /// Records `units` of parse work and polls for cancellation.
    pub(crate) fn advance(&self, units: u64) -> Result<()> {
        self.check()?;
        let sh = self.sh;
        if sh.ctl.progress.is_some() {
            let done = sh.done.fetch_add(units, Ordering::Relaxed) + units;
            let frac = (done as f64 / sh.total as f64).min(1.0) * PARSE_SHARE;
            sh.report(frac);
        }
        Ok(())
    }
}
