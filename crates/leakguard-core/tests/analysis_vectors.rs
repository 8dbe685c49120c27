//! Golden tests of the analysis against the test vectors of docs/analysis.md#test-vectors, in
//! both size modes, plus their robustness rewrites (permuted columns, trace column, root not
//! first).

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::{Analysis, ClassRow, PathKind, SizeMode, NO_DISTANCE};
use leakguard_core::Control;
use leakguard_core::HeapGraph;

const SYS: i32 = 100_000_000;

/// V1 table (docs/analysis.md#test-vectors): ordinal -> (distance, idom, retained raw, self
/// DevTools, retained DevTools).
const V1: [(i32, u32, u64, u64, u64); 15] = [
    (SYS, 0, 314, 0, 314),
    (SYS + 1, 0, 56, 0, 56),
    (1, 0, 186, 10, 186),
    (2, 2, 20, 20, 20),
    (2, 2, 30, 30, 30),
    (3, 2, 90, 90, 90),
    (4, 5, 50, 0, 0),
    (2, 2, 20, 12, 20),
    (3, 7, 8, 8, 8),
    (SYS + 2, 1, 56, 56, 56),
    (2, 2, 16, 16, 16),
    (NO_DISTANCE, 0, 60, 60, 60),
    (SYS + 3, 9, 24, 0, 0),
    (NO_DISTANCE, 0, 5, 5, 5),
    (NO_DISTANCE, 0, 7, 7, 7),
];
const V1_RAW_SELF: [u64; 15] = [0, 0, 10, 20, 30, 40, 50, 12, 8, 32, 16, 60, 24, 5, 7];
const V1_ESSENTIAL: [u8; 19] = [1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1];
const V1_PAGE_OWNED: [u32; 8] = [2, 3, 4, 5, 6, 7, 8, 10];
const V1_CLASSES: [&str; 15] = [
    "(synthetic)",
    "(synthetic)",
    "Global",
    "Foo",
    "Foo",
    "Bar",
    "(array)",
    "X",
    "H",
    "Function",
    "(string)",
    "Baz",
    "(system)",
    "P",
    "Q",
];

fn row(name: &str, count: u64, shallow: u64, retained: u64, distance: i32) -> ClassRow {
    ClassRow {
        class_name: name.into(),
        count,
        shallow_size: shallow,
        retained_size: retained,
        distance,
        system: distance >= leakguard_core::analysis::BASE_SYSTEM_DISTANCE,
    }
}

fn v1_summary_raw() -> Vec<ClassRow> {
    vec![
        row("Global", 1, 10, 186, 1),
        row("Bar", 1, 40, 90, 3),
        row("Baz", 1, 60, 60, NO_DISTANCE),
        row("Function", 1, 32, 56, SYS + 2),
        row("(array)", 1, 50, 50, 4),
        row("Foo", 2, 50, 50, 2),
        row("(system)", 1, 24, 24, SYS + 3),
        row("X", 1, 12, 20, 2),
        row("(string)", 1, 16, 16, 2),
        row("H", 1, 8, 8, 3),
        row("Q", 1, 7, 7, NO_DISTANCE),
        row("P", 1, 5, 5, NO_DISTANCE),
    ]
}

fn v1_summary_devtools() -> Vec<ClassRow> {
    vec![
        row("Global", 1, 10, 186, 1),
        row("Bar", 1, 90, 90, 3),
        row("Baz", 1, 60, 60, NO_DISTANCE),
        row("Function", 1, 56, 56, SYS + 2),
        row("Foo", 2, 50, 50, 2),
        row("X", 1, 12, 20, 2),
        row("(string)", 1, 16, 16, 2),
        row("H", 1, 8, 8, 3),
        row("Q", 1, 7, 7, NO_DISTANCE),
        row("P", 1, 5, 5, NO_DISTANCE),
    ]
}

