//! Growing collections across a series of snapshots of one heap: [`growing_collections`]
//! (docs/leaks.md#growing-collections). The seed of most production leaks is one `Map`, `Set`,
//! array or dictionary object that only grows; when its entries are strings or numbers no new
//! class shows up among the leak suspects, and when they are of many classes the one thing to
//! fix is split across suspects. This module finds the collection itself.
//!
//! How V8 (Node 20 to 26, checked on real snapshots) writes each kind, and so how entries are
//! counted:
//!
//! * `Map` / `Set` (and subclasses): the JS object has an internal `table` edge to an
//!   `OrderedHashMap`/`OrderedHashSet` (an `array` node without a name). Its slots are 3 counts,
//!   `capacity / 2` buckets, then `capacity` entries of (key, value, chain) for a map and (key,
//!   chain) for a set; the snapshot has one internal edge per slot holding a heap object, named
//!   by the slot index. The capacity follows from the table's size (a power of two), so an edge
//!   index gives its entry. Small-integer keys and values are not heap objects and have no edge:
//!   a `Map` of small integers to small integers has no visible entry. Deleted entries point to
//!   `system / Hole` in Node 22 and are not counted.
//! * `Array`: one `element` edge per element holding a heap object (small integers and the
//!   doubles of a double array have none).
//! * typed arrays and `Buffer`: the backing store's size (`buffer` → `backing_store`) divided by
//!   the element size.
//! * other objects: `element` edges plus named properties — the `property` edges, or, for an
//!   object in dictionary mode (`properties` → `(object properties)`), the dictionary's entries
//!   (slots of 3: key, value, details), so that small-integer values still count through their
//!   keys. Only objects with at least [`CollectionOptions::min_properties`] entries are
//!   collections. `WeakMap` and `WeakSet` are never listed (they hold nothing alive).

use super::check_analysis;
use super::check_same_heap;
use super::leaks::{sample_path, LeakOptions};
use crate::analysis::{Analysis, PathKind, RetainerPath, SizeMode};
use crate::control::Control;
use crate::graph::{EdgeName, EdgeType, HeapGraph, NodeType};
use crate::{Error, Result};
use serde::Serialize;

use super::ids::TICK;

/// Options of [`growing_collections`].
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionOptions {
    /// Self sizes used for the retained sizes.
    pub mode: SizeMode,
    /// Entries a collection must gain from the first snapshot to the last when it is listed for
    /// its entry count (default 10).
    pub min_growth: u64,
    /// Retained bytes a collection must gain from the first snapshot to the last when it is
    /// listed for its retained size alone (default 64 KiB).
    pub min_retained_growth: u64,
    /// Entries an object that is not a `Map`, `Set` or array needs in the last snapshot to count
    /// as a collection (default 16).
    pub min_properties: u64,
    /// Collections listed at most (default 20), biggest growth first.
    pub max_collections: usize,
    /// Newest entries shown per collection (default 3).
    pub max_samples: usize,
    /// Algorithm of the holder path.
    pub path_kind: PathKind,
    /// Maximum edges of the holder path.
    pub max_path_steps: usize,
    /// Run [`check_same_heap`] on consecutive snapshots (default true); off only for snapshots
    /// the caller took of its own heap (see [`super::find_leaks_of_own_heap`]).
    pub check_heap: bool,
}

impl Default for CollectionOptions {
    fn default() -> Self {
        CollectionOptions {
            mode: SizeMode::DevTools,
            min_growth: 10,
            min_retained_growth: 64 * 1024,
            min_properties: 16,
            max_collections: 20,
            max_samples: 3,
            path_kind: PathKind::DevTools,
            max_path_steps: super::SHAPE_MAX_STEPS,
            check_heap: true,
        }
    }
}

