//! Helpers shared by the analysis tests: loading vectors, building tiny snapshots, rewriting
//! snapshots (column permutation, root relabelling).

#![allow(dead_code)]

use leakguard_core::analysis::Analysis;
use leakguard_core::Control;
use leakguard_core::{parse_bytes, HeapGraph, LoadOptions};
use serde_json::{json, Value};
use std::path::PathBuf;

/// Path of a test vector shipped with the crate, by bare name (`"v1"`), as in `common`.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(format!("{name}.json"))
}

pub fn vector_json(name: &str) -> Value {
    let bytes = std::fs::read(vector_path(name)).expect("read vector");
    serde_json::from_slice(&bytes).expect("vector is JSON")
}

pub fn parse_value(v: &Value) -> HeapGraph {
    let bytes = serde_json::to_vec(v).expect("serialise");
    parse_bytes(&bytes, &LoadOptions::default(), Control::NONE).expect("parse")
}

pub fn load(name: &str) -> (HeapGraph, Analysis) {
    let g = parse_value(&vector_json(name));
    let a = Analysis::compute(&g, Control::NONE).expect("analysis");
    (g, a)
}

pub fn analyse(v: &Value) -> (HeapGraph, Analysis) {
    let g = parse_value(v);
    let a = Analysis::compute(&g, Control::NONE).expect("analysis");
    (g, a)
}

