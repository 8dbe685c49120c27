//! Heap analysis with current Chrome DevTools semantics: distances, dominators and retained
//! sizes, class names, the Summary view and retainer paths. The algorithms, their references and
//! the test vectors are described in docs/analysis.md.
//!
//! [`Analysis::compute`] runs every phase once, in DevTools' order, over dense per-node arrays
//! (no per-node heap objects, no recursion, so millions of nodes and arbitrarily deep chains are
//! fine). The result does not borrow the graph; methods that need names or edges take the
//! [`HeapGraph`] again and must be given the same graph that was analysed.
//!
//! Two size modes exist because DevTools changed its numbers in 2023: [`SizeMode::DevTools`]
//! moves the shallow size of internal arrays and hidden objects to their single owner (what
//! current DevTools shows), [`SizeMode::Raw`] keeps V8's sizes (older DevTools, memlab). The
//! dominator tree is the same in both; only sizes differ.
//!
//! # Deliberate differences from DevTools
//!
//! * Summary rows are keyed by class name only. DevTools additionally splits `object` classes by
//!   the allocation location in the snapshot's `locations` array, which the graph does not carry.
//! * Class names are interned by text (DevTools keys raw names by string index, then converts
//!   the keys to text; the resulting rows are the same).
//! * A node type value past the end of the meta enum is classed `(unknown)`; DevTools would print
//!   `(undefined)`. Named but unknown types (e.g. `wasm object`) get `(wasm object)` as in
//!   DevTools.
//! * Cons-string display names treat a missing `first`/`second` part as empty (DevTools reads
//!   node 0's name) and stop after 100 000 parts, so a self-referencing cons string cannot hang.
//! * Retainer paths follow the Retainers panel's default sort as implemented in DevTools
//!   (retainer distance with unreachable last, then the retainer's display name, then DevTools'
//!   retainer order, i.e. descending edge index): the DevTools source compares the retainers'
//!   node names, not edge names (docs/analysis.md#retainer-paths). Paths also stop on a cycle.
//! * Sizes are exact `u64` sums (DevTools accumulates in `f64`).
//! * Not implemented (UI features): node filters for the Summary (id range, allocation stack,
//!   named filters), "ignore this retainer", the statistics pie.

mod classes;
mod dominators;
mod ids;
mod passes;
mod paths;
mod sizes;
mod summary;
mod view;
mod weakmap;

pub use classes::InterfaceDefinition;
pub use passes::{BASE_SYSTEM_DISTANCE, NO_DISTANCE};
pub use paths::{PathEdge, PathKind, PathStep, RetainerPath, DEFAULT_MAX_STEPS};
pub use summary::{is_system, ClassRow, ObjectRow, ObjectSort};

use crate::control::Control;
use crate::graph::HeapGraph;
use crate::Result;
use sizes::Sizes;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use view::{Bits, View};

/// Which self sizes the size-dependent results use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SizeMode {
    /// Current DevTools: the self size of `hidden`/`array` nodes with a single owner is moved to
    /// that owner (docs/analysis.md#shallow-size-reattribution). Identical to `Raw` for snapshots
    /// without user roots.
    #[default]
    DevTools,
    /// V8's self sizes as written in the snapshot.
    Raw,
}

