//! [`Control`]: the one way a caller steers long core work (parse, analysis, comparison) —
//! a cancel flag to poll, a progress callback, and the slice of the caller's progress bar
//! the work reports into — plus [`Budget`], the counter that makes every input-lengthened loop
//! poll the flag after a bounded amount of work.

use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

/// How many loop iterations pass between two cancellation checks in the graph passes.
pub(crate) const TICK_MASK: usize = (1 << 16) - 1;

/// Cancellation and progress of one call into the core. `Default` means: never cancelled,
/// no progress, the whole `[0, 1]` range.
///
/// It is `Copy`: phases take a sub-range with [`Control::phase`] or [`Control::sub`] and hand
/// the result down, so nested work maps its own `0..1` onto its parent's slice of the bar.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// Raised by the caller (e.g. from a JS `AbortSignal` or `Job.cancel()`) to stop the work,
    /// which then returns [`Error::Aborted`] at its next check.
    pub cancel: Option<&'a AtomicBool>,
    /// Receives fractions in `[0, 1]` of the caller's whole bar. May be called from any thread
    /// the work runs on; callers that need monotone values keep the maximum (the binding does).
    pub progress: Option<&'a (dyn Fn(f64) + Sync)>,
    /// Where this control's `0` lies on the caller's bar.
    base: f64,
    /// How much of the caller's bar this control's `0..1` covers.
    span: f64,
}

impl Default for Control<'_> {
    fn default() -> Self {
        Control::NONE
    }
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel.is_some())
            .field("progress", &self.progress.is_some())
            .field("base", &self.base)
            .field("span", &self.span)
            .finish()
    }
}

impl<'a> Control<'a> {
    /// No cancellation, no progress.
    pub const NONE: Control<'static> = Control {
        cancel: None,
        progress: None,
        base: 0.0,
        span: 1.0,
    };

    /// A control over the whole `[0, 1]` range.
    pub fn new(
        cancel: Option<&'a AtomicBool>,
        progress: Option<&'a (dyn Fn(f64) + Sync)>,
    ) -> Control<'a> {
        Control {
            cancel,
            progress,
            ..Control::NONE
        }
    }

    /// Only a cancel flag.
    pub fn cancel(flag: &'a AtomicBool) -> Control<'a> {
        Control::new(Some(flag), None)
    }

    /// Whether the caller asked to stop.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// [`Error::Aborted`] once the caller asked to stop.
    #[inline]
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    /// Reports `f` (a fraction of this control's own range, clamped to `[0, 1]`).
    pub fn report(&self, f: f64) {
        if let Some(p) = self.progress {
            p((self.base + self.span * f.clamp(0.0, 1.0)).clamp(0.0, 1.0));
        }
    }

    /// The part `[base, base + span)` of this control's range, as a control of its own.
    pub fn sub(&self, base: f64, span: f64) -> Control<'a> {
        Control {
            base: self.base + self.span * base.clamp(0.0, 1.0),
            span: self.span * span.clamp(0.0, 1.0),
            ..*self
        }
    }

    /// Starts a phase covering `[base, base + span)` of this control's range: reports its
    /// start, checks for cancellation, and returns the phase's own control.
    pub fn phase(&self, base: f64, span: f64) -> Result<Control<'a>> {
        let p = self.sub(base, span);
        p.report(0.0);
        p.check()?;
        Ok(p)
    }

    /// Called every [`TICK_MASK`]+1 iterations of a long loop: reports `done / total` of this
    /// control's range and checks for cancellation.
    #[cold]
    pub fn tick(&self, done: usize, total: usize) -> Result<()> {
        let frac = if total == 0 {
            0.0
        } else {
            done as f64 / total as f64
        };
        self.report(frac);
        self.check()
    }

    /// A work counter that polls this control's flag every `every` units.
    pub fn budget(&self, every: u64) -> Budget<'a> {
        Budget {
            ctl: *self,
            every: every.max(1),
            next: every.max(1),
            spent: 0,
        }
    }
}

/// Counts units of work (bytes copied, parts visited, retainers compared) across nested loops
/// and checks for cancellation each time another `every` units were spent: so no loop whose
/// length the input decides can run unpolled, however its work is split between calls.
#[derive(Debug)]
pub struct Budget<'a> {
    ctl: Control<'a>,
    every: u64,
    next: u64,
    spent: u64,
}

impl Budget<'_> {
    /// Records `units` of work; [`Error::Aborted`] if the caller cancelled meanwhile.
    #[inline]
    pub fn spend(&mut self, units: u64) -> Result<()> {
        self.spent = self.spent.saturating_add(units);
        if self.spent >= self.next {
            self.next = self.spent.saturating_add(self.every);
            self.ctl.check()?;
        }
        Ok(())
    }

    /// Units of work recorded so far (for tests: what a step really cost).
    pub fn spent(&self) -> u64 {
        self.spent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    #[test]
    fn sub_ranges_nest() {
        let seen = Mutex::new(Vec::new());
        let cb = |f: f64| seen.lock().push(f);
        let top = Control::new(None, Some(&cb));
        let half = top.sub(0.5, 0.5);
        let quarter = half.phase(0.5, 0.5).unwrap();
        quarter.report(1.0);
        quarter.tick(1, 2).unwrap();
        top.report(2.0);
        assert_eq!(*seen.lock(), vec![0.75, 1.0, 0.875, 1.0]);
    }

    #[test]
    fn budget_checks_every_n_units() {
        let flag = AtomicBool::new(false);
        let ctl = Control::cancel(&flag);
        let mut b = ctl.budget(10);
        for _ in 0..9 {
            b.spend(1).unwrap();
        }
        flag.store(true, Ordering::Relaxed);
        // Not yet due: the flag is only read at the 10th unit.
        assert!(b.spend(0).is_ok());
        assert!(matches!(b.spend(1), Err(Error::Aborted)));
        assert_eq!(b.spent(), 10);
        assert!(Control::NONE.budget(1).spend(u64::MAX).is_ok());
    }
}
