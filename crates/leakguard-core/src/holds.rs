//! Process-wide counts for settings that belong to the process, not to one JS thread: each
//! worker thread loads its own copy of leakguard's JS, but V8's flags (the leak check turns
//! inlining off while it runs, lib/frames.js) are shared by every thread. One count per
//! process lets the last check to finish, in whichever thread, put the flags back.

use std::sync::atomic::{AtomicI64, Ordering};

static INLINING_HOLDS: AtomicI64 = AtomicI64::new(0);

/// Adds `delta` (+1 when a check starts, -1 when it ends) to the number of leak checks that
/// want V8's inlining off, and returns the new number (never below 0: an unmatched release is
/// ignored).
pub fn inlining_holds(delta: i64) -> i64 {
    let mut cur = INLINING_HOLDS.load(Ordering::SeqCst);
    loop {
        let next = (cur + delta).max(0);
        match INLINING_HOLDS.compare_exchange(cur, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return next,
            Err(actual) => cur = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::inlining_holds;

    #[test]
    fn counts_up_and_down_and_never_below_zero() {
        let base = inlining_holds(0);
        assert_eq!(inlining_holds(1), base + 1);
        assert_eq!(inlining_holds(1), base + 2);
        assert_eq!(inlining_holds(-1), base + 1);
        assert_eq!(inlining_holds(-1), base);
        if base == 0 {
            assert_eq!(inlining_holds(-1), 0);
        }
    }
}
