//! memlab's three-snapshot method for Node.js: [`find_leaks`] (documented there, as the module
//! is private).

use super::classes::{by_class, ClassOptions, LeakClass};
use super::collections::GrowingCollection;
use super::ids::{self, TICK};
use super::{check_analysis, check_same_heap};
use crate::analysis::{Analysis, PathEdge, PathKind, RetainerPath, SizeMode};
use crate::control::{Budget, Control};
use crate::graph::{HeapGraph, NodeType};
use crate::Result;
use serde::Serialize;
use std::collections::HashMap;

/// Steps of the retainer path that defines a leak root's shape. Far above DevTools' 20 so that
/// the shape reaches a user root (and so tells apart two maps that only differ near the top)
/// in all but pathological heaps.
pub const SHAPE_MAX_STEPS: usize = 100;
/// At most this many shape paths are computed per class (~30 µs each): with more leak roots,
/// an evenly spaced sample of this size (in retained-size order) gets a path and the rest of
/// the class joins the shape most common in that sample.
const PATHS_PER_CLASS: usize = 2000;
/// Shape paths computed over all classes (~1.5 s), visited in descending retained size; once
/// spent, each further class still gets [`MIN_PATHS_PER_CLASS`].
const PATH_BUDGET: usize = 50_000;
/// Shape paths a class gets even after [`PATH_BUDGET`] is spent.
const MIN_PATHS_PER_CLASS: usize = 64;

/// Options of [`find_leaks`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeakOptions {
    /// Self sizes used for candidacy and the reported sizes.
    pub mode: SizeMode,
    /// Suspects with fewer leak roots are dropped (default 5): a leak grows with every repeat
    /// of the action, one-off allocations (caches warming up, lazy initialisation) do not.
    pub min_count: u64,
    /// Suspects retaining fewer bytes are dropped (default 0).
    pub min_retained_size: u64,
    /// Class names that are never candidates (exact match), e.g. a cache known to grow.
    pub ignore_classes: Vec<String>,
    /// Sample objects (ids and retainer paths) per suspect (default 5).
    pub max_samples: usize,
    /// Algorithm of the sample paths (default DevTools' auto-expanded chain).
    pub path_kind: PathKind,
    /// Maximum edges of a sample path (default 100, so that paths reach a user root and are
    /// marked `complete`; DevTools itself expands 20 levels).
    pub max_path_steps: usize,
    /// When set, the suspects are also regrouped by class into [`LeakReport::classes`].
    pub classes: Option<ClassOptions>,
}

impl Default for LeakOptions {
    fn default() -> Self {
        LeakOptions {
            mode: SizeMode::DevTools,
            min_count: 5,
            min_retained_size: 0,
            ignore_classes: Vec::new(),
            max_samples: 5,
            path_kind: PathKind::DevTools,
            max_path_steps: SHAPE_MAX_STEPS,
            classes: None,
        }
    }
}

/// A group of leaked objects of one class held in the same way; serialises to the JS API's
/// `LeakSuspect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suspect {
    /// Class name of the leaked objects (in the final snapshot).
    pub class_name: String,
    /// Number of leak roots in the group.
    pub count: u64,
    /// Sum of their retained sizes (the memory freed if they were released).
    pub retained_size: u64,
    /// Sum of their self sizes.
    pub shallow_size: u64,
    /// Ids of up to `max_samples` members, largest retained size first (ties: lower id).
    pub sample_ids: Vec<u32>,
    /// Retainer paths of the sample members, same order (a sample without a path is skipped).
    pub paths: Vec<RetainerPath>,
    /// The normalised DevTools retainer path text the members share, e.g.
    /// `global → ->requests (Map) → {table} (array) → [] → Req`; `""` if none was computed.
    pub shape: String,
    /// Index in [`LeakReport::suspects`] of another suspect whose members the first sample
    /// path runs through (sockets held by leaked requests): these objects are a consequence of
    /// that leak, and fixing it frees them too.
    pub held_via: Option<usize>,
    /// Where the class is defined (`url:line:column` of its constructor, `crate::locations`),
    /// from the first sample; absent when the snapshot does not tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The call stacks that allocated the group's objects, biggest first (at most
    /// [`MAX_ALLOCATION_SITES`]); empty, and absent from the JSON, unless the final snapshot
    /// was written with allocation tracking on (`crate::alloc_trace`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<crate::alloc_trace::AllocationSite>,
}

/// How many allocation stacks a suspect lists.
pub const MAX_ALLOCATION_SITES: usize = 5;

/// Node counts of the three snapshots of a [`LeakReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct NodeCounts {
    /// Node count of the baseline snapshot.
    pub baseline: u64,
    /// Node count of the target snapshot.
    pub target: u64,
    /// Node count of the final snapshot (`final` is a Rust keyword).
    #[serde(rename = "final")]
    pub fin: u64,
}

/// Result of [`find_leaks`]; serialises to the JS API's `LeakReport`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakReport {
    /// Suspects, biggest retained size first.
    pub suspects: Vec<Suspect>,
    /// |T|: distinct ids in the target snapshot that are not in the baseline.
    pub new_in_target: u64,
    /// |L|: nodes of the final snapshot whose id is in T.
    pub still_alive: u64,
    /// Node counts of the three snapshots.
    pub nodes: NodeCounts,
    /// The suspects regrouped by class ([`by_class`]) when [`LeakOptions::classes`] is set;
    /// absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<LeakClass>>,
    /// The collections that grew in every step of the series
    /// ([`super::growing_collections`]), when the caller asked for them; absent from the JSON
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collections: Option<Vec<GrowingCollection>>,
}