/// Checks every V1 number; `map[old ordinal] = new ordinal` for relabelled variants, `emap`
/// likewise for edges.
fn check_v1(g: &HeapGraph, a: &Analysis, map: &[u32], emap: &[usize]) {
    assert_eq!(a.node_count(), 15);
    for (old, &(dist, idom, ret_raw, self_dt, ret_dt)) in V1.iter().enumerate() {
        let n = map[old];
        assert_eq!(a.distance(n), dist, "distance of V1 node {old}");
        assert_eq!(a.idom(n), map[idom as usize], "idom of V1 node {old}");
        assert_eq!(
            a.self_size(n, SizeMode::Raw),
            V1_RAW_SELF[old],
            "raw self of {old}"
        );
        assert_eq!(
            a.retained_size(n, SizeMode::Raw),
            ret_raw,
            "raw retained of {old}"
        );
        assert_eq!(
            a.self_size(n, SizeMode::DevTools),
            self_dt,
            "DevTools self of {old}"
        );
        assert_eq!(
            a.retained_size(n, SizeMode::DevTools),
            ret_dt,
            "DevTools retained of {old}"
        );
        assert_eq!(a.class_name(g, n), V1_CLASSES[old], "class of {old}");
        assert_eq!(
            a.is_page_owned(n),
            V1_PAGE_OWNED.contains(&(old as u32)),
            "page-owned {old}"
        );
    }
    for (old, &bit) in V1_ESSENTIAL.iter().enumerate() {
        assert_eq!(
            a.is_essential_edge(emap[old]),
            bit == 1,
            "essential bit of V1 edge {old}"
        );
    }
    assert_eq!(a.total_size(), 314);
    assert_eq!(a.summary(g, SizeMode::Raw), v1_summary_raw());
    assert_eq!(a.summary(g, SizeMode::DevTools), v1_summary_devtools());
}

fn identity(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}

#[test]
fn v1_golden_both_modes() {
    let (g, a) = load("v1");
    check_v1(&g, &a, &identity(15), &(0..19).collect::<Vec<_>>());
    // Dominated lists mirror idom.
    assert_eq!(a.dominated(7), &[8]);
    assert_eq!(a.dominated(2), &[3, 4, 5, 7, 10]);
    assert_eq!(a.dominated(0), &[1, 2, 11, 13, 14]);
    // Ids.
    assert_eq!(a.node_by_id(113), Some(8));
    assert_eq!(a.node_by_id(1), Some(0));
    assert_eq!(a.node_by_id(2), None);
    assert_eq!(a.node_by_id(u32::MAX), None);
}

#[test]
fn v1_permuted_columns_and_trace_column_give_identical_analysis() {
    let src = vector_json("v1");
    let orders: [(&[&str], &[&str]); 3] = [
        (
            &[
                "id",
                "edge_count",
                "detachedness",
                "self_size",
                "name",
                "type",
            ],
            &["to_node", "type", "name_or_index"],
        ),
        (
            &[
                "type",
                "name",
                "id",
                "self_size",
                "edge_count",
                "trace_node_id",
                "detachedness",
            ],
            &["type", "name_or_index", "to_node"],
        ),
        (
            &[
                "self_size",
                "trace_node_id",
                "type",
                "edge_count",
                "id",
                "name",
                "detachedness",
            ],
            &["name_or_index", "to_node", "type"],
        ),
    ];
    for (nodes, edges) in orders {
        let v = permute_columns(&src, nodes, edges);
        let (g, a) = analyse(&v);
        check_v1(&g, &a, &identity(15), &(0..19).collect::<Vec<_>>());
    }
}

#[test]
fn v1_root_last_gives_identical_analysis_after_relabelling() {
    let (v, map) = root_last(&vector_json("v1"));
    let (g, a) = analyse(&v);
    assert_eq!(g.root(), 14);
    // The root's two edges moved from the front to the back of the edge list.
    let emap: Vec<usize> = (0..19)
        .map(|e| if e < 2 { 17 + e } else { e - 2 })
        .collect();
    check_v1(&g, &a, &map, &emap);
    let path = a.retainer_path(&g, map[8], PathKind::DevTools, 20).unwrap();
    assert_eq!(path.text, "Global → .a (Foo) → .h → H");
}

