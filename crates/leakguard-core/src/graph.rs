//! The parsed snapshot: a compact, immutable struct-of-arrays graph.
//!
//! Every per-node and per-edge attribute lives in its own flat column indexed by a dense ordinal,
//! so a 1 GB snapshot costs a few hundred MB instead of the gigabytes one object per node would.
//! All accessors are total: an out-of-range ordinal yields a neutral value (0, `""`, an empty
//! range) instead of panicking, because ordinals may come straight from JavaScript callers.

use std::ops::Range;

/// V8's node categories (the `type` column), resolved from `snapshot.meta.node_types` by name so
/// that reordered or extended enums in future V8 versions still classify correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    /// VM-internal object (`system / …`).
    Hidden,
    /// Internal fixed array.
    Array,
    /// Flat string; the node name is its (truncated) value.
    String,
    /// JS object; the name is the constructor name.
    Object,
    /// Compiled code or bytecode.
    Code,
    /// JS function.
    Closure,
    /// RegExp object.
    RegExp,
    /// Heap number.
    Number,
    /// Embedder object (DOM node, Node.js `BaseObject`).
    Native,
    /// Grouping node such as the root or `(GC roots)`.
    Synthetic,
    /// `concatenated string` (cons string).
    ConsString,
    /// `sliced string`.
    SlicedString,
    /// Symbol.
    Symbol,
    /// BigInt.
    BigInt,
    /// `object shape` (added in 2023 V8 builds).
    ObjectShape,
    /// A type name we do not know (or a value past the end of the enum); the payload is the raw
    /// value of the `type` column so callers can still group by it.
    Other(u8),
}

/// V8's edge categories (the edge `type` column), resolved from meta by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeType {
    /// Variable captured in a function context.
    Context,
    /// Array element; `name_or_index` is an index.
    Element,
    /// Named JS property.
    Property,
    /// VM-internal link.
    Internal,
    /// Hidden link; `name_or_index` is an index.
    Hidden,
    /// Convenience link that must not count for retained sizes (except from the root).
    Shortcut,
    /// Weak reference.
    Weak,
    /// Unknown type name or value; payload is the raw column value.
    Other(u8),
}

/// An edge label: element and hidden edges carry a numeric index, all others a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeName<'a> {
    /// Index of an element or hidden edge.
    Index(u32),
    /// Name from the string table.
    Str(&'a str),
}

impl NodeType {
    /// Maps a meta enum name to a variant; `raw` is what the column holds for that name.
    pub(crate) fn from_meta(name: &str, raw: u8) -> NodeType {
        match name {
            "hidden" => NodeType::Hidden,
            "array" => NodeType::Array,
            "string" => NodeType::String,
            "object" => NodeType::Object,
            "code" => NodeType::Code,
            "closure" => NodeType::Closure,
            "regexp" => NodeType::RegExp,
            "number" => NodeType::Number,
            "native" => NodeType::Native,
            "synthetic" => NodeType::Synthetic,
            "concatenated string" => NodeType::ConsString,
            "sliced string" => NodeType::SlicedString,
            "symbol" => NodeType::Symbol,
            "bigint" => NodeType::BigInt,
            "object shape" => NodeType::ObjectShape,
            _ => NodeType::Other(raw),
        }
    }
}

impl EdgeType {
    /// Maps a meta enum name to a variant; `raw` is what the column holds for that name.
    pub(crate) fn from_meta(name: &str, raw: u8) -> EdgeType {
        match name {
            "context" => EdgeType::Context,
            "element" => EdgeType::Element,
            "property" => EdgeType::Property,
            "internal" => EdgeType::Internal,
            "hidden" => EdgeType::Hidden,
            "shortcut" => EdgeType::Shortcut,
            "weak" => EdgeType::Weak,
            _ => EdgeType::Other(raw),
        }
    }

    /// Element and hidden edges are labelled by index; every other type by a string index.
    pub(crate) fn has_index_name(self) -> bool {
        matches!(self, EdgeType::Element | EdgeType::Hidden)
    }
}