/// Node types that are VM internals: nothing a user can release directly. Their memory still
/// shows in the retained size of the candidate that owns them.
fn internal_type(t: NodeType) -> bool {
    matches!(
        t,
        NodeType::Synthetic
            | NodeType::Hidden
            | NodeType::Code
            | NodeType::Array
            | NodeType::Number
            | NodeType::ObjectShape
    )
}

/// Step 1 of the module documentation for a member `x` of L; `ignored` is indexed by class.
fn is_candidate(
    fin: &HeapGraph,
    fin_a: &Analysis,
    x: u32,
    mode: SizeMode,
    ignored: &[bool],
) -> bool {
    let ty = fin.node_type(x);
    if internal_type(ty) || (ty == NodeType::String && internalized(fin, x)) {
        return false;
    }
    // Reachable at all, but not only from user roots: in Node.js most live state (servers,
    // timers, module variables captured by handlers) hangs off global handles, i.e. system
    // distance. Unreachable (weak-only) objects are garbage, not leaks.
    if fin_a.distance(x) < 0 || fin_a.self_size(x, mode) == 0 {
        return false;
    }
    !fin_a
        .class_index(x)
        .and_then(|c| ignored.get(c as usize).copied())
        .unwrap_or(false)
}

/// Whether string `x` is in V8's string table (retained by the `(Internalized strings)` root):
/// property names, function names and the literals of compiled code. New ones appear whenever
/// code runs for the first time between baseline and target (one group per function, hundreds
/// after a first HTTP request), so they are not candidates. A leak whose objects are keyed by
/// strings used as property names still shows through the values those keys map to.
fn internalized(fin: &HeapGraph, x: u32) -> bool {
    fin.retainers(x).any(|(_, s)| {
        fin.node_type(s) == NodeType::Synthetic && fin.node_name(s) == "(Internalized strings)"
    })
}

/// The shape of a retainer path: the text with every number that is not part of an identifier
/// removed — element and hidden indices (`[123]` → `[]`, `{45}` → `{}`) and the ids inside
/// ephemeron edge names (`@123` → `@`) — while `Uint8Array` or `.x1` stay intact.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev_ident = false;
    let mut in_number = false;
    // Source locations (` @ file:line:col`, crate::locations) name code, not an index: kept
    // whole, up to the `)` or ` → ` that ends them.
    let mut in_location = false;
    for c in text.chars() {
        if in_location {
            in_location = c != ')' && !out.ends_with(" →");
            out.push(c);
            continue;
        }
        if c == ' ' && out.ends_with(" @") {
            in_location = true;
            out.push(c);
            continue;
        }
        if c.is_ascii_digit() && (in_number || !prev_ident) {
            in_number = true;
            continue;
        }
        in_number = false;
        prev_ident = c.is_alphanumeric() || c == '_' || c == '$';
        out.push(c);
    }
    collapse_repeats(&out)
}

/// Collapses runs of one repeated step (`→ ._idleNext (Timeout) → ._idleNext (Timeout)`) into
/// one step marked `+`: every element of a linked list has a path of a different length, and
/// without this each would be a group of its own.
fn collapse_repeats(text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for p in text.split(" → ") {
        match parts.last_mut() {
            Some(last) if last == p => last.push('+'),
            Some(last)
                if last
                    .strip_suffix('+')
                    .is_some_and(|l| l.trim_end_matches('+') == p) => {}
            _ => parts.push(p.to_owned()),
        }
    }
    parts.join(" → ")
}

/// Memo values of [`nearest_owner`] besides a candidate's ordinal.
const UNKNOWN: u32 = u32::MAX;
const CLEAR: u32 = u32::MAX - 1;
const CODE: u32 = u32::MAX - 2;

/// The nearest of "a candidate" (its ordinal) or "a `code` node" ([`CODE`]) on the
/// dominator-tree chain from `start` up to the root ([`CLEAR`] if neither). Walks up with an
/// explicit loop and memoises every node it passes, so all calls together visit each node
/// once: O(nodes) in total.
fn nearest_owner(
    fin: &HeapGraph,
    a: &Analysis,
    cand: &[bool],
    state: &mut [u32],
    path: &mut Vec<u32>,
    start: u32,
) -> u32 {
    path.clear();
    let root = a.root();
    let mut x = start;
    let result = loop {
        match state.get(x as usize) {
            Some(&UNKNOWN) => {}
            Some(&known) => break known,
            None => break CLEAR,
        }
        path.push(x);
        if cand.get(x as usize).copied().unwrap_or(false) {
            break x;
        }
        if fin.node_type(x) == NodeType::Code {
            break CODE;
        }
        let up = a.idom(x);
        // The root dominates itself; a longer walk than there are nodes means a broken tree.
        if x == root || up == x || path.len() > state.len() {
            break CLEAR;
        }
        x = up;
    };
    for &p in path.iter() {
        if let Some(s) = state.get_mut(p as usize) {
            *s = result;
        }
    }
    result
}