/// Wall-clock time of each phase of [`Analysis::compute`], for profiling.
#[derive(Debug, Clone, Default)]
pub struct PhaseTimings {
    /// (phase name, duration) in execution order.
    pub phases: Vec<(&'static str, Duration)>,
}

impl PhaseTimings {
    /// Sum of all phases.
    pub fn total(&self) -> Duration {
        self.phases.iter().map(|p| p.1).sum()
    }
}

/// What a comparison needs from a snapshot, as dense arrays indexed by node ordinal: DOM state,
/// distances, self sizes in both modes, class names with inferred interfaces and the id index —
/// everything but the dominator tree ([`Analysis::compute_classes`], about half the work of a
/// full analysis). [`ClassAnalysis::complete`] adds the dominator phases and gives the
/// [`Analysis`]; retained sizes only exist there, so no half-built analysis can report 0 for them.
#[derive(Debug)]
pub struct ClassAnalysis {
    node_count: usize,
    /// Identity of the analysed graph's buffers (see `View::trusted`).
    fingerprint: [usize; 4],
    root: u32,
    /// BFS distance from user roots (docs/analysis.md#distances).
    dist: Vec<i32>,
    /// Edge through which the distance BFS reached each node (for shortest paths).
    bfs_parent_edge: Vec<u32>,
    has_user_roots: bool,
    /// Propagated DOM state per node, when the snapshot has a detachedness column.
    dom_state: Option<Vec<u8>>,
    /// Native nodes renamed `Detached …` by DOM propagation.
    detached_renamed: Option<Bits>,
    /// V8's self sizes.
    raw_self: Sizes,
    /// Reattributed self sizes; `None` when reattribution was skipped (no user roots), in which
    /// case DevTools mode equals raw mode.
    adjusted_self: Option<Sizes>,
    /// Class index per node into `class_names`.
    class_of: Vec<u32>,
    class_names: Vec<String>,
    class_lookup: std::collections::HashMap<String, u32>,
    interfaces: Vec<InterfaceDefinition>,
    /// The phases of this part of the analysis.
    timings: PhaseTimings,
    /// Node by object id, and nodes in id order.
    by_id: ids::IdIndex,
}

/// Everything DevTools derives from a snapshot: the [`ClassAnalysis`] (reachable through
/// `Deref`, so every per-node accessor works on both) plus page-owned flags, essential edges,
/// the dominator tree and retained sizes.
#[derive(Debug)]
pub struct Analysis {
    classes: ClassAnalysis,
    /// Page-owned nodes: reachable from user globals over strong edges.
    page_owned: Bits,
    /// Edges that count for dominators.
    essential: Bits,
    /// Immediate dominator per node.
    idom: Vec<u32>,
    /// Dominator tree children, CSR.
    first_dominated: Vec<u32>,
    dominated: Vec<u32>,
    /// Retained sizes of the default mode: DevTools' when the shallow sizes were reattributed,
    /// else raw (the two are then the same).
    retained: Sizes,
    /// Raw retained sizes when they differ from `retained`: computed on the first raw-mode
    /// query, since most callers never ask (saves a column at the analysis' peak).
    retained_raw: OnceLock<Sizes>,
    /// Every phase, the class phases included.
    timings: PhaseTimings,
    /// Lazily built summaries, one per mode.
    summary_cache: [OnceLock<Vec<ClassRow>>; 2],
}

impl std::ops::Deref for Analysis {
    type Target = ClassAnalysis;

    fn deref(&self) -> &ClassAnalysis {
        &self.classes
    }
}

impl AsRef<ClassAnalysis> for Analysis {
    fn as_ref(&self) -> &ClassAnalysis {
        &self.classes
    }
}

/// The names the JS API uses: `devtools`, `raw`.
impl std::str::FromStr for SizeMode {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<SizeMode> {
        match s {
            "devtools" => Ok(SizeMode::DevTools),
            "raw" => Ok(SizeMode::Raw),
            _ => Err(crate::Error::InvalidArg(format!(
                "sizes must be 'devtools' or 'raw', got '{s}'"
            ))),
        }
    }
}

fn mode_index(mode: SizeMode) -> usize {
    match mode {
        SizeMode::DevTools => 0,
        SizeMode::Raw => 1,
    }
}

impl Analysis {
    /// Runs every phase once (docs/analysis.md#phases): DOM state, then the dominator chain
    /// (page-owned flags → essential edges → dominators, Lengauer–Tarjan), then the side chain
    /// (distances → shallow-size reattribution → class names → interface inference → id index),
    /// then retained sizes (both modes) and the dominated-nodes CSR.
    ///
    /// `ctl`'s flag is polled between phases and every 65 536 iterations of long loops; when it
    /// is raised the call returns [`crate::Error::Aborted`]. Its progress receives fractions of
    /// its range, non-decreasing, ending with `1.0`.
    pub fn compute(graph: &HeapGraph, ctl: Control<'_>) -> Result<Analysis> {
        let (v, mut timings, dom) = begin(graph, ctl, 0.02)?;
        let renamed = dom.as_ref().map(|d| &d.renamed);

        // The two chains are independent (each phase only reads the graph, the DOM state and
        // earlier results of its own chain), so their order changes no result, and they take
        // about the same time: the side chain runs on a second thread while this one runs the
        // dominator chain. Only the dominator chain reports progress (up to 0.92), so the
        // reports stay monotone; the side chain polls the same cancel flag.
        let (main, side) = std::thread::scope(|s| {
            let side = s.spawn(|| side_chain(&v, renamed, Control::new(ctl.cancel, None), false));
            let main = dominator_chain(&v, ctl);
            let side = match side.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (main, side)
        });
        let (main, side) = (main?, side?);
        timings.phases.extend(side.timings.iter().copied());
        let classes = ClassAnalysis::assemble(graph, &v, dom, side, timings);
        classes.finish(&v, main, ctl)
    }

