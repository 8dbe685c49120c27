//! The edges array parsed in chunks by several threads must give exactly what the serial parse
//! gives: the same graph, and for malformed input the same error, message and offset, also when
//! the error lies in a later chunk or several chunks fail. `chunk_bytes` forces tiny chunks so
//! that boundaries fall everywhere: at row boundaries, mid-row (they then move to the next row),
//! and inside every kind of whitespace between numbers.

mod common;
use common::*;
use leakguard_core::{parse_bytes, Control, Error, HeapGraph, LoadOptions, Result};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

fn chunked(bytes: &[u8], threads: usize, chunk_bytes: usize) -> Result<HeapGraph> {
    parse_bytes(
        bytes,
        &LoadOptions {
            threads,
            chunk_bytes,
        },
        Control::NONE,
    )
}

/// What a parse yields, comparable: the whole graph as text, or the error.
fn outcome(r: Result<HeapGraph>) -> std::result::Result<String, Error> {
    r.map(|g| dump(&g))
}

/// Asserts that every chunked parse of `bytes` gives the serial outcome; returns that outcome.
fn same_in_chunks(
    bytes: &[u8],
    chunks: &[usize],
    what: &str,
) -> std::result::Result<String, Error> {
    let want = outcome(parse_serial(bytes));
    for &chunk in chunks {
        for threads in [2, 3] {
            let got = outcome(chunked(bytes, threads, chunk));
            assert!(
                got == want,
                "{what}: threads {threads} chunk {chunk}:\n got {:?}\nwant {:?}",
                got.as_ref().map(|_| "Ok").map_err(|e| e.to_string()),
                want.as_ref().map(|_| "Ok").map_err(|e| e.to_string()),
            );
        }
    }
    want
}

/// Byte range of the body of the array under `key` (between the brackets).
fn body(bytes: &[u8], key: &str) -> std::ops::Range<usize> {
    let open = format!("\"{key}\":[");
    let start = bytes
        .windows(open.len())
        .position(|w| w == open.as_bytes())
        .unwrap_or_else(|| panic!("no {key} array"))
        + open.len();
    let end = start + bytes[start..].iter().position(|&c| c == b']').unwrap();
    start..end
}

const SEPS: [&str; 8] = [",", ",", "\n,", ", ", " ,\n ", "\t,\r\n", ",  ", "\r\n,\t"];
const WS: [&str; 4] = ["", " ", "\n", " \r\n\t "];

/// Rewrites the numbers of `key`'s array with random separators and whitespace inside the
/// brackets.
fn respace(bytes: &[u8], key: &str, rng: &mut Rng) -> Vec<u8> {
    let r = body(bytes, key);
    let text = std::str::from_utf8(&bytes[r.clone()]).unwrap();
    let mut out = bytes[..r.start].to_vec();
    out.extend_from_slice(WS[rng.below(WS.len())].as_bytes());
    for (k, num) in text.split(',').map(str::trim_ascii).enumerate() {
        if k > 0 {
            out.extend_from_slice(SEPS[rng.below(SEPS.len())].as_bytes());
        }
        out.extend_from_slice(num.as_bytes());
    }
    out.extend_from_slice(WS[rng.below(WS.len())].as_bytes());
    out.extend_from_slice(&bytes[r.end..]);
    out
}

/// A V8-layout snapshot with `n` nodes and about 3 edges each, separators varied per number.
fn generate(rng: &mut Rng, n: usize) -> String {
    let strings = 40;
    let mut nodes = String::new();
    let mut edges = String::new();
    let mut edge_count = 0;
    let sep = |rng: &mut Rng, s: &mut String| {
        if !s.is_empty() {
            s.push_str(SEPS[rng.below(SEPS.len())]);
        }
    };
    for _ in 0..n {
        let out = rng.below(7);
        let row = [
            rng.below(14) as u64,
            rng.below(strings) as u64,
            rng.next() % (1 << 32),
            if rng.chance(50) {
                (1 << 33) + rng.below(1000) as u64
            } else {
                rng.below(5000) as u64
            },
            out as u64,
            if rng.chance(10) {
                rng.below(99) as u64
            } else {
                0
            },
            rng.below(3) as u64,
        ];
        for v in row {
            sep(rng, &mut nodes);
            write!(nodes, "{v}").unwrap();
        }
        for _ in 0..out {
            let ty = rng.below(7);
            // element (1) and hidden (4) edges are named by an index, the others by a string.
            let name = if ty == 1 || ty == 4 {
                rng.next() % 100_000
            } else {
                rng.below(strings) as u64
            };
            for v in [ty as u64, name, (rng.below(n) * 7) as u64] {
                sep(rng, &mut edges);
                write!(edges, "{v}").unwrap();
            }
            edge_count += 1;
        }
    }
    let names: Vec<String> = (0..strings).map(|k| format!("\"s{k}\"")).collect();
    format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"]}},"node_count":{n},"edge_count":{edge_count}}},
"nodes":[{}{nodes}{}],
"edges":[{}{edges}{}],
"strings":[{}]}}
"#,
        WS[rng.below(WS.len())],
        WS[rng.below(WS.len())],
        WS[rng.below(WS.len())],
        WS[rng.below(WS.len())],
        names.join(",")
    )
}

