//! Comparison view (docs/analysis.md#comparison) and the same-heap guard on the test vectors and
//! hand-made graphs.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::SizeMode;
use leakguard_core::compare::{check_same_heap, diff, DiffRow};
use leakguard_core::Control;
use leakguard_core::Error;

fn row(class: &str, added: u64, removed: u64, asz: u64, rsz: u64) -> DiffRow {
    DiffRow::new(class.into(), added, removed, asz, rsz)
}

#[test]
fn v1_to_v1b_is_the_spec_table_in_both_modes() {
    let (g1, a1) = load("v1");
    let (g2, a2) = load("v1b");
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        let rows = diff(&g1, &a1, &g2, &a2, mode, Control::NONE).expect("diff");
        // Sorted by size delta, descending.
        assert_eq!(
            rows,
            vec![
                row("New", 1, 0, 24, 0),
                row("Foo", 1, 1, 44, 30),
                row("Baz", 0, 1, 0, 60),
            ],
            "{mode:?}"
        );
        let deltas: Vec<(i64, i64)> = rows.iter().map(|r| (r.count_delta, r.size_delta)).collect();
        assert_eq!(deltas, vec![(1, 24), (0, 14), (-1, -60)]);
    }
}

#[test]
fn reverse_diff_mirrors_the_table() {
    let (g1, a1) = load("v1");
    let (g2, a2) = load("v1b");
    let rows = diff(&g2, &a2, &g1, &a1, SizeMode::Raw, Control::NONE).expect("diff");
    assert_eq!(
        rows,
        vec![
            row("Baz", 1, 0, 60, 0),
            row("Foo", 1, 1, 30, 44),
            row("New", 0, 1, 0, 24),
        ]
    );
}

#[test]
fn a_snapshot_against_itself_has_no_rows_and_is_the_same_heap() {
    for v in ["v1", "v1b", "v2", "v3"] {
        let (g, a) = load(v);
        check_same_heap(&g, &g).expect(v);
        assert!(diff(&g, &a, &g, &a, SizeMode::DevTools, Control::NONE)
            .expect(v)
            .is_empty());
    }
    let (g1, _) = load("v1");
    let (g2, _) = load("v1b");
    check_same_heap(&g1, &g2).expect("V1 and V1b are one heap");
    check_same_heap(&g2, &g1).expect("V1b and V1 are one heap");
}

#[test]
fn delta_helpers_saturate() {
    let r = row("X", u64::MAX, 0, u64::MAX, 0);
    assert_eq!(r.count_delta, i64::MAX);
    assert_eq!(r.size_delta, i64::MAX);
    let r = row("X", 0, u64::MAX, 0, u64::MAX);
    assert_eq!(r.size_delta, i64::MIN);
}

/// Root → Global (id 101) → `n` plain objects `o<i>` with the given property order.
fn plain_objects(props: &[&str], ids: &[u32], extra_ab: u32) -> String {
    let mut nodes = vec![(9, "", 1, 0), (3, "Global", 101, 10)];
    let mut edges = vec![(0, 5, "1", 1)];
    for &id in ids {
        let o = nodes.len() as u32;
        nodes.push((3, "Object", id, 20));
        edges.push((1, 2, "o", o));
        for p in props {
            edges.push((o, 2, p, 1));
        }
    }
    // Extra `{a, b}` objects only on this side, to change the inferred definitions.
    for i in 0..extra_ab {
        let o = nodes.len() as u32;
        nodes.push((3, "Object", 1001 + 2 * i, 20));
        edges.push((1, 2, "e", o));
        edges.push((o, 2, "a", 1));
        edges.push((o, 2, "b", 1));
    }
    build_snapshot(&nodes, &edges)
}

#[test]
fn base_is_classified_with_the_current_interface_definitions() {
    // Base names the two objects `{a, b, c}`; the current snapshot lists the same properties in
    // another order, so its definition is `{c, b, a}`. DevTools re-classifies the base with the
    // current definitions, so the unchanged objects produce no row.
    let (gb, ab) = analyse_text(&plain_objects(&["a", "b", "c"], &[201, 203], 0));
    let (gc, ac) = analyse_text(&plain_objects(&["c", "b", "a"], &[201, 203, 205], 0));
    assert_eq!(ab.class_name(&gb, 2), "{a, b, c}");
    assert_eq!(ac.class_name(&gc, 2), "{c, b, a}");
    let rows = diff(&gb, &ab, &gc, &ac, SizeMode::Raw, Control::NONE).expect("diff");
    assert_eq!(rows, vec![row("{c, b, a}", 1, 0, 20, 0)]);

    // Definitions present only in the current snapshot apply to the base as well: the base's
    // lone `{a, b}` object stays `Object` on its own, but is `{a, b}` under the current rules.
    let (gb, ab) = analyse_text(&plain_objects(&["a", "b"], &[201], 0));
    let (gc, ac) = analyse_text(&plain_objects(&["a", "b"], &[201], 2));
    assert_eq!(ab.class_name(&gb, 2), "Object");
    let rows = diff(&gb, &ab, &gc, &ac, SizeMode::Raw, Control::NONE).expect("diff");
    assert_eq!(rows, vec![row("{a, b}", 2, 0, 40, 0)]);
}