    /// The phases a comparison needs — DOM state, distances, self sizes in both modes, class
    /// names with inferred interfaces, the id index — without page-owned flags, essential edges,
    /// dominators and retained sizes (about half the work of [`Analysis::compute`]).
    /// [`ClassAnalysis::complete`] adds the rest. Summaries, object lists and the leak finder
    /// need the complete [`Analysis`]; [`crate::compare::diff`] and retainer paths do not.
    pub fn compute_classes(graph: &HeapGraph, ctl: Control<'_>) -> Result<ClassAnalysis> {
        let (v, mut timings, dom) = begin(graph, ctl, 0.05)?;
        let side = side_chain(
            &v,
            dom.as_ref().map(|d| &d.renamed),
            ctl.phase(0.05, 0.95)?,
            true,
        )?;
        timings.phases.extend(side.timings.iter().copied());
        ctl.report(1.0);
        Ok(ClassAnalysis::assemble(graph, &v, dom, side, timings))
    }

    /// The class part of the analysis (also reachable through `Deref`).
    pub fn classes(&self) -> &ClassAnalysis {
        &self.classes
    }

    /// How long each phase took, the class phases included.
    pub fn timings(&self) -> &PhaseTimings {
        &self.timings
    }

    /// Immediate dominator of node `n` (the root dominates itself; out-of-range ordinals give
    /// the root).
    pub fn idom(&self, n: u32) -> u32 {
        self.idom
            .get(n as usize)
            .copied()
            .unwrap_or(self.classes.root)
    }

