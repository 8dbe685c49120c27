//! Retainer paths (docs/analysis.md#retainer-paths): DevTools' greedy auto-expanded chain and a
//! true shortest path.

use super::classes::NameCache;
use super::passes::NO_EDGE;
use super::view::{cmp_js, parse_int_js, View, EK};
use super::ClassAnalysis;
use crate::control::{Budget, Control};
use crate::graph::HeapGraph;
use crate::Result;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::rc::Rc;

/// How many edges a path may have unless the caller says otherwise (DevTools expands 20
/// levels).
pub const DEFAULT_MAX_STEPS: usize = 20;

/// Which retainer path to compute. Serialises to the names [`FromStr`](std::str::FromStr)
/// reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathKind {
    /// What DevTools' Retainers panel auto-expands: from the object, repeatedly the retainer
    /// with the smallest distance (ties: edge name, then retainer ordinal) until a user root.
    #[default]
    DevTools,
    /// A shortest path from a user root (or, for system-only objects, from a child of the
    /// root), following the distance BFS tree.
    Shortest,
}

/// The names the JS API uses: `devtools`, `shortest`.
impl std::str::FromStr for PathKind {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<PathKind> {
        match s {
            "devtools" => Ok(PathKind::DevTools),
            "shortest" => Ok(PathKind::Shortest),
            _ => Err(crate::Error::InvalidArg(format!(
                "kind must be 'devtools' or 'shortest', got '{s}'"
            ))),
        }
    }
}

/// The reference from one step of a retainer path to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathEdge {
    /// Edge type (`"property"`, `"context"`, `"internal"`, …; `"indirect"` when a leak report
    /// shortens a long chain between a holder and the object). JSON key `type`, a Rust keyword.
    #[serde(rename = "type")]
    pub kind: String,
    /// Name or index of the edge (`"…"` for an indirect one).
    pub name: String,
    /// The edge in DevTools' notation (`.prop`, `["a b"]`, `[3]`, `->ctxVar`, `{internal}`,
    /// `[[weak]]`; `…` for an indirect one), as the path's `text` writes it.
    pub text: String,
}

impl PathEdge {
    /// The edge of kind `kind` named `name`, with its notation.
    pub(crate) fn new(kind: EK, type_name: &str, name: String) -> PathEdge {
        PathEdge {
            kind: type_name.to_owned(),
            text: edge_notation(kind, &name),
            name,
        }
    }

    /// A long chain between a holder and an object, shortened by a leak report.
    pub fn indirect() -> PathEdge {
        PathEdge {
            kind: "indirect".to_owned(),
            name: "…".to_owned(),
            text: "…".to_owned(),
        }
    }
}

/// One node on a retainer path; serialises to the JS API's `PathStep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathStep {
    /// Node ordinal (internal to one snapshot, so not serialised).
    #[serde(skip)]
    pub ordinal: u32,
    /// V8 object id.
    pub id: u32,
    /// Class name.
    pub class_name: String,
    /// Display name.
    pub name: String,
    /// The edge from the previous step into this node; `None` on the first step.
    pub edge: Option<PathEdge>,
    /// Where a closure's code starts, or a context's function (`url:line:column`, 1-based; see
    /// `crate::locations`); absent for other nodes and snapshots without locations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl PathStep {
    /// Name of the incoming edge; `""` on the first step.
    pub fn edge_name(&self) -> &str {
        self.edge.as_ref().map_or("", |e| e.name.as_str())
    }
}

/// A chain of references keeping an object alive, root side first; serialises to the JS API's
/// `RetainerPath`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetainerPath {
    /// From the top retainer (e.g. the global object) down to the object itself (last).
    pub steps: Vec<PathStep>,
    /// One-line rendering, e.g. `global → ->requests (Map) → {table} (system) → [7] → Req`.
    pub text: String,
    /// The algorithm used.
    pub kind: PathKind,
    /// Whether the top step is a user root (distance 1) or a direct child of the root; false
    /// when `max_steps` cut the path short or it ran into unreachable garbage or a cycle.
    pub complete: bool,
}

