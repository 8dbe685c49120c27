//! Helpers shared by the integration tests: vector loading, a seeded PRNG, snapshot rewriting and
//! a canonical text dump of a graph for whole-graph comparisons.
#![allow(dead_code)]

use leakguard_core::{parse_bytes, Control, EdgeName, HeapGraph, LoadOptions, Result};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Path of a test vector shipped with the crate.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(format!("{name}.json"))
}

/// Bytes of a test vector.
pub fn vector(name: &str) -> Vec<u8> {
    std::fs::read(vector_path(name)).expect("test vector present")
}

/// Parses with default options.
pub fn parse(bytes: &[u8]) -> Result<HeapGraph> {
    parse_bytes(bytes, &LoadOptions::default(), Control::NONE)
}

/// Parses serially (one thread) so a failure is reproducible step by step.
pub fn parse_serial(bytes: &[u8]) -> Result<HeapGraph> {
    parse_bytes(
        bytes,
        &LoadOptions {
            threads: 1,
            ..LoadOptions::default()
        },
        Control::NONE,
    )
}

/// xorshift64*: deterministic, dependency-free randomness for property tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A loop budget: at least `min_iters` iterations unless `limit` elapsed, at most `max_iters`.
pub struct Budget {
    start: Instant,
    limit: Duration,
    min_iters: usize,
    max_iters: usize,
    pub iters: usize,
}

impl Budget {
    pub fn new(limit: Duration, min_iters: usize, max_iters: usize) -> Budget {
        Budget {
            start: Instant::now(),
            limit,
            min_iters,
            max_iters,
            iters: 0,
        }
    }
    /// Seconds from `LEAKGUARD_FUZZ_SECS`, else `default`.
    pub fn secs_from_env(default: f64) -> Duration {
        let s = std::env::var("LEAKGUARD_FUZZ_SECS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(default);
        Duration::from_secs_f64(s)
    }
    pub fn more(&mut self) -> bool {
        let go = self.iters < self.max_iters
            && (self.iters < self.min_iters || self.start.elapsed() < self.limit)
            && self.start.elapsed() < self.limit * 4;
        if go {
            self.iters += 1;
        }
        go
    }
}

/// Rewrites a snapshot so that node columns appear in `node_order` (indices into the original
/// `node_fields`, each once) and edge columns in `edge_order`; with `add_trace`, a zero
/// `trace_node_id` column is inserted at `trace_pos` of the new node layout. `node_types` and
/// `edge_types` descriptors are permuted alongside, as a producer writing that layout would.
pub fn rewrite(
    bytes: &[u8],
    node_order: &[usize],
    edge_order: &[usize],
    add_trace: Option<usize>,
) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bytes).expect("vector is JSON");
    let meta = &v["snapshot"]["meta"];
    let nfields: Vec<Value> = meta["node_fields"].as_array().unwrap().clone();
    let ntypes: Vec<Value> = meta["node_types"].as_array().unwrap().clone();
    let efields: Vec<Value> = meta["edge_fields"].as_array().unwrap().clone();
    let etypes: Vec<Value> = meta["edge_types"].as_array().unwrap().clone();
    let nf = nfields.len();
    let ef = efields.len();
    assert_eq!(node_order.len(), nf);
    assert_eq!(edge_order.len(), ef);
    // New node layout as a list of Some(original column) / None (inserted zero column).
    let mut layout: Vec<Option<usize>> = node_order.iter().map(|&c| Some(c)).collect();
    if let Some(p) = add_trace {
        layout.insert(p.min(layout.len()), None);
    }
    let new_nf = layout.len();
    let pick = |list: &[Value], c: Option<usize>, dflt: Value| match c {
        Some(c) => list.get(c).cloned().unwrap_or(json!("number")),
        None => dflt,
    };
    let new_nfields: Vec<Value> = layout
        .iter()
        .map(|&c| pick(&nfields, c, json!("trace_node_id")))
        .collect();
    let new_ntypes: Vec<Value> = layout
        .iter()
        .map(|&c| pick(&ntypes, c, json!("number")))
        .collect();
    let new_efields: Vec<Value> = edge_order.iter().map(|&c| efields[c].clone()).collect();
    let new_etypes: Vec<Value> = edge_order
        .iter()
        .map(|&c| etypes.get(c).cloned().unwrap_or(json!("number")))
        .collect();
    let to_pos = efields.iter().position(|f| f == "to_node").unwrap();
    let nodes: Vec<u64> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    let edges: Vec<u64> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    let mut new_nodes = Vec::new();
    for row in nodes.chunks(nf) {
        for &c in &layout {
            new_nodes.push(c.map_or(0, |c| row[c]));
        }
    }
    let mut new_edges = Vec::new();
    for row in edges.chunks(ef) {
        for &c in edge_order {
            let mut x = row[c];
            if c == to_pos {
                x = x / nf as u64 * new_nf as u64;
            }
            new_edges.push(x);
        }
    }
    if let Some(r) = v["snapshot"]["root_index"].as_u64() {
        v["snapshot"]["root_index"] = json!(r / nf as u64 * new_nf as u64);
    }
    let m = &mut v["snapshot"]["meta"];
    m["node_fields"] = Value::Array(new_nfields);
    m["node_types"] = Value::Array(new_ntypes);
    m["edge_fields"] = Value::Array(new_efields);
    m["edge_types"] = Value::Array(new_etypes);
    v["nodes"] = json!(new_nodes);
    v["edges"] = json!(new_edges);
    serde_json::to_vec(&v).unwrap()
}