/// The shape of leak root `x` and whether its path runs through a VM cache (see
/// [`TEMPLATE_CACHES`]).
///
/// The shape is `x`'s DevTools retainer path cut below `x`'s *holder* — its immediate
/// dominator, the one object whose release would free it (a Map's backing table, a listener
/// array, a timer list) — then `x`'s class. Every path from a root to `x` passes through the
/// holder, so objects held by one holder form one group even when their own paths below it
/// differ (the elements of a linked list have paths of every length, in both directions), while
/// the same class held by two holders is two groups. When the holder is `x`'s direct retainer
/// on the path, or is not on it (a path cut short), the whole path is the shape.
fn shape_of(
    fin: &HeapGraph,
    fin_a: &Analysis,
    x: u32,
    work: &mut Budget<'_>,
) -> Result<(String, bool)> {
    let Some(path) = fin_a.retainer_path_in(fin, x, PathKind::DevTools, SHAPE_MAX_STEPS, work)?
    else {
        return Ok((String::new(), false));
    };
    let vm_owned = path
        .steps
        .iter()
        .any(|s| TEMPLATE_CACHES.contains(&s.edge_name()));
    let holder = fin_a.idom(x);
    let n = path.steps.len();
    // The text has one segment per step, except the last step, which is its edge and its class.
    let segments: Vec<&str> = path.text.split(" → ").collect();
    let cut = path.steps[..n.saturating_sub(1)]
        .iter()
        .rposition(|s| s.ordinal == holder)
        .filter(|&h| h + 2 < n && segments.len() == n + 1);
    let class = fin_a.class_name(fin, x);
    let shape = match cut {
        Some(h) => format!("{} → … → {class}", normalise(&segments[..=h].join(" → "))),
        // The path stopped before reaching the holder (e.g. in the middle of a long linked
        // list): the holder's own path stands for it.
        None if !path.complete && holder != fin_a.root() && holder != x => {
            match fin_a.retainer_path_in(fin, holder, PathKind::DevTools, SHAPE_MAX_STEPS, work)? {
                Some(hp) => format!("{} → … → {class}", normalise(&hp.text)),
                None => normalise(&path.text),
            }
        }
        None => normalise(&path.text),
    };
    Ok((shape, vm_owned))
}

/// The path shown for a sample. When the object's own path stops short of a root (deep in a
/// long linked list), it is explained through its holder instead: the holder's path, then
/// `… → Class` — every path to the object passes through the holder.
pub(super) fn sample_path(
    fin: &HeapGraph,
    fin_a: &Analysis,
    x: u32,
    opts: &LeakOptions,
    work: &mut Budget<'_>,
) -> Result<Option<RetainerPath>> {
    let Some(mut own) =
        fin_a.retainer_path_in(fin, x, opts.path_kind, opts.max_path_steps, work)?
    else {
        return Ok(None);
    };
    own.text = compact_text(&own.text);
    let holder = fin_a.idom(x);
    if own.complete || holder == x || holder == fin_a.root() {
        return Ok(Some(own));
    }
    let Some(mut via) =
        fin_a.retainer_path_in(fin, holder, opts.path_kind, opts.max_path_steps, work)?
    else {
        return Ok(Some(own));
    };
    let Some(mut last) = own.steps.last().cloned() else {
        return Ok(Some(own));
    };
    if !via.complete {
        return Ok(Some(own));
    }
    // Reached from the holder through a long chain.
    last.edge = Some(PathEdge::indirect());
    via.text = format!("{} → … → {}", compact_text(&via.text), last.class_name);
    via.steps.push(last);
    Ok(Some(via))
}

/// A path's text with runs of one repeated step written once with a count
/// (`→ ._idleNext (Timeout) ×148 →`), so a path through a linked list stays readable.
fn compact_text(text: &str) -> String {
    let parts: Vec<&str> = text.split(" → ").collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let mut j = i + 1;
        // The last segment is the object's class, never part of a run.
        while j + 1 < parts.len() && parts[j] == parts[i] {
            j += 1;
        }
        if j - i > 2 {
            out.push(format!("{} ×{}", parts[i], j - i));
        } else {
            out.extend(parts[i..j].iter().map(|p| (*p).to_owned()));
        }
        i = j;
    }
    out.join(" → ")
}

/// Edges of V8's native context into its caches of instantiated API functions: Node.js creates
/// binding functions (e.g. `QueryReqWrap` on the first DNS lookup) from templates on first use
/// and V8 keeps them there. They are lazy initialisation, not leaks, yet after a first HTTP
/// request dozens are new; a leak root whose shape path runs through these caches is dropped.
const TEMPLATE_CACHES: [&str; 2] = [
    "fast_template_instantiations_cache",
    "slow_template_instantiations_cache",
];

/// One suspect under construction.
struct Group {
    /// Creation order: stable across the ranking sort, for [`Suspect::held_via`].
    key: usize,
    class: u32,
    shape: String,
    /// The shape runs through a VM cache (see [`TEMPLATE_CACHES`]): dropped from the report.
    vm_owned: bool,
    count: u64,
    shallow: u64,
    retained: u64,
    samples: Vec<u32>,
}

