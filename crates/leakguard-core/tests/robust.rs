//! Robustness: every truncation of a vector, random byte flips, and a structure-aware generator
//! of random snapshots (random layouts, enums, strings and key orders) that must round-trip
//! exactly, and whose mutations must never panic. Time-bounded; set `LEAKGUARD_FUZZ_SECS` to run
//! the generator longer.

mod common;
use common::*;
use leakguard_core::{parse_bytes, Control, EdgeName, Error, HeapGraph, LoadOptions};
use std::fmt::Write as _;

#[test]
fn every_truncation_of_v1_is_a_parse_error() {
    let full = vector("v1");
    let complete = full.trim_ascii_end();
    for cut in 0..full.len() {
        let prefix = &full[..cut];
        let result = parse(prefix);
        if prefix.trim_ascii_end() == complete {
            assert!(result.is_ok(), "cut {cut} only drops trailing whitespace");
            continue;
        }
        match result {
            Err(Error::Parse { offset, .. }) => assert!(offset as usize <= cut),
            other => panic!("cut {cut}: {:?}", other.map(|g| g.node_count())),
        }
        assert!(
            matches!(parse_serial(prefix), Err(Error::Parse { .. })),
            "serial cut {cut}"
        );
    }
}

#[test]
fn byte_flips_of_vectors_never_panic() {
    let mut rng = Rng::new(0xb17f);
    let vectors: Vec<Vec<u8>> = ["v1", "v1b", "v2", "v3"]
        .iter()
        .map(|n| vector(n))
        .collect();
    let mut budget = Budget::new(Budget::secs_from_env(2.0), 4000, 20_000);
    let mut oks = 0;
    while budget.more() {
        let mut bytes = vectors[rng.below(vectors.len())].clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len());
            match rng.below(5) {
                0 => bytes[at] = rng.next() as u8,
                1 => bytes[at] = b"0123456789,[]{}\":\\ -.eu"[rng.below(23)],
                2 => bytes[at] ^= 1 << rng.below(8),
                3 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, b"0123456789,[]{}\""[rng.below(16)]),
            }
        }
        if let Ok(g) = parse(&bytes) {
            check_invariants(&g);
            oks += 1;
        }
    }
    assert!(
        oks > 0,
        "some flips (e.g. inside names) leave a valid snapshot"
    );
}

/// What a generated snapshot must parse to.
struct Expected {
    node_type_names: Vec<String>,
    edge_type_names: Vec<String>,
    strings: Vec<String>,
    /// (type, name, id, self_size, detachedness, trace)
    nodes: Vec<(usize, u32, u32, u64, u8, u32)>,
    /// Per node: (type, name_or_index, to)
    edges: Vec<Vec<(usize, u32, u32)>>,
    root: u32,
}

const NODE_TYPES: [&str; 15] = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
];
const EDGE_TYPES: [&str; 7] = [
    "context", "element", "property", "internal", "hidden", "shortcut", "weak",
];

/// A random JSON string literal and the text it must decode to.
fn random_string(rng: &mut Rng) -> (String, String) {
    let mut lit = String::from("\"");
    let mut text = String::new();
    for _ in 0..rng.below(8) {
        match rng.below(12) {
            0 => {
                let (l, t) = [
                    ("\\\"", "\""),
                    ("\\\\", "\\"),
                    ("\\/", "/"),
                    ("\\n", "\n"),
                    ("\\t", "\t"),
                    ("\\b", "\u{8}"),
                    ("\\f", "\u{c}"),
                    ("\\r", "\r"),
                ][rng.below(8)];
                lit.push_str(l);
                text.push_str(t);
            }
            1 => {
                // BMP escape outside the surrogate range.
                let c = loop {
                    let u = rng.below(0x10000) as u32;
                    if let Some(c) = char::from_u32(u) {
                        break c;
                    }
                };
                write!(lit, "\\u{:04x}", c as u32).unwrap();
                text.push(c);
            }
            2 => {
                // Valid surrogate pair.
                let c = char::from_u32(0x10000 + rng.below(0x100000) as u32).unwrap();
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    write!(lit, "\\u{:04X}", u).unwrap();
                }
                text.push(c);
            }
            3 => {
                // Lone surrogate: a high one followed by a non-escape, or a low one (which never
                // follows a high one here, since those are always followed by 'z').
                if rng.chance(2) {
                    write!(lit, "\\u{:04x}z", 0xD800 + rng.below(0x400)).unwrap();
                    text.push_str("\u{FFFD}z");
                } else {
                    write!(lit, "\\u{:04X}", 0xDC00 + rng.below(0x400)).unwrap();
                    text.push('\u{FFFD}');
                }
            }
            4 => {
                let c = ['é', '漢', '😀', 'ß', '\u{7f}'][rng.below(5)];
                lit.push(c);
                text.push(c);
            }
            _ => {
                let c = (b'a' + rng.below(26) as u8) as char;
                lit.push(c);
                text.push(c);
            }
        }
    }
    lit.push('"');
    (lit, text)
}

