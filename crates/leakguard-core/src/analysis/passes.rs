//! The linear graph passes that precede the dominator tree, in DevTools' order (docs/analysis.md#phases):
//! DOM state propagation, page-owned marking, distances, shallow-size reattribution and the
//! essential-edge bitset. Every traversal uses an explicit queue or stack.

use super::sizes::{Sizes, SizesAcc};
use super::view::{Bits, View, EK};
use super::weakmap::EphCache;
use crate::control::{Control, TICK_MASK};
use crate::graph::NodeType;
use crate::Result;
use std::collections::HashSet;

/// Distance of nodes no BFS reached.
pub const NO_DISTANCE: i32 = -5;
/// DevTools' `baseSystemDistance`: the root's distance when user roots exist, so that nodes
/// reached only through `(GC roots)` sort after every user-reachable node.
pub const BASE_SYSTEM_DISTANCE: i32 = 100_000_000;
/// `parent_edge` value of nodes without a BFS parent (seeds, the root, unreachable nodes).
pub const NO_EDGE: u32 = u32::MAX;

/// DOM link states as V8 writes them.
pub const DOM_ATTACHED: u8 = 1;
pub const DOM_DETACHED: u8 = 2;

/// Result of DevTools' `propagateDOMState` (docs/analysis.md#dom-state).
pub(crate) struct DomState {
    /// Propagated state per node.
    pub state: Vec<u8>,
    /// Native nodes renamed to `"Detached " + name`.
    pub renamed: Bits,
}

/// Propagates attached/detached state from embedder nodes through embedder nodes; `None` when
/// the snapshot has no detachedness column (DevTools skips the phase then).
pub(crate) fn propagate_dom_state(v: &View<'_>, ctl: &Control<'_>) -> Result<Option<DomState>> {
    let Some(initial) = v.g.detachedness.as_ref() else {
        return Ok(None);
    };
    let n = v.n;
    let mut state = initial.clone();
    let mut renamed = Bits::new(n);
    let mut visited = Bits::new(n);
    let mut attached: Vec<u32> = Vec::new();
    let mut detached: Vec<u32> = Vec::new();

    let mut process = |t: u32,
                       s: u8,
                       state: &mut Vec<u8>,
                       visited: &mut Bits,
                       attached: &mut Vec<u32>,
                       detached: &mut Vec<u32>| {
        if visited.get(t as usize) {
            return;
        }
        visited.set(t as usize);
        // Never propagate through JavaScript objects: every entry into embedder code is a node
        // that knows its own state.
        if v.ntype(t) != NodeType::Native {
            return;
        }
        state[t as usize] = s;
        if s == DOM_ATTACHED {
            attached.push(t);
        } else if s == DOM_DETACHED {
            renamed.set(t as usize);
            detached.push(t);
        }
    };

    for (i, &raw) in initial.iter().enumerate() {
        if i & TICK_MASK == 0 {
            ctl.tick(i, 3 * n)?;
        }
        let s = raw & 3;
        if s != 0 {
            process(
                i as u32,
                s,
                &mut state,
                &mut visited,
                &mut attached,
                &mut detached,
            );
        }
    }
    let follows = |e: usize| !matches!(v.ek(e), EK::Hidden | EK::Invisible | EK::Weak);
    let mut steps = 0usize;
    while let Some(x) = attached.pop() {
        steps += 1;
        if steps & TICK_MASK == 0 {
            ctl.tick(n + steps.min(n), 3 * n)?;
        }
        for e in v.edges(x) {
            if follows(e) {
                let t = v.edge_to[e];
                process(
                    t,
                    DOM_ATTACHED,
                    &mut state,
                    &mut visited,
                    &mut attached,
                    &mut detached,
                );
            }
        }
    }
    while let Some(x) = detached.pop() {
        steps += 1;
        if steps & TICK_MASK == 0 {
            ctl.tick(n + steps.min(2 * n), 3 * n)?;
        }
        if state[x as usize] == DOM_ATTACHED {
            continue;
        }
        for e in v.edges(x) {
            if follows(e) {
                let t = v.edge_to[e];
                process(
                    t,
                    DOM_DETACHED,
                    &mut state,
                    &mut visited,
                    &mut attached,
                    &mut detached,
                );
            }
        }
    }
    Ok(Some(DomState { state, renamed }))
}