/// What every step after the id sets reads: the final snapshot, its analysis, the options and
/// the caller's control.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    fin: &'a HeapGraph,
    fin_a: &'a Analysis,
    opts: &'a LeakOptions,
    ctl: Control<'a>,
}

impl Ctx<'_> {
    /// Class index of `x` (`u32::MAX` when it has none).
    fn class_of(&self, x: u32) -> u32 {
        self.fin_a.class_index(x).unwrap_or(u32::MAX)
    }

    /// Retained size of `x` in the options' size mode.
    fn retained(&self, x: u32) -> u64 {
        self.fin_a.retained_size(x, self.opts.mode)
    }

    /// Name of class index `c` (`""` when out of range).
    fn name_of(&self, c: u32) -> &str {
        self.fin_a
            .class_names()
            .get(c as usize)
            .map_or("", String::as_str)
    }
}

/// The leak roots of step 2 and the chain links counted with them.
struct Roots {
    /// Final-snapshot ordinals, by class, then retained size (descending), then id: samples
    /// are the first members of a class, and sampled shapes start at its biggest root.
    roots: Vec<u32>,
    /// Per chain head: number of chain links under it and their summed self size.
    links: HashMap<u32, (u64, u64)>,
}

impl Roots {
    fn links_of(&self, x: u32) -> (u64, u64) {
        self.links.get(&x).copied().unwrap_or((0, 0))
    }
}

/// The groups of step 3 and which group each leak root joined.
#[derive(Default)]
struct Grouping {
    groups: Vec<Group>,
    /// Leak root → its group's key: which suspect an object on another suspect's path belongs
    /// to.
    member_of: HashMap<u32, usize>,
}

/// memlab's three-snapshot method (docs/leaks.md#the-three-snapshot-method): T = ids(`target`)
/// \\ ids(`baseline`), L = nodes of `fin` whose id is in T — then tuned for Node.js, where
/// memlab (which decides per object with browser rules: detached DOM, React fibers) reports
/// nothing without a custom filter. Every surviving new object a user can act on is a candidate,
/// and three steps keep the report short:
///
/// 1. **Candidates** — members of L that are not VM internals (`synthetic`, `hidden`, `code`,
///    `array`, `number`, `object shape`) nor internalized strings (property names and
///    literals, new whenever code first runs), are reachable (unreachable garbage is no leak;
///    objects held only through system roots count, because in Node.js servers, timers and
///    the module variables their handlers capture hang off global handles), have a
///    non-zero self size in `opts.mode` and whose class is not in `opts.ignore_classes`.
///    Strings and closures are candidates: a growing string or a registry of callbacks can be
///    the leak.
/// 2. **Ownership** — a candidate with a candidate among its dominator-tree ancestors is part
///    of that ancestor's retained size (a leaked request's URL string, socket and buffers) and
///    is not reported on its own. A candidate whose nearest deciding ancestor is compiled code
///    (a `code` node, met before any candidate) is a compilation artefact and is not reported
///    either. A candidate whose owner is a candidate of its own class is a link of a chain (a
///    linked list of timers) and is counted with the chain's head. The remaining candidates
///    are the *leak roots*; they are disjoint subtrees of the dominator tree, so summing their
///    retained sizes never double counts. One memoised walk
///    up the dominator tree: O(nodes) in total.
/// 3. **Grouping** — leak roots are grouped by class and by the *shape* of their DevTools
///    retainer path (up to [`SHAPE_MAX_STEPS`] edges, every number that is not part of an
///    identifier removed: `[123]` → `[]`, `{45}` → `{}`, `@123` → `@`), so 500 requests kept
///    in one Map are one suspect while the same class leaking through two Maps is two. A path
///    costs ~30 µs, so at most 2 000 are computed per class (50 000 overall, big classes
///    first, at least 64 per class after that): a larger class gets paths for an evenly spaced
///    sample in retained-size order, and its other roots join the shape most common in that
///    sample. Groups whose path runs through V8's caches of instantiated API functions
///    (Node.js binding functions created on first use) are lazy initialisation and dropped.
///
/// Groups with fewer than `opts.min_count` roots or less than `opts.min_retained_size`
/// retained bytes are dropped; the rest are ranked by retained size (descending), then count,
/// class name and shape. Each suspect carries up to `opts.max_samples` sample ids (largest
/// retained first) with their retainer paths (`opts.path_kind`, `opts.max_path_steps`).
/// With `opts.classes`, the suspects are also regrouped by class ([`by_class`]) into
/// [`LeakReport::classes`].
///
/// `fin_a` must be the analysis of `fin`; `baseline` and `target` are only read for their ids.
/// Fails with [`crate::Error::Mismatch`] when [`check_same_heap`] rejects baseline vs target or
/// target vs final, [`crate::Error::InvalidArg`] when `fin_a` belongs to another snapshot or
/// `opts.classes` is invalid ([`ClassOptions::calls`] 0, a negative or non-finite threshold), and
/// [`crate::Error::Aborted`] when `ctl`'s flag is raised.
///
/// Cost: linear in the three node counts (radix-sorted ids, a binary search per final node in
/// the usually small T, the ownership walk) plus the capped shape paths and the sample paths:
/// 0.27 s for snapshots of 3.6 / 4.0 / 4.2 million nodes with 110 000 leak roots.
pub fn find_leaks(
    baseline: &HeapGraph,
    target: &HeapGraph,
    fin: &HeapGraph,
    fin_a: &Analysis,
    opts: &LeakOptions,
    ctl: Control<'_>,
) -> Result<LeakReport> {
    check_analysis("final", fin, fin_a)?;
    check_same_heap(baseline, target)?;
    check_same_heap(target, fin)?;
    find_leaks_of_own_heap(baseline, target, fin, fin_a, opts, ctl)
}

