//! Sorted id sets for the three-snapshot method.

use crate::control::Control;
use crate::Result;

/// How many loop iterations pass between two cancellation checks.
pub(crate) const TICK: usize = 1 << 16;

/// `ids` sorted ascending (a radix sort: the only cost of the baseline and target snapshots in
/// [`super::find_leaks`]).
pub(crate) fn sorted(ids: &[u32], ctl: &Control<'_>) -> Result<Vec<u32>> {
    crate::radix::sort_by_key(ids.to_vec(), |x| x, || ctl.check())
}

/// The distinct values of sorted `a` that do not occur in sorted `b` (a two-pointer merge).
pub(crate) fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut j = 0;
    let mut last = None;
    for &x in a {
        if last == Some(x) {
            continue;
        }
        last = Some(x);
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if b.get(j) != Some(&x) {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_matches_std() {
        let mut seed = 0x1234_5678u32;
        let ids: Vec<u32> = (0..100_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed
            })
            .collect();
        let mut want = ids.clone();
        want.sort_unstable();
        assert_eq!(sorted(&ids, &Control::NONE).unwrap(), want);
    }

    #[test]
    fn difference_dedups() {
        assert_eq!(difference(&[1, 3, 3, 5, 7, 7], &[3, 4, 7]), vec![1, 5]);
        assert_eq!(difference(&[], &[1]), Vec::<u32>::new());
        assert_eq!(difference(&[2, 2], &[]), vec![2]);
    }
}