fn sep(rng: &mut Rng) -> &'static str {
    [",", ",", ",", "\n,", ", ", " ,\n "][rng.below(6)]
}

/// Generates a random valid snapshot.
fn generate(rng: &mut Rng) -> (String, Expected) {
    let mut node_type_names: Vec<String> = NODE_TYPES.iter().map(|s| s.to_string()).collect();
    if rng.chance(2) {
        rng.shuffle(&mut node_type_names);
    }
    if rng.chance(3) {
        node_type_names.push("wasm object".into());
    }
    let mut edge_type_names: Vec<String> = EDGE_TYPES.iter().map(|s| s.to_string()).collect();
    if rng.chance(2) {
        rng.shuffle(&mut edge_type_names);
    }
    if rng.chance(3) {
        edge_type_names.push("invisible".into());
    }
    let mut nfields = vec!["type", "name", "id", "self_size", "edge_count"];
    for opt in ["trace_node_id", "detachedness", "future_column"] {
        if rng.chance(2) {
            nfields.push(opt);
        }
    }
    rng.shuffle(&mut nfields);
    let mut efields = vec!["type", "name_or_index", "to_node"];
    if rng.chance(4) {
        efields.push("future_edge_column");
    }
    rng.shuffle(&mut efields);

    let mut strings_lit = vec!["\"<dummy>\"".to_string()];
    let mut strings = vec!["<dummy>".to_string()];
    for _ in 0..rng.below(20) {
        let (l, t) = random_string(rng);
        strings_lit.push(l);
        strings.push(t);
    }
    let sc = strings.len() as u32;
    let n = 1 + rng.below(30);
    let nodes: Vec<(usize, u32, u32, u64, u8, u32)> = (0..n)
        .map(|_| {
            let size = match rng.below(10) {
                0 => u64::from(u32::MAX) + rng.below(1 << 20) as u64,
                1 => u64::from(u32::MAX),
                _ => rng.below(1000) as u64,
            };
            let id = if rng.chance(10) {
                u32::MAX
            } else {
                rng.next() as u32
            };
            let det = if nfields.contains(&"detachedness") {
                rng.below(3) as u8
            } else {
                0
            };
            let trace = if nfields.contains(&"trace_node_id") && rng.chance(3) {
                rng.next() as u32
            } else {
                0
            };
            (
                rng.below(node_type_names.len()),
                rng.below(sc as usize) as u32,
                id,
                size,
                det,
                trace,
            )
        })
        .collect();
    let edges: Vec<Vec<(usize, u32, u32)>> = (0..n)
        .map(|_| {
            (0..rng.below(5))
                .map(|_| {
                    let t = rng.below(edge_type_names.len());
                    let indexed = matches!(edge_type_names[t].as_str(), "element" | "hidden");
                    let name = if indexed {
                        rng.next() as u32
                    } else {
                        rng.below(sc as usize) as u32
                    };
                    (t, name, rng.below(n) as u32)
                })
                .collect()
        })
        .collect();
    let root = if rng.chance(3) {
        rng.below(n) as u32
    } else {
        0
    };
    let nf = nfields.len();
    let edge_total: usize = edges.iter().map(Vec::len).sum();

    let q = |v: &[&str]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let qs = |v: &[String]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ntypes_desc: Vec<String> = nfields
        .iter()
        .map(|f| {
            if *f == "type" {
                format!("[{}]", qs(&node_type_names))
            } else {
                "\"number\"".into()
            }
        })
        .collect();
    let etypes_desc: Vec<String> = efields
        .iter()
        .map(|f| {
            if *f == "type" {
                format!("[{}]", qs(&edge_type_names))
            } else {
                "\"number\"".into()
            }
        })
        .collect();
    let root_field = if root != 0 || rng.chance(2) {
        format!(",\"root_index\":{}", root as usize * nf)
    } else {
        String::new()
    };
    let header = format!(
        "{{\"meta\":{{\"node_fields\":[{}],\"node_types\":[{}],\"edge_fields\":[{}],\"edge_types\":[{}]}},\"node_count\":{n},\"edge_count\":{edge_total},\"trace_function_count\":0{root_field}}}",
        q(&nfields), ntypes_desc.join(","), q(&efields), etypes_desc.join(",")
    );
    let mut node_nums = Vec::new();
    for (i, &(t, name, id, size, det, trace)) in nodes.iter().enumerate() {
        for f in &nfields {
            node_nums.push(match *f {
                "type" => t as u64,
                "name" => u64::from(name),
                "id" => u64::from(id),
                "self_size" => size,
                "edge_count" => edges[i].len() as u64,
                "trace_node_id" => u64::from(trace),
                "detachedness" => u64::from(det),
                _ => rng.next() % 100_000,
            });
        }
    }
    let mut edge_nums = Vec::new();
    for row in edges.iter().flatten() {
        for f in &efields {
            edge_nums.push(match *f {
                "type" => row.0 as u64,
                "name_or_index" => u64::from(row.1),
                "to_node" => u64::from(row.2) * nf as u64,
                _ => rng.next() % 7,
            });
        }
    }
    let join = |nums: &[u64], rng: &mut Rng| {
        let mut s = String::new();
        for (i, x) in nums.iter().enumerate() {
            if i > 0 {
                s.push_str(sep(rng));
            }
            write!(s, "{x}").unwrap();
        }
        s
    };
    let mut parts = vec![
        format!("\"snapshot\":{header}"),
        format!("\"nodes\":[{}]", join(&node_nums, rng)),
        format!("\"edges\":[{}]", join(&edge_nums, rng)),
        format!("\"strings\":[{}]", strings_lit.join(sep(rng))),
    ];
    if rng.chance(2) {
        parts.push("\"trace_function_infos\":[]".into());
        parts.push("\"trace_tree\":[1,0,1,2,[2,1,3,4,[]]]".into());
        parts.push("\"samples\":[0,1, 5,7]".into());
        parts.push("\"locations\":[]".into());
    }
    if rng.chance(2) {
        rng.shuffle(&mut parts);
    }
    let text = format!(
        "{}{{{}}}{}",
        if rng.chance(4) { " \n" } else { "" },
        parts.join(sep(rng)),
        if rng.chance(2) { "\n" } else { "" }
    );
    let exp = Expected {
        node_type_names,
        edge_type_names,
        strings,
        nodes,
        edges,
        root,
    };
    (text, exp)
}