/// [`find_leaks`] without [`check_same_heap`], for snapshots the caller took of its own heap in
/// a row (the sampler's diagnosis): in a busy process V8 gives an object allocated where a dead
/// one was, before the next snapshot cleaned its id map, the dead one's id, which the guard
/// would take for another heap. Fails as [`find_leaks`] does otherwise.
pub fn find_leaks_of_own_heap(
    baseline: &HeapGraph,
    target: &HeapGraph,
    fin: &HeapGraph,
    fin_a: &Analysis,
    opts: &LeakOptions,
    ctl: Control<'_>,
) -> Result<LeakReport> {
    check_analysis("final", fin, fin_a)?;
    ctl.check()?;
    // T, as a sorted list of distinct ids. The baseline's ids stay for `held_via`.
    let baseline_ids = ids::sorted(&baseline.node_id, &ctl)?;
    let new_ids = ids::difference(&ids::sorted(&target.node_id, &ctl)?, &baseline_ids);
    let nodes = NodeCounts {
        baseline: baseline.node_count() as u64,
        target: target.node_count() as u64,
        fin: fin.node_count() as u64,
    };
    let era = Era::Lists {
        baseline: &baseline_ids,
        new: &new_ids,
    };
    report(fin, fin_a, era, nodes, opts, ctl)
}

/// A window of heap object ids standing in for a baseline and a target snapshot: the ids V8's
/// id map had handed out when the baseline would have been taken (`after`), and when the target
/// would have been (`upto`). V8 numbers objects from one counter that only goes up when its id
/// map first sees them, so with the map updated at both moments (heap object tracking on, which
/// keeps ids across GC moves), the objects of the final snapshot with `after < id <= upto` are
/// exactly the ones two snapshots at those moments would have given: made in between, alive at
/// `upto` and at the end. Only odd ids count: V8 numbers its own heap objects with odd ids and
/// the embedder's (native) objects apart, with even ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdWindow {
    /// The highest id handed out at the baseline.
    pub after: u32,
    /// The highest id handed out at the target.
    pub upto: u32,
}

/// [`find_leaks`] with an [`IdWindow`] for baseline and target: what the leak assertions use
/// (one heap snapshot instead of three). [`LeakReport::nodes`] gives 0 for baseline and target
/// and [`LeakReport::new_in_target`] the window's odd ids. Fails with
/// [`crate::Error::InvalidArg`] when `window.after > window.upto`, and as [`find_leaks`] does
/// otherwise.
pub fn find_leaks_in_window(
    window: IdWindow,
    fin: &HeapGraph,
    fin_a: &Analysis,
    opts: &LeakOptions,
    ctl: Control<'_>,
) -> Result<LeakReport> {
    check_analysis("final", fin, fin_a)?;
    if window.after > window.upto {
        return Err(crate::Error::InvalidArg(format!(
            "the id window ends ({}) before it starts ({})",
            window.upto, window.after
        )));
    }
    let nodes = NodeCounts {
        baseline: 0,
        target: 0,
        fin: fin.node_count() as u64,
    };
    report(fin, fin_a, Era::Window(window), nodes, opts, ctl)
}

/// When the objects of the final snapshot were made, as the baseline and target tell it.
#[derive(Clone, Copy)]
enum Era<'a> {
    /// Sorted ids of the baseline, and the sorted ids of the target not in it (T).
    Lists { baseline: &'a [u32], new: &'a [u32] },
    /// An [`IdWindow`].
    Window(IdWindow),
}

impl Era<'_> {
    /// In T: made between baseline and target.
    fn is_new(&self, id: u32) -> bool {
        match self {
            Era::Lists { new, .. } => new.binary_search(&id).is_ok(),
            Era::Window(w) => id % 2 == 1 && w.after < id && id <= w.upto,
        }
    }

    /// Alive at the baseline.
    fn at_baseline(&self, id: u32) -> bool {
        match self {
            Era::Lists { baseline, .. } => baseline.binary_search(&id).is_ok(),
            Era::Window(w) => id % 2 == 1 && id <= w.after,
        }
    }

    /// |T|.
    fn new_count(&self) -> u64 {
        match self {
            Era::Lists { new, .. } => new.len() as u64,
            Era::Window(w) => u64::from(w.upto.div_ceil(2) - w.after.div_ceil(2)),
        }
    }
}

