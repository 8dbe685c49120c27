//! Growing collections (docs/leaks.md#growing-collections) on hand-made series laid out as V8
//! writes them: a Map's `table` with entry slots after the counts and buckets, an array's
//! element edges, a dictionary object's properties. Real snapshots of Node 20-26 are checked by
//! __test__/collections.test.js.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::Analysis;
use leakguard_core::compare::{growing_collections, CollectionKind, CollectionOptions};
use leakguard_core::{Control, Error, HeapGraph};

const HIDDEN: u32 = 0;
const ARRAY: u32 = 1;
const STRING: u32 = 2;
const OBJECT: u32 = 3;
const NUMBER: u32 = 7;
const SYNTHETIC: u32 = 9;
const ELEMENT: u32 = 1;
const PROPERTY: u32 = 2;
const INTERNAL: u32 = 3;
const SHORTCUT: u32 = 5;

/// A Map table of capacity 16 on 8-byte words: 3 counts + 8 buckets + 16 × 3 entry slots.
const MAP_TABLE_SIZE: u32 = 16 + (3 + 8 + 48) * 8;
/// Its first entry slot.
const MAP_BASE: u32 = 11;

type Node = (u32, String, u32, u32);

/// One snapshot under construction: root, `(GC roots)`, Global (id 101).
struct Heap {
    nodes: Vec<Node>,
    edges: Vec<(u32, u32, String, u32)>,
}

impl Heap {
    const GLOBAL: u32 = 2;

    fn new() -> Heap {
        Heap {
            nodes: vec![
                (SYNTHETIC, String::new(), 1, 0),
                (SYNTHETIC, "(GC roots)".into(), 3, 0),
                (OBJECT, "Global".into(), 101, 10),
            ],
            edges: vec![
                (0, ELEMENT, "1".into(), 1),
                (0, SHORTCUT, "global".into(), 2),
            ],
        }
    }

    fn node(&mut self, ty: u32, name: &str, id: u32, size: u32) -> u32 {
        self.nodes.push((ty, name.to_owned(), id, size));
        (self.nodes.len() - 1) as u32
    }

    fn edge(&mut self, from: u32, ty: u32, name: impl ToString, to: u32) {
        self.edges.push((from, ty, name.to_string(), to));
    }

    /// `global.name` = a `class` Map (id `id`) of `n` string → string entries (ids from
    /// `id * 100`), entry `deleted` (if any) deleted (its slots point to the hole, as in Node 22).
    fn map(&mut self, class: &str, name: &str, id: u32, n: u32, deleted: Option<u32>) {
        let map = self.node(OBJECT, class, id, 32);
        let table = self.node(ARRAY, "", id + 1, MAP_TABLE_SIZE);
        self.edge(Self::GLOBAL, PROPERTY, name, map);
        self.edge(map, INTERNAL, "table", table);
        let hole = self.node(HIDDEN, "system / Hole", 9, 16);
        for k in 0..n {
            let slot = MAP_BASE + 3 * k;
            if Some(k) == deleted {
                self.edge(table, INTERNAL, slot, hole);
                self.edge(table, INTERNAL, slot + 1, hole);
                continue;
            }
            let key = self.node(STRING, &format!("key-{k}"), id * 100 + 2 * k, 24);
            let value = self.node(STRING, &format!("value-{k}"), id * 100 + 2 * k + 1, 32);
            self.edge(table, INTERNAL, slot, key);
            self.edge(table, INTERNAL, slot + 1, value);
        }
    }

    /// `global.name` = an Array (id `id`) of `n` small arrays.
    fn array(&mut self, name: &str, id: u32, n: u32) {
        let arr = self.node(OBJECT, "Array", id, 32);
        self.edge(Self::GLOBAL, PROPERTY, name, arr);
        for k in 0..n {
            let item = self.node(OBJECT, "Array", id * 100 + k, 32);
            self.edge(arr, ELEMENT, k, item);
        }
    }

    /// `global.name` = a plain object (id `id`) with `n` number properties.
    fn dict(&mut self, name: &str, id: u32, n: u32) {
        let obj = self.node(OBJECT, "Object", id, 24);
        self.edge(Self::GLOBAL, PROPERTY, name, obj);
        for k in 0..n {
            let v = self.node(NUMBER, "heap number", id * 100 + k, 16);
            self.edge(obj, PROPERTY, format!("user{k}"), v);
        }
    }

    fn analysed(&self) -> (HeapGraph, Analysis) {
        let nodes: Vec<(u32, &str, u32, u32)> = self
            .nodes
            .iter()
            .map(|(t, n, i, s)| (*t, n.as_str(), *i, *s))
            .collect();
        let edges: Vec<(u32, u32, &str, u32)> = self
            .edges
            .iter()
            .map(|(f, t, n, to)| (*f, *t, n.as_str(), *to))
            .collect();
        analyse_text(&build_snapshot(&nodes, &edges))
    }
}

/// One series step: every collection with its entry count at this step.
fn step(requests: u32, lru: u32, filled: u32, batches: u32, scores: u32, weak: u32) -> Heap {
    let mut h = Heap::new();
    h.map("Map", "requests", 201, requests, None);
    h.map("Map", "lru", 301, lru, None);
    h.map("Map", "filled", 401, filled, None);
    h.array("batches", 501, batches);
    h.dict("scores", 601, scores);
    h.map("WeakMap", "weak", 701, weak, None);
    h
}