    /// Nodes immediately dominated by `n`, in ordinal order.
    pub fn dominated(&self, n: u32) -> &[u32] {
        let n = n as usize;
        match (self.first_dominated.get(n), self.first_dominated.get(n + 1)) {
            (Some(&a), Some(&b)) => self.dominated.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Whether node `n` is page-owned (reachable from a user global over non-weak edges).
    pub fn is_page_owned(&self, n: u32) -> bool {
        self.page_owned.get(n as usize)
    }

    /// Whether edge `e` counts for dominators (docs/analysis.md#essential-edges: not weak, not a
    /// self edge, not a shortcut except at the root, not from a non-page-owned to a page-owned
    /// node unless from the root, not the table side of a WeakMap entry).
    pub fn is_essential_edge(&self, e: usize) -> bool {
        self.essential.get(e)
    }

    /// Retained size of node `n` in the given mode: its self size plus the self sizes of all
    /// nodes it dominates (0 for out-of-range ordinals).
    pub fn retained_size(&self, n: u32, mode: SizeMode) -> u64 {
        self.retained_column(mode).get(n as usize)
    }

    /// Sum of all self sizes (the root's retained size); equal in both modes.
    pub fn total_size(&self) -> u64 {
        if self.classes.node_count == 0 {
            return self.classes.total_size();
        }
        self.retained.get(self.classes.root as usize)
    }

    /// Approximate bytes of memory this analysis holds (its per-node and per-edge arrays), to
    /// report with the graph's own size: the analysis roughly doubles a snapshot's footprint.
    pub fn heap_bytes(&self) -> usize {
        fn v<T>(x: &[T]) -> usize {
            std::mem::size_of_val(x)
        }
        self.classes.heap_bytes()
            + v(&self.page_owned.0)
            + v(&self.essential.0)
            + v(&self.idom)
            + v(&self.first_dominated)
            + v(&self.dominated)
            + self.retained.heap_bytes()
            + self.retained_raw.get().map_or(0, Sizes::heap_bytes)
            + self
                .summary_cache
                .iter()
                .filter_map(OnceLock::get)
                .map(|rows| {
                    rows.iter()
                        .map(|r| std::mem::size_of_val(r) + r.class_name.len())
                        .sum::<usize>()
                })
                .sum::<usize>()
    }

    /// The retained-size column of `mode` (the raw one is computed on first use).
    fn retained_column(&self, mode: SizeMode) -> &Sizes {
        match (mode, &self.classes.adjusted_self) {
            (SizeMode::Raw, Some(_)) => self.retained_raw.get_or_init(|| {
                sizes::retained(
                    &self.classes.raw_self,
                    &self.idom,
                    &self.first_dominated,
                    &self.dominated,
                    self.classes.root,
                )
            }),
            _ => &self.retained,
        }
    }
}

impl ClassAnalysis {
    /// Adds the dominator phases (page-owned flags, essential edges, dominators, retained sizes)
    /// and gives the complete [`Analysis`], equal to [`Analysis::compute`]'s. `graph` must be
    /// the analysed graph ([`crate::Error::InvalidArg`] otherwise). Progress runs as in a full
    /// computation from the dominator chain on (0.02..1.0).
    pub fn complete(self, graph: &HeapGraph, ctl: Control<'_>) -> Result<Analysis> {
        let v = self.view(graph).ok_or_else(|| {
            crate::Error::InvalidArg("the analysis does not belong to this snapshot".into())
        })?;
        let main = dominator_chain(&v, ctl)?;
        self.finish(&v, main, ctl)
    }

    /// Retained sizes and the dominated-nodes CSR from the dominator chain's results.
    fn finish(self, v: &View<'_>, main: MainChain, top: Control<'_>) -> Result<Analysis> {
        let ctl = top.phase(0.92, 0.08)?;
        let t = Instant::now();
        let (first_dominated, dominated) = dominators::dominated_csr(&main.tree, v.root);
        ctl.check()?;
        let retained = sizes::retained(
            self.adjusted_self.as_ref().unwrap_or(&self.raw_self),
            &main.tree.idom,
            &first_dominated,
            &dominated,
            v.root,
        );
        let mut timings = PhaseTimings::default();
        // DOM state first, then the dominator chain, then the class phases: execution order of
        // Analysis::compute.
        let (dom, class_phases) = self
            .timings
            .phases
            .split_first()
            .map_or((None, &[][..]), |(d, rest)| (Some(*d), rest));
        timings.phases.extend(dom);
        timings.phases.extend(main.timings.iter().copied());
        timings.phases.extend(class_phases.iter().copied());
        timings.phases.push(("retained sizes", t.elapsed()));
        ctl.report(1.0);
        Ok(Analysis {
            classes: self,
            page_owned: main.page_owned,
            essential: main.essential,
            idom: main.tree.idom,
            first_dominated,
            dominated,
            retained,
            retained_raw: OnceLock::new(),
            timings,
            summary_cache: [OnceLock::new(), OnceLock::new()],
        })
    }

    /// Puts the class phases' results together.
    fn assemble(
        graph: &HeapGraph,
        v: &View<'_>,
        dom: Option<passes::DomState>,
        side: SideChain,
        timings: PhaseTimings,
    ) -> ClassAnalysis {
        let (dom_state, detached_renamed) = match dom {
            Some(d) => (Some(d.state), Some(d.renamed)),
            None => (None, None),
        };
        ClassAnalysis {
            node_count: v.n,
            fingerprint: View::fingerprint(graph),
            root: v.root,
            dist: side.dist.dist,
            bfs_parent_edge: side.dist.parent_edge,
            has_user_roots: side.dist.has_user_roots,
            dom_state,
            detached_renamed,
            raw_self: side.raw_self,
            adjusted_self: side.adjusted_self,
            class_of: side.class_of,
            class_names: side.table.names,
            class_lookup: side.table.lookup,
            interfaces: side.interfaces,
            timings,
            by_id: side.by_id,
        }
    }

    /// Number of nodes analysed.
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// Ordinal of the root.
    pub fn root(&self) -> u32 {
        self.root
    }

    /// How long each phase of [`Analysis::compute_classes`] took.
    pub fn timings(&self) -> &PhaseTimings {
        &self.timings
    }

    /// Whether the root has user-root children (globals); without them DevTools skips
    /// reattribution and system distances start at 0.
    pub fn has_user_roots(&self) -> bool {
        self.has_user_roots
    }

    /// Distance of node `n` from the user roots: 1 for globals, [`NO_DISTANCE`] (−5) when
    /// unreachable, ≥ [`BASE_SYSTEM_DISTANCE`] when reachable only through system roots.
    /// Out-of-range ordinals give `NO_DISTANCE`.
    pub fn distance(&self, n: u32) -> i32 {
        self.dist.get(n as usize).copied().unwrap_or(NO_DISTANCE)
    }

    /// Propagated DOM state of node `n` (0 unknown, 1 attached, 2 detached); 0 without a
    /// detachedness column.
    pub fn dom_state(&self, n: u32) -> u8 {
        self.dom_state
            .as_ref()
            .and_then(|d| d.get(n as usize).copied())
            .unwrap_or(0)
    }

    /// Whether node `n` is a detached DOM (embedder) node: renamed by DOM propagation, or a
    /// native node whose raw name already starts with `Detached ` (older snapshots).
    pub fn is_detached_dom(&self, graph: &HeapGraph, n: u32) -> bool {
        self.detached_renamed
            .as_ref()
            .is_some_and(|b| b.get(n as usize))
            || (graph.node_type(n) == crate::NodeType::Native
                && graph.node_name(n).starts_with("Detached "))
    }

    /// Self size of node `n` in the given mode (0 for out-of-range ordinals).
    pub fn self_size(&self, n: u32, mode: SizeMode) -> u64 {
        let v = match (mode, &self.adjusted_self) {
            (SizeMode::DevTools, Some(a)) => a,
            _ => &self.raw_self,
        };
        v.get(n as usize)
    }

    /// Sum of all self sizes; equal in both modes.
    pub fn total_size(&self) -> u64 {
        self.raw_self.sum()
    }

    /// Class name of node `n`: `Function`, `RegExp`, `(system)`, `(compiled code)`, `<div>`,
    /// `Detached <span>`, `{a, b}` for plain objects matching an inferred interface, the
    /// constructor name for other objects, `(type)` for everything else (including unknown
    /// types such as `(wasm object)`). `""` for out-of-range ordinals.
    pub fn class_name(&self, _graph: &HeapGraph, n: u32) -> &str {
        self.class_of
            .get(n as usize)
            .and_then(|&c| self.class_names.get(c as usize))
            .map_or("", String::as_str)
    }

    /// Index of node `n`'s class in [`ClassAnalysis::class_names`].
    pub fn class_index(&self, n: u32) -> Option<u32> {
        self.class_of.get(n as usize).copied()
    }

    /// All class names; indices are what [`ClassAnalysis::class_index`] returns.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The plain-object interfaces inferred from this snapshot, most common first.
    pub fn interface_definitions(&self) -> &[InterfaceDefinition] {
        &self.interfaces
    }

    /// DevTools' display name of node `n`: cons strings flattened (≤ 1024 characters), plain
    /// objects as `{a, b, …, z}` (≤ 100 characters), detached DOM nodes prefixed `Detached `,
    /// otherwise the raw name.
    pub fn display_name(&self, graph: &HeapGraph, n: u32) -> String {
        if n as usize >= self.node_count {
            return String::new();
        }
        match self.view(graph) {
            Some(v) => classes::display_name(&v, self.detached_renamed.as_ref(), n),
            None => graph.node_name(n).to_owned(),
        }
    }

    /// A view of `graph` if it is (shaped like) the analysed graph.
    fn view<'g>(&self, graph: &'g HeapGraph) -> Option<View<'g>> {
        View::trusted(graph, &self.fingerprint)
            .ok()
            .filter(|v| v.n == self.node_count)
    }

