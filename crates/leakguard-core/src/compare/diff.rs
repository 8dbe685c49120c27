//! DevTools' Comparison view (docs/analysis.md#comparison).

use super::{check_analysis, check_same_heap};
use crate::analysis::{ClassAnalysis, SizeMode};
use crate::control::Control;
use crate::graph::HeapGraph;
use crate::Result;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// One row of DevTools' Comparison view (docs/analysis.md#comparison): the objects of one class,
/// matched between the base and the current snapshot by V8 object id. Serialises to the JS
/// API's `DiffRow`, so the two deltas are fields (computed by [`DiffRow::new`]) rather than
/// methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffRow {
    /// Class name (the grouping key; the base snapshot is classified with the current
    /// snapshot's interface definitions so that plain objects get comparable `{a, b}` names).
    pub class_name: String,
    /// `# New`: objects of this class in the current snapshot whose id is not an object of this
    /// class in the base snapshot.
    pub added_count: u64,
    /// `# Deleted`: objects of this class in the base snapshot whose id is not an object of
    /// this class in the current snapshot.
    pub removed_count: u64,
    /// `Alloc. Size`: current self sizes of the new objects.
    pub added_size: u64,
    /// `Freed Size`: base self sizes of the deleted objects.
    pub removed_size: u64,
    /// `# Delta`: new minus deleted (saturated to the `i64` range).
    pub count_delta: i64,
    /// `Size Delta`: allocated minus freed bytes (saturated to the `i64` range).
    pub size_delta: i64,
}

impl DiffRow {
    /// A row with its two deltas computed from the counts and sizes.
    pub fn new(
        class_name: String,
        added_count: u64,
        removed_count: u64,
        added_size: u64,
        removed_size: u64,
    ) -> DiffRow {
        let mut row = DiffRow {
            class_name,
            added_count,
            removed_count,
            added_size,
            removed_size,
            count_delta: 0,
            size_delta: 0,
        };
        row.count_delta = saturate(i128::from(added_count) - i128::from(removed_count));
        row.size_delta = saturate(row.size_delta_wide());
        row
    }

    /// The exact delta, for sorting (sizes are `u64`, so `i64` could clip).
    fn size_delta_wide(&self) -> i128 {
        i128::from(self.added_size) - i128::from(self.removed_size)
    }
}