/// The three steps of [`find_leaks`] on the final snapshot, once T is known.
fn report(
    fin: &HeapGraph,
    fin_a: &Analysis,
    era: Era<'_>,
    nodes: NodeCounts,
    opts: &LeakOptions,
    ctl: Control<'_>,
) -> Result<LeakReport> {
    if let Some(c) = &opts.classes {
        c.check()?;
    }
    ctl.check()?;
    let cx = Ctx {
        fin,
        fin_a,
        opts,
        ctl,
    };
    // Path work (retainers compared, name parts visited) between two cancel checks: a single
    // path step can be long, so the flag is polled inside it, not only between paths.
    let mut work = ctl.budget(4096);
    let mut report = LeakReport {
        nodes,
        new_in_target: era.new_count(),
        ..LeakReport::default()
    };
    // Step 1: L and the candidates among it.
    let (cand, still_alive) = candidates(cx, era)?;
    report.still_alive = still_alive;
    // Step 2: ownership.
    let roots = leak_roots(cx, owners(cx, cand)?);
    // Step 3: grouping, then the thresholds and the ranking.
    let mut grouping = group(cx, &roots, &mut work)?;
    drop(roots);
    rank(cx, &mut grouping.groups);
    report.suspects = explain(cx, grouping, era, &mut work)?;
    // Optional: the suspects by class, as the leak assertions report them.
    report.classes = opts.classes.as_ref().map(|c| by_class(&report.suspects, c));
    Ok(report)
}

/// Step 1: which nodes of the final snapshot are candidates (indexed by ordinal), and |L|.
fn candidates(cx: Ctx<'_>, era: Era<'_>) -> Result<(Vec<bool>, u64)> {
    let (fin, fin_a) = (cx.fin, cx.fin_a);
    let n = fin.node_count();
    let ignored: Vec<bool> = fin_a
        .class_names()
        .iter()
        .map(|c| cx.opts.ignore_classes.iter().any(|i| i == c))
        .collect();
    let mut cand = vec![false; n];
    let mut still_alive = 0u64;
    if era.new_count() == 0 {
        return Ok((cand, still_alive));
    }
    for x in 0..n as u32 {
        if x as usize % TICK == 0 {
            cx.ctl.check()?;
        }
        if !era.is_new(fin.node_id(x)) {
            continue;
        }
        still_alive += 1;
        if let Some(slot) = cand.get_mut(x as usize) {
            *slot = is_candidate(fin, fin_a, x, cx.opts.mode, &ignored);
        }
    }
    Ok((cand, still_alive))
}

/// Step 2, first half: each candidate's owner, indexed by ordinal — [`CLEAR`] for a leak root,
/// [`CODE`] or another class's ordinal when owned and not reported, the ordinal of a same-class
/// candidate for a chain link under it. Non-candidates are [`CODE`].
///
/// Candidates whose nearest deciding dominator-tree ancestor is another candidate are part of
/// its retained size; those under compiled code are literals and other compilation artefacts
/// (e.g. the strings of a constant pool created when a function first ran between baseline and
/// target — not a leak, and there can be hundreds of them after a first request).
fn owners(cx: Ctx<'_>, cand: Vec<bool>) -> Result<Vec<u32>> {
    let (fin, fin_a) = (cx.fin, cx.fin_a);
    let n = fin.node_count();
    let mut state = vec![UNKNOWN; n];
    let mut walk = Vec::new();
    let mut owner = vec![CODE; n];
    for x in 0..n as u32 {
        if x as usize % TICK == 0 {
            cx.ctl.check()?;
        }
        if !cand.get(x as usize).copied().unwrap_or(false) {
            continue;
        }
        let up = fin_a.idom(x);
        let o = if up == x {
            CLEAR
        } else {
            nearest_owner(fin, fin_a, &cand, &mut state, &mut walk, up)
        };
        if let Some(slot) = owner.get_mut(x as usize) {
            *slot = o;
        }
    }
    Ok(owner)
}

/// Step 2, second half: the leak roots, sorted as [`Roots::roots`] says, with their chains.
///
/// A candidate owned by a candidate *of its own class* is a link of a chain (a linked list of
/// timers, a tree of nodes): it is counted with the head of its chain, whose retained size
/// already holds it, instead of vanishing into it or being a root of its own (which would report
/// one suspect per list element and double count). Each link is resolved to its head by
/// following same-class owners up, compressing as it goes.
fn leak_roots(cx: Ctx<'_>, mut owner: Vec<u32>) -> Roots {
    let n = owner.len();
    let mut roots: Vec<u32> = Vec::new();
    let mut links: HashMap<u32, (u64, u64)> = HashMap::new();
    let mut walk = Vec::new();
    for x in 0..n as u32 {
        let o = owner.get(x as usize).copied().unwrap_or(CODE);
        if o == CLEAR {
            roots.push(x);
            continue;
        }
        if o == CODE || o == UNKNOWN || cx.class_of(o) != cx.class_of(x) {
            continue;
        }
        walk.clear();
        let mut head = x;
        loop {
            let up = owner.get(head as usize).copied().unwrap_or(CODE);
            if up >= CODE || cx.class_of(up) != cx.class_of(head) || walk.len() > n {
                break;
            }
            walk.push(head);
            head = up;
        }
        for &w in &walk {
            if let Some(slot) = owner.get_mut(w as usize) {
                *slot = head;
            }
        }
        // Only a chain whose head is itself a root is reported.
        if owner.get(head as usize).copied() == Some(CLEAR) {
            let e = links.entry(head).or_default();
            e.0 += 1;
            e.1 = e.1.saturating_add(cx.fin_a.self_size(x, cx.opts.mode));
        }
    }
    drop(owner);
    roots.sort_unstable_by(|&x, &y| {
        cx.class_of(x)
            .cmp(&cx.class_of(y))
            .then_with(|| cx.retained(y).cmp(&cx.retained(x)))
            .then_with(|| cx.fin.node_id(x).cmp(&cx.fin.node_id(y)))
    });
    Roots { roots, links }
}