/// DevTools' `markPageOwnedNodes`: seeds are the targets of the root's shortcut edges and of its
/// element edges to `(Document DOM trees)`; everything reachable over non-weak edges is
/// page-owned.
pub(crate) fn page_owned(v: &View<'_>, ctl: &Control<'_>) -> Result<Bits> {
    let n = v.n;
    let mut flags = Bits::new(n);
    if n == 0 {
        return Ok(flags);
    }
    let mut stack: Vec<u32> = Vec::new();
    for e in v.edges(v.root) {
        let t = v.edge_to[e];
        let seed = match v.ek(e) {
            EK::Element => v.ntype(t) == NodeType::Synthetic && v.name(t) == "(Document DOM trees)",
            EK::Shortcut => true,
            _ => false,
        };
        if seed {
            flags.set(t as usize);
            stack.push(t);
        }
    }
    let mut steps = 0usize;
    while let Some(x) = stack.pop() {
        steps += 1;
        if steps & TICK_MASK == 0 {
            ctl.tick(steps, n)?;
        }
        for e in v.edges(x) {
            let t = v.edge_to[e];
            if flags.get(t as usize) || v.ek(e) == EK::Weak {
                continue;
            }
            flags.set(t as usize);
            stack.push(t);
        }
    }
    Ok(flags)
}

/// Distances from user roots (docs/analysis.md#distances) and the BFS tree that produced them.
pub(crate) struct Distances {
    pub dist: Vec<i32>,
    /// The edge through which BFS first reached each node ([`NO_EDGE`] for seeds and the root).
    pub parent_edge: Vec<u32>,
    /// Whether the root had at least one user-root child.
    pub has_user_roots: bool,
}

/// Per-source-node filter kinds of DevTools' distance filter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    Plain,
    /// hidden `system / NativeContext`: its `sloppy_function_map` edge is skipped.
    NativeContext,
    /// array `(map descriptors)`: element slots i ≥ 2 with i % 3 == 1 are skipped.
    MapDescriptors,
}

fn source_kind(v: &View<'_>, x: u32) -> SourceKind {
    match v.ntype(x) {
        NodeType::Hidden if v.name(x) == "system / NativeContext" => SourceKind::NativeContext,
        NodeType::Array if v.name(x) == "(map descriptors)" => SourceKind::MapDescriptors,
        _ => SourceKind::Plain,
    }
}

struct Bfs<'a, 'g> {
    v: &'a View<'g>,
    eph: &'a mut EphCache,
    /// Duplicated parts of ephemeron edge pairs whose first half has been met (and skipped).
    pending: HashSet<&'g str>,
}

impl<'g> Bfs<'_, 'g> {
    /// DevTools' distance filter for edge `e` out of `x` (target still unvisited).
    fn allows(&mut self, kind: SourceKind, e: usize) -> bool {
        let v = self.v;
        match kind {
            SourceKind::NativeContext => {
                if !matches!(v.ek(e), EK::Element | EK::Hidden)
                    && v.g.string(v.edge_name[e]) == "sloppy_function_map"
                {
                    return false;
                }
            }
            SourceKind::MapDescriptors => {
                let idx = match v.ek(e) {
                    EK::Element | EK::Hidden => Some(i64::from(v.edge_name[e])),
                    _ => super::view::parse_int_js(v.g.string(v.edge_name[e])),
                };
                // `parseInt` yielding NaN makes both comparisons false: the edge is kept.
                return match idx {
                    Some(i) => i < 2 || i % 3 != 1,
                    None => true,
                };
            }
            SourceKind::Plain => {}
        }
        if v.ek(e) == EK::Internal {
            if let Some(p) = self.eph.get(v, e) {
                let name = v.g.string(v.edge_name[e]);
                let dup = name.get(p.dup_start as usize..).unwrap_or("");
                // First half of a pair: skip and remember; second half: allow.
                if !self.pending.remove(dup) {
                    self.pending.insert(dup);
                    return false;
                }
            }
        }
        true
    }

    fn run(
        &mut self,
        queue: &mut Vec<u32>,
        dist: &mut [i32],
        parent: &mut [u32],
        ctl: &Control<'_>,
        done: &mut usize,
    ) -> Result<()> {
        let v = self.v;
        let mut head = 0;
        while head < queue.len() {
            let x = queue[head];
            head += 1;
            *done += 1;
            if *done & TICK_MASK == 0 {
                ctl.tick(*done, v.n)?;
            }
            let d = dist[x as usize].saturating_add(1);
            let kind = source_kind(v, x);
            for e in v.edges(x) {
                if v.ek(e) == EK::Weak {
                    continue;
                }
                let t = v.edge_to[e] as usize;
                if dist[t] != NO_DISTANCE {
                    continue;
                }
                if !self.allows(kind, e) {
                    continue;
                }
                dist[t] = d;
                parent[t] = e as u32;
                queue.push(t as u32);
            }
        }
        queue.clear();
        Ok(())
    }
}