/// What kind of collection; serialises to `"map"`, `"set"`, `"array"`, `"typedArray"`,
/// `"object"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CollectionKind {
    /// A `Map` or a subclass.
    Map,
    /// A `Set` or a subclass.
    Set,
    /// An `Array`.
    Array,
    /// A typed array or a `Buffer` (entries: elements of its backing store).
    TypedArray,
    /// Any other object, counted by its properties and elements (a dictionary).
    Object,
}

/// One of the newest entries of a collection, each side shortened to
/// [`SAMPLE_TEXT`] characters: strings quoted, objects as `Class @id`, a small integer (which the
/// snapshot does not hold) as `(small integer)`, an array index as `[3]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntrySample {
    /// The key (`Map`), the element (`Set`), the index (arrays) or the property name (objects).
    pub key: String,
    /// The value; `""` for a `Set`.
    pub value: String,
}

/// A collection whose entry count or retained size grew in every step of the series;
/// serialises to the JS API's `GrowingCollection`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrowingCollection {
    /// V8 object id (the same in every snapshot).
    pub id: u32,
    /// What kind of collection.
    pub kind: CollectionKind,
    /// Class name in the last snapshot (`Map`, `Array`, `Object`, `LRUCache`, …).
    pub class_name: String,
    /// The variable or property holding it: the name of the last named edge of the holder
    /// path (`requests`), then the unnamed edges below it in DevTools' notation
    /// (`handlers[2]`); `""` without a path.
    pub name: String,
    /// Entries in each snapshot, in the order given; 0 in a snapshot taken before it existed.
    pub entries: Vec<u64>,
    /// Retained size in each snapshot; 0 before it existed.
    pub retained_sizes: Vec<u64>,
    /// Index of the first snapshot it is in.
    pub first_seen: usize,
    /// Entries gained from the first snapshot to the last.
    pub entry_growth: i64,
    /// Retained bytes gained from the first snapshot to the last.
    pub retained_growth: i64,
    /// Whether the entry count grew in every step (otherwise only the retained size did).
    pub entries_grew: bool,
    /// The holder path in the last snapshot (as a suspect's sample path).
    pub path: Option<RetainerPath>,
    /// Up to [`CollectionOptions::max_samples`] of the newest entries, newest first.
    pub newest: Vec<EntrySample>,
    /// Where the collection's holder is defined (`file:line:col`, crate::locations), when the
    /// snapshot says: the function whose scope holds the variable, or the class of the object
    /// holding the property (docs/leaks.md#growing-collections).
    pub location: Option<String>,
}

/// Characters of a sample key or value shown.
pub const SAMPLE_TEXT: usize = 40;

/// The typed-array classes and their element sizes.
const TYPED: &[(&str, u64)] = &[
    ("Int8Array", 1),
    ("Uint8Array", 1),
    ("Uint8ClampedArray", 1),
    ("Buffer", 1),
    ("FastBuffer", 1),
    ("Int16Array", 2),
    ("Uint16Array", 2),
    ("Float16Array", 2),
    ("Int32Array", 4),
    ("Uint32Array", 4),
    ("Float32Array", 4),
    ("Float64Array", 8),
    ("BigInt64Array", 8),
    ("BigUint64Array", 8),
];

/// One side of an entry as the snapshot shows it.
#[derive(Clone, Copy)]
enum Part<'g> {
    Node(u32),
    Name(&'g str),
    Index(u32),
}

/// One entry: its position (slot or element index; the newest is the highest for maps, sets and
/// arrays) and its sides (`None`: a small integer, invisible in the snapshot).
struct Entry<'g> {
    order: u64,
    key: Option<Part<'g>>,
    value: Option<Part<'g>>,
}

/// How a node's entries are laid out, found once per node.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Layout {
    /// A hash table node, the index of its first entry slot and the slots per entry.
    Table {
        kind: CollectionKind,
        table: u32,
        base: u64,
        width: u64,
    },
    Array,
    Typed(u64),
    Object,
}