fn verify(g: &HeapGraph, exp: &Expected, text: &str) {
    let ctx = || text.chars().take(3000).collect::<String>();
    assert_eq!(g.node_count(), exp.nodes.len(), "{}", ctx());
    assert_eq!(
        g.edge_count(),
        exp.edges.iter().map(Vec::len).sum::<usize>()
    );
    assert_eq!(g.string_count(), exp.strings.len());
    for (i, s) in exp.strings.iter().enumerate() {
        assert_eq!(g.string(i as u32), s, "string {i} in {}", ctx());
    }
    assert_eq!(g.root(), exp.root);
    assert_eq!(g.total_size(), exp.nodes.iter().map(|n| n.3).sum::<u64>());
    for (o, &(t, name, id, size, det, trace)) in exp.nodes.iter().enumerate() {
        let o = o as u32;
        assert_eq!(g.node_type_name(o), exp.node_type_names[t]);
        assert_eq!(g.node_name_index(o), name);
        assert_eq!(g.node_id(o), id);
        assert_eq!(g.self_size(o), size);
        assert_eq!(g.detachedness(o), det);
        assert_eq!(g.trace_node_id(o), trace);
        let got: Vec<_> = g
            .edges(o)
            .map(|e| {
                (
                    g.edge_type_name(e).to_string(),
                    g.edge_name_or_index(e),
                    g.edge_to(e),
                )
            })
            .collect();
        let want: Vec<_> = exp.edges[o as usize]
            .iter()
            .map(|&(t, nm, to)| (exp.edge_type_names[t].clone(), nm, to))
            .collect();
        assert_eq!(got, want);
        for e in g.edges(o) {
            match g.edge_name(e) {
                EdgeName::Index(i) => assert!(
                    matches!(g.edge_type_name(e), "element" | "hidden")
                        && i == g.edge_name_or_index(e)
                ),
                EdgeName::Str(s) => assert_eq!(s, exp.strings[g.edge_name_or_index(e) as usize]),
            }
        }
    }
    check_invariants(g);
}