#[test]
fn v1_retainer_paths() {
    let (g, a) = load("v1");
    // H is retained by A (shortcut .h), X (.h) and the closure f (.cached). A and X both sit at
    // distance 2; DevTools then orders by the retainer's name ("Foo" < "X"), so the panel
    // expands A: Global → .a → A → .h → H.
    let p = a.retainer_path(&g, 8, PathKind::DevTools, 20).unwrap();
    let ords: Vec<u32> = p.steps.iter().map(|s| s.ordinal).collect();
    assert_eq!(ords, vec![2, 3, 8]);
    assert_eq!(p.text, "Global → .a (Foo) → .h → H");
    assert!(p.complete);
    let edge = |i: usize| {
        p.steps[i]
            .edge
            .as_ref()
            .map(|e| (e.kind.as_str(), e.name.as_str()))
    };
    assert_eq!(edge(0), None);
    assert_eq!(edge(1), Some(("property", "a")));
    assert_eq!(edge(2), Some(("shortcut", "h")));
    assert_eq!(p.steps[2].id, 113);
    // The BFS tree reaches H first through A's shortcut as well (edge order).
    let s = a.retainer_path(&g, 8, PathKind::Shortest, 20).unwrap();
    assert_eq!(
        s.steps.iter().map(|s| s.ordinal).collect::<Vec<_>>(),
        vec![2, 3, 8]
    );
    // D: Global → .a → A → .next → C → {elements} → D (B's .next ties with A's on distance;
    // "Foo" == "Foo", then DevTools' retainer order prefers the later edge, B's).
    let d = a.retainer_path(&g, 6, PathKind::DevTools, 20).unwrap();
    assert_eq!(
        d.text,
        "Global → .b (Foo) → .next (Bar) → {elements} → (array)"
    );
    // A system object: K ← f ← (GC roots); root edges are not shown, so the path starts at
    // (GC roots).
    let k = a.retainer_path(&g, 12, PathKind::DevTools, 20).unwrap();
    assert_eq!(
        k.steps.iter().map(|s| s.ordinal).collect::<Vec<_>>(),
        vec![1, 9, 12]
    );
    assert!(k.complete);
    assert_eq!(
        k.text,
        "(synthetic) → [1] (Function) → {context} → (system)"
    );
    // Every edge carries its notation, the text the path line writes for it.
    let notation = |p: &leakguard_core::RetainerPath| -> Vec<String> {
        p.steps
            .iter()
            .filter_map(|s| s.edge.as_ref().map(|e| e.text.clone()))
            .collect()
    };
    assert_eq!(notation(&p), vec![".a", ".h"]);
    assert_eq!(notation(&d), vec![".b", ".next", "{elements}"]);
    assert_eq!(notation(&k), vec!["[1]", "{context}"]);
    // Unreachable garbage: E is retained only weakly; P/Q only by each other.
    let e = a.retainer_path(&g, 11, PathKind::DevTools, 20).unwrap();
    assert_eq!(e.steps.len(), 1);
    assert!(!e.complete);
    let q = a.retainer_path(&g, 14, PathKind::DevTools, 20).unwrap();
    assert_eq!(
        q.steps.iter().map(|s| s.ordinal).collect::<Vec<_>>(),
        vec![13, 14]
    );
    assert!(!q.complete);
    // max_steps cuts the path.
    let cut = a.retainer_path(&g, 6, PathKind::DevTools, 1).unwrap();
    assert_eq!(
        cut.steps.iter().map(|s| s.ordinal).collect::<Vec<_>>(),
        vec![5, 6]
    );
    assert!(!cut.complete);
    // A user root is its own path.
    let top = a.retainer_path(&g, 2, PathKind::DevTools, 20).unwrap();
    assert_eq!(top.text, "Global");
    assert!(top.complete);
    assert!(a.retainer_path(&g, 99, PathKind::DevTools, 20).is_none());
}

#[test]
fn v2_weakmap_ephemerons() {
    let (g, a) = load("v2");
    // node: (distance, idom, retained raw, self DevTools, retained DevTools)
    let expect: [(u32, i32, u32, u64, u64, u64); 5] = [
        (1, 1, 0, 178, 10, 178),
        (2, 2, 1, 60, 60, 60),
        (3, 3, 2, 40, 0, 0),
        (4, 2, 1, 108, 8, 108),
        (5, 4, 4, 100, 100, 100),
    ];
    for (n, dist, idom, ret_raw, self_dt, ret_dt) in expect {
        assert_eq!(a.distance(n), dist, "distance of {n}");
        assert_eq!(a.idom(n), idom, "idom of {n}");
        assert_eq!(
            a.retained_size(n, SizeMode::Raw),
            ret_raw,
            "raw retained of {n}"
        );
        assert_eq!(
            a.self_size(n, SizeMode::DevTools),
            self_dt,
            "DevTools self of {n}"
        );
        assert_eq!(
            a.retained_size(n, SizeMode::DevTools),
            ret_dt,
            "DevTools retained of {n}"
        );
    }
    assert_eq!(a.distance(0), SYS);
    // The table-side ephemeron edge (table -> Val, edge 4) is not essential; the key side
    // (Key -> Val, edge 6) is; table -> Key is weak.
    let bits: Vec<bool> = (0..7).map(|e| a.is_essential_edge(e)).collect();
    assert_eq!(bits, vec![true, true, true, true, false, false, true]);
    assert_eq!(a.class_name(&g, 3), "(array)");
}