fn saturate(x: i128) -> i64 {
    x.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Per (unified) class, the ordinals of one snapshot's counted nodes in ascending id order: a
/// counting sort by class of the id-ordered node list, so building it is linear.
struct Buckets {
    /// `first[c]..first[c + 1]` indexes `ordinals` for class `c`.
    first: Vec<usize>,
    ordinals: Vec<u32>,
}

fn buckets(
    a: &ClassAnalysis,
    class_of: &[u32],
    to_unified: &[u32],
    classes: usize,
    mode: SizeMode,
) -> Buckets {
    let class = |x: u32| -> Option<usize> {
        let c = *class_of.get(x as usize)?;
        to_unified.get(c as usize).map(|&u| u as usize)
    };
    let counted = |x: u32| a.self_size(x, mode) > 0;
    let mut first = vec![0usize; classes + 1];
    for x in a.ordinals_by_id() {
        if counted(x) {
            if let Some(c) = class(x) {
                first[c + 1] += 1;
            }
        }
    }
    for c in 0..classes {
        first[c + 1] += first[c];
    }
    let mut next = first.clone();
    let mut ordinals = vec![0u32; first[classes]];
    for x in a.ordinals_by_id() {
        if counted(x) {
            if let Some(c) = class(x) {
                if let Some(slot) = ordinals.get_mut(next[c]) {
                    *slot = x;
                }
                next[c] += 1;
            }
        }
    }
    Buckets { first, ordinals }
}

impl Buckets {
    fn class(&self, c: usize) -> &[u32] {
        match (self.first.get(c), self.first.get(c + 1)) {
            (Some(&s), Some(&e)) => self.ordinals.get(s..e).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Index of class name `s` in the shared table, adding it when new.
fn unify<'s>(s: &'s str, names: &mut Vec<&'s str>, index: &mut HashMap<&'s str, u32>) -> u32 {
    if let Some(&i) = index.get(s) {
        return i;
    }
    let i = names.len() as u32;
    names.push(s);
    index.insert(s, i);
    i
}

/// DevTools' Comparison view of `cur` against `base`, per class: objects present on one side only
/// (by V8 object id) counted as new or deleted, with their self sizes in `mode`.
///
/// As in DevTools only nodes with a non-zero self size in `mode` take part, the base snapshot is
/// classified with the current snapshot's interface definitions
/// (docs/analysis.md#interface-definitions; one pass over the base's plain objects, skipped when
/// both snapshots inferred the same definitions), and an object whose class changed counts as
/// deleted from its old class and new in its new one. Classes with no new and no deleted objects
/// are omitted. Rows are sorted by size delta (descending), then class name.
///
/// Returns [`crate::Error::Mismatch`] when [`check_same_heap`] finds that the snapshots come from
/// different processes (their ids would be meaningless), and [`crate::Error::InvalidArg`] when an
/// analysis does not belong to its snapshot. Cost: linear in the two node counts (the id order
/// comes from the analyses' id indexes). `ctl`'s flag stops the reclassification early
/// ([`crate::Error::Aborted`]).
pub fn diff(
    base: &HeapGraph,
    base_a: &ClassAnalysis,
    cur: &HeapGraph,
    cur_a: &ClassAnalysis,
    mode: SizeMode,
    ctl: Control<'_>,
) -> Result<Vec<DiffRow>> {
    check_analysis("base", base, base_a)?;
    check_analysis("current", cur, cur_a)?;
    check_same_heap(base, cur)?;
    let re = base_a.reclassify(base, cur_a.interface_definitions(), ctl)?;

    // Class keys are text, so both sides are mapped onto one table of names.
    let mut names: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, u32> = HashMap::new();
    let cur_map: Vec<u32> = cur_a
        .class_names()
        .iter()
        .map(|s| unify(s, &mut names, &mut index))
        .collect();
    let base_map: Vec<u32> = re
        .names
        .iter()
        .map(|s| unify(s, &mut names, &mut index))
        .collect();
    let classes = names.len();
    let cur_class_of: Vec<u32> = (0..cur.node_count() as u32)
        .map(|x| cur_a.class_index(x).unwrap_or(0))
        .collect();
    let b = buckets(base_a, &re.class_of, &base_map, classes, mode);
    let c = buckets(cur_a, &cur_class_of, &cur_map, classes, mode);

    let mut rows = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let (bs, cs) = (b.class(k), c.class(k));
        let (mut added_count, mut removed_count) = (0u64, 0u64);
        let (mut added_size, mut removed_size) = (0u64, 0u64);
        // DevTools' two-pointer merge over both id-sorted member lists.
        let (mut i, mut j) = (0, 0);
        loop {
            let ord = match (bs.get(i), cs.get(j)) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(&x), Some(&y)) => base.node_id(x).cmp(&cur.node_id(y)),
            };
            match ord {
                Ordering::Less => {
                    let x = bs.get(i).copied().unwrap_or(0);
                    removed_count += 1;
                    removed_size = removed_size.saturating_add(base_a.self_size(x, mode));
                    i += 1;
                }
                Ordering::Greater => {
                    let y = cs.get(j).copied().unwrap_or(0);
                    added_count += 1;
                    added_size = added_size.saturating_add(cur_a.self_size(y, mode));
                    j += 1;
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
            }
        }
        if added_count > 0 || removed_count > 0 {
            rows.push(DiffRow::new(
                (*name).to_owned(),
                added_count,
                removed_count,
                added_size,
                removed_size,
            ));
        }
    }
    rows.sort_by(|x, y| {
        y.size_delta_wide()
            .cmp(&x.size_delta_wide())
            .then_with(|| x.class_name.cmp(&y.class_name))
    });
    Ok(rows)
}
