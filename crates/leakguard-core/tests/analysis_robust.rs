//! Randomized hostile snapshots: any node/edge types (also past the enums), self edges, cycles,
//! cons strings referring to themselves, root anywhere, duplicate ids, huge sizes, names that
//! trigger every special rule. The analysis must not panic and its results must be coherent.

mod analysis_common;

use analysis_common::meta;
use leakguard_core::analysis::{Analysis, ObjectSort, PathKind, SizeMode};
use leakguard_core::Control;
use leakguard_core::{parse_bytes, LoadOptions};
use serde_json::json;

const STRINGS: &[&str] = &[
    "<dummy>",
    "",
    "Object",
    "first",
    "second",
    "__proto__",
    "sloppy_function_map",
    "(map descriptors)",
    "system / NativeContext",
    "(Document DOM trees)",
    "<div id=\"1\">",
    "Detached <x y>",
    "a",
    "b",
    "c, d",
    "{q}",
    "7",
    "1 / part of key (K @5) -> value (V @7) pair in WeakMap (table @9)",
    "2 / part of key (K @5) -> value (V @7) pair in WeakMap (table @9)",
    "3 / part of key (K\n @5) -> value (V @7) pair in WeakMap (table @11)",
    "(GC roots)",
    "Foo",
    "x y",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self, m: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % m.max(1)
    }
}

fn random_snapshot(r: &mut Rng) -> Vec<u8> {
    let n = 1 + r.next(60) as usize;
    let nf = 6u64;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut edge_total = 0;
    for _ in 0..n {
        // Types 0..=16: the 15 known ones plus values past the enum.
        let ty = r.next(17);
        let name = r.next(STRINGS.len() as u64);
        let id = r.next(40); // duplicates on purpose
        let size = match r.next(10) {
            0 => u64::from(u32::MAX),
            1 => 1 << 40,
            _ => r.next(100),
        };
        let ec = r.next(6);
        let det = r.next(3);
        nodes.extend([ty, name, id, size, ec, det]);
        for _ in 0..ec {
            let et = r.next(8); // 7 = one past the enum ("invisible" to DevTools)
            let to = r.next(n as u64) * nf;
            let name = if et == 1 || et == 4 {
                r.next(12)
            } else {
                r.next(STRINGS.len() as u64)
            };
            edges.extend([et, name, to]);
            edge_total += 1;
        }
    }
    let root = r.next(n as u64) * nf;
    let v = json!({
        "snapshot": {"meta": meta(), "node_count": n, "edge_count": edge_total, "trace_function_count": 0, "root_index": root},
        "nodes": nodes, "edges": edges,
        "trace_function_infos": [], "trace_tree": [], "samples": [], "locations": [],
        "strings": STRINGS,
    });
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn random_hostile_graphs_never_panic_and_stay_coherent() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let mut analysed = 0;
    for round in 0..400 {
        let bytes = random_snapshot(&mut r);
        let Ok(g) = parse_bytes(&bytes, &LoadOptions::default(), Control::NONE) else {
            continue; // the parser may reject some shapes; those never reach the analysis
        };
        analysed += 1;
        let a = Analysis::compute(&g, Control::NONE).expect("analysis of a parsed graph");
        let n = g.node_count() as u32;
        let root = g.root();
        let raw_total: u64 = (0..n).map(|x| a.self_size(x, SizeMode::Raw)).sum();
        let dt_total: u64 = (0..n).map(|x| a.self_size(x, SizeMode::DevTools)).sum();
        assert_eq!(
            raw_total, dt_total,
            "round {round}: reattribution keeps the total"
        );
        assert_eq!(a.total_size(), raw_total, "round {round}");
        assert_eq!(
            a.retained_size(root, SizeMode::DevTools),
            raw_total,
            "round {round}"
        );
        for x in 0..n {
            // The idom chain reaches the root without cycles.
            let mut y = x;
            let mut hops = 0;
            while y != root {
                let d = a.idom(y);
                for mode in [SizeMode::Raw, SizeMode::DevTools] {
                    assert!(
                        a.retained_size(d, mode) >= a.retained_size(y, mode),
                        "round {round}"
                    );
                }
                y = d;
                hops += 1;
                assert!(hops <= n, "round {round}: idom cycle at {x}");
            }
            let _ = a.display_name(&g, x);
            let _ = a.class_name(&g, x);
            for kind in [PathKind::DevTools, PathKind::Shortest] {
                let p = a.retainer_path(&g, x, kind, 20).expect("path");
                assert_eq!(p.steps.last().map(|s| s.ordinal), Some(x));
                assert!(p.steps.len() <= 21);
            }
            assert!(a.node_by_id(g.node_id(x)).is_some());
        }
        for mode in [SizeMode::Raw, SizeMode::DevTools] {
            let rows = a.summary(&g, mode);
            let counted: u64 = rows.iter().map(|r| r.count).sum();
            let nonzero = (0..n).filter(|&x| a.self_size(x, mode) > 0).count() as u64;
            assert_eq!(counted, nonzero, "round {round}");
            let retained: u64 = rows.iter().map(|r| r.retained_size).sum();
            assert!(retained >= rows.iter().map(|r| r.shallow_size).sum::<u64>());
            for row in &rows {
                let objs = a.objects(&g, &row.class_name, mode, ObjectSort::Distance, usize::MAX);
                assert_eq!(objs.len() as u64, row.count);
            }
            let _ = a.largest_objects(&g, mode, 5);
        }
        // Out-of-range ordinals are neutral, not panics.
        assert_eq!(a.class_name(&g, n + 5), "");
        assert!(a.retainer_path(&g, n + 5, PathKind::Shortest, 20).is_none());
        assert_eq!(a.display_name(&g, u32::MAX), "");
        assert_eq!(a.retained_size(u32::MAX, SizeMode::Raw), 0);
    }
    assert!(analysed > 100, "only {analysed} random snapshots parsed");
}

#[test]
fn analysis_of_another_graph_is_refused_or_neutral() {
    let (g1, a1) = analysis_common::load("v1");
    let (g3, _a3) = analysis_common::load("v3");
    // Asking v1's analysis about v3's graph (different size) gives no path, no panic.
    assert!(a1.retainer_path(&g3, 3, PathKind::DevTools, 20).is_none());
    let _ = a1.display_name(&g3, 3);
    // A clone of the analysed graph works (full validation instead of the fast path).
    let g1c = g1.clone();
    let p = a1.retainer_path(&g1c, 8, PathKind::DevTools, 20).unwrap();
    assert_eq!(p.text, "Global → .a (Foo) → .h → H");
}
