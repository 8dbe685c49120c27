//! The classes-only analysis ([`Analysis::compute_classes`], a [`ClassAnalysis`]) and its
//! completion: what a diff needs is the same as in a full analysis, and completing it gives
//! exactly the full analysis. Retained sizes, summaries and the leak finder only take the
//! complete [`Analysis`], so the compiler rules out reading them from a half-built one.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::{Analysis, ClassAnalysis, PathKind, SizeMode};
use leakguard_core::compare::{diff, find_leaks, LeakOptions};
use leakguard_core::Control;
use leakguard_core::{Error, HeapGraph};

const MODES: [SizeMode; 2] = [SizeMode::DevTools, SizeMode::Raw];

/// Every per-node answer of two analyses of `g`, compared node by node.
fn assert_same(g: &HeapGraph, a: &ClassAnalysis, b: &ClassAnalysis, what: &str) {
    assert_eq!(a.class_names(), b.class_names(), "{what}: class table");
    assert_eq!(
        a.interface_definitions(),
        b.interface_definitions(),
        "{what}"
    );
    assert_eq!(a.total_size(), b.total_size(), "{what}: total size");
    for x in 0..g.node_count() as u32 {
        for k in [PathKind::DevTools, PathKind::Shortest] {
            assert_eq!(a.retainer_path(g, x, k, 50), b.retainer_path(g, x, k, 50));
        }
        assert_eq!(a.class_index(x), b.class_index(x), "{what}: class of {x}");
        assert_eq!(a.distance(x), b.distance(x), "{what}: distance of {x}");
        assert_eq!(a.display_name(g, x), b.display_name(g, x), "{what}: {x}");
        assert_eq!(a.node_by_id(g.node_id(x)), b.node_by_id(g.node_id(x)));
        for m in MODES {
            assert_eq!(a.self_size(x, m), b.self_size(x, m), "{what}: self {x}");
        }
    }
}

fn assert_same_dominators(g: &HeapGraph, a: &Analysis, b: &Analysis, what: &str) {
    for x in 0..g.node_count() as u32 {
        assert_eq!(a.idom(x), b.idom(x), "{what}: idom of {x}");
        assert_eq!(a.dominated(x), b.dominated(x), "{what}: dominated by {x}");
        assert_eq!(
            a.is_page_owned(x),
            b.is_page_owned(x),
            "{what}: page-owned {x}"
        );
        for m in MODES {
            assert_eq!(a.retained_size(x, m), b.retained_size(x, m), "{what}: {x}");
        }
    }
    for e in 0..g.edge_count() {
        assert_eq!(
            a.is_essential_edge(e),
            b.is_essential_edge(e),
            "{what}: edge {e}"
        );
    }
    for m in MODES {
        assert_eq!(a.summary(g, m), b.summary(g, m), "{what}: summary");
        assert_eq!(a.largest_objects(g, m, 50), b.largest_objects(g, m, 50));
    }
    for x in 0..g.node_count() as u32 {
        for k in [PathKind::DevTools, PathKind::Shortest] {
            assert_eq!(a.retainer_path(g, x, k, 50), b.retainer_path(g, x, k, 50));
        }
    }
}

#[test]
fn classes_only_then_complete_equals_the_full_analysis_on_every_vector() {
    for name in ["v1", "v1b", "v2", "v3"] {
        let g = parse_value(&vector_json(name));
        let full = Analysis::compute(&g, Control::NONE).expect("full");
        let classes = Analysis::compute_classes(&g, Control::NONE).expect("classes");
        assert_same(&g, &full, &classes, name);
        let done = classes.complete(&g, Control::NONE).expect("complete");
        assert_same(&g, &full, &done, name);
        assert_same_dominators(&g, &full, &done, name);
        let phases = |a: &Analysis| {
            let mut p: Vec<&str> = a.timings().phases.iter().map(|p| p.0).collect();
            p.sort_unstable();
            p
        };
        assert_eq!(phases(&full), phases(&done), "{name}: every phase once");
    }
}

#[test]
fn diff_needs_only_classes_but_the_leak_finder_needs_dominators() {
    let (b, t) = (
        parse_value(&vector_json("v1")),
        parse_value(&vector_json("v1b")),
    );
    let (bf, tf) = (
        Analysis::compute(&b, Control::NONE).unwrap(),
        Analysis::compute(&t, Control::NONE).unwrap(),
    );
    let (bc, tc) = (
        Analysis::compute_classes(&b, Control::NONE).unwrap(),
        Analysis::compute_classes(&t, Control::NONE).unwrap(),
    );
    for m in MODES {
        let want = diff(&b, &bf, &t, &tf, m, Control::NONE).unwrap();
        assert!(!want.is_empty());
        assert_eq!(diff(&b, &bc, &t, &tc, m, Control::NONE).unwrap(), want);
        assert_eq!(diff(&b, &bf, &t, &tc, m, Control::NONE).unwrap(), want);
    }
    // find_leaks takes an Analysis: passing `&tc` does not compile.
    find_leaks(&b, &b, &t, &tf, &LeakOptions::default(), Control::NONE).expect("complete analysis");
}

#[test]
fn completing_with_another_graph_is_refused() {
    let g1 = parse_value(&vector_json("v1"));
    let g2 = parse_value(&vector_json("v2"));
    let c = Analysis::compute_classes(&g1, Control::NONE).unwrap();
    let err = c.complete(&g2, Control::NONE).unwrap_err();
    assert!(matches!(err, Error::InvalidArg(_)), "{err:?}");
}

#[test]
fn progress_is_monotone_and_ends_at_one_in_both_steps() {
    let g = parse_value(&vector_json("v3"));
    for step in 0..2 {
        let seen = std::sync::Mutex::new(Vec::new());
        let report = |f: f64| seen.lock().unwrap().push(f);
        let c =
            Analysis::compute_classes(&g, Control::new(None, (step == 0).then_some(&report as _)))
                .unwrap();
        if step == 1 {
            c.complete(&g, Control::new(None, Some(&report))).unwrap();
        }
        let seen = seen.into_inner().unwrap();
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen.last(), Some(&1.0), "{seen:?}");
    }
}
