//! A ring buffer with a capacity fixed at creation.

use std::collections::VecDeque;

/// Holds the newest `capacity` items; pushing into a full ring drops the oldest. The storage is
/// allocated once, up front, so a sampler's memory is known when it starts and never grows
/// (a monitoring tool that leaks would be a poor joke).
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
    pushed: u64,
}

impl<T: Clone> Ring<T> {
    /// An empty ring holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring {
            items: VecDeque::with_capacity(capacity),
            capacity,
            pushed: 0,
        }
    }

    /// Appends `item`, dropping the oldest when full; never reallocates.
    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
        self.pushed = self.pushed.saturating_add(1);
    }

    /// Items held now, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    /// The newest `n` items (or all), oldest first.
    pub fn last_n(&self, n: usize) -> Vec<T> {
        let skip = self.items.len().saturating_sub(n);
        self.items.iter().skip(skip).cloned().collect()
    }

    /// The newest item.
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    /// Number of items held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the ring holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The fixed capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Items ever pushed, including the ones since dropped.
    pub fn total_pushed(&self) -> u64 {
        self.pushed
    }

    /// Bytes of storage the ring reserved (what a full ring holds, not counting heap data
    /// owned by the items themselves).
    pub fn reserved_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_never_grows() {
        let mut r = Ring::new(3);
        let cap = r.items.capacity();
        for i in 0..10u64 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![7, 8, 9]);
        assert_eq!(r.last_n(2), vec![8, 9]);
        assert_eq!(r.last_n(99), vec![7, 8, 9]);
        assert_eq!(r.len(), 3);
        assert_eq!(r.total_pushed(), 10);
        assert_eq!(r.items.capacity(), cap);
        assert_eq!(r.last(), Some(&9));
    }

    #[test]
    fn zero_capacity_means_one() {
        let mut r = Ring::new(0);
        r.push(1);
        r.push(2);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2]);
        assert_eq!(r.capacity(), 1);
    }
}
