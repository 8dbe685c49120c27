//! A real V8 snapshot written by `node` (which is on PATH in development and CI), compared field
//! by field against a plain serde_json reading of the same file, plus robustness runs on it.

mod common;
use common::*;
use leakguard_core::{parse_bytes, parse_file, Control, Error, LoadOptions};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// A small program with varied objects; it deliberately creates no lone surrogates, so that
/// serde_json can read the file as the reference.
const PROGRAM: &str = r#"
const v8 = require('v8');
class Foo { constructor(i) { this.i = i; this.s = 'foo "' + i + '"\n\t\\'; this.u = 'é漢字😀 ' + i; } }
const keep = [];
const m = new Map();
for (let i = 0; i < 3000; i++) {
  const f = new Foo(i);
  if (i % 3 === 0) f.cb = () => f.i;
  if (i % 5 === 0) m.set('k' + i, [f, { x: i }]);
  if (i % 7 === 0) f.re = /ab+c/g;
  if (i % 11 === 0) f.big = BigInt(i) ** 5n;
  if (i % 13 === 0) f.buf = Buffer.alloc(32, i);
  keep.push(f);
}
globalThis.keep = keep; globalThis.m = m; globalThis.ws = new WeakMap([[keep[0], keep[1]]]);
v8.writeHeapSnapshot(process.argv[1]);
"#;

struct Real {
    bytes: Vec<u8>,
}

/// A fresh temporary directory, removed on drop even when the test fails.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("leakguard-{tag}-{}-{seq}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The snapshot bytes, written once per test binary by node.
fn real() -> &'static Real {
    static REAL: OnceLock<Real> = OnceLock::new();
    REAL.get_or_init(|| {
        let dir = TempDir::new("real");
        let path = dir.0.join("real.heapsnapshot");
        let status = std::process::Command::new("node")
            .arg("-e")
            .arg(PROGRAM)
            .arg(&path)
            .status()
            .expect("node must be on PATH to run this test");
        assert!(status.success(), "node failed to write a snapshot");
        Real {
            bytes: std::fs::read(&path).unwrap(),
        }
    })
}

/// Runs `f` on a temporary file holding the snapshot.
fn with_file<T>(f: impl FnOnce(&std::path::Path) -> T) -> T {
    let dir = TempDir::new("file");
    let path = dir.0.join("s.heapsnapshot");
    std::fs::write(&path, &real().bytes).unwrap();
    f(&path)
}

#[test]
fn matches_serde_json_reading() {
    let r = real();
    let v: Value = serde_json::from_slice(&r.bytes).expect("reference reading");
    let meta = &v["snapshot"]["meta"];
    let fields = |k: &str| -> Vec<String> {
        meta[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    };
    let (nfields, efields) = (fields("node_fields"), fields("edge_fields"));
    let col = |f: &[String], name: &str| f.iter().position(|x| x == name).unwrap();
    let nums = |k: &str| -> Vec<u64> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    };
    let (nodes, edges) = (nums("nodes"), nums("edges"));
    let strings: Vec<&str> = v["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    let (nf, ef) = (nfields.len(), efields.len());
    let n = nodes.len() / nf;
    let size_col = col(&nfields, "self_size");
    let total: u64 = nodes.chunks(nf).map(|row| row[size_col]).sum();

    let g = with_file(|p| parse_file(p, &LoadOptions::default(), Control::NONE)).unwrap();
    assert!(n > 10_000, "a real heap has many nodes ({n})");
    assert_eq!(g.node_count(), n);
    assert_eq!(g.edge_count(), edges.len() / ef);
    assert_eq!(g.total_size(), total);
    assert_eq!(g.string_count(), strings.len());
    for (i, s) in strings.iter().enumerate() {
        assert_eq!(g.string(i as u32), *s, "string {i}");
    }
    let (id_col, name_col) = (col(&nfields, "id"), col(&nfields, "name"));
    for (o, row) in nodes.chunks(nf).enumerate() {
        let o32 = o as u32;
        assert_eq!(u64::from(g.node_id(o32)), row[id_col]);
        assert_eq!(u64::from(g.node_name_index(o32)), row[name_col]);
        assert_eq!(g.self_size(o32), row[size_col]);
    }
    let to_col = col(&efields, "to_node");
    for (e, row) in edges.chunks(ef).enumerate() {
        assert_eq!(u64::from(g.edge_to(e)) * nf as u64, row[to_col]);
    }
    check_invariants(&g);
    // Same result from memory, serially and in parallel.
    let want = dump(&g);
    for threads in [1, 2, 3] {
        let opts = LoadOptions {
            threads,
            ..LoadOptions::default()
        };
        assert_eq!(
            dump(&parse_bytes(&r.bytes, &opts, Control::NONE).unwrap()),
            want,
            "threads {threads}"
        );
    }
}

#[test]
fn truncations_are_parse_errors() {
    let r = real();
    let full = r.bytes.as_slice();
    let trimmed_len = full.trim_ascii_end().len();
    let mut rng = Rng::new(0x5eed);
    let mut cuts: Vec<usize> = (0..300).map(|_| rng.below(trimmed_len)).collect();
    // Plus the interesting places: right after each top-level key and bracket near the ends.
    cuts.extend([0, 1, 2, trimmed_len - 1, trimmed_len - 2, trimmed_len - 3]);
    for key in [
        "\"nodes\":[",
        "\"edges\":[",
        "\"strings\":[",
        "\"trace_tree\":[",
    ] {
        if let Some(p) = full.windows(key.len()).position(|w| w == key.as_bytes()) {
            cuts.extend([p, p + key.len() - 1, p + key.len(), p + key.len() + 1]);
        }
    }
    for cut in cuts {
        match parse(&full[..cut]) {
            Err(Error::Parse { offset, .. }) => {
                assert!(offset as usize <= cut, "cut {cut}: offset {offset}")
            }
            other => panic!("cut {cut}: {:?}", other.map(|g| g.node_count())),
        }
    }
}

#[test]
fn byte_flips_never_panic() {
    let r = real();
    let mut rng = Rng::new(0xf11b);
    let mut budget = Budget::new(Budget::secs_from_env(2.0), 20, 2000);
    while budget.more() {
        let mut bytes = r.bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] = match rng.below(4) {
                0 => rng.next() as u8,
                1 => b"0123456789,[]{}\" \\-.e"[rng.below(21)],
                2 => bytes[at] ^ (1 << rng.below(8)),
                _ => b'9',
            };
        }
        let _ = parse(&bytes);
    }
}