/// Ranges of one class in [`Roots::roots`], biggest total retained size first so that they get
/// the path budget. A class with fewer objects than `min_count` cannot yield a suspect and is
/// left out.
fn class_ranges(cx: Ctx<'_>, roots: &Roots) -> Vec<(usize, usize)> {
    let r = &roots.roots;
    let min_count = cx.opts.min_count.max(1);
    let mut classes: Vec<(u64, usize, usize)> = Vec::new();
    let mut s = 0;
    while s < r.len() {
        let c = cx.class_of(r[s]);
        let mut e = s;
        let mut total = 0u64;
        let mut count = 0u64;
        while e < r.len() && cx.class_of(r[e]) == c {
            total = total.saturating_add(cx.retained(r[e]));
            count += 1 + roots.links_of(r[e]).0;
            e += 1;
        }
        if count >= min_count {
            classes.push((total, s, e));
        }
        s = e;
    }
    classes.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    classes.into_iter().map(|(_, s, e)| (s, e)).collect()
}

/// Step 3: the leak roots grouped by class and shape (every class range of [`class_ranges`],
/// each within the path budget), with counts, sizes and samples summed per group.
fn group(cx: Ctx<'_>, roots: &Roots, work: &mut Budget<'_>) -> Result<Grouping> {
    let mut out = Grouping::default();
    let mut budget = PATH_BUDGET;
    let mut computed = 0usize;
    for (s, e) in class_ranges(cx, roots) {
        let members = roots.roots.get(s..e).unwrap_or(&[]);
        let cap = PATHS_PER_CLASS.min(budget.max(MIN_PATHS_PER_CLASS));
        let before = computed;
        let (group_of, common) =
            sample_shapes(cx, members, cap, &mut out.groups, work, &mut computed)?;
        budget = budget.saturating_sub(computed - before);
        for (i, &x) in members.iter().enumerate() {
            let Some(g) = group_of.get(i).copied().flatten().or(common) else {
                continue;
            };
            let Some(grp) = out.groups.get_mut(g) else {
                continue;
            };
            let (link_count, link_shallow) = roots.links_of(x);
            grp.count += 1 + link_count;
            grp.shallow = grp
                .shallow
                .saturating_add(cx.fin_a.self_size(x, cx.opts.mode))
                .saturating_add(link_shallow);
            grp.retained = grp.retained.saturating_add(cx.retained(x));
            out.member_of.insert(x, grp.key);
            if grp.samples.len() < cx.opts.max_samples {
                grp.samples.push(x);
            }
        }
    }
    Ok(out)
}

/// Shapes of up to `cap` members of one class (all of them, or an evenly spaced sample), each
/// new shape a new group in `groups`. Returns the group of each member (`None` = not sampled)
/// and the most sampled group, which the members without a shape join; ties go to the group
/// created first (holding the bigger root). `computed` counts the paths over all classes.
fn sample_shapes(
    cx: Ctx<'_>,
    members: &[u32],
    cap: usize,
    groups: &mut Vec<Group>,
    work: &mut Budget<'_>,
    computed: &mut usize,
) -> Result<(Vec<Option<usize>>, Option<usize>)> {
    let class = members.first().map_or(u32::MAX, |&x| cx.class_of(x));
    let k = members.len();
    let mut group_of: Vec<Option<usize>> = vec![None; k];
    let mut by_shape: HashMap<String, usize> = HashMap::new();
    let mut sampled_count: HashMap<usize, u64> = HashMap::new();
    let picks: Box<dyn Iterator<Item = usize>> = if k <= cap {
        Box::new(0..k)
    } else {
        // In u64 so that `i * k` cannot overflow a 32-bit usize.
        Box::new((0..cap).map(move |i| (i as u64 * k as u64 / cap as u64) as usize))
    };
    for i in picks {
        if *computed % 256 == 0 {
            cx.ctl.check()?;
        }
        *computed += 1;
        let Some(&x) = members.get(i) else { continue };
        let (shape, vm_owned) = shape_of(cx.fin, cx.fin_a, x, work)?;
        let g = *by_shape.entry(shape).or_insert_with_key(|shape| {
            groups.push(Group {
                key: groups.len(),
                class,
                shape: shape.clone(),
                vm_owned,
                count: 0,
                shallow: 0,
                retained: 0,
                samples: Vec::new(),
            });
            groups.len() - 1
        });
        *sampled_count.entry(g).or_default() += 1;
        if let Some(slot) = group_of.get_mut(i) {
            *slot = Some(g);
        }
    }
    let common = sampled_count
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&g, _)| g);
    Ok((group_of, common))
}