/// V3 ordinals: 0 root, 1 Global, 2 o1, 3 o2, 4 o3, 5 o4, 6 o5, 7 proto, 8 myFn, 9 regexp,
/// 10 cons string, 11 "foo", 12 "bar", 13 number, 14 symbol, 15 bigint, 16 code,
/// 17 object shape, 18 hidden Oddball, 19 <div>, 20 <span>.
#[test]
fn v3_class_and_display_names() {
    let (g, a) = load("v3");
    let expect: [(u32, &str, &str); 21] = [
        (0, "(synthetic)", ""),
        (1, "Global", "Global"),
        (2, "{a, b}", "{a, b}"),
        (3, "{a, b}", "{a, b}"),
        (4, "{a, b}", "{b, a}"),
        (5, "{a, b}", "{a, b, c}"),
        (6, "Object", "{}"),
        (7, "Object", "{}"),
        (8, "Function", "myFn"),
        (9, "RegExp", "/ab+c/"),
        (10, "(concatenated string)", "foobar"),
        (11, "(string)", "foo"),
        (12, "(string)", "bar"),
        (13, "(number)", "heap number"),
        (14, "(symbol)", "<symbol>"),
        (15, "(bigint)", "bigint"),
        (16, "(compiled code)", "(Builtin)"),
        (17, "(object shape)", "system / Map"),
        (18, "(system)", "system / Oddball"),
        (19, "<div>", "<div id=\"x\">"),
        (20, "Detached <span>", "Detached <span class=\"y\">"),
    ];
    for (n, class, display) in expect {
        assert_eq!(a.class_name(&g, n), class, "class of {n}");
        assert_eq!(a.display_name(&g, n), display, "display name of {n}");
    }
    assert_eq!(a.dom_state(19), 1);
    assert_eq!(a.dom_state(20), 2);
    assert!(a.is_detached_dom(&g, 20));
    assert!(!a.is_detached_dom(&g, 19));
    let defs = a.interface_definitions();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0].name, "{a, b}");
    assert_eq!(defs[0].properties, vec!["a", "b"]);
}

#[test]
fn v3_summary_both_modes() {
    let (g, a) = load("v3");
    let count =
        |rows: &[ClassRow], name: &str| rows.iter().find(|r| r.class_name == name).map(|r| r.count);
    for mode in [SizeMode::Raw, SizeMode::DevTools] {
        let rows = a.summary(&g, mode);
        assert_eq!(count(&rows, "{a, b}"), Some(4));
        assert_eq!(count(&rows, "Object"), Some(2));
        assert_eq!(count(&rows, "(string)"), Some(2));
        for one in [
            "Global",
            "Function",
            "RegExp",
            "(concatenated string)",
            "(number)",
            "(symbol)",
            "(bigint)",
            "(compiled code)",
            "(object shape)",
            "<div>",
            "Detached <span>",
        ] {
            assert_eq!(count(&rows, one), Some(1), "{one} in {mode:?}");
        }
        assert!(rows.iter().all(|r| r.class_name != "(synthetic)"));
    }
    let raw = a.summary(&g, SizeMode::Raw);
    let dt = a.summary(&g, SizeMode::DevTools);
    assert_eq!(count(&raw, "(system)"), Some(1));
    assert_eq!(count(&dt, "(system)"), None);
    let global = |rows: &[ClassRow]| {
        rows.iter()
            .find(|r| r.class_name == "Global")
            .unwrap()
            .shallow_size
    };
    assert_eq!(global(&raw), 10);
    assert_eq!(global(&dt), 38);
    assert_eq!(a.self_size(1, SizeMode::DevTools), 38);
    assert_eq!(a.self_size(18, SizeMode::DevTools), 0);
    // Totals are the same in both modes, and rows are sorted by retained size.
    assert_eq!(
        a.retained_size(0, SizeMode::Raw),
        a.retained_size(0, SizeMode::DevTools)
    );
    for rows in [&raw, &dt] {
        assert!(rows
            .windows(2)
            .all(|w| w[0].retained_size >= w[1].retained_size));
    }
}

