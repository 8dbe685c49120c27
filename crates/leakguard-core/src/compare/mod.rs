//! Comparing snapshots of one process: DevTools' Comparison view ([`diff`],
//! docs/analysis.md#comparison), a guard against comparing snapshots of different processes
//! ([`check_same_heap`], docs/snapshot-format.md#object-ids) and memlab's three-snapshot leak
//! detection tuned for Node.js ([`find_leaks`], docs/leaks.md), optionally regrouped by class
//! ([`by_class`]), and the collections that grow across a series ([`growing_collections`]).
//!
//! Everything here keys objects by their V8 object id, which is only meaningful within one isolate;
//! that is why [`diff`] and [`find_leaks`] run [`check_same_heap`] first.

mod classes;
mod collections;
mod diff;
mod ids;
mod leaks;
mod same_heap;

pub use classes::{by_class, ClassOptions, LeakClass};
pub use collections::{
    growing_collections, CollectionKind, CollectionOptions, EntrySample, GrowingCollection,
    SAMPLE_TEXT,
};
pub use diff::{diff, DiffRow};
pub use leaks::{
    find_leaks, find_leaks_in_window, find_leaks_of_own_heap, IdWindow, LeakOptions, LeakReport,
    NodeCounts, Suspect, SHAPE_MAX_STEPS,
};
pub use same_heap::check_same_heap;

use crate::analysis::ClassAnalysis;
use crate::graph::HeapGraph;
use crate::{Error, Result};

/// Rejects an analysis that was computed for another graph: its per-node arrays would be read
/// with the wrong ordinals (no panic, but nonsense results).
fn check_analysis(what: &str, graph: &HeapGraph, analysis: &ClassAnalysis) -> Result<()> {
    if analysis.node_count() != graph.node_count() {
        return Err(Error::InvalidArg(format!(
            "the analysis passed for the {what} snapshot belongs to another snapshot ({} nodes \
             analysed, {} in the snapshot)",
            analysis.node_count(),
            graph.node_count()
        )));
    }
    Ok(())
}