/// Edits a snapshot through serde_json (only for vectors without lone surrogates).
pub fn edit(bytes: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bytes).expect("vector is JSON");
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// A canonical, layout-independent text dump of everything a graph exposes.
pub fn dump(g: &HeapGraph) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "nodes {} edges {} total {} root {} det {}",
        g.node_count(),
        g.edge_count(),
        g.total_size(),
        g.root(),
        g.has_detachedness()
    )
    .unwrap();
    for n in 0..g.node_count() as u32 {
        writeln!(
            s,
            "#{n} {:?} {:?} {:?} id={} size={} det={} trace={} out={}",
            g.node_type(n),
            g.node_type_name(n),
            g.node_name(n),
            g.node_id(n),
            g.self_size(n),
            g.detachedness(n),
            g.trace_node_id(n),
            g.edge_count_of(n)
        )
        .unwrap();
        for e in g.edges(n) {
            let name = match g.edge_name(e) {
                EdgeName::Index(i) => format!("[{i}]"),
                EdgeName::Str(t) => format!("{t:?}"),
            };
            writeln!(s, "  -> {:?} {name} #{}", g.edge_type(e), g.edge_to(e)).unwrap();
        }
        let rets: Vec<_> = g.retainers(n).collect();
        writeln!(s, "  <- {rets:?}").unwrap();
    }
    s
}

/// Checks invariants every successfully parsed graph must satisfy (CSR shapes, retainers being
/// exactly the reverse of the forward edges).
pub fn check_invariants(g: &HeapGraph) {
    let n = g.node_count();
    let mut expect: Vec<Vec<(usize, u32)>> = vec![Vec::new(); n];
    let mut total = 0u64;
    let mut edges_seen = 0usize;
    for src in 0..n as u32 {
        total += g.self_size(src);
        let r = g.edges(src);
        assert_eq!(r.start, edges_seen, "edges are contiguous in node order");
        edges_seen = r.end;
        for e in r {
            let t = g.edge_to(e) as usize;
            assert!(t < n, "edge target in range");
            expect[t].push((e, src));
        }
    }
    assert_eq!(edges_seen, g.edge_count());
    assert_eq!(total, g.total_size());
    for (t, want) in expect.iter().enumerate() {
        let got: Vec<_> = g.retainers(t as u32).collect();
        assert_eq!(&got, want, "retainers of {t}");
    }
}

/// What a parse's progress reports must look like: 2 to 101 reports, strictly increasing,
/// within 0..=1, ending at exactly 1.
pub fn assert_progress(seen: &[f64]) {
    assert!(
        seen.len() >= 2 && seen.len() <= 101,
        "{} reports",
        seen.len()
    );
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "monotone: {seen:?}");
    assert!(seen.iter().all(|&f| (0.0..=1.0).contains(&f)));
    assert_eq!(seen.last().copied(), Some(1.0));
}
