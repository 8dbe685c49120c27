//! Allocation stacks (docs/locations.md#allocation-stacks): a snapshot written while V8's
//! allocation tracker ran (`node --track-heap-objects`, DevTools' allocation instrumentation)
//! carries `trace_function_infos` (one row per function) and `trace_tree` (the call tree of
//! allocation sites), and each node's `trace_node_id` names the tree node that allocated it.
//! This module owns those tables once parsed and turns a node, or a group of nodes, into call
//! stacks with the allocating function first.

use crate::graph::HeapGraph;
use serde::Serialize;
use std::collections::HashMap;

/// One row of `trace_function_infos`. `line` and `column` are 1-based as V8 writes them here
/// (0 when unknown); the strings are string-table indices, checked at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionInfo {
    pub(crate) name: u32,
    pub(crate) script_name: u32,
    pub(crate) script_id: u32,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// One node of `trace_tree`, flattened: its function and its parent's index (`u32::MAX` for
/// the root). `count` and `size` are what the tracker counted there (allocated, not live).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceNode {
    pub(crate) id: u32,
    pub(crate) function: u32,
    pub(crate) count: u64,
    pub(crate) size: u64,
    pub(crate) parent: u32,
}

/// The allocation tracker's tables, indexed for lookups by trace node id.
#[derive(Debug, Clone, Default)]
pub struct TraceTable {
    functions: Vec<FunctionInfo>,
    nodes: Vec<TraceNode>,
    /// `(trace node id, index in nodes)`, sorted by id.
    by_id: Vec<(u32, u32)>,
}

/// How many frames an allocation stack keeps (V8's tracker records at most 64).
const MAX_FRAMES: usize = 64;

impl TraceTable {
    pub(crate) fn new(functions: Vec<FunctionInfo>, nodes: Vec<TraceNode>) -> TraceTable {
        let mut by_id: Vec<(u32, u32)> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i as u32))
            .collect();
        by_id.sort_unstable();
        TraceTable {
            functions,
            nodes,
            by_id,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.functions.capacity() * std::mem::size_of::<FunctionInfo>()
            + self.nodes.capacity() * std::mem::size_of::<TraceNode>()
            + self.by_id.capacity() * 8
    }

    fn node(&self, id: u32) -> Option<&TraceNode> {
        let i = self.by_id.binary_search_by_key(&id, |p| p.0).ok()?;
        self.nodes.get(self.by_id.get(i)?.1 as usize)
    }

    /// Number of functions and tree nodes, for tests and diagnostics.
    pub fn len(&self) -> (usize, usize) {
        (self.functions.len(), self.nodes.len())
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// One frame of an allocation stack; serialises to the JS API's `AllocationFrame`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationFrame {
    /// Function name (`""` for an anonymous function).
    pub function_name: String,
    /// Script name: a path, a `file://` URL, a `node:` internal; `""` when unknown.
    pub url: String,
    /// 1-based line of the function's start; 0 when unknown.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
}

/// Live objects that one call stack allocated; serialises to the JS API's `AllocationSite`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationSite {
    /// The allocating function first, then its callers.
    pub frames: Vec<AllocationFrame>,
    /// How many of the objects asked about this stack allocated.
    pub count: u64,
    /// Their self sizes summed.
    pub size: u64,
}

impl HeapGraph {
    /// Whether the snapshot carries the allocation tracker's tables.
    pub fn has_allocation_trace(&self) -> bool {
        self.sources.as_ref().is_some_and(|s| s.trace.is_some())
    }

    /// The allocation tracker's tables, if the snapshot has them.
    pub fn allocation_trace(&self) -> Option<&TraceTable> {
        self.sources.as_ref()?.trace.as_ref()
    }

    /// The stack that allocated node `n`, allocating function first; `None` when the snapshot
    /// has no trace or `n` was allocated before tracking started.
    pub fn allocation_stack(&self, n: u32) -> Option<Vec<AllocationFrame>> {
        let t = self.allocation_trace()?;
        let id = self.trace_node_id(n);
        if id == 0 {
            return None;
        }
        let frames = self.frames_of(t, id);
        (!frames.is_empty()).then_some(frames)
    }

    fn frames_of(&self, t: &TraceTable, id: u32) -> Vec<AllocationFrame> {
        let mut frames = Vec::new();
        let mut cur = t.node(id);
        while let Some(node) = cur {
            // The tree's root is the synthetic `(root)`, not a frame.
            if node.parent == u32::MAX || frames.len() >= MAX_FRAMES {
                break;
            }
            if let Some(f) = t.functions.get(node.function as usize) {
                frames.push(AllocationFrame {
                    function_name: self.string(f.name).to_owned(),
                    url: self.string(f.script_name).to_owned(),
                    line: f.line,
                    column: f.column,
                });
            }
            cur = t.nodes.get(node.parent as usize);
        }
        frames
    }

    /// The stacks that allocated `nodes`, grouped: at most `max` sites, biggest summed self size
    /// first (ties: more objects, then the stack's text). Empty without a trace.
    pub fn allocation_sites(
        &self,
        nodes: impl IntoIterator<Item = u32>,
        max: usize,
    ) -> Vec<AllocationSite> {
        let Some(t) = self.allocation_trace() else {
            return Vec::new();
        };
        let mut by_trace: HashMap<u32, (u64, u64)> = HashMap::new();
        for n in nodes {
            let id = self.trace_node_id(n);
            if id != 0 {
                let e = by_trace.entry(id).or_default();
                e.0 += 1;
                e.1 += self.self_size(n);
            }
        }
        let mut sites: Vec<AllocationSite> = by_trace
            .into_iter()
            .map(|(id, (count, size))| AllocationSite {
                frames: self.frames_of(t, id),
                count,
                size,
            })
            .filter(|s| !s.frames.is_empty())
            .collect();
        // Trace nodes differ only by their callers; merge sites whose kept frames coincide.
        sites.sort_by(|a, b| a.frames.iter().map(key).cmp(b.frames.iter().map(key)));
        sites.dedup_by(|b, a| {
            if a.frames == b.frames {
                a.count += b.count;
                a.size += b.size;
                true
            } else {
                false
            }
        });
        sites.sort_by(|a, b| {
            b.size
                .cmp(&a.size)
                .then(b.count.cmp(&a.count))
                .then_with(|| a.frames.iter().map(key).cmp(b.frames.iter().map(key)))
        });
        sites.truncate(max);
        sites
    }
}

fn key(f: &AllocationFrame) -> (&str, &str, u32, u32) {
    (&f.url, &f.function_name, f.line, f.column)
}