#[test]
fn zero_size_nodes_do_not_take_part() {
    // The (array) of V1 has self size 0 under reattribution, 50 raw: removing it shows in raw
    // mode only.
    let (g1, a1) = load("v1");
    let mut v = vector_json("v1");
    // Node D (ordinal 6, id 109) gets id 999: deleted + new in raw mode.
    let nodes = v["nodes"].as_array_mut().unwrap();
    nodes[6 * 6 + 2] = 999.into();
    let (g2, a2) = analyse(&v);
    let raw = diff(&g1, &a1, &g2, &a2, SizeMode::Raw, Control::NONE).expect("diff");
    assert_eq!(raw, vec![row("(array)", 1, 1, 50, 50)]);
    let dt = diff(&g1, &a1, &g2, &a2, SizeMode::DevTools, Control::NONE).expect("diff");
    assert!(dt.is_empty(), "{dt:?}");
}

/// A graph whose non-root nodes carry ids `first, first + 2, …` and names from `names`.
fn labelled(names: &[&str], first: u32, global_id: u32) -> String {
    let mut nodes = vec![(9, "", 1, 0), (3, "Global", global_id, 10)];
    let mut edges = vec![(0, 5, "1", 1)];
    for (i, name) in names.iter().enumerate() {
        let o = nodes.len() as u32;
        nodes.push((3, *name, first + 2 * i as u32, 16));
        edges.push((1, 2, "x", o));
    }
    build_snapshot(&nodes, &edges)
}

#[test]
fn different_processes_are_rejected() {
    let a_names: Vec<String> = (0..200).map(|i| format!("A{}", i % 13)).collect();
    let b_names: Vec<String> = (0..200).map(|i| format!("A{}", (i + 5) % 13)).collect();
    let a_refs: Vec<&str> = a_names.iter().map(String::as_str).collect();
    let b_refs: Vec<&str> = b_names.iter().map(String::as_str).collect();
    let (ga, aa) = analyse_text(&labelled(&a_refs, 1001, 101));
    let (gb, ab) = analyse_text(&labelled(&b_refs, 1001, 101));
    let err = check_same_heap(&ga, &gb).expect_err("names differ under the same ids");
    assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
    assert!(err.to_string().contains("different processes"), "{err}");
    assert_eq!(
        diff(&ga, &aa, &gb, &ab, SizeMode::DevTools, Control::NONE).map(|_| ()),
        Err(err)
    );

    // A handful of renamed objects (an embedder rename, a swapped prototype) is tolerated.
    let mut few = a_names.clone();
    for n in few.iter_mut().take(5) {
        n.push_str("Renamed");
    }
    let few_refs: Vec<&str> = few.iter().map(String::as_str).collect();
    let (gf, _) = analyse_text(&labelled(&few_refs, 1001, 101));
    check_same_heap(&ga, &gf).expect("5 renames of 200 are within one heap");

    // Different global objects: different isolates, whatever the rest looks like.
    let (gg, _) = analyse_text(&labelled(&a_refs, 1001, 103));
    let err = check_same_heap(&ga, &gg).expect_err("global ids differ");
    assert!(err.to_string().contains("global objects"), "{err}");
}

#[test]
fn mismatched_analysis_is_an_invalid_argument() {
    let (g1, a1) = load("v1");
    let (g3, a3) = load("v3");
    let err =
        diff(&g1, &a3, &g1, &a1, SizeMode::DevTools, Control::NONE).expect_err("wrong analysis");
    assert!(matches!(err, Error::InvalidArg(_)), "{err:?}");
    let err =
        diff(&g1, &a1, &g3, &a1, SizeMode::DevTools, Control::NONE).expect_err("wrong analysis");
    assert!(matches!(err, Error::InvalidArg(_)), "{err:?}");
}