#[test]
fn cancel_and_progress() {
    let r = real();
    let flag = AtomicBool::new(true);
    let opts = LoadOptions::default();
    let ctl = Control::cancel(&flag);
    assert!(matches!(
        parse_bytes(&r.bytes, &opts, ctl),
        Err(Error::Aborted)
    ));
    assert!(matches!(
        with_file(|p| parse_file(p, &opts, ctl)),
        Err(Error::Aborted)
    ));

    for threads in [1, 3] {
        let seen = Mutex::new(Vec::new());
        let record = |f: f64| seen.lock().unwrap().push(f);
        let opts = LoadOptions {
            threads,
            ..LoadOptions::default()
        };
        with_file(|p| parse_file(p, &opts, Control::new(None, Some(&record)))).unwrap();
        let seen = seen.into_inner().unwrap();
        assert_progress(&seen);
    }

    // Cancelling from inside a progress report stops the parse promptly.
    let flag = AtomicBool::new(false);
    let stop = |f: f64| {
        if f >= 0.2 {
            flag.store(true, Ordering::Relaxed);
        }
    };
    let opts = LoadOptions {
        threads: 2,
        ..LoadOptions::default()
    };
    let ctl = Control::new(Some(&flag), Some(&stop));
    assert!(matches!(
        parse_bytes(&r.bytes, &opts, ctl),
        Err(Error::Aborted)
    ));
}

/// The edges array cut into chunks (down to a few bytes) parses as it does serially, also when
/// it is truncated or damaged inside: the same graph or the same error.
#[test]
fn chunked_parse_matches_serial() {
    let r = real();
    let full = r.bytes.as_slice();
    let outcome = |bytes: &[u8], threads: usize, chunk_bytes: usize| {
        let opts = LoadOptions {
            threads,
            chunk_bytes,
        };
        parse_bytes(bytes, &opts, Control::NONE).map(|g| dump(&g))
    };
    let want = outcome(full, 1, 0).unwrap();
    for chunk_bytes in [13, 4096, 0] {
        for threads in [2, 3] {
            assert!(
                outcome(full, threads, chunk_bytes).as_ref() == Ok(&want),
                "threads {threads} chunk {chunk_bytes}"
            );
        }
    }
    let key = b"\"edges\":[";
    let start = full.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let len = full[start..].iter().position(|&c| c == b']').unwrap();
    let mut rng = Rng::new(0xc0de);
    for round in 0..24 {
        let at = start + rng.below(len);
        let bytes = if round % 2 == 0 {
            full[..at].to_vec()
        } else {
            let mut b = full.to_vec();
            b[at] = b"0123456789, x\n"[rng.below(14)];
            b
        };
        let want = outcome(&bytes, 1, 0);
        for (threads, chunk_bytes) in [(2, 97), (3, 4096)] {
            assert!(
                outcome(&bytes, threads, chunk_bytes) == want,
                "round {round} at {at}: threads {threads} chunk {chunk_bytes}"
            );
        }
    }
}
