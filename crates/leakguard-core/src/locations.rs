//! Source locations (docs/locations.md): where in the code a closure, a context or an object's
//! class comes from, read from the snapshot's own `locations` table (V8 writes one row per
//! closure: node, script id, 0-based line and column) and the script each function reaches
//! through its shared function info (`shared` → `script` or, before V8 12,
//! `script_or_debug_info` → the script's `name`).
//!
//! This module owns the side tables the parser attaches to a [`HeapGraph`] ([`SourceTables`])
//! and the location queries; allocation stacks from the same tables are `crate::alloc_trace`.
//! A snapshot without the tables (older V8, hand-made files) answers `None` everywhere.

use crate::graph::{EdgeName, EdgeType, HeapGraph, NodeType};
use serde::Serialize;
use std::fmt;

pub use crate::alloc_trace::{
    AllocationFrame, AllocationSite, FunctionInfo, TraceNode, TraceTable,
};

/// The tables beside the node and edge columns: closure locations, script URLs and the
/// allocation tracker's data. Attached to a graph only when the snapshot has at least one.
#[derive(Debug, Default, Clone)]
pub struct SourceTables {
    /// `(closure ordinal, script id, line, column)`, 0-based as V8 writes them, sorted by
    /// ordinal, one row per closure.
    pub(crate) locations: Vec<(u32, u32, u32, u32)>,
    /// `(script id, URL)`, sorted by id: the name of each script some closure reaches.
    pub(crate) scripts: Vec<(u32, String)>,
    /// `(scope info ordinal, closure ordinal)`, sorted: a located closure whose shared function
    /// info has that scope info, so a context finds its function in one search instead of
    /// walking the scope info's retainers (every live context of the function is one).
    pub(crate) owners: Vec<(u32, u32)>,
    /// The allocation tracker's tables, when tracking was on.
    pub(crate) trace: Option<TraceTable>,
}

impl SourceTables {
    /// Approximate bytes held, for [`HeapGraph::heap_bytes`].
    pub(crate) fn heap_bytes(&self) -> usize {
        self.locations.capacity() * 16
            + self.owners.capacity() * 8
            + self
                .scripts
                .iter()
                .map(|s| s.1.capacity() + 32)
                .sum::<usize>()
            + self.trace.as_ref().map_or(0, TraceTable::heap_bytes)
    }

    /// Fills [`SourceTables::scripts`] from the graph: each located closure's script id and the
    /// name its shared function info's script carries.
    pub(crate) fn resolve_scripts(&mut self, g: &HeapGraph) {
        let mut scripts: Vec<(u32, String)> = Vec::new();
        let mut last = None;
        // Closures of one script come in runs; sort by script id so each is resolved once.
        let mut by_script: Vec<(u32, u32)> = self.locations.iter().map(|l| (l.1, l.0)).collect();
        by_script.sort_unstable();
        for (sid, closure) in by_script {
            if last == Some(sid) {
                continue;
            }
            if let Some(url) = script_url(g, closure) {
                scripts.push((sid, url.to_owned()));
                last = Some(sid);
            }
        }
        self.scripts = scripts;
        let mut owners: Vec<(u32, u32)> = self
            .locations
            .iter()
            .filter_map(|l| {
                let shared = edge_to_named(g, l.0, EdgeType::Internal, &["shared"])?;
                let scope = edge_to_named(
                    g,
                    shared,
                    EdgeType::Internal,
                    &["name_or_scope_info", "scope_info"],
                )?;
                Some((scope, l.0))
            })
            .collect();
        owners.sort_unstable();
        owners.dedup_by_key(|o| o.0);
        owners.shrink_to_fit();
        self.owners = owners;
    }

    fn script(&self, id: u32) -> Option<&str> {
        self.scripts
            .binary_search_by_key(&id, |s| s.0)
            .ok()
            .and_then(|i| self.scripts.get(i))
            .map(|s| s.1.as_str())
    }
}

/// A place in a script, 1-based as editors show it; `line` 0 means only the script is known
/// (a context whose function is gone, but whose inner closures tell the file).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SourceLocation {
    /// The script's name as V8 has it: an absolute path (CommonJS), a `file://` URL (ESM), a
    /// `node:` internal, or `""` for an unnamed script (eval).
    pub url: String,
    /// Line, 1-based; 0 when unknown.
    pub line: u32,
    /// Column, 1-based; 0 when unknown.
    pub column: u32,
}

/// `url:line:column`, or just `url` when the line is unknown; `<anonymous>` for an unnamed
/// script.
impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = if self.url.is_empty() {
            "<anonymous>"
        } else {
            &self.url
        };
        if self.line == 0 {
            f.write_str(url)
        } else {
            write!(f, "{url}:{}:{}", self.line, self.column)
        }
    }
}

/// The target of `n`'s first outgoing edge of type `kind` whose name is one of `names`.
pub(crate) fn edge_to_named(g: &HeapGraph, n: u32, kind: EdgeType, names: &[&str]) -> Option<u32> {
    g.edges(n).find_map(|e| {
        (g.edge_type(e) == kind && matches!(g.edge_name(e), EdgeName::Str(s) if names.contains(&s)))
            .then(|| g.edge_to(e))
    })
}

/// The name of the script closure `c`'s code belongs to: the script's `name` string, else the
/// script node's own name (V8 names it after the script).
fn script_url(g: &HeapGraph, c: u32) -> Option<&str> {
    let shared = edge_to_named(g, c, EdgeType::Internal, &["shared"])?;
    let script = edge_to_named(
        g,
        shared,
        EdgeType::Internal,
        &["script", "script_or_debug_info"],
    )?;
    match edge_to_named(g, script, EdgeType::Internal, &["name"]) {
        Some(s) if g.node_type(s) == NodeType::String => Some(g.node_name(s)),
        _ => Some(g.node_name(script)).filter(|s| !s.is_empty()),
    }
}