    /// Node ordinals in ascending object-id order (equal ids in ordinal order), read from the
    /// id index, so that comparisons can merge two snapshots by id without sorting again.
    pub(crate) fn ordinals_by_id(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_id.ordinals()
    }

    /// Approximate bytes of memory this part of the analysis holds.
    pub fn heap_bytes(&self) -> usize {
        fn v<T>(x: &[T]) -> usize {
            std::mem::size_of_val(x)
        }

        v(&self.dist)
            + v(&self.bfs_parent_edge)
            + self.dom_state.as_deref().map_or(0, v)
            + self.detached_renamed.as_ref().map_or(0, |b| v(&b.0))
            + self.raw_self.heap_bytes()
            + self.adjusted_self.as_ref().map_or(0, Sizes::heap_bytes)
            + v(&self.class_of)
            + self.class_names.iter().map(String::len).sum::<usize>()
            + self.by_id.heap_bytes()
    }

    /// Ordinal of the node with object id `id` (the lowest ordinal if ids repeat), by binary
    /// search in the id index (analysis/ids.rs).
    pub fn node_by_id(&self, id: u32) -> Option<u32> {
        self.by_id.node_by_id(id)
    }
}

/// The start of every analysis: the view, the control, and the DOM state (first, because it
/// renames nodes and class names depend on that), which takes `dom_span` of the progress.
#[allow(clippy::type_complexity)]
fn begin<'g>(
    graph: &'g HeapGraph,
    ctl: Control<'_>,
    dom_span: f64,
) -> Result<(View<'g>, PhaseTimings, Option<passes::DomState>)> {
    let v = View::new(graph)?;
    let t = Instant::now();
    let dom = passes::propagate_dom_state(&v, &ctl.phase(0.0, dom_span)?)?;
    let mut timings = PhaseTimings::default();
    timings.phases.push(("dom state", t.elapsed()));
    Ok((v, timings, dom))
}