/// The Node 24 meta used by all vectors.
pub fn meta() -> Value {
    json!({
        "node_fields": ["type","name","id","self_size","edge_count","detachedness"],
        "node_types": [["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],
        "edge_fields": ["type","name_or_index","to_node"],
        "edge_types": [["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],
        "trace_function_info_fields": ["function_id","name","script_name","script_id","line","column"],
        "trace_node_fields": ["id","function_info_index","count","size","children"],
        "sample_fields": ["timestamp_us","last_assigned_id"],
        "location_fields": ["object_index","script_id","line","column"]
    })
}

/// Builds a snapshot text for a small graph given as node list and edge list.
/// Nodes: (type index, name, id, self size). Edges: (from, type index, name or index, to);
/// string names are interned, element/hidden edges take `name` parsed as a number.
pub fn build_snapshot(nodes: &[(u32, &str, u32, u32)], edges: &[(u32, u32, &str, u32)]) -> String {
    const NF: u32 = 6;
    let mut strings: Vec<String> = vec!["<dummy>".into()];
    let intern = |s: &str, strings: &mut Vec<String>| -> u32 {
        if let Some(i) = strings.iter().position(|x| x == s) {
            return i as u32;
        }
        strings.push(s.to_owned());
        (strings.len() - 1) as u32
    };
    let mut per_node: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); nodes.len()];
    for &(from, ty, name, to) in edges {
        let n = if ty == 1 || ty == 4 {
            name.parse().expect("index")
        } else {
            intern(name, &mut strings)
        };
        per_node[from as usize].push((ty, n, to * NF));
    }
    let mut node_arr = String::new();
    let mut edge_arr = String::new();
    let mut edge_count = 0;
    for (i, &(ty, name, id, size)) in nodes.iter().enumerate() {
        let ni = intern(name, &mut strings);
        if !node_arr.is_empty() {
            node_arr.push(',');
        }
        node_arr.push_str(&format!("{ty},{ni},{id},{size},{},0", per_node[i].len()));
        for &(t, n, to) in &per_node[i] {
            if !edge_arr.is_empty() {
                edge_arr.push(',');
            }
            edge_arr.push_str(&format!("{t},{n},{to}"));
            edge_count += 1;
        }
    }
    format!(
        "{{\"snapshot\":{{\"meta\":{},\"node_count\":{},\"edge_count\":{edge_count},\"trace_function_count\":0}},\"nodes\":[{node_arr}],\"edges\":[{edge_arr}],\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[],\"strings\":{}}}",
        meta(),
        nodes.len(),
        serde_json::to_string(&strings).unwrap()
    )
}

pub fn analyse_text(text: &str) -> (HeapGraph, Analysis) {
    let g = parse_bytes(text.as_bytes(), &LoadOptions::default(), Control::NONE).expect("parse");
    let a = Analysis::compute(&g, Control::NONE).expect("analysis");
    (g, a)
}

fn as_u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// Rewrites a snapshot so that node/edge columns appear in the order given by `node_perm` /
/// `edge_perm` (lists of field names), optionally inserting a zero `trace_node_id` column.
pub fn permute_columns(src: &Value, node_order: &[&str], edge_order: &[&str]) -> Value {
    let mut v = src.clone();
    let meta = &src["snapshot"]["meta"];
    let nf: Vec<String> = serde_json::from_value(meta["node_fields"].clone()).unwrap();
    let ef: Vec<String> = serde_json::from_value(meta["edge_fields"].clone()).unwrap();
    let nodes = as_u64s(&src["nodes"]);
    let edges = as_u64s(&src["edges"]);
    let new_nf = node_order.len() as u64;
    let old_nf = nf.len() as u64;
    let remap = |arr: &[u64], old: &[String], new: &[&str]| -> Vec<u64> {
        let mut out = Vec::new();
        for row in arr.chunks(old.len()) {
            for f in new {
                out.push(old.iter().position(|o| o == f).map_or(0, |i| row[i]));
            }
        }
        out
    };
    let mut new_edges = remap(&edges, &ef, edge_order);
    // to_node is a node index (ordinal * NF): rescale when NF changes.
    let to_pos = edge_order.iter().position(|f| *f == "to_node").unwrap();
    for row in new_edges.chunks_mut(edge_order.len()) {
        row[to_pos] = row[to_pos] / old_nf * new_nf;
    }
    let new_nodes = remap(&nodes, &nf, node_order);
    // node_types: element 0 is the enum of `type`; put it where `type` now is.
    let type_enum = meta["node_types"][0].clone();
    let mut node_types: Vec<Value> = node_order.iter().map(|_| json!("number")).collect();
    node_types[node_order.iter().position(|f| *f == "type").unwrap()] = type_enum;
    let edge_enum = meta["edge_types"][0].clone();
    let mut edge_types: Vec<Value> = edge_order.iter().map(|_| json!("number")).collect();
    edge_types[edge_order.iter().position(|f| *f == "type").unwrap()] = edge_enum;
    v["snapshot"]["meta"]["node_fields"] = json!(node_order);
    v["snapshot"]["meta"]["node_types"] = json!(node_types);
    v["snapshot"]["meta"]["edge_fields"] = json!(edge_order);
    v["snapshot"]["meta"]["edge_types"] = json!(edge_types);
    v["nodes"] = json!(new_nodes);
    v["edges"] = json!(new_edges);
    v
}

/// Moves the root (node 0) to the end, relabelling every `to_node`, and sets `root_index`.
/// Returns the new snapshot and the old-ordinal -> new-ordinal map.
pub fn root_last(src: &Value) -> (Value, Vec<u32>) {
    let mut v = src.clone();
    let nf = src["snapshot"]["meta"]["node_fields"]
        .as_array()
        .unwrap()
        .len();
    let ef = src["snapshot"]["meta"]["edge_fields"]
        .as_array()
        .unwrap()
        .len();
    let nodes = as_u64s(&src["nodes"]);
    let edges = as_u64s(&src["edges"]);
    let n = nodes.len() / nf;
    let ec_pos = 4; // edge_count column in the vectors' layout
    let map: Vec<u32> = (0..n as u32)
        .map(|o| if o == 0 { n as u32 - 1 } else { o - 1 })
        .collect();
    // Split edges per node.
    let mut per_node: Vec<Vec<u64>> = Vec::new();
    let mut at = 0;
    for o in 0..n {
        let c = nodes[o * nf + ec_pos] as usize * ef;
        per_node.push(edges[at..at + c].to_vec());
        at += c;
    }
    let order: Vec<usize> = (1..n).chain(std::iter::once(0)).collect();
    let mut new_nodes = Vec::new();
    let mut new_edges = Vec::new();
    for &o in &order {
        new_nodes.extend_from_slice(&nodes[o * nf..o * nf + nf]);
        for row in per_node[o].chunks(ef) {
            let mut r = row.to_vec();
            r[2] = u64::from(map[(r[2] as usize) / nf]) * nf as u64;
            new_edges.extend(r);
        }
    }
    v["nodes"] = json!(new_nodes);
    v["edges"] = json!(new_edges);
    v["snapshot"]["root_index"] = json!((n - 1) * nf);
    (v, map)
}
