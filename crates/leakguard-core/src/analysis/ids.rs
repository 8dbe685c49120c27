//! The object-id index: node by V8 id, and all nodes in id order (for comparisons).
//!
//! V8 writes nodes almost in id order (a 2.8 M-node snapshot has 73 nodes whose id is below an
//! earlier one), so instead of sorting (id, ordinal) pairs (8 bytes per node, plus 8 more while
//! radix-sorting) the index keeps a copy of the ids (4 bytes per node), a bit per node for the
//! "late" ones (id below the running maximum) and only those, sorted. The other nodes' ids
//! ascend with their ordinals, so lookups binary-search them in place. A snapshot in no
//! particular order still works: every out-of-order node then sits in the sorted list.

use super::view::Bits;
use crate::control::Control;
use crate::Result;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    ids: Vec<u32>,
    /// Nodes whose id is below the id of some earlier node.
    late: Bits,
    /// The late nodes as `id << 32 | ordinal`, sorted (by id, then ordinal).
    late_sorted: Vec<u64>,
}

impl IdIndex {
    /// Builds the index of `ids` (indexed by ordinal).
    pub fn new(ids: &[u32], ctl: &Control<'_>) -> Result<IdIndex> {
        let mut late = Bits::new(ids.len());
        let mut packed: Vec<u64> = Vec::new();
        let mut max = 0u32;
        for (o, &id) in ids.iter().enumerate() {
            if id < max {
                late.set(o);
                packed.push((u64::from(id) << 32) | o as u64);
            } else {
                max = id;
            }
        }
        ctl.check()?;
        // Ordinals ascend within the pushes, so a stable sort by id orders equal ids by ordinal.
        let late_sorted = crate::radix::sort_by_key(packed, |x| (x >> 32) as u32, || ctl.check())?;
        Ok(IdIndex {
            ids: ids.to_vec(),
            late,
            late_sorted,
        })
    }

    /// The first ordinal at or after `o` that is not late (`ids.len()` if none).
    fn next_in_order(&self, o: usize) -> usize {
        let n = self.ids.len();
        let mut w = o >> 6;
        let words = &self.late.0;
        if w >= words.len() {
            return n;
        }
        // Bits of in-order nodes at or after `o` in the first word.
        let mut free = !words[w] & (u64::MAX << (o & 63));
        loop {
            if free != 0 {
                return ((w << 6) + free.trailing_zeros() as usize).min(n);
            }
            w += 1;
            match words.get(w) {
                Some(&x) => free = !x,
                None => return n,
            }
        }
    }

    /// Ordinal of the node with id `id` (the lowest ordinal if ids repeat).
    pub fn node_by_id(&self, id: u32) -> Option<u32> {
        let n = self.ids.len();
        // First ordinal whose next in-order node has an id >= `id` (monotone in the ordinal).
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let p = self.next_in_order(mid);
            if p < n && self.ids[p] < id {
                lo = p + 1;
            } else {
                hi = mid;
            }
        }
        let p = self.next_in_order(lo);
        let in_order = (p < n && self.ids[p] == id).then_some(p as u32);
        let key = u64::from(id) << 32;
        let i = self.late_sorted.partition_point(|&x| x < key);
        let late = match self.late_sorted.get(i) {
            Some(&x) if x >> 32 == u64::from(id) => Some(x as u32),
            _ => None,
        };
        match (in_order, late) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// All ordinals in ascending id order, equal ids in ordinal order.
    pub fn ordinals(&self) -> impl Iterator<Item = u32> + '_ {
        let mut o = self.next_in_order(0);
        let mut l = 0usize;
        std::iter::from_fn(move || {
            let a = (o < self.ids.len()).then(|| (u64::from(self.ids[o]) << 32) | o as u64);
            let b = self.late_sorted.get(l).copied();
            let take_late = match (a, b) {
                (Some(a), Some(b)) => b < a,
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if take_late {
                l += 1;
                b.map(|x| x as u32)
            } else {
                let r = a.map(|x| x as u32);
                if r.is_some() {
                    o = self.next_in_order(o + 1);
                }
                r
            }
        })
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * 4 + self.late.0.capacity() * 8 + self.late_sorted.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ids: &[u32]) {
        let ix = IdIndex::new(ids, &Control::NONE).unwrap();
        let mut want: Vec<(u32, u32)> = ids
            .iter()
            .enumerate()
            .map(|(o, &i)| (i, o as u32))
            .collect();
        want.sort();
        let got: Vec<u32> = ix.ordinals().collect();
        assert_eq!(got, want.iter().map(|p| p.1).collect::<Vec<_>>(), "{ids:?}");
        for probe in 0..=ids.iter().copied().max().unwrap_or(0) + 1 {
            let expect = ids.iter().position(|&i| i == probe).map(|o| o as u32);
            assert_eq!(ix.node_by_id(probe), expect, "id {probe} in {ids:?}");
        }
    }

    #[test]
    fn lookups_and_order_match_a_full_sort() {
        check(&[]);
        check(&[1]);
        check(&[1, 3, 5, 7]);
        check(&[5, 7, 5, 9, 1, 9, 11, 2]);
        check(&[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        // Long runs of late nodes across bit words.
        let mut ids: Vec<u32> = (0..300).map(|i| i * 2 + 1).collect();
        ids.extend((0..150).map(|i| i * 3));
        ids.extend(600..700);
        check(&ids);
        let mut seed = 0x9e37_79b9u32;
        let ids: Vec<u32> = (0..500)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed % 400
            })
            .collect();
        check(&ids);
    }
}
