//! Structure-aware fuzzer for the whole core on hostile input: parse, analysis, diff and
//! find_leaks, for a time budget, on stable Rust (no nightly, no libFuzzer).
//!
//! Inputs are V8-format snapshots built by a seeded generator (random graphs: cycles, self
//! loops, weak and shortcut edges, odd types and names, huge sizes, detachedness) or taken from
//! the test vectors, then mutated by a deterministic PRNG: truncation, byte damage, numbers
//! swapped for huge / negative / fractional / non-numeric tokens, node and edge indices out of
//! range, header counts that lie, broken strings (bad escapes, lone surrogates, invalid
//! UTF-8), deep nesting, duplicate and missing keys. Every input goes through the serial and
//! the chunked parallel parse (which must agree), and whatever parses goes through the full
//! analysis, every query, diff and find_leaks. A panic, a disagreement or one input taking
//! longer than `--hang` seconds stops the run: the input is written to
//! `fuzz-failure-<seed>.heapsnapshot` and the exit code is 1.
//!
//! ```text
//! cargo run --release -p leakguard-core --example fuzz -- [--seconds 30] [--seed N] [--hang 20]
//! ```

use leakguard_core::analysis::{Analysis, ObjectSort, PathKind, SizeMode};
use leakguard_core::{
    diff, find_leaks, parse_bytes, Control, Error, HeapGraph, LeakOptions, LoadOptions,
};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const NODE_TYPES: &str = r#"["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"]"#;
const EDGE_TYPES: &str =
    r#"["context","element","property","internal","hidden","shortcut","weak"]"#;

/// A generated heap: per node (type, name, id, size, detachedness, edges (type, name, to)).
#[derive(Clone)]
struct Heap {
    strings: Vec<String>,
    nodes: Vec<Node>,
}

#[derive(Clone)]
struct Node {
    ty: u64,
    name: u64,
    id: u64,
    size: u64,
    det: u64,
    edges: Vec<(u64, u64, usize)>,
}

const NAMES: [&str; 14] = [
    "",
    "(GC roots)",
    "Window",
    "Object",
    "Array",
    "Map",
    "Leak",
    "system / Context",
    "(Global handles)",
    "Detached <div>",
    "a\u{e9}\u{1F600}",
    "Function",
    "closure",
    "x",
];

fn gen_heap(rng: &mut Rng) -> Heap {
    let mut strings: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    for k in 0..rng.below(8) {
        strings.push(format!("s{k}\u{0}\"\\\n"));
    }
    let max = if rng.chance(10) { 400 } else { 40 };
    let n = 1 + rng.below(max);
    let mut nodes = Vec::with_capacity(n);
    for i in 0..n {
        let ty = if i == 0 {
            9
        } else if rng.chance(20) {
            rng.below(20) as u64
        } else {
            rng.below(15) as u64
        };
        nodes.push(Node {
            ty,
            name: rng.below(strings.len()) as u64,
            id: if rng.chance(50) {
                rng.below(5) as u64
            } else {
                1 + 2 * i as u64
            },
            size: match rng.below(12) {
                0 => 0,
                1 => u64::from(u32::MAX) + rng.below(1000) as u64,
                _ => rng.below(500) as u64,
            },
            det: rng.below(3) as u64,
            edges: Vec::new(),
        });
    }
    let m = rng.below(n * 3 + 1);
    for _ in 0..m {
        let from = if rng.chance(4) { 0 } else { rng.below(n) };
        let to = rng.below(n);
        let ty = if rng.chance(30) {
            rng.below(10) as u64
        } else {
            rng.below(7) as u64
        };
        let name = if ty == 1 || ty == 4 {
            rng.below(50) as u64
        } else {
            rng.below(strings.len()) as u64
        };
        nodes[from].edges.push((ty, name, to));
    }
    Heap { strings, nodes }
}