impl Layout {
    fn kind(self) -> CollectionKind {
        match self {
            Layout::Table { kind, .. } => kind,
            Layout::Array => CollectionKind::Array,
            Layout::Typed(_) => CollectionKind::TypedArray,
            Layout::Object => CollectionKind::Object,
        }
    }
}

/// The first slot of the entries of an ordered hash table of `size` bytes with `width` slots
/// per entry, if the size fits that layout: a header of two words (map, length), 3 counts,
/// `capacity / 2` buckets, `capacity * width` entry slots, `capacity` a power of two. Words of 8
/// bytes (Node) or 4 (pointer compression, as in Chrome and Electron).
fn table_base(size: u64, width: u64) -> Option<u64> {
    [8u64, 4].into_iter().find_map(|word| {
        let slots = size.checked_sub(2 * word)?;
        if slots % word != 0 {
            return None;
        }
        let rest = (slots / word).checked_sub(3)?;
        let d = 2 * width + 1;
        let capacity = (2 * rest % d == 0).then_some(2 * rest / d)?;
        (capacity > 0 && capacity.is_power_of_two()).then_some(3 + capacity / 2)
    })
}

/// The numeric slot index of a table edge (internal edges are named by index as a string).
fn slot_index(g: &HeapGraph, e: usize) -> Option<u64> {
    match g.edge_name(e) {
        EdgeName::Index(i) => Some(u64::from(i)),
        EdgeName::Str(s) => s.parse().ok(),
    }
}

/// Deleted hash-table entries point to the hole (Node 22 writes those edges).
fn is_hole(g: &HeapGraph, n: u32) -> bool {
    g.node_type(n) == NodeType::Hidden && g.node_name(n) == "system / Hole"
}

/// The target of `x`'s internal edge named `name`.
fn internal(g: &HeapGraph, x: u32, name: &str) -> Option<u32> {
    g.edges(x)
        .find(|&e| g.edge_type(e) == EdgeType::Internal && g.edge_name(e) == EdgeName::Str(name))
        .map(|e| g.edge_to(e))
}

/// How `x` holds entries, or `None` if it is not a collection.
fn layout(g: &HeapGraph, x: u32) -> Option<Layout> {
    if g.node_type(x) != NodeType::Object {
        return None;
    }
    let name = g.node_name(x);
    if name.starts_with("system / ") || name.starts_with("Weak") {
        return None;
    }
    if let Some(&(_, size)) = TYPED.iter().find(|(n, _)| *n == name) {
        return Some(Layout::Typed(size));
    }
    if name == "Array" {
        return Some(Layout::Array);
    }
    if let Some(table) = internal(g, x, "table").filter(|&t| g.node_type(t) == NodeType::Array) {
        let size = g.self_size(table);
        // The name says which layout to try first; a subclass is told by the size alone.
        let order: [(CollectionKind, u64); 2] = if name.contains("Set") {
            [(CollectionKind::Set, 2), (CollectionKind::Map, 3)]
        } else {
            [(CollectionKind::Map, 3), (CollectionKind::Set, 2)]
        };
        return order.into_iter().find_map(|(kind, width)| {
            table_base(size, width).map(|base| Layout::Table {
                kind,
                table,
                base,
                width,
            })
        });
    }
    Some(Layout::Object)
}

/// The dictionary backing store of an object in dictionary mode.
fn dictionary(g: &HeapGraph, x: u32) -> Option<u32> {
    internal(g, x, "properties").filter(|&p| g.node_name(p) == "(object properties)")
}