/// Results of the dominator chain.
struct MainChain {
    page_owned: Bits,
    essential: Bits,
    tree: dominators::DomTree,
    timings: Vec<(&'static str, Duration)>,
}

/// A stopwatch for the phase timings: each lap records the time since the previous one.
struct Laps {
    last: Instant,
    phases: Vec<(&'static str, Duration)>,
}

impl Laps {
    fn new() -> Self {
        Laps {
            last: Instant::now(),
            phases: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.push((name, now - self.last));
        self.last = now;
    }
}

/// page-owned flags → essential edges → Lengauer–Tarjan.
/// Reports progress over 0.02..0.92 of `top`.
fn dominator_chain(v: &View<'_>, top: Control<'_>) -> Result<MainChain> {
    let mut laps = Laps::new();
    let page_owned = passes::page_owned(v, &top.phase(0.02, 0.13)?)?;
    laps.lap("page-owned");
    let mut eph = weakmap::EphCache::new(v.g.string_count());
    let ctl = top.phase(0.15, 0.13)?;
    let essential = passes::essential_edges(v, &page_owned, &mut eph, &ctl)?;
    laps.lap("essential edges");
    let tree = dominators::lengauer_tarjan(v, &essential, &top.phase(0.28, 0.64)?)?;
    laps.lap("dominators");
    Ok(MainChain {
        page_owned,
        essential,
        tree,
        timings: laps.phases,
    })
}

/// Results of the side chain.
struct SideChain {
    dist: passes::Distances,
    raw_self: Sizes,
    adjusted_self: Option<Sizes>,
    class_of: Vec<u32>,
    table: classes::ClassTable,
    interfaces: Vec<InterfaceDefinition>,
    by_id: ids::IdIndex,
    timings: Vec<(&'static str, Duration)>,
}

/// distances → shallow-size reattribution → class names → interfaces → id index.
fn side_chain(
    v: &View<'_>,
    renamed: Option<&Bits>,
    ctl: Control<'_>,
    split: bool,
) -> Result<SideChain> {
    // Two independent parts: sizes (distances -> shallow sizes, which needs the distances' user
    // roots) and classes (class names -> interfaces -> id index).
    let sizes_part = |ctl: &Control<'_>| -> Result<_> {
        let mut laps = Laps::new();
        let mut eph = weakmap::EphCache::new(v.g.string_count());
        let dist = passes::distances(v, &mut eph, ctl)?;
        laps.lap("distances");
        let raw_self = v.self_sizes();
        // Skipped without user roots (a snapshot taken with internals exposed).
        let adjusted_self = if dist.has_user_roots {
            Some(passes::reattribute_shallow_sizes(v, &raw_self, ctl)?)
        } else {
            None
        };
        laps.lap("shallow sizes");
        Ok((dist, raw_self, adjusted_self, laps.phases))
    };
    let class_part = |ctl: &Control<'_>| -> Result<_> {
        let mut laps = Laps::new();
        let mut table = classes::ClassTable::default();
        let mut class_of = classes::class_names(v, renamed, &mut table, ctl)?;
        laps.lap("class names");
        let interfaces = classes::infer_interfaces(v, ctl)?;
        classes::apply_interfaces(v, &interfaces, &mut class_of, &mut table, ctl)?;
        laps.lap("interfaces");
        let by_id = ids::IdIndex::new(v.node_id, ctl)?;
        laps.lap("id index");
        Ok((class_of, table, interfaces, by_id, laps.phases))
    };
    // Split when nothing else runs beside this chain (a classes-only analysis): the classes part
    // goes to a second thread and reports no progress, so the reports stay monotone.
    let (a, b) = if split {
        std::thread::scope(|s| {
            let b = s.spawn(|| class_part(&Control::new(ctl.cancel, None)));
            let a = sizes_part(&ctl);
            let b = match b.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (a, b)
        })
    } else {
        (sizes_part(&ctl), class_part(&ctl))
    };
    let (dist, raw_self, adjusted_self, mut timings) = a?;
    let (class_of, table, interfaces, by_id, class_timings) = b?;
    timings.extend(class_timings);
    Ok(SideChain {
        dist,
        raw_self,
        adjusted_self,
        class_of,
        table,
        interfaces,
        by_id,
        timings,
    })
}