/// The same heap later: some objects gone, some new ones hanging off existing ones.
fn grow(rng: &mut Rng, h: &Heap) -> Heap {
    let mut g = h.clone();
    let base = g.nodes.len();
    for k in 0..rng.below(30) {
        let id = 1 + 2 * (base + k) as u64 + 100_000;
        g.nodes.push(Node {
            ty: 3,
            name: 6,
            id,
            size: 32,
            det: 0,
            edges: Vec::new(),
        });
        let holder = rng.below(base);
        let to = g.nodes.len() - 1;
        g.nodes[holder].edges.push((2, 6, to));
    }
    if rng.chance(3) {
        for n in g.nodes.iter_mut().skip(1) {
            if rng.chance(5) {
                n.edges.clear();
            }
        }
    }
    g
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Serialises like V8 (one row per line), with the node fields in V8's order.
fn render(h: &Heap) -> String {
    let nf = 6;
    let edge_count: usize = h.nodes.iter().map(|n| n.edges.len()).sum();
    let mut s = format!(
        r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","detachedness"],"node_types":[{NODE_TYPES},"string","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[{EDGE_TYPES},"string_or_number","node"]}},"node_count":{},"edge_count":{edge_count}}},"nodes":["#,
        h.nodes.len()
    );
    for (i, n) in h.nodes.iter().enumerate() {
        if i > 0 {
            s.push_str("\n,");
        }
        s.push_str(&format!(
            "{},{},{},{},{},{}",
            n.ty,
            n.name,
            n.id,
            n.size,
            n.edges.len(),
            n.det
        ));
    }
    s.push_str("],\"edges\":[");
    let mut first = true;
    for n in &h.nodes {
        for &(ty, name, to) in &n.edges {
            if !first {
                s.push_str("\n,");
            }
            first = false;
            s.push_str(&format!("{ty},{name},{}", to * nf));
        }
    }
    s.push_str("],\"strings\":[");
    for (i, t) in h.strings.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&json_str(t));
    }
    s.push_str("]}");
    s
}

/// Tokens that replace a number.
const BAD_NUMBERS: [&str; 16] = [
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "4294967295",
    "4294967296",
    "-1",
    "1.5",
    "1e9",
    "null",
    "\"7\"",
    "[]",
    "{}",
    "",
    "0x10",
    "007",
    "true",
];