/// Entries of `x` laid out as `lay`, counted without allocating (this runs for every object of
/// the last snapshot). Edges of a table are written in slot order, so distinct entries are
/// counted as changes of the entry index.
fn count(g: &HeapGraph, x: u32, lay: Layout) -> u64 {
    match lay {
        Layout::Table {
            table, base, width, ..
        } => {
            let mut n = 0;
            let mut last = None;
            for e in g.edges(table) {
                let Some(i) = slot_index(g, e).filter(|&i| i >= base) else {
                    continue;
                };
                let entry = (i - base) / width;
                let role = (i - base) % width;
                // The chain slot of an entry is a small integer: never an entry of its own.
                if role + 1 == width || is_hole(g, g.edge_to(e)) || last == Some(entry) {
                    continue;
                }
                last = Some(entry);
                n += 1;
            }
            n
        }
        Layout::Array => g
            .edges(x)
            .filter(|&e| g.edge_type(e) == EdgeType::Element && !is_hole(g, g.edge_to(e)))
            .count() as u64,
        Layout::Typed(size) => internal(g, x, "buffer")
            .and_then(|b| internal(g, b, "backing_store"))
            .map_or(0, |s| g.self_size(s) / size.max(1)),
        Layout::Object => {
            let elements = g
                .edges(x)
                .filter(|&e| g.edge_type(e) == EdgeType::Element)
                .count() as u64;
            let named = match dictionary(g, x) {
                Some(d) => {
                    let mut n = 0;
                    let mut last = None;
                    for e in g.edges(d) {
                        let Some(i) = slot_index(g, e) else { continue };
                        // Entries are (key, value, details) from a slot divisible by 3.
                        if is_hole(g, g.edge_to(e)) || last == Some(i / 3) {
                            continue;
                        }
                        last = Some(i / 3);
                        n += 1;
                    }
                    n
                }
                None => g
                    .edges(x)
                    .filter(|&e| {
                        g.edge_type(e) == EdgeType::Property
                            && g.edge_name(e) != EdgeName::Str("__proto__")
                    })
                    .count() as u64,
            };
            elements + named
        }
    }
}

/// The entries of `x` with their sides, for the samples of the last snapshot.
fn entries<'g>(g: &'g HeapGraph, x: u32, lay: Layout) -> Vec<Entry<'g>> {
    let mut out: Vec<Entry<'g>> = Vec::new();
    match lay {
        Layout::Table {
            table, base, width, ..
        } => {
            for e in g.edges(table) {
                let Some(i) = slot_index(g, e).filter(|&i| i >= base) else {
                    continue;
                };
                let (entry, role) = ((i - base) / width, (i - base) % width);
                let to = g.edge_to(e);
                if role + 1 == width || is_hole(g, to) {
                    continue;
                }
                if out.last().map(|l| l.order) != Some(entry) {
                    out.push(Entry {
                        order: entry,
                        key: None,
                        value: None,
                    });
                }
                if let Some(last) = out.last_mut() {
                    if role == 0 {
                        last.key = Some(Part::Node(to));
                    } else {
                        last.value = Some(Part::Node(to));
                    }
                }
            }
        }
        Layout::Array | Layout::Object => {
            for e in g.edges(x) {
                let to = g.edge_to(e);
                match (g.edge_type(e), g.edge_name(e)) {
                    (EdgeType::Element, EdgeName::Index(i)) if !is_hole(g, to) => out.push(Entry {
                        order: u64::from(i),
                        key: Some(Part::Index(i)),
                        value: Some(Part::Node(to)),
                    }),
                    (EdgeType::Property, EdgeName::Str(name))
                        if name != "__proto__" && lay == Layout::Object =>
                    {
                        // Property order is not insertion order: the newest values are the
                        // objects first seen last, i.e. with the highest ids.
                        out.push(Entry {
                            order: u64::from(g.node_id(to)),
                            key: Some(Part::Name(name)),
                            value: Some(Part::Node(to)),
                        })
                    }
                    _ => {}
                }
            }
            if lay == Layout::Object && out.is_empty() {
                // A dictionary of small integers: only the keys are in the snapshot.
                if let Some(d) = dictionary(g, x) {
                    for e in g.edges(d) {
                        let to = g.edge_to(e);
                        if slot_index(g, e).is_some()
                            && matches!(g.node_type(to), NodeType::String | NodeType::Symbol)
                        {
                            out.push(Entry {
                                order: u64::from(g.node_id(to)),
                                key: Some(Part::Node(to)),
                                value: None,
                            });
                        }
                    }
                }
            }
        }
        Layout::Typed(_) => {}
    }
    out
}