fn run(
    heaps: &[Heap],
    opts: &CollectionOptions,
) -> Vec<leakguard_core::compare::GrowingCollection> {
    let done: Vec<(HeapGraph, Analysis)> = heaps.iter().map(Heap::analysed).collect();
    let pairs: Vec<(&HeapGraph, &Analysis)> = done.iter().map(|(g, a)| (g, a)).collect();
    growing_collections(&pairs, opts, Control::NONE).expect("growing_collections")
}

#[test]
fn growing_ones_are_listed_with_counts_names_and_newest_entries() {
    let series = [
        step(0, 12, 0, 2, 16, 0),
        step(6, 12, 14, 9, 20, 5),
        step(14, 12, 14, 15, 40, 10),
    ];
    let found = run(&series, &CollectionOptions::default());
    let by_name: Vec<(&str, CollectionKind, Vec<u64>)> = found
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.entries.clone()))
        .collect();
    // Grown in every step by >= 10: requests, batches, scores. Not: the LRU (flat), the table
    // filled once (0 → 14 → 14) and the WeakMap (never a collection).
    let mut names: Vec<&str> = by_name.iter().map(|c| c.0).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["batches", "requests", "scores"], "{by_name:?}");
    let requests = found.iter().find(|c| c.name == "requests").unwrap();
    assert_eq!(requests.kind, CollectionKind::Map);
    assert_eq!(requests.entries, vec![0, 6, 14]);
    assert_eq!(requests.entry_growth, 14);
    assert!(requests.entries_grew);
    assert_eq!(requests.first_seen, 0);
    assert!(requests.retained_sizes[2] > requests.retained_sizes[1]);
    assert_eq!(
        requests.path.as_ref().map(|p| p.text.as_str()),
        Some("Global → .requests → Map")
    );
    // Newest first: the highest entry slots, strings quoted.
    let newest: Vec<(&str, &str)> = requests
        .newest
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        newest,
        vec![
            ("\"key-13\"", "\"value-13\""),
            ("\"key-12\"", "\"value-12\""),
            ("\"key-11\"", "\"value-11\"")
        ]
    );
    let batches = found.iter().find(|c| c.name == "batches").unwrap();
    assert_eq!(
        (batches.kind, batches.entries.clone()),
        (CollectionKind::Array, vec![2, 9, 15])
    );
    assert_eq!(batches.newest[0].key, "[14]");
    assert!(batches.newest[0].value.starts_with("Array @"));
    let scores = found.iter().find(|c| c.name == "scores").unwrap();
    assert_eq!(
        (scores.kind, scores.entries.clone()),
        (CollectionKind::Object, vec![16, 20, 40])
    );
    assert_eq!(scores.newest[0].value, "(number)");
    // Ranked by retained growth: the Map's strings weigh most.
    assert_eq!(found[0].name, "requests");
}

#[test]
fn deleted_entries_and_thresholds() {
    // Node 22 writes a deleted entry's slots as edges to the hole: not an entry.
    let mut a = Heap::new();
    a.map("Map", "m", 201, 4, None);
    let mut b = Heap::new();
    b.map("Map", "m", 201, 12, Some(3));
    let mut c = Heap::new();
    c.map("Map", "m", 201, 16, Some(3));
    let opts = CollectionOptions {
        min_growth: 2,
        ..CollectionOptions::default()
    };
    let found = run(&[a, b, c], &opts);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].entries, vec![4, 11, 15]);
    // min_growth above the growth, and a retained-size floor out of reach: nothing.
    let mut a = Heap::new();
    a.map("Map", "m", 201, 4, None);
    let mut b = Heap::new();
    b.map("Map", "m", 201, 8, None);
    let strict = CollectionOptions {
        min_growth: 5,
        min_retained_growth: u64::MAX,
        ..CollectionOptions::default()
    };
    assert!(run(&[a, b], &strict).is_empty());
}

#[test]
fn a_subclass_a_late_collection_and_bad_input() {
    // A Map subclass is told by its table's size; one created after the first snapshot counts 0.
    let mut a = Heap::new();
    a.map("Cache", "late", 201, 0, None);
    a.nodes.truncate(3);
    a.edges.truncate(2);
    let mut b = Heap::new();
    b.map("Cache", "late", 201, 10, None);
    let mut c = Heap::new();
    c.map("Cache", "late", 201, 20, None);
    let found = run(&[a, b, c], &CollectionOptions::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, CollectionKind::Map);
    assert_eq!(found[0].class_name, "Cache");
    assert_eq!(
        (found[0].entries.clone(), found[0].first_seen),
        (vec![0, 10, 20], 1)
    );

    // Fewer than two snapshots, or an analysis of another snapshot: InvalidArg.
    let (g, a) = step(1, 1, 1, 1, 1, 1).analysed();
    let (g2, a2) = step(30, 1, 1, 1, 1, 1).analysed();
    let one = growing_collections(&[(&g, &a)], &CollectionOptions::default(), Control::NONE);
    assert!(matches!(one, Err(Error::InvalidArg(_))), "{one:?}");
    let none = growing_collections(&[], &CollectionOptions::default(), Control::NONE);
    assert!(matches!(none, Err(Error::InvalidArg(_))), "{none:?}");
    let wrong = growing_collections(
        &[(&g, &a2), (&g2, &a2)],
        &CollectionOptions::default(),
        Control::NONE,
    );
    assert!(matches!(wrong, Err(Error::InvalidArg(_))), "{wrong:?}");
}