/// A parsed heap snapshot. Owns all its data (no borrow of the file or mapping), so it can be
/// moved to any thread and outlive the file it came from.
#[derive(Debug, Clone)]
pub struct HeapGraph {
    // Node columns, indexed by ordinal.
    pub(crate) node_type: Vec<u8>,
    pub(crate) node_name: Vec<u32>,
    pub(crate) node_id: Vec<u32>,
    /// `u32::MAX` means "look in `size_overflow`".
    pub(crate) self_size: Vec<u32>,
    /// (ordinal, size) for sizes >= `u32::MAX`, sorted by ordinal.
    pub(crate) size_overflow: Vec<(u32, u64)>,
    /// `None` exactly when the snapshot has no detachedness column.
    pub(crate) detachedness: Option<Vec<u8>>,
    /// `None` when absent *or all zero* (see `has_trace_node_id`): Node 20 writes an all-zero
    /// column that would otherwise cost 4 bytes per node.
    pub(crate) trace_node_id: Option<Vec<u32>>,
    pub(crate) has_detachedness: bool,
    pub(crate) has_trace_node_id: bool,
    /// CSR offsets into the edge columns, `node_count + 1` entries.
    pub(crate) first_edge: Vec<u32>,
    // Edge columns, indexed by edge row.
    pub(crate) edge_type: Vec<u8>,
    pub(crate) edge_name: Vec<u32>,
    pub(crate) edge_to: Vec<u32>,
    // Reverse CSR.
    pub(crate) first_retainer: Vec<u32>,
    pub(crate) retaining_edge: Vec<u32>,
    pub(crate) retaining_node: Vec<u32>,
    // String table: all texts concatenated, `string_count + 1` offsets.
    pub(crate) strings: String,
    pub(crate) string_offsets: Vec<u32>,
    // Meta enums.
    pub(crate) node_type_names: Vec<String>,
    pub(crate) node_type_map: Vec<NodeType>,
    pub(crate) edge_type_names: Vec<String>,
    pub(crate) edge_type_map: Vec<EdgeType>,
    pub(crate) root: u32,
    pub(crate) total_size: u64,
    /// Closure locations and allocation-tracker tables (`crate::locations`); `None` when the
    /// snapshot has neither, so a plain snapshot pays one pointer.
    pub(crate) sources: Option<Box<crate::locations::SourceTables>>,
}