#[test]
fn vectors_parse_the_same_in_chunks_of_every_size() {
    let mut rng = Rng::new(0xc4u64);
    for name in ["v1", "v1b", "v2", "v3"] {
        let original = vector(name);
        let mut variants = vec![original.clone()];
        for _ in 0..3 {
            let v = respace(&original, "edges", &mut rng);
            variants.push(respace(&v, "nodes", &mut rng));
        }
        for bytes in variants {
            let len = body(&bytes, "edges").len();
            let chunks: Vec<usize> = (1..=len + 2).collect();
            let got = same_in_chunks(&bytes, &chunks, name);
            let g = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(g, dump(&parse(&original).unwrap()), "{name} respaced");
        }
    }
}

#[test]
fn generated_snapshots_with_many_rows_parse_the_same_in_chunks() {
    let mut rng = Rng::new(0x5b1d);
    for n in [1, 2, 50, 3000, 12_000] {
        let text = generate(&mut rng, n);
        let g = parse_serial(text.as_bytes()).unwrap();
        check_invariants(&g);
        assert_eq!(g.node_count(), n);
        same_in_chunks(
            text.as_bytes(),
            &[1, 2, 3, 7, 64, 1000, 65_536, 0],
            &format!("{n} nodes"),
        )
        .unwrap();
    }
}

/// Offset of the start of the `k`-th number of the body `r`.
fn number_at(bytes: &[u8], r: &std::ops::Range<usize>, k: usize) -> usize {
    let mut at = r.start;
    for _ in 0..k {
        at += bytes[at..].iter().position(|&c| c == b',').unwrap() + 1;
    }
    while !bytes[at].is_ascii_digit() {
        at += 1;
    }
    at
}