/// DevTools' `calculateDistances`: BFS from the user roots at distance 1, then from the root at
/// `BASE_SYSTEM_DISTANCE` (or 0 when there are no user roots) for everything else.
pub(crate) fn distances(v: &View<'_>, eph: &mut EphCache, ctl: &Control<'_>) -> Result<Distances> {
    let n = v.n;
    let mut dist = vec![NO_DISTANCE; n];
    let mut parent = vec![NO_EDGE; n];
    if n == 0 {
        return Ok(Distances {
            dist,
            parent_edge: parent,
            has_user_roots: false,
        });
    }
    let mut queue: Vec<u32> = Vec::with_capacity(n.min(1 << 20));
    for e in v.edges(v.root) {
        let t = v.edge_to[e];
        if v.is_user_root(t) {
            dist[t as usize] = 1;
            parent[t as usize] = NO_EDGE;
            queue.push(t);
        }
    }
    let has_user_roots = !queue.is_empty();
    let mut bfs = Bfs {
        v,
        eph,
        pending: HashSet::new(),
    };
    let mut done = 0usize;
    bfs.run(&mut queue, &mut dist, &mut parent, ctl, &mut done)?;
    dist[v.root as usize] = if has_user_roots {
        BASE_SYSTEM_DISTANCE
    } else {
        0
    };
    queue.push(v.root);
    bfs.run(&mut queue, &mut dist, &mut parent, ctl, &mut done)?;
    Ok(Distances {
        dist,
        parent_edge: parent,
        has_user_roots,
    })
}

/// DevTools' `calculateShallowSizes` (docs/analysis.md#shallow-size-reattribution): moves the self size of every hidden/array node
/// reachable from exactly one other node ("owner") to that owner. Returns the adjusted sizes.
pub(crate) fn reattribute_shallow_sizes(
    v: &View<'_>,
    raw: &Sizes,
    ctl: &Control<'_>,
) -> Result<Sizes> {
    const UNVISITED: u32 = u32::MAX;
    const MULTIPLE: u32 = u32::MAX - 1;
    let n = v.n;
    let mut sizes = SizesAcc::from_sizes(raw);
    let mut owners = vec![0u32; n];
    let mut work: Vec<u32> = Vec::with_capacity(n);
    for (i, o) in owners.iter_mut().enumerate() {
        if matches!(v.ntype(i as u32), NodeType::Hidden | NodeType::Array) {
            *o = UNVISITED;
        } else {
            *o = i as u32;
            work.push(i as u32);
        }
    }
    let mut steps = 0usize;
    while let Some(x) = work.pop() {
        steps += 1;
        if steps & TICK_MASK == 0 {
            ctl.tick(steps.min(2 * n), 2 * n)?;
        }
        let owner = owners[x as usize];
        for e in v.edges(x) {
            if v.ek(e) == EK::Weak {
                continue;
            }
            let t = v.edge_to[e];
            let cur = owners[t as usize];
            if cur == UNVISITED {
                owners[t as usize] = owner;
                work.push(t);
            } else if cur == t || cur == owner || cur == MULTIPLE {
                // Owned by itself, already by this owner, or already shared: nothing changes.
            } else {
                // Each node is pushed at most twice: UNVISITED -> owner -> MULTIPLE.
                owners[t as usize] = MULTIPLE;
                work.push(t);
            }
        }
    }
    for (i, &o) in owners.iter().enumerate() {
        if o == UNVISITED || o == MULTIPLE || o as usize == i {
            continue;
        }
        if o == v.root || v.ntype(o) == NodeType::Synthetic {
            continue; // adding size to synthetic groups or the root is not useful
        }
        let s = sizes.get(i);
        sizes.set(i, 0);
        sizes.add(o as usize, s);
    }
    Ok(sizes.finish())
}

/// DevTools' `computeIsEssentialEdge` for every edge (docs/analysis.md#essential-edges).
pub(crate) fn essential_edges(
    v: &View<'_>,
    page: &Bits,
    eph: &mut EphCache,
    ctl: &Control<'_>,
) -> Result<Bits> {
    let mut bits = Bits::new(v.edge_to.len());
    for x in 0..v.n as u32 {
        if x as usize & TICK_MASK == 0 {
            ctl.tick(x as usize, v.n)?;
        }
        let is_root = x == v.root;
        let x_page = page.get(x as usize);
        let x_id = u64::from(v.node_id[x as usize]);
        for e in v.edges(x) {
            let k = v.ek(e);
            if k == EK::Internal {
                // A WeakMap value is retained by key and table together; only the key-side
                // edge counts, so values are dominated by their key, never the table alone.
                if let Some(p) = eph.get(v, e) {
                    if p.table_id == x_id {
                        continue;
                    }
                }
            }
            if k == EK::Weak {
                continue;
            }
            let t = v.edge_to[e];
            if t == x {
                continue;
            }
            if !is_root {
                // At the root, shortcuts mark user globals; elsewhere they are conveniences.
                if k == EK::Shortcut {
                    continue;
                }
                // Debugger or other system references to page objects do not dominate them.
                if page.get(t as usize) && !x_page {
                    continue;
                }
            }
            bits.set(e);
        }
    }
    Ok(bits)
}
