//! Bounded work per retainer-path step: a crafted snapshot whose retainers are many cons strings
//! tied at one distance, each flattening to a 2^20-part (empty) string through a shared DAG.
//! Names are computed once per node and part, and the cancel flag is polled inside the step.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::PathKind;
use leakguard_core::{Control, Error};
use std::sync::atomic::AtomicBool;

/// Cons strings retaining the target.
const TIED: u32 = 300;
/// Levels of the shared `c[i] = c[i-1] + c[i-1]` DAG (2^20 leaves if walked as a tree).
const LEVELS: u32 = 20;

/// Nodes: 0 root, 1 Global, 2 target, 3 empty leaf string, 4..4+LEVELS the DAG, then the
/// tied cons strings (Global → .r<j> → tied → .t → target).
fn crafted() -> (String, u32) {
    let mut nodes: Vec<(u32, String, u32, u32)> = vec![
        (9, String::new(), 1, 0),
        (3, "Global".into(), 3, 8),
        (3, "Target".into(), 5, 8),
        (2, String::new(), 7, 8),
    ];
    let mut edges: Vec<(u32, u32, String, u32)> = vec![(0, 1, "1".into(), 1)];
    let dag = |i: u32| if i == 0 { 3 } else { 3 + i };
    for i in 1..=LEVELS {
        nodes.push((10, String::new(), 9 + 2 * i, 8));
        edges.push((dag(i), 3, "first".into(), dag(i - 1)));
        edges.push((dag(i), 3, "second".into(), dag(i - 1)));
    }
    let first_tied = nodes.len() as u32;
    for j in 0..TIED {
        let x = first_tied + j;
        nodes.push((10, String::new(), 1001 + 2 * j, 8));
        edges.push((1, 2, format!("r{j}"), x));
        edges.push((x, 3, "first".into(), dag(LEVELS)));
        edges.push((x, 3, "second".into(), dag(LEVELS)));
        edges.push((x, 2, "t".into(), 2));
    }
    let n: Vec<(u32, &str, u32, u32)> = nodes
        .iter()
        .map(|(t, s, id, sz)| (*t, s.as_str(), *id, *sz))
        .collect();
    let e: Vec<(u32, u32, &str, u32)> = edges
        .iter()
        .map(|(f, t, s, to)| (*f, *t, s.as_str(), *to))
        .collect();
    (build_snapshot(&n, &e), first_tied)
}

#[test]
fn a_step_over_many_tied_cons_strings_does_bounded_work() {
    let (text, first_tied) = crafted();
    assert!(
        text.len() < 80_000,
        "the snapshot is small: {} bytes",
        text.len()
    );
    let (g, a) = analyse_text(&text);
    let mut budget = Control::NONE.budget(u64::MAX);
    let p = a
        .retainer_path_in(&g, 2, PathKind::DevTools, 20, &mut budget)
        .expect("not cancelled")
        .expect("a path");
    assert!(p.complete, "{}", p.text);
    let ords: Vec<u32> = p.steps.iter().map(|s| s.ordinal).collect();
    assert_eq!(ords.len(), 3, "{ords:?}");
    assert_eq!(ords[0], 1);
    assert!(
        ords[1] >= first_tied,
        "a tied cons string holds it: {ords:?}"
    );
    assert_eq!(p.steps[1].name, "");
    // Walking each name as a tree would visit 100 000 parts per tied retainer (30 million).
    let spent = budget.spent();
    assert!(spent < 20_000, "work units spent on the path: {spent}");
    // The budget-free entry point gives the same path.
    assert_eq!(a.retainer_path(&g, 2, PathKind::DevTools, 20), Some(p));
}

#[test]
fn cancel_stops_the_step_inside_its_retainer_list() {
    let (text, _) = crafted();
    let (g, a) = analyse_text(&text);
    let mut full = Control::NONE.budget(u64::MAX);
    a.retainer_path_in(&g, 2, PathKind::DevTools, 20, &mut full)
        .expect("not cancelled");
    let flag = AtomicBool::new(true);
    let mut budget = Control::cancel(&flag).budget(64);
    let err = a
        .retainer_path_in(&g, 2, PathKind::DevTools, 20, &mut budget)
        .expect_err("cancelled");
    assert_eq!(err, Error::Aborted);
    // Stopped at the first check, long before the step's work was done.
    assert!(budget.spent() < 64 + 8, "spent {}", budget.spent());
    assert!(
        full.spent() > 4 * budget.spent(),
        "{} vs {}",
        full.spent(),
        budget.spent()
    );
    // The default entry point has no flag and completes.
    assert!(a.retainer_path(&g, 2, PathKind::DevTools, 20).is_some());
}