/// How many maps a constructor lookup follows back (V8's transition trees are shallow; the
/// cap only guards against a damaged or cyclic snapshot).
const MAX_MAP_CHAIN: usize = 64;

impl HeapGraph {
    /// Whether the snapshot carries V8's `locations` table.
    pub fn has_locations(&self) -> bool {
        self.sources
            .as_ref()
            .is_some_and(|s| !s.locations.is_empty())
    }

    /// Where closure `n`'s code starts (V8's `locations` row), 1-based; `None` for other
    /// nodes, closures without a row (builtins) and snapshots without the table.
    pub fn closure_location(&self, n: u32) -> Option<SourceLocation> {
        let t = self.sources.as_deref()?;
        let i = t.locations.binary_search_by_key(&n, |l| l.0).ok()?;
        let &(_, sid, line, column) = t.locations.get(i)?;
        Some(SourceLocation {
            url: t.script(sid).unwrap_or_default().to_owned(),
            line: line.saturating_add(1),
            column: column.saturating_add(1),
        })
    }

    /// The location of the function whose call created context `n`: the closure sharing the
    /// context's scope info (context → `scope_info` ← shared function info ← `shared` ←
    /// closure; indexed once per snapshot by `SourceTables::resolve_scripts`). When that
    /// function is gone (a module's top-level code after it ran), the script of a closure that
    /// captured the context, with line 0.
    pub fn context_location(&self, n: u32) -> Option<SourceLocation> {
        let t = self.sources.as_deref()?;
        let scope = edge_to_named(self, n, EdgeType::Internal, &["scope_info"])?;
        if let Ok(i) = t.owners.binary_search_by_key(&scope, |o| o.0) {
            if let Some(l) = t.owners.get(i).and_then(|o| self.closure_location(o.1)) {
                return Some(l);
            }
        }
        self.retainers(n).find_map(|(e, c)| {
            let inner = self.node_type(c) == NodeType::Closure
                && self.edge_type(e) == EdgeType::Internal
                && matches!(self.edge_name(e), EdgeName::Str("context"));
            let l = inner.then(|| self.closure_location(c)).flatten()?;
            Some(SourceLocation {
                url: l.url,
                line: 0,
                column: 0,
            })
        })
    }

    /// Where object `n`'s constructor (its class) is defined: the map's constructor, found
    /// by following the map's back pointers to the root map of its transition tree.
    pub fn constructor_location(&self, n: u32) -> Option<SourceLocation> {
        self.sources.as_deref()?;
        let mut map = edge_to_named(self, n, EdgeType::Internal, &["map"])?;
        for _ in 0..MAX_MAP_CHAIN {
            let next = edge_to_named(
                self,
                map,
                EdgeType::Internal,
                &["constructor_or_back_pointer", "constructor", "back_pointer"],
            )?;
            if self.node_type(next) == NodeType::Closure {
                return self.closure_location(next);
            }
            if next == map {
                return None;
            }
            map = next;
        }
        None
    }

    /// The source location that explains node `n`: a closure's own code, a context's function,
    /// or an object's constructor; `None` when the snapshot does not tell.
    pub fn location(&self, n: u32) -> Option<SourceLocation> {
        self.sources.as_deref()?;
        match self.node_type(n) {
            NodeType::Closure => self.closure_location(n),
            _ if self.node_name(n) == "system / Context" => self.context_location(n),
            NodeType::Object => self.constructor_location(n),
            _ => None,
        }
    }

    /// [`HeapGraph::location`] of a closure or a context only, as text: what a retainer path
    /// step carries (an object's class location would repeat itself on every step).
    pub fn step_location(&self, n: u32) -> Option<String> {
        self.sources.as_deref()?;
        match self.node_type(n) {
            NodeType::Closure => self.closure_location(n),
            _ if self.node_name(n) == "system / Context" => self.context_location(n),
            _ => None,
        }
        .map(|l| l.to_string())
    }
}

/// What the snapshot tells about where one object comes from; serialises to the JS API's
/// `SourceInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// The object's V8 id.
    pub id: u32,
    /// [`HeapGraph::location`] as `url:line:column`; `None` when the snapshot does not tell.
    pub location: Option<String>,
    /// [`HeapGraph::allocation_stack`]; `None` without allocation tracking.
    pub allocation_stack: Option<Vec<crate::alloc_trace::AllocationFrame>>,
}

impl HeapGraph {
    /// [`SourceInfo`] of the object with V8 id `id` (a linear search: for one object at a
    /// time); `None` when no node has that id.
    pub fn source_info(&self, id: u32) -> Option<SourceInfo> {
        let n = self.node_id.iter().position(|&x| x == id)? as u32;
        Some(SourceInfo {
            id,
            location: self.location(n).map(|l| l.to_string()),
            allocation_stack: self.allocation_stack(n),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_editor_style() {
        let l = SourceLocation {
            url: "/a/b.js".into(),
            line: 3,
            column: 17,
        };
        assert_eq!(l.to_string(), "/a/b.js:3:17");
        let f = SourceLocation {
            url: "file:///a/b.mjs".into(),
            line: 0,
            column: 0,
        };
        assert_eq!(f.to_string(), "file:///a/b.mjs");
        let anon = SourceLocation {
            url: String::new(),
            line: 1,
            column: 1,
        };
        assert_eq!(anon.to_string(), "<anonymous>:1:1");
    }
}