/// At most [`SAMPLE_TEXT`] characters of `s`, with `…` when cut.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(SAMPLE_TEXT) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// One side of a sample as text.
fn describe(g: &HeapGraph, a: &Analysis, part: Option<Part<'_>>) -> String {
    match part {
        None => "(small integer)".to_owned(),
        Some(Part::Index(i)) => format!("[{i}]"),
        Some(Part::Name(n)) => shorten(n),
        Some(Part::Node(n)) => match g.node_type(n) {
            NodeType::String | NodeType::ConsString | NodeType::SlicedString => {
                let text = shorten(&a.display_name(g, n));
                serde_json::to_string(&text).unwrap_or(text)
            }
            NodeType::Number => match g.node_name(n) {
                "heap number" | "smi number" => "(number)".to_owned(),
                v => shorten(v),
            },
            _ => format!("{} @{}", shorten(a.class_name(g, n)), g.node_id(n)),
        },
    }
}

/// The variable a collection is held by: the last named edge of its holder path, then the
/// unnamed edges after it in DevTools' notation.
fn holder_name(path: &RetainerPath) -> String {
    let edges: Vec<_> = path.steps.iter().filter_map(|s| s.edge.as_ref()).collect();
    let named = edges
        .iter()
        .rposition(|e| matches!(e.kind.as_str(), "property" | "context" | "shortcut"));
    match named {
        Some(i) => {
            let mut name = edges[i].name.clone();
            for e in &edges[i + 1..] {
                name.push_str(&e.text);
            }
            name
        }
        None => edges.last().map_or(String::new(), |e| e.text.clone()),
    }
}

/// Where the holder of the last step of `path` is defined: the nearest step above it with a
/// source location (a context's function, a closure), else the class of the object right above
/// it (`this.items` in a class instance); `None` when the snapshot has no locations.
fn holder_location(g: &HeapGraph, path: &RetainerPath) -> Option<String> {
    let above = path.steps.len().checked_sub(1)?;
    let holder = path.steps.get(above.checked_sub(1)?)?;
    if let Some(l) = &holder.location {
        return Some(l.clone());
    }
    if g.node_type(holder.ordinal) == NodeType::Object
        && !holder.class_name.starts_with("system / ")
    {
        if let Some(l) = g.constructor_location(holder.ordinal) {
            return Some(l.to_string());
        }
    }
    path.steps[..above]
        .iter()
        .rev()
        .find_map(|s| s.location.clone())
}

/// A collection of the last snapshot before the growth test.
struct Candidate {
    ordinal: u32,
    lay: Layout,
    entries: Vec<u64>,
    retained: Vec<u64>,
    first_seen: usize,
    entries_grew: bool,
}