/// DevTools' edge notation (`JSHeapSnapshotEdge.toString`).
pub(crate) fn edge_notation(kind: EK, name: &str) -> String {
    let prop = |name: &str| {
        if name.contains(' ') {
            format!("[\"{name}\"]")
        } else {
            format!(".{name}")
        }
    };
    match kind {
        EK::Context => format!("->{name}"),
        EK::Element => format!("[{name}]"),
        EK::Weak => format!("[[{name}]]"),
        EK::Property => prop(name),
        EK::Shortcut => match parse_int_js(name) {
            Some(i) => format!("[{i}]"),
            None => prop(name),
        },
        EK::Internal | EK::Hidden | EK::Invisible => format!("{{{name}}}"),
        EK::Other => format!("?{name}?"),
    }
}

/// Sort key of a retainer's distance in DevTools' Retainers view: unreachable nodes get
/// `baseUnreachableDistance` (200 000 000) and so sort after every reachable one.
fn retainer_distance_key(d: i32) -> i64 {
    if d == super::NO_DISTANCE {
        200_000_000
    } else {
        i64::from(d)
    }
}

impl ClassAnalysis {
    /// Picks the retainer DevTools lists first for `x` (default sort of the Retainers view:
    /// retainer distance ascending, then the retainer's display name, then DevTools' retainer
    /// index — its retainer lists run in descending edge order). Skips weak and invisible edges
    /// and edges from the root. Returns the edge and source, and whether the root retains `x`.
    ///
    /// Each retainer costs one unit of `budget`; names come from `names`, so a node's display
    /// name is computed once per path however many ties it takes part in.
    fn first_retainer(
        &self,
        v: &View<'_>,
        x: u32,
        names: &mut NameCache,
        budget: &mut Budget<'_>,
    ) -> Result<(Option<(usize, u32)>, bool)> {
        let renamed = self.detached_renamed.as_ref();
        let mut best: Option<(usize, u32, i64)> = None;
        let mut best_name: Option<Rc<str>> = None;
        let mut root_retains = false;
        for ri in v.retainers(x) {
            budget.spend(1)?;
            let e = v.retaining_edge[ri] as usize;
            let s = v.retaining_node[ri];
            if matches!(v.ek(e), EK::Weak | EK::Invisible) {
                continue;
            }
            if s == v.root {
                root_retains = true;
                continue;
            }
            let dk = retainer_distance_key(self.distance(s));
            let take = match best {
                None => true,
                Some((_, _, bdk)) if dk < bdk => true,
                Some((_, _, bdk)) if dk > bdk => false,
                Some((be, bs, _)) => {
                    let bn = match best_name.take() {
                        Some(n) => n,
                        None => names.get(v, renamed, bs, budget)?,
                    };
                    let sn = names.get(v, renamed, s, budget)?;
                    let order = cmp_js(&sn, &bn);
                    best_name = Some(bn);
                    match order {
                        Ordering::Less => {
                            best_name = Some(sn);
                            best = Some((e, s, dk));
                            continue;
                        }
                        Ordering::Greater => false,
                        Ordering::Equal => e > be,
                    }
                }
            };
            if take {
                best = Some((e, s, dk));
                best_name = None;
            }
        }
        Ok((best.map(|(e, s, _)| (e, s)), root_retains))
    }
    /// The retainer path of node `n` (at most `max_steps` edges), or `None` for an
    /// out-of-range ordinal or a graph that is not the analysed one. Never cancelled; see
    /// [`ClassAnalysis::retainer_path_in`].
    pub fn retainer_path(
        &self,
        graph: &HeapGraph,
        n: u32,
        kind: PathKind,
        max_steps: usize,
    ) -> Option<RetainerPath> {
        let mut budget = Control::NONE.budget(u64::MAX);
        // Without a cancel flag the budget never fails.
        self.retainer_path_in(graph, n, kind, max_steps, &mut budget)
            .unwrap_or(None)
    }