/// Drops the VM-owned groups and those under `min_count` or `min_retained_size`, and ranks the
/// rest: retained size (descending), then count, class name and shape.
fn rank(cx: Ctx<'_>, groups: &mut Vec<Group>) {
    let min_count = cx.opts.min_count.max(1);
    groups
        .retain(|g| !g.vm_owned && g.count >= min_count && g.retained >= cx.opts.min_retained_size);
    groups.sort_by(|x, y| {
        y.retained
            .cmp(&x.retained)
            .then(y.count.cmp(&x.count))
            .then_with(|| cx.name_of(x.class).cmp(cx.name_of(y.class)))
            .then_with(|| x.shape.cmp(&y.shape))
    });
}

/// The ranked groups as suspects: sample ids, their retainer paths and [`Suspect::held_via`].
fn explain(
    cx: Ctx<'_>,
    grouping: Grouping,
    era: Era<'_>,
    work: &mut Budget<'_>,
) -> Result<Vec<Suspect>> {
    let Grouping { groups, member_of } = grouping;
    let held = HeldVia {
        rank: groups.iter().enumerate().map(|(i, g)| (g.key, i)).collect(),
        first_of_class: groups
            .iter()
            .enumerate()
            .rev()
            .map(|(i, g)| (g.class, (g.key, i)))
            .collect(),
        member_of,
        era,
    };
    let mut suspects = Vec::with_capacity(groups.len());
    // Allocation stacks are summed over all of a group's members, not just the samples.
    let mut members: HashMap<usize, Vec<u32>> = HashMap::new();
    if cx.fin.has_allocation_trace() {
        for (&x, &k) in &held.member_of {
            members.entry(k).or_default().push(x);
        }
    }
    for g in groups {
        cx.ctl.check()?;
        let mut paths: Vec<RetainerPath> = Vec::with_capacity(g.samples.len());
        for &x in &g.samples {
            paths.extend(sample_path(cx.fin, cx.fin_a, x, cx.opts, work)?);
        }
        let held_via = paths.first().and_then(|p| held.find(cx, p, g.key));
        suspects.push(Suspect {
            class_name: cx.name_of(g.class).to_owned(),
            count: g.count,
            retained_size: g.retained,
            shallow_size: g.shallow,
            sample_ids: g.samples.iter().map(|&x| cx.fin.node_id(x)).collect(),
            paths,
            shape: g.shape,
            held_via,
            location: g
                .samples
                .first()
                .and_then(|&x| cx.fin.location(x))
                .map(|l| l.to_string()),
            allocations: cx.fin.allocation_sites(
                members.remove(&g.key).unwrap_or_default(),
                MAX_ALLOCATION_SITES,
            ),
        });
    }
    Ok(suspects)
}

/// What [`Suspect::held_via`] is looked up in.
struct HeldVia<'a> {
    /// Group key → its rank (index in the report).
    rank: HashMap<usize, usize>,
    /// The best-ranked reported group of each class (key, rank), for path steps that are
    /// leaked objects of that class but not in L (created after `target`: the same leak, just
    /// younger).
    first_of_class: HashMap<u32, (usize, usize)>,
    member_of: HashMap<u32, usize>,
    era: Era<'a>,
}

impl HeldVia<'_> {
    /// The first step of `path` on the way down that belongs to another reported suspect than
    /// group `key`: one of its members, or an object of its class created after the baseline.
    fn find(&self, cx: Ctx<'_>, path: &RetainerPath, key: usize) -> Option<usize> {
        let inner = path.steps.len().saturating_sub(1);
        path.steps.get(..inner)?.iter().find_map(|s| {
            let (k, r) = match self.member_of.get(&s.ordinal) {
                Some(k) => (*k, *self.rank.get(k)?),
                None if !self.era.at_baseline(s.id) => {
                    *self.first_of_class.get(&cx.class_of(s.ordinal))?
                }
                None => return None,
            };
            (k != key).then_some(r)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn shapes_drop_indices_and_ids_only() {
        assert_eq!(
            normalise("global → ->requests (Map) → {table} (array) → [123] → Req"),
            "global → ->requests (Map) → {table} (array) → [] → Req"
        );
        assert_eq!(
            normalise("A → {45} (system) → .x1 → Uint8Array"),
            "A → {} (system) → .x1 → Uint8Array"
        );
        assert_eq!(
            normalise("{3 / part of key (Key @201) -> value (Val @203)}"),
            "{ / part of key (Key @) -> value (Val @)}"
        );
        assert_eq!(normalise("Zoë → [7]"), "Zoë → []");
        // Source locations stay whole (locations.md), with or without parentheses.
        assert_eq!(
            normalise("g → .f (Function @ /a1/b.js:12:3) → [4] (closure) @ node:x:5:6 → {7} → T"),
            "g → .f (Function @ /a1/b.js:12:3) → [] (closure) @ node:x:5:6 → {} → T"
        );
        assert_eq!(
            normalise("T → .next (T) → .next (T) → .next (T) → .v → V"),
            "T → .next (T)+ → .v → V"
        );
        assert_eq!(normalise("A → .x (B) → .x (B) → B"), "A → .x (B)+ → B");
        assert_eq!(
            super::compact_text("L → .n (T) → .n (T) → .n (T) → .n → T"),
            "L → .n (T) ×3 → .n → T"
        );
        assert_eq!(
            super::compact_text("A → .n (T) → .n (T) → T"),
            "A → .n (T) → .n (T) → T"
        );
    }
}
