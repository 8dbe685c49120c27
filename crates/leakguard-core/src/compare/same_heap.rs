//! The same-heap guard of [`check_same_heap`] (documented there, as the module is private).

use crate::graph::{HeapGraph, NodeType};
use crate::{Error, Result};

/// How many ids of the first snapshot are looked up.
const SAMPLE: usize = 4096;
/// Ids below this are reserved for V8's synthetic roots (root 1, `(GC roots)` 3, sub-roots
/// 5, 7, … for about 40 root kinds).
const MIN_ID: u32 = 128;
/// Fewer differing objects than this never reject a pair, whatever the ratio.
const MIN_BAD: usize = 8;

fn sampled(g: &HeapGraph, n: u32) -> bool {
    !matches!(
        g.node_type(n),
        NodeType::Synthetic | NodeType::Native | NodeType::Number
    ) && g.node_id(n) >= MIN_ID
}

/// Ids of the root's children that DevTools treats as user roots (global objects).
fn user_root_ids(g: &HeapGraph) -> Vec<u32> {
    let r = g.root();
    let mut ids: Vec<u32> = g
        .edges(r)
        .map(|e| g.edge_to(e))
        .filter(|&t| {
            t != r
                && match g.node_type(t) {
                    NodeType::Synthetic => g.node_name(t) == "(Document DOM trees)",
                    _ => true,
                }
        })
        .map(|t| g.node_id(t))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Shortens a node name for an error message.
fn short(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Checks that `a` and `b` are snapshots of the same heap (one isolate of one process), so that
/// their object ids may be compared. Returns [`Error::Mismatch`] with an explanation otherwise.
/// A snapshot always passes against itself.
///
/// V8 object ids are handed out per isolate, and a Node.js process starts from a deterministic
/// startup snapshot, so two processes running the same program give ids in heavily overlapping
/// ranges to *different* objects. A diff across processes would then look plausible and be
/// meaningless. The test is cheap (one pass over `a`'s type column, a few thousand lookups and
/// one pass over `b`'s id column: 14 ms for 4 million nodes) and relies on two facts:
///
/// 1. Within one isolate an id always denotes the same object, whose node type never changes
///    and whose name (constructor name, string value, function name, `system / …` kind)
///    changes only in rare cases (an embedder node renamed `Detached …`, an object whose
///    prototype was swapped). Measured on Node 20: 0 of ~39 000 shared ids differ between two
///    snapshots of one process.
/// 2. Across processes, even with the identical command line, address-space and hash-seed
///    randomness shift the id assignment early in startup, after which equal ids name
///    unrelated objects: measured 7 % (same argv) to 36 % (one argv string differs) of the
///    shared ids differ in type or name.
///
/// So up to 4096 ids of `a`, spread evenly over it, are looked up in `b`, and the pair is
/// rejected when at least 8 and at least 1 % of the ids found differ in node type or raw name.
/// Additionally, the main global object of a Node.js isolate lives as long as the isolate: when
/// both snapshots have user roots (global objects) and none of their ids is shared, they cannot
/// be of the same isolate.
///
/// Limits: two fully deterministic processes (e.g. run with `--predictable` and a fixed
/// `--hash-seed`) can assign identical ids to identical objects and pass; small snapshots with
/// fewer than a few hundred shared ids give too little evidence and pass; a browser tab that
/// navigated in place between the snapshots replaced its global object and is rejected
/// (comparing across a navigation is rarely meaningful anyway). Synthetic and embedder
/// (`native`) nodes are not sampled: synthetic ids are fixed for every snapshot and embedders
/// may re-key their nodes between snapshots; numbers are skipped because small integers get a
/// fresh id in every snapshot; ids below 128 are V8's fixed ids for the root and the GC
/// sub-roots, identical everywhere.
pub fn check_same_heap(a: &HeapGraph, b: &HeapGraph) -> Result<()> {
    let ra = user_root_ids(a);
    let rb = user_root_ids(b);
    if !ra.is_empty() && !rb.is_empty() && !ra.iter().any(|x| rb.binary_search(x).is_ok()) {
        return Err(Error::Mismatch(format!(
            "the snapshots come from different processes or isolates: their global objects \
             have different ids ({:?} vs {:?}), but a global object keeps its id for the life of \
             the isolate; object ids are only comparable between snapshots of one isolate",
            &ra[..ra.len().min(4)],
            &rb[..rb.len().min(4)]
        )));
    }

    // Every k-th sampled node of `a`, so the sample spans old and young objects alike.
    let na = a.node_count() as u32;
    let eligible = (0..na).filter(|&n| sampled(a, n)).count();
    let step = eligible.div_ceil(SAMPLE).max(1);
    let mut sample: Vec<(u32, u32)> = (0..na)
        .filter(|&n| sampled(a, n))
        .step_by(step)
        .map(|n| (a.node_id(n), n))
        .collect();
    sample.sort_unstable();
    // An id listed twice in `a` is already corrupt; it proves nothing about `b`.
    let mut dedup: Vec<(u32, u32)> = Vec::with_capacity(sample.len());
    let mut i = 0;
    while i < sample.len() {
        let id = sample[i].0;
        let mut j = i + 1;
        while j < sample.len() && sample[j].0 == id {
            j += 1;
        }
        if j == i + 1 {
            dedup.push(sample[i]);
        }
        i = j;
    }
    let sample = dedup;
    if sample.is_empty() {
        return Ok(());
    }
    // A 64 Kibit filter on the low id bits lets ~94 % of `b`'s nodes skip the binary search.
    const FILTER_BITS: usize = 1 << 16;
    let mut filter = vec![0u64; FILTER_BITS / 64];
    for &(id, _) in &sample {
        let h = id as usize & (FILTER_BITS - 1);
        filter[h >> 6] |= 1 << (h & 63);
    }
    const UNMATCHED: u32 = u32::MAX;
    let mut partner = vec![UNMATCHED; sample.len()];
    for m in 0..b.node_count() as u32 {
        let id = b.node_id(m);
        let h = id as usize & (FILTER_BITS - 1);
        if filter[h >> 6] & (1 << (h & 63)) == 0 {
            continue;
        }
        if let Ok(k) = sample.binary_search_by_key(&id, |&(i, _)| i) {
            if partner[k] == UNMATCHED {
                partner[k] = m;
            }
        }
    }

    let mut shared = 0usize;
    let mut bad = 0usize;
    let mut example = None;
    for (&(id, n), &m) in sample.iter().zip(&partner) {
        if m == UNMATCHED {
            continue;
        }
        shared += 1;
        let (ta, tb) = (a.node_type(n), b.node_type(m));
        if ta != tb || a.node_name(n) != b.node_name(m) {
            bad += 1;
            example.get_or_insert_with(|| {
                format!(
                    "id {id} is {} '{}' in one and {} '{}' in the other",
                    a.node_type_name(n),
                    short(a.node_name(n)),
                    b.node_type_name(m),
                    short(b.node_name(m))
                )
            });
        }
    }
    if bad >= MIN_BAD && bad * 100 >= shared {
        return Err(Error::Mismatch(format!(
            "the snapshots come from different processes or isolates: {bad} of {shared} sampled \
             objects that carry the same id in both differ in type or name ({}), while \
             snapshots of one heap have almost none; object ids are only comparable between \
             snapshots of one isolate",
            example.unwrap_or_default()
        )));
    }
    Ok(())
}