#[test]
fn unknown_node_type_gets_parenthesised_class() {
    let mut v = vector_json("v3");
    v["snapshot"]["meta"]["node_types"][0]
        .as_array_mut()
        .unwrap()
        .push("wasm object".into());
    // Turn the symbol node (ordinal 14, type 12) into the new type 15.
    let nf = 6;
    v["nodes"][14 * nf] = 15.into();
    let (g, a) = analyse(&v);
    assert_eq!(a.class_name(&g, 14), "(wasm object)");
    let rows = a.summary(&g, SizeMode::DevTools);
    assert!(rows
        .iter()
        .any(|r| r.class_name == "(wasm object)" && r.count == 1));
}

#[test]
fn objects_and_largest() {
    let (g, a) = load("v1");
    use leakguard_core::analysis::ObjectSort;
    let foos = a.objects(&g, "Foo", SizeMode::Raw, ObjectSort::Retained, 10);
    assert_eq!(
        foos.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![105, 103]
    );
    let by_id = a.objects(&g, "Foo", SizeMode::Raw, ObjectSort::Id, 1);
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].id, 103);
    assert_eq!(by_id[0].name, "Foo");
    assert!(a
        .objects(&g, "(array)", SizeMode::DevTools, ObjectSort::Retained, 10)
        .is_empty());
    assert_eq!(
        a.objects(&g, "(array)", SizeMode::Raw, ObjectSort::Retained, 10)
            .len(),
        1
    );
    assert!(a
        .objects(&g, "NoSuchClass", SizeMode::Raw, ObjectSort::Retained, 10)
        .is_empty());
    let top = a.largest_objects(&g, SizeMode::DevTools, 3);
    assert_eq!(
        top.iter().map(|o| o.ordinal).collect::<Vec<_>>(),
        vec![2, 5, 11]
    );
    assert_eq!(top[0].retained_size, 186);
    // Synthetic and system-only nodes are never listed.
    let all = a.largest_objects(&g, SizeMode::Raw, 100);
    assert!(all.iter().all(|o| o.distance < SYS && !o.system));
    // The `system` flag marks rows reachable only through system roots.
    let sys = a.objects(&g, "(system)", SizeMode::Raw, ObjectSort::Retained, 10);
    assert_eq!(sys.iter().map(|o| o.system).collect::<Vec<_>>(), vec![true]);
    assert!(foos.iter().all(|o| !o.system));
    assert_eq!(all.len(), 11);
    assert!(a.largest_objects(&g, SizeMode::Raw, 0).is_empty());
}

#[test]
fn cancel_and_progress() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;
    let g = parse_value(&vector_json("v1"));
    let flag = AtomicBool::new(true);
    let err = Analysis::compute(&g, Control::new(Some(&flag), None)).unwrap_err();
    assert_eq!(err.code(), "ERR_LEAKGUARD_ABORTED");
    let seen = Mutex::new(Vec::new());
    let cb = |f: f64| seen.lock().unwrap().push(f);
    let flag = AtomicBool::new(false);
    Analysis::compute(&g, Control::new(Some(&flag), Some(&cb))).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "monotone: {seen:?}");
    assert_eq!(seen.last(), Some(&1.0));
}

#[test]
fn without_detachedness_column_names_decide() {
    // V3 minus the detachedness column: no DOM propagation, so <span> stays attached-looking.
    let src = vector_json("v3");
    let v = permute_columns(
        &src,
        &["type", "name", "id", "self_size", "edge_count"],
        &["type", "name_or_index", "to_node"],
    );
    let (g, a) = analyse(&v);
    assert!(!g.has_detachedness());
    assert_eq!(a.class_name(&g, 20), "<span>");
    assert_eq!(a.display_name(&g, 20), "<span class=\"y\">");
    assert_eq!(a.dom_state(20), 0);
    assert!(!a.is_detached_dom(&g, 20));
    // Older Chrome baked the state into the name.
    let mut v2 = v.clone();
    let strings = v2["strings"].as_array_mut().unwrap();
    strings[36] = "Detached <span class=\"y\">".into();
    let (g, a) = analyse(&v2);
    assert_eq!(a.class_name(&g, 20), "Detached <span>");
    assert!(a.is_detached_dom(&g, 20));
    // The rest of the naming is unaffected.
    assert_eq!(a.class_name(&g, 5), "{a, b}");
}