impl HeapGraph {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_id.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_to.len()
    }

    /// Sum of all self sizes, computed once at parse time because every report wants it.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// Ordinal of the root node (`snapshot.root_index / node_field_count`, 0 when absent).
    pub fn root(&self) -> u32 {
        self.root
    }

    /// Category of node `n`.
    pub fn node_type(&self, n: u32) -> NodeType {
        match self.node_type.get(n as usize) {
            Some(&raw) => self
                .node_type_map
                .get(raw as usize)
                .copied()
                .unwrap_or(NodeType::Other(raw)),
            None => NodeType::Other(0),
        }
    }

    /// The meta enum text of node `n`'s type (e.g. `"wasm object"` for types we do not know);
    /// `""` when the column value lies past the end of the enum.
    pub fn node_type_name(&self, n: u32) -> &str {
        self.node_type
            .get(n as usize)
            .and_then(|&raw| self.node_type_names.get(raw as usize))
            .map_or("", String::as_str)
    }

    /// Name of node `n` (constructor name, string value, …).
    pub fn node_name(&self, n: u32) -> &str {
        self.node_name
            .get(n as usize)
            .map_or("", |&i| self.string(i))
    }

    /// String-table index of node `n`'s name; indices are only comparable within one snapshot.
    pub fn node_name_index(&self, n: u32) -> u32 {
        self.node_name.get(n as usize).copied().unwrap_or(0)
    }

    /// Stable V8 object id of node `n` (the key for comparing snapshots).
    pub fn node_id(&self, n: u32) -> u32 {
        self.node_id.get(n as usize).copied().unwrap_or(0)
    }

    /// Exact self size of node `n`, including sizes beyond 4 GiB kept in the overflow table.
    pub fn self_size(&self, n: u32) -> u64 {
        match self.self_size.get(n as usize) {
            Some(&u32::MAX) => match self.size_overflow.binary_search_by_key(&n, |&(o, _)| o) {
                Ok(i) => self.size_overflow.get(i).map_or(0, |&(_, s)| s),
                Err(_) => u64::from(u32::MAX),
            },
            Some(&s) => u64::from(s),
            None => 0,
        }
    }

    /// Number of outgoing edges of node `n`.
    pub fn edge_count_of(&self, n: u32) -> u32 {
        let r = self.edges(n);
        (r.end - r.start) as u32
    }

    /// Embedder detachedness of node `n` (0 unknown, 1 attached, 2 detached); 0 if the snapshot
    /// has no such column.
    pub fn detachedness(&self, n: u32) -> u8 {
        self.detachedness
            .as_ref()
            .and_then(|d| d.get(n as usize).copied())
            .unwrap_or(0)
    }

    /// Allocation trace node of node `n`; 0 when allocation tracking was off.
    pub fn trace_node_id(&self, n: u32) -> u32 {
        self.trace_node_id
            .as_ref()
            .and_then(|d| d.get(n as usize).copied())
            .unwrap_or(0)
    }

    /// Whether the snapshot had a `detachedness` column (V8 since late 2021).
    pub fn has_detachedness(&self) -> bool {
        self.has_detachedness
    }

    /// Whether the snapshot had a `trace_node_id` column.
    pub fn has_trace_node_id(&self) -> bool {
        self.has_trace_node_id
    }

    /// Edge indices of node `n`'s outgoing edges (a CSR slice, so iteration is allocation-free).
    pub fn edges(&self, n: u32) -> Range<usize> {
        let n = n as usize;
        match (self.first_edge.get(n), self.first_edge.get(n + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        }
    }

    /// Category of edge `e`.
    pub fn edge_type(&self, e: usize) -> EdgeType {
        match self.edge_type.get(e) {
            Some(&raw) => self
                .edge_type_map
                .get(raw as usize)
                .copied()
                .unwrap_or(EdgeType::Other(raw)),
            None => EdgeType::Other(0),
        }
    }

    /// The meta enum text of edge `e`'s type; `""` past the end of the enum.
    pub fn edge_type_name(&self, e: usize) -> &str {
        self.edge_type
            .get(e)
            .and_then(|&raw| self.edge_type_names.get(raw as usize))
            .map_or("", String::as_str)
    }

    /// Target ordinal of edge `e` (already divided by the node field count).
    pub fn edge_to(&self, e: usize) -> u32 {
        self.edge_to.get(e).copied().unwrap_or(0)
    }

    /// Raw `name_or_index` of edge `e`: an index for element/hidden edges, else a string index.
    pub fn edge_name_or_index(&self, e: usize) -> u32 {
        self.edge_name.get(e).copied().unwrap_or(0)
    }

    /// Label of edge `e`, already resolved against the string table where it names a string.
    pub fn edge_name(&self, e: usize) -> EdgeName<'_> {
        let v = self.edge_name_or_index(e);
        if self.edge_type(e).has_index_name() {
            EdgeName::Index(v)
        } else {
            EdgeName::Str(self.string(v))
        }
    }

    /// Incoming edges of node `n` as `(edge index, source ordinal)`, in edge order.
    pub fn retainers(&self, n: u32) -> impl Iterator<Item = (usize, u32)> + '_ {
        let n = n as usize;
        let range = match (self.first_retainer.get(n), self.first_retainer.get(n + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        let edges = self.retaining_edge.get(range.clone()).unwrap_or(&[]);
        let nodes = self.retaining_node.get(range).unwrap_or(&[]);
        edges
            .iter()
            .zip(nodes.iter())
            .map(|(&e, &s)| (e as usize, s))
    }

    /// Number of incoming edges of node `n`.
    pub fn retainer_count(&self, n: u32) -> u32 {
        let n = n as usize;
        match (self.first_retainer.get(n), self.first_retainer.get(n + 1)) {
            (Some(&a), Some(&b)) => b.saturating_sub(a),
            _ => 0,
        }
    }

    /// Text of string-table entry `i`; `""` when out of range.
    pub fn string(&self, i: u32) -> &str {
        let i = i as usize;
        match (self.string_offsets.get(i), self.string_offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.strings.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    /// Number of entries in the string table.
    pub fn string_count(&self) -> usize {
        self.string_offsets.len().saturating_sub(1)
    }

    /// Approximate bytes held by this graph, so the binding can report memory and tell the JS
    /// engine about external memory it frees on `dispose()`.
    pub fn heap_bytes(&self) -> usize {
        fn v<T>(x: &Vec<T>) -> usize {
            x.capacity() * std::mem::size_of::<T>()
        }
        v(&self.node_type)
            + v(&self.node_name)
            + v(&self.node_id)
            + v(&self.self_size)
            + v(&self.size_overflow)
            + self.detachedness.as_ref().map_or(0, v)
            + self.trace_node_id.as_ref().map_or(0, v)
            + v(&self.first_edge)
            + v(&self.edge_type)
            + v(&self.edge_name)
            + v(&self.edge_to)
            + v(&self.first_retainer)
            + v(&self.retaining_edge)
            + v(&self.retaining_node)
            + self.strings.capacity()
            + v(&self.string_offsets)
            + self
                .node_type_names
                .iter()
                .map(|s| s.capacity())
                .sum::<usize>()
            + self
                .edge_type_names
                .iter()
                .map(|s| s.capacity())
                .sum::<usize>()
            + v(&self.node_type_map)
            + v(&self.edge_type_map)
            + self.sources.as_ref().map_or(0, |s| s.heap_bytes())
            + std::mem::size_of::<Self>()
    }
}