/// End of the number starting at `at`.
fn number_end(bytes: &[u8], at: usize) -> usize {
    at + bytes[at..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// Ways to damage the number at `at` (the `k`-th of the edges array, whose field is `k % 3`).
fn damage(bytes: &[u8], at: usize, kind: usize, n: usize) -> Vec<u8> {
    let end = number_end(bytes, at);
    let num: u64 = std::str::from_utf8(&bytes[at..end])
        .unwrap()
        .parse()
        .unwrap();
    let mut b = bytes.to_vec();
    let mut splice = |from: usize, to: usize, with: &str| {
        b.splice(from..to, with.bytes());
    };
    let comma = end + bytes[end..].iter().position(|&c| c == b',').unwrap();
    match kind {
        0 => splice(at, at + 1, "x"),
        1 => splice(comma, comma + 1, " "),
        2 => splice(comma, comma, ","),
        3 => splice(at, end, "99999999999999999999"),
        4 => splice(at, end, "300"),
        5 => splice(at, end, "-1"),
        6 => splice(at, end, &(num + 1).to_string()),
        7 => splice(at, end, &((n + 5) * 7).to_string()),
        8 => splice(at, comma + 1, ""),
        9 => splice(at, at, "7,"),
        10 => splice(at, at, "1.5,"),
        11 => {
            let close = at + bytes[at..].iter().position(|&c| c == b']').unwrap();
            splice(end, close, "");
        }
        12 => {
            let close = at + bytes[at..].iter().position(|&c| c == b']').unwrap();
            splice(close, close, ",1,2,7");
        }
        13 => splice(at, at, "]"),
        14 => splice(end, end, "\"a\""),
        _ => splice(comma, comma + 1, "\n\n"),
    }
    b
}

const KINDS: usize = 16;
const CHUNKS: [usize; 5] = [1, 5, 64, 4096, 0];

#[test]
fn errors_in_later_chunks_are_the_serial_errors() {
    let mut rng = Rng::new(0xe44);
    let n = 600;
    let text = generate(&mut rng, n);
    let bytes = text.as_bytes();
    let r = body(bytes, "edges");
    let numbers = bytes[r.clone()].iter().filter(|&&c| c == b',').count() + 1;
    let mut late = 0;
    for frac in [0, 1, 50, 90, 99] {
        // Numbers of all three fields near the chosen place.
        for dk in 0..3 {
            let k = (numbers - 2) * frac / 100 + dk;
            let at = number_at(bytes, &r, k);
            for kind in 0..KINDS {
                let bad = damage(bytes, at, kind, n);
                let want = same_in_chunks(&bad, &CHUNKS, &format!("kind {kind} number {k}"));
                match want {
                    Err(Error::Parse { offset, .. }) => {
                        if offset as usize > r.start + 8192 {
                            late += 1;
                        }
                    }
                    // Some damage leaves a valid snapshot (e.g. 300 as a name index): compared too.
                    Ok(_) => {}
                    Err(e) => panic!("kind {kind}: {e}"),
                }
            }
        }
    }
    assert!(late > 100, "{late} errors far into the edges array");
}

#[test]
fn the_earliest_of_several_errors_is_reported() {
    let mut rng = Rng::new(0x2e22);
    let n = 2000;
    let text = generate(&mut rng, n);
    let bytes = text.as_bytes();
    let edges = body(bytes, "edges");
    let numbers = bytes[edges.clone()].iter().filter(|&&c| c == b',').count() + 1;
    let err = |b: &[u8]| match outcome(parse_serial(b)) {
        Err(e @ Error::Parse { .. }) => e,
        other => panic!("expected a parse error, got {:?}", other.map(|_| ())),
    };
    for (kind_a, kind_b) in [(0, 0), (0, 3), (6, 7), (1, 11), (9, 2), (4, 0)] {
        // On a type field, or a to_node field for the to_node damages; the later place first,
        // so that the earlier one's number index stays valid.
        let field = |base: usize, kind: usize| base / 3 * 3 + if kind >= 6 { 2 } else { 0 };
        let (ka, kb) = (field(numbers / 5, kind_a), field(numbers * 4 / 5, kind_b));
        let at_b = number_at(bytes, &edges, kb);
        let only_b = damage(bytes, at_b, kind_b, n);
        let at_a = number_at(&only_b, &edges, ka);
        let both = damage(&only_b, at_a, kind_a, n);
        let only_a = damage(bytes, at_a, kind_a, n);
        let want = err(&only_a);
        assert_ne!(want, err(&only_b));
        let got = same_in_chunks(&both, &CHUNKS, &format!("kinds {kind_a} {kind_b}"));
        assert_eq!(got, Err(want), "kinds {kind_a} {kind_b}");
    }
    // A nodes error comes before any edges error, as in the serial parse.
    let nodes = body(bytes, "nodes");
    let in_nodes = |b: &[u8]| {
        let at = number_at(b, &nodes, 7 * n / 2 + 3);
        damage(b, at, 0, n)
    };
    let at = number_at(bytes, &edges, numbers / 3);
    let edge_bad = damage(bytes, at, 0, n);
    let want = err(&in_nodes(bytes));
    assert_eq!(
        same_in_chunks(&in_nodes(&edge_bad), &CHUNKS, "nodes and edges"),
        Err(want)
    );
    // And an error the structural pass finds (here in the strings, after both arrays) comes
    // before both.
    let broken_strings = |b: &[u8]| {
        let s = String::from_utf8(b.to_vec()).unwrap();
        s.replacen("\"s1\",", "\"s1\" \"", 1).into_bytes()
    };
    let want = err(&broken_strings(bytes));
    assert_eq!(
        same_in_chunks(
            &broken_strings(&in_nodes(&edge_bad)),
            &CHUNKS,
            "strings, nodes and edges"
        ),
        Err(want)
    );
}

#[test]
fn progress_and_cancel_with_tiny_chunks() {
    let mut rng = Rng::new(0x9e0);
    let text = generate(&mut rng, 40_000);
    let bytes = text.as_bytes();
    for threads in [2, 3] {
        for chunk_bytes in [4096, 0] {
            let seen = Mutex::new(Vec::new());
            let record = |f: f64| seen.lock().unwrap().push(f);
            let opts = LoadOptions {
                threads,
                chunk_bytes,
            };
            parse_bytes(bytes, &opts, Control::new(None, Some(&record))).unwrap();
            let seen = seen.into_inner().unwrap();
            assert_progress(&seen);

            let flag = AtomicBool::new(true);
            assert_eq!(
                parse_bytes(bytes, &opts, Control::cancel(&flag)).err(),
                Some(Error::Aborted)
            );

            let flag = AtomicBool::new(false);
            let stop = |f: f64| {
                if f >= 0.2 {
                    flag.store(true, Ordering::Relaxed);
                }
            };
            let ctl = Control::new(Some(&flag), Some(&stop));
            assert_eq!(parse_bytes(bytes, &opts, ctl).err(), Some(Error::Aborted));
        }
    }
}

/// A parse handed a sub-range of the caller's bar (as a load phase of a longer job would be)
/// reports only inside it, still monotone, and ends exactly at the range's end.
#[test]
fn progress_stays_inside_a_sub_range() {
    let mut rng = Rng::new(0x5ab);
    let text = generate(&mut rng, 20_000);
    for threads in [1, 2] {
        let seen = Mutex::new(Vec::new());
        let record = |f: f64| seen.lock().unwrap().push(f);
        let ctl = Control::new(None, Some(&record)).sub(0.25, 0.5);
        let opts = LoadOptions {
            threads,
            chunk_bytes: 4096,
        };
        parse_bytes(text.as_bytes(), &opts, ctl).unwrap();
        let seen = seen.into_inner().unwrap();
        assert!(seen.len() >= 2, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "monotone: {seen:?}");
        assert!(seen.iter().all(|&f| (0.25..=0.75).contains(&f)), "{seen:?}");
        assert_eq!(seen.last().copied(), Some(0.75));
    }
}