/// Drops the collections listed for their retained size alone that dominate another listed
/// collection: their growth is that collection's (the global object holding a growing `Map`,
/// the class instance holding a growing array). One walk up the dominator tree from each
/// candidate, stopping at nodes already walked: linear in the tree's height overall.
fn drop_explained(a: &Analysis, found: &mut Vec<Candidate>) {
    let retained_only: std::collections::HashSet<u32> = found
        .iter()
        .filter(|c| !c.entries_grew)
        .map(|c| c.ordinal)
        .collect();
    if retained_only.is_empty() {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    let mut explained = std::collections::HashSet::new();
    for c in found.iter() {
        let mut x = c.ordinal;
        loop {
            let up = a.idom(x);
            if up == x || !seen.insert(up) {
                break;
            }
            if retained_only.contains(&up) {
                explained.insert(up);
            }
            x = up;
        }
    }
    found.retain(|c| !explained.contains(&c.ordinal));
}

/// Strictly increasing in every step.
fn grows(v: &[u64]) -> bool {
    v.windows(2).all(|w| w[1] > w[0])
}

/// The collections (`Map`, `Set`, arrays, typed arrays, objects with at least
/// `opts.min_properties` entries; never `WeakMap`/`WeakSet`) of the last of `snaps` whose entry
/// count grew in every step of the series by at least `opts.min_growth` in total, or whose
/// retained size grew in every step by at least `opts.min_retained_growth`. Collections are
/// matched across snapshots by object id; one created after the first snapshot counts 0 entries
/// there. A collection that fills and then stays flat, a bounded cache and one cleared between
/// two snapshots are not listed. Ranked by retained growth, then entry growth (both
/// descending), then id; at most `opts.max_collections`, each with its holder path (as the leak
/// suspects' sample paths), holder name and newest entries.
///
/// `snaps` are (graph, analysis) pairs in the order taken, at least two. Fails with
/// [`Error::InvalidArg`] for fewer than two snapshots or an analysis of another snapshot,
/// [`Error::Mismatch`] when two consecutive snapshots are of different heaps (unless
/// `opts.check_heap` is off), and
/// [`Error::Aborted`] when `ctl`'s flag is raised.
///
/// Cost: one pass over the last snapshot's nodes (entries counted from each object's edges),
/// then, for the collections big enough to pass, an id lookup and count in every other
/// snapshot; the analyses (retained sizes) are the caller's.
pub fn growing_collections(
    snaps: &[(&HeapGraph, &Analysis)],
    opts: &CollectionOptions,
    ctl: Control<'_>,
) -> Result<Vec<GrowingCollection>> {
    let Some(&(fin, fin_a)) = snaps.last() else {
        return Err(Error::InvalidArg(
            "growing collections need at least two snapshots, got none".into(),
        ));
    };
    if snaps.len() < 2 {
        return Err(Error::InvalidArg(
            "growing collections need at least two snapshots, got one".into(),
        ));
    }
    for (i, (g, a)) in snaps.iter().enumerate() {
        check_analysis(&format!("#{}", i + 1), g, a)?;
    }
    if opts.check_heap {
        for w in snaps.windows(2) {
            check_same_heap(w[0].0, w[1].0)?;
        }
    }
    ctl.check()?;
    let last = snaps.len() - 1;
    let mut found: Vec<Candidate> = Vec::new();
    for x in 0..fin.node_count() as u32 {
        if x as usize % TICK == 0 {
            ctl.check()?;
        }
        if fin_a.distance(x) < 0 {
            continue;
        }
        let Some(lay) = layout(fin, x) else { continue };
        let n = count(fin, x, lay);
        let retained = fin_a.retained_size(x, opts.mode);
        if lay == Layout::Object && n < opts.min_properties.max(1) {
            continue;
        }
        if n < opts.min_growth.max(1) && retained < opts.min_retained_growth.max(1) {
            continue;
        }
        let id = fin.node_id(x);
        let mut ent = vec![0u64; snaps.len()];
        let mut ret = vec![0u64; snaps.len()];
        let mut first_seen = last;
        for (i, (g, a)) in snaps.iter().enumerate() {
            let at = if i == last { Some(x) } else { a.node_by_id(id) };
            // Same id, but not the same kind of object: V8 never reuses ids, so a crafted file.
            let Some(o) = at.filter(|&o| layout(g, o).map(Layout::kind) == Some(lay.kind())) else {
                continue;
            };
            first_seen = first_seen.min(i);
            ent[i] = count(g, o, layout(g, o).unwrap_or(lay));
            ret[i] = a.retained_size(o, opts.mode);
        }
        // Two snapshots at least must show it, or "growth" is its creation.
        if first_seen == last {
            continue;
        }
        let entry_growth = ent[last].saturating_sub(ent[0]);
        let retained_growth = ret[last].saturating_sub(ret[0]);
        let entries_grew = grows(&ent) && entry_growth >= opts.min_growth.max(1);
        let retained_grew = grows(&ret) && retained_growth >= opts.min_retained_growth.max(1);
        if entries_grew || retained_grew {
            found.push(Candidate {
                ordinal: x,
                lay,
                entries: ent,
                retained: ret,
                first_seen,
                entries_grew,
            });
        }
    }
    drop_explained(fin_a, &mut found);
    let growth = |c: &Candidate| {
        (
            c.retained[last] as i64 - c.retained[0] as i64,
            c.entries[last] as i64 - c.entries[0] as i64,
        )
    };
    found.sort_by(|x, y| {
        growth(y)
            .cmp(&growth(x))
            .then_with(|| fin.node_id(x.ordinal).cmp(&fin.node_id(y.ordinal)))
    });
    found.truncate(opts.max_collections);
    let path_opts = LeakOptions {
        mode: opts.mode,
        path_kind: opts.path_kind,
        max_path_steps: opts.max_path_steps,
        ..LeakOptions::default()
    };
    let mut work = ctl.budget(4096);
    let mut out = Vec::with_capacity(found.len());
    for c in found {
        ctl.check()?;
        let x = c.ordinal;
        let path = sample_path(fin, fin_a, x, &path_opts, &mut work)?;
        let mut all = entries(fin, x, c.lay);
        all.sort_by_key(|e| std::cmp::Reverse(e.order));
        let newest = all
            .iter()
            .take(opts.max_samples)
            .map(|e| EntrySample {
                key: describe(fin, fin_a, e.key),
                value: match c.lay.kind() {
                    CollectionKind::Set => String::new(),
                    _ => describe(fin, fin_a, e.value),
                },
            })
            .collect();
        let (retained_growth, entry_growth) = growth(&c);
        out.push(GrowingCollection {
            id: fin.node_id(x),
            kind: c.lay.kind(),
            class_name: fin_a.class_name(fin, x).to_owned(),
            name: path.as_ref().map(holder_name).unwrap_or_default(),
            entries: c.entries,
            retained_sizes: c.retained,
            first_seen: c.first_seen,
            entry_growth,
            retained_growth,
            entries_grew: c.entries_grew,
            location: path.as_ref().and_then(|p| holder_location(fin, p)),
            path,
            newest,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layouts_of_real_snapshots() {
        // Sizes read from Node 20-26 snapshots: a Map of capacity 8 (264 bytes, entries from
        // slot 7), of capacity 4096 (114 728 bytes, from slot 2051), a Set of capacity 4 (120
        // bytes, from slot 5), a Map subclass of capacity 4 (152 bytes, from slot 5).
        assert_eq!(table_base(264, 3), Some(7));
        assert_eq!(table_base(114_728, 3), Some(2051));
        assert_eq!(table_base(120, 2), Some(5));
        assert_eq!(table_base(152, 3), Some(5));
        // Not a table of that layout.
        assert_eq!(table_base(120, 3), None);
        assert_eq!(table_base(152, 2), None);
        assert_eq!(table_base(0, 3), None);
        assert_eq!(table_base(7, 2), None);
        // Pointer compression: 4-byte words (8-byte header), capacity 4 map = 17 slots.
        assert_eq!(table_base(8 + 17 * 4, 3), Some(5));
    }

    #[test]
    fn growth_is_strict_in_every_step() {
        assert!(grows(&[0, 1500, 3000]));
        assert!(grows(&[1, 2]));
        assert!(!grows(&[0, 1500, 1500]));
        assert!(!grows(&[100, 100, 100]));
        assert!(!grows(&[50, 80, 30]));
    }

    #[test]
    fn samples_are_shortened() {
        assert_eq!(shorten("abc"), "abc");
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), SAMPLE_TEXT + 1);
        assert_eq!(shorten(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
    }
}