    /// [`ClassAnalysis::retainer_path`] charging its work to `budget`: one unit per retainer
    /// compared and per cons-string part, edge or byte a display name needs (each node's
    /// name is computed once per path). Returns [`crate::Error::Aborted`] when the budget's
    /// control is cancelled, checked every `every` units of the budget however long one step,
    /// one retainer list or one string is.
    pub fn retainer_path_in(
        &self,
        graph: &HeapGraph,
        n: u32,
        kind: PathKind,
        max_steps: usize,
        budget: &mut Budget<'_>,
    ) -> Result<Option<RetainerPath>> {
        let Some(v) = self.view(graph) else {
            return Ok(None);
        };
        if n as usize >= v.n {
            return Ok(None);
        }
        let mut names = NameCache::default();
        // (node, edge into the node below it), built upward from the object.
        let mut chain: Vec<(u32, Option<usize>)> = vec![(n, None)];
        let mut complete = false;
        match kind {
            PathKind::DevTools => {
                let mut cur = n;
                let mut on_path: HashSet<u32> = HashSet::from([n]);
                loop {
                    if self.distance(cur) == 1 || cur == v.root {
                        complete = true;
                        break;
                    }
                    if chain.len() > max_steps {
                        break;
                    }
                    let (best, root_retains) = self.first_retainer(&v, cur, &mut names, budget)?;
                    let Some((e, s)) = best else {
                        // Only the root (e.g. for `(GC roots)`) or nothing retains it.
                        complete = root_retains;
                        break;
                    };
                    if !on_path.insert(s) {
                        break; // a cycle (unreachable garbage, or system nodes)
                    }
                    if let Some(last) = chain.last_mut() {
                        last.1 = Some(e);
                    }
                    chain.push((s, None));
                    if self.distance(s) < 1 {
                        break; // DevTools stops expanding at unreachable retainers too
                    }
                    cur = s;
                }
            }
            PathKind::Shortest => {
                let mut cur = n;
                loop {
                    budget.spend(1)?;
                    let e = self
                        .bfs_parent_edge
                        .get(cur as usize)
                        .copied()
                        .unwrap_or(NO_EDGE);
                    if e == NO_EDGE {
                        complete = self.distance(cur) == 1 || cur == v.root;
                        break;
                    }
                    let e = e as usize;
                    // The source of edge e: the node whose edge range contains it.
                    let s = (v.first_edge.partition_point(|&f| f as usize <= e) - 1) as u32;
                    if s == v.root {
                        complete = true;
                        break;
                    }
                    if chain.len() > max_steps {
                        break;
                    }
                    if let Some(last) = chain.last_mut() {
                        last.1 = Some(e);
                    }
                    chain.push((s, None));
                    cur = s;
                }
            }
        }
        chain.reverse();
        // Each entry carries the edge from the entry before it into it (`None` on top).
        let mut steps = Vec::with_capacity(chain.len());
        for &(x, incoming) in &chain {
            let edge = incoming.map(|e| {
                let ek = v.ek(e);
                let type_name = match ek {
                    EK::Invisible => "invisible",
                    _ => graph.edge_type_name(e),
                };
                PathEdge::new(ek, type_name, v.edge_label(e).into_owned())
            });
            steps.push(PathStep {
                ordinal: x,
                id: graph.node_id(x),
                class_name: self.class_name(graph, x).to_owned(),
                name: names
                    .get(&v, self.detached_renamed.as_ref(), x, budget)?
                    .to_string(),
                edge,
                location: graph.step_location(x),
            });
        }
        let text = render(&steps);
        Ok(Some(RetainerPath {
            steps,
            text,
            kind,
            complete,
        }))
    }
}

/// `Top → .edge (Class) → … → [i] → ObjectClass`: each intermediate step is its incoming edge
/// in DevTools notation followed by its class in parentheses (unless the class equals the edge
/// name or is already parenthesised like `(system)`); the object itself ends the line.
fn render(steps: &[PathStep]) -> String {
    let mut text = String::new();
    let last = steps.len().saturating_sub(1);
    for (i, step) in steps.iter().enumerate() {
        if i == 0 {
            text.push_str(&step.class_name);
            continue;
        }
        text.push_str(" → ");
        text.push_str(step.edge.as_ref().map_or("?", |e| e.text.as_str()));
        if i == last {
            text.push_str(" → ");
            text.push_str(&step.class_name);
        } else if step.class_name.starts_with('(') {
            text.push(' ');
            text.push_str(&step.class_name);
            push_location(&mut text, step);
        } else if step.class_name != step.edge_name() {
            text.push_str(" (");
            text.push_str(&step.class_name);
            push_location(&mut text, step);
            text.push(')');
        }
    }
    text
}

/// ` @ file:line:col` after a closure's class (locations.md): a context's location stays in
/// the step only, its closure one step up already shows it.
fn push_location(text: &mut String, step: &PathStep) {
    if let Some(l) = &step.location {
        if !step.class_name.starts_with("system / ") {
            text.push_str(" @ ");
            text.push_str(l);
        }
    }
}