/// Damages generated text in ways a fuzzer would: garbage tokens, deletions, duplications.
fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(b.len() + 1);
        match rng.below(6) {
            0 => {
                let tok = [
                    "-1",
                    "1.5",
                    "1e3",
                    "\"x\"",
                    "null",
                    "[",
                    "]",
                    "{",
                    "}",
                    ",",
                    ":",
                    "\\u",
                    "99999999999999999999",
                    "4294967296",
                    "\u{0}",
                ][rng.below(15)];
                b.splice(at..at, tok.bytes());
            }
            1 => {
                let end = (at + rng.below(20)).min(b.len());
                b.drain(at..end);
            }
            2 => {
                let end = (at + rng.below(40)).min(b.len());
                let piece: Vec<u8> = b[at..end].to_vec();
                b.splice(at..at, piece);
            }
            3 => {
                if let Some(x) = b.get_mut(at) {
                    *x = rng.next() as u8;
                }
            }
            4 => {
                if let Some(x) = b.get_mut(at) {
                    if x.is_ascii_digit() {
                        *x = b'0' + rng.below(10) as u8;
                    }
                }
            }
            _ => b.truncate(at),
        }
    }
    b
}

#[test]
fn generated_snapshots_round_trip_and_mutants_never_panic() {
    let seed = std::env::var("LEAKGUARD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1ea4);
    let mut rng = Rng::new(seed);
    let mut budget = Budget::new(Budget::secs_from_env(3.0), 300, usize::MAX);
    let (mut valid, mut mutants_ok) = (0usize, 0usize);
    while budget.more() {
        let (text, exp) = generate(&mut rng);
        let g = if rng.chance(2) {
            parse(text.as_bytes())
        } else {
            parse_serial(text.as_bytes())
        };
        let g = g.unwrap_or_else(|e| panic!("generated snapshot rejected: {e}\n{text}"));
        verify(&g, &exp, &text);
        valid += 1;
        for _ in 0..4 {
            let m = mutate(&mut rng, &text);
            if let Ok(g) = parse(&m) {
                check_invariants(&g);
                mutants_ok += 1;
            }
        }
    }
    assert!(valid >= 300, "ran {valid} generated snapshots");
    let _ = mutants_ok;
}

/// Generated snapshots and their mutants parse the same serially and with the edges array cut
/// into tiny chunks on several threads: the same graph, or the same error (the one the serial
/// parse reports, even when several parts of the input are broken).
#[test]
fn generated_snapshots_and_mutants_parse_the_same_in_chunks() {
    let seed: u64 = std::env::var("LEAKGUARD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1ea4);
    // A stream of its own, so this test does not replay the other generator test's inputs.
    let mut rng = Rng::new(seed ^ 0xc4c4_5917);
    let mut budget = Budget::new(Budget::secs_from_env(3.0), 200, usize::MAX);
    let outcome = |r: leakguard_core::Result<HeapGraph>| r.map(|g| dump(&g));
    let (mut compared, mut errors) = (0usize, 0usize);
    while budget.more() {
        let (text, _) = generate(&mut rng);
        let mut inputs = vec![text.clone().into_bytes()];
        for _ in 0..4 {
            inputs.push(mutate(&mut rng, &text));
        }
        for bytes in inputs {
            let want = outcome(parse_serial(&bytes));
            let threads = 2 + rng.below(2);
            let chunk_bytes = 1 + rng.below(24);
            let opts = LoadOptions {
                threads,
                chunk_bytes,
            };
            let got = outcome(parse_bytes(&bytes, &opts, Control::NONE));
            assert!(
                got == want,
                "threads {threads} chunk {chunk_bytes}: got {:?}, want {:?}\n{}",
                got.as_ref().err(),
                want.as_ref().err(),
                String::from_utf8_lossy(&bytes)
            );
            compared += 1;
            errors += usize::from(want.is_err());
        }
    }
    eprintln!("chunked vs serial: {compared} inputs compared, {errors} of them errors");
    assert!(
        errors > 0 && errors < compared,
        "{errors} errors in {compared}"
    );
}