/// Damages `text` in one of many structure-aware ways.
fn mutate(rng: &mut Rng, text: &mut Vec<u8>) {
    let len = text.len().max(1);
    match rng.below(14) {
        0 => text.truncate(rng.below(len)),
        1 => {
            let at = rng.below(len);
            if at < text.len() {
                text[at] = *rng.pick(b"0123456789,[]{}\":\\ \n-x\x00\xff");
            }
        }
        2 => {
            // An empty text (truncated by an earlier mutation) has nothing to remove.
            if !text.is_empty() {
                text.remove(rng.below(text.len()));
            }
        }
        3 => {
            // A number somewhere (most likely in the big arrays) becomes something else.
            if let Some((a, b)) = number_at(text, rng.below(len)) {
                let with = rng.pick(&BAD_NUMBERS).as_bytes().to_vec();
                text.splice(a..b, with);
            }
        }
        4 => {
            // A number becomes a plausible but wrong value: off by one, times a large factor.
            if let Some((a, b)) = number_at(text, rng.below(len)) {
                let v: u64 = std::str::from_utf8(&text[a..b])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let w = match rng.below(4) {
                    0 => v.wrapping_add(1),
                    1 => v.saturating_sub(1),
                    2 => v.wrapping_mul(6).wrapping_add(6),
                    _ => v.wrapping_mul(1 << 20),
                };
                text.splice(a..b, w.to_string().into_bytes());
            }
        }
        5 => {
            // The header's counts lie.
            for key in [&b"\"node_count\":"[..], b"\"edge_count\":"] {
                if let Some(p) = find(text, key) {
                    if let Some((a, b)) = number_at(text, p + key.len()) {
                        let w = *rng.pick(&["0", "1", "4294967295", "4294967296", "99999999", "3"]);
                        text.splice(a..b, w.bytes());
                        break;
                    }
                }
            }
        }
        6 => {
            // Broken strings in the string table.
            if let Some(p) = find(text, b"\"strings\":[") {
                let bad = *rng.pick(&[
                    &b"\"\\ud800\""[..],
                    b"\"\\udc00\\ud800x\"",
                    b"\"\\u12\"",
                    b"\"\\q\"",
                    b"\"\xff\xfe\xc0\"",
                    b"\"unterminated",
                    b"\"\\",
                    b"\"a\\u0000b\"",
                    b"\"\\uD83D\\uDE00\"",
                ]);
                let at = p + b"\"strings\":[".len();
                let mut ins = bad.to_vec();
                ins.push(b',');
                text.splice(at..at, ins);
            }
        }
        7 => {
            // Deep nesting in a value we skip, and in the header.
            let depth = 1 + rng.below(200_000);
            let mut v = b"{\"deep\":".to_vec();
            v.extend(std::iter::repeat(b'[').take(depth));
            if rng.chance(2) {
                v.extend(std::iter::repeat(b']').take(depth));
            }
            v.extend_from_slice(b"},");
            if rng.chance(2) {
                v.splice(0..0, b"{\"x\":".iter().copied());
                v.splice(v.len() - 1..v.len() - 1, b"}".iter().copied());
            }
            insert_first_member(text, b"\"extra\":", &v[..v.len() - 1]);
        }
        8 => {
            // A key twice, or one missing.
            let key = *rng.pick(&[
                &b"\"nodes\":"[..],
                b"\"edges\":",
                b"\"strings\":",
                b"\"snapshot\":",
            ]);
            if find(text, key).is_some() {
                if rng.chance(2) {
                    replace_first(text, key, b"\"renamed\":");
                } else {
                    insert_first_member(text, key, b"[]");
                }
            }
        }
        9 => {
            // A meta field renamed, dropped or duplicated.
            let from = *rng.pick(&[
                &b"\"type\""[..],
                b"\"name\"",
                b"\"id\"",
                b"\"self_size\"",
                b"\"edge_count\"",
                b"\"to_node\"",
                b"\"name_or_index\"",
                b"\"detachedness\"",
            ]);
            let to = *rng.pick(&[
                &b"\"type\""[..],
                b"\"nope\"",
                b"\"trace_node_id\"",
                b"\"id\"",
                b"1",
            ]);
            replace_first(text, from, to);
        }
        10 => {
            // A slice of the file copied elsewhere.
            let a = rng.below(len).min(text.len());
            let b = (a + rng.below(64)).min(text.len());
            let piece = text[a..b].to_vec();
            let at = rng.below(len).min(text.len());
            text.splice(at..at, piece);
        }
        11 => {
            // Odd whitespace and separators.
            let at = rng.below(len).min(text.len());
            let ins = *rng.pick(&[&b" "[..], b"\r\n", b"\t", b",", b",,", b"\n,"]);
            text.splice(at..at, ins.iter().copied());
        }
        12 => {
            // Trailing data or a second document.
            const TAILS: [&[u8]; 4] = [b" {}", b"x", b"\n\n", b"]"];
            let tail = rng.below(TAILS.len());
            text.extend_from_slice(TAILS[tail]);
        }
        _ => {
            // The root_index key, in or out of range.
            if let Some(p) = find(text, b"\"node_count\":") {
                let v = *rng.pick(&["0", "6", "7", "600", "18446744073709551615"]);
                let ins = format!("\"root_index\":{v},");
                text.splice(p..p, ins.into_bytes());
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Replaces the first `from` in `text` (if any) with `to`.
fn replace_first(text: &mut Vec<u8>, from: &[u8], to: &[u8]) {
    if let Some(p) = find(text, from) {
        text.splice(p..p + from.len(), to.iter().copied());
    }
}

/// Inserts the member `key` `value` first into the top-level object, if the text (maybe damaged
/// by an earlier mutation) still starts with one.
fn insert_first_member(text: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    if text.first() == Some(&b'{') {
        let mut ins = key.to_vec();
        ins.extend_from_slice(value);
        ins.push(b',');
        text.splice(1..1, ins);
    }
}

/// The run of digits at or after `from` (up to 64 bytes on).
fn number_at(text: &[u8], from: usize) -> Option<(usize, usize)> {
    let a = (from..text.len().min(from + 64)).find(|&i| text[i].is_ascii_digit())?;
    let b = (a..text.len())
        .find(|&i| !text[i].is_ascii_digit())
        .unwrap_or(text.len());
    Some((a, b))
}

/// Parses `b` serially and in small parallel chunks; both must give the same outcome.
fn parse_both(b: &[u8], rng: &mut Rng) -> Result<Result<HeapGraph, Error>, String> {
    let serial = parse_bytes(
        b,
        &LoadOptions {
            threads: 1,
            ..LoadOptions::default()
        },
        Control::NONE,
    );
    let chunked = parse_bytes(
        b,
        &LoadOptions {
            threads: 2,
            chunk_bytes: 1 + rng.below(64),
        },
        Control::NONE,
    );
    match (&serial, &chunked) {
        (Ok(a), Ok(c))
            if (a.node_count(), a.edge_count(), a.total_size())
                == (c.node_count(), c.edge_count(), c.total_size()) =>
        {
            Ok(serial)
        }
        (Err(a), Err(c)) if a == c => Ok(serial),
        _ => Err(format!(
            "serial and chunked parse disagree: {:?} vs {:?}",
            serial
                .as_ref()
                .map(|g| g.node_count())
                .map_err(|e| e.to_string()),
            chunked
                .as_ref()
                .map(|g| g.node_count())
                .map_err(|e| e.to_string())
        )),
    }
}

/// Runs the full analysis and every query on `g`.
fn analyse(g: &HeapGraph, rng: &mut Rng) -> Result<Analysis, Error> {
    let a = Analysis::compute(g, Control::NONE)?;
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        let rows = a.summary(g, mode);
        for r in rows.iter().take(3) {
            let _ = a.objects(g, &r.class_name, mode, ObjectSort::Retained, 5);
        }
        let _ = a.objects(g, "no such class", mode, ObjectSort::Retained, 5);
        let _ = a.largest_objects(g, mode, 10);
    }
    for _ in 0..4 {
        let n = rng.below(g.node_count() + 2) as u32;
        // Source locations and allocation stacks (no PRNG draws: same inputs as before).
        let _ = (g.location(n), g.allocation_stack(n));
        for kind in [PathKind::DevTools, PathKind::Shortest] {
            let _ = a.retainer_path(g, n, kind, 1 + rng.below(50));
        }
    }
    let _ = a.node_by_id(rng.below(1000) as u32);
    let _ = g.allocation_sites(0..g.node_count() as u32, 5);
    Ok(a)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut seconds = 30u64;
    let mut seed = 0x1ea6_9a2du64;
    let mut hang = 20u64;
    while let Some(a) = args.next() {
        let v = args.next().and_then(|s| s.parse().ok());
        match (a.as_str(), v) {
            ("--seconds", Some(v)) => seconds = v,
            ("--seed", Some(v)) => seed = v,
            ("--hang", Some(v)) => hang = v,
            _ => {
                eprintln!("usage: fuzz [--seconds N] [--seed N] [--hang N]");
                return ExitCode::from(2);
            }
        }
    }
    // locations.json carries the side tables (locations, allocation trace) for the mutations too.
    let vectors: Vec<Vec<u8>> = [
        "v1.json",
        "v1b.json",
        "v2.json",
        "v3.json",
        "locations.json",
    ]
    .iter()
    .filter_map(|f| std::fs::read(format!("{}/tests/vectors/{f}", env!("CARGO_MANIFEST_DIR"))).ok())
    .collect();
    // Watchdog: the iteration counter must move at least every `hang` seconds.
    let beat = Arc::new(AtomicU64::new(0));
    let current: Arc<Mutex<Vec<u8>>> = Arc::default();
    {
        let beat = beat.clone();
        let current = current.clone();
        std::thread::spawn(move || {
            let mut last = u64::MAX;
            loop {
                std::thread::sleep(Duration::from_secs(hang));
                let now = beat.load(Ordering::Relaxed);
                if now == last {
                    // try_lock: the fuzzing thread only holds it while copying an input.
                    if let Some(input) = current.try_lock() {
                        let _ = std::fs::write("fuzz-hang.heapsnapshot", &*input);
                    }
                    eprintln!("fuzz: iteration {now} took more than {hang} s: a hang (input written to fuzz-hang.heapsnapshot)");
                    std::process::exit(1);
                }
                last = now;
            }
        });
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut stats: BTreeMap<String, u64> = BTreeMap::new();
    let mut iterations = 0u64;
    while Instant::now() < deadline {
        let case_seed = seed.wrapping_add(iterations.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut rng = Rng(case_seed | 1);
        let heap = gen_heap(&mut rng);
        let later = grow(&mut rng, &heap);
        let last = grow(&mut rng, &later);
        let mut base = if !vectors.is_empty() && rng.chance(5) {
            rng.pick(&vectors).clone()
        } else {
            render(&heap).into_bytes()
        };
        let mutations = match rng.below(4) {
            0 => 0,
            1 => 1,
            _ => 1 + rng.below(4),
        };
        for _ in 0..mutations {
            mutate(&mut rng, &mut base);
        }
        let inputs = [
            base,
            render(&later).into_bytes(),
            render(&last).into_bytes(),
        ];
        let failure = |why: &str, input: &[u8]| {
            let path = format!("fuzz-failure-{case_seed}.heapsnapshot");
            let _ = std::fs::write(&path, input);
            eprintln!(
                "fuzz: {why} (seed {case_seed}, iteration {iterations}); input written to {path}"
            );
            ExitCode::FAILURE
        };
        current.lock().clone_from(&inputs[0]);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> Result<String, String> {
                let g0 = match parse_both(&inputs[0], &mut rng)? {
                    Ok(g) => g,
                    Err(e) => return Ok(format!("parse error {}", e.code())),
                };
                let a0 = match analyse(&g0, &mut rng) {
                    Ok(a) => a,
                    Err(e) => return Ok(format!("analysis error {}", e.code())),
                };
                let (Ok(Ok(g1)), Ok(Ok(g2))) = (
                    parse_both(&inputs[1], &mut rng),
                    parse_both(&inputs[2], &mut rng),
                ) else {
                    return Err("a generated, unmutated heap failed to parse".into());
                };
                let a2 = analyse(&g2, &mut rng)
                    .map_err(|e| format!("analysis of a generated heap failed: {e}"))?;
                let _ = diff(
                    &g0,
                    a0.classes(),
                    &g2,
                    a2.classes(),
                    SizeMode::DevTools,
                    Control::NONE,
                );
                let opts = LeakOptions {
                    min_count: rng.below(3) as u64,
                    ..LeakOptions::default()
                };
                Ok(match find_leaks(&g0, &g1, &g2, &a2, &opts, Control::NONE) {
                    Ok(r) => format!(
                        "find_leaks ok ({} suspects)",
                        if r.suspects.is_empty() { "no" } else { "some" }
                    ),
                    Err(e) => format!("find_leaks error {}", e.code()),
                })
            },
        ));
        match outcome {
            Ok(Ok(what)) => *stats.entry(what).or_default() += 1,
            Ok(Err(why)) => return failure(&why, &inputs[0]),
            Err(_) => return failure("panic", &inputs[0]),
        }
        iterations += 1;
        beat.store(iterations, Ordering::Relaxed);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fuzz: {iterations} iterations in {secs:.1} s ({:.0} execs/s), seed {seed}, no panic, hang or disagreement",
        iterations as f64 / secs
    );
    for (k, v) in &stats {
        println!("  {v:>9}  {k}");
    }
    ExitCode::SUCCESS
}
