//! Dominator-tree tests on small named graphs (in the style of rustc's dominators tests), a
//! randomized comparison with a naive fix-point, and million-node chains that would overflow
//! the stack of any recursive implementation.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::{PathKind, SizeMode, NO_DISTANCE};
use leakguard_core::Control;

const SYNTHETIC: u32 = 9;
const OBJECT: u32 = 3;
const ELEMENT: u32 = 1;
const PROPERTY: u32 = 2;
const WEAK: u32 = 6;

/// A graph of `n` objects (ordinals 1..=n, self size = 10 * ordinal) with the root (ordinal 0)
/// holding `start` through an element edge, so no node is page-owned and every non-weak,
/// non-self edge is essential.
fn graph(n: u32, edges: &[(u32, u32)], start: u32) -> String {
    graph_typed(
        n,
        &edges
            .iter()
            .map(|&(a, b)| (a, PROPERTY, b))
            .collect::<Vec<_>>(),
        start,
    )
}

fn graph_typed(n: u32, edges: &[(u32, u32, u32)], start: u32) -> String {
    let names: Vec<String> = (0..=n).map(|k| format!("N{k}")).collect();
    let mut nodes = vec![(SYNTHETIC, "", 1, 0)];
    for k in 1..=n {
        nodes.push((OBJECT, names[k as usize].as_str(), 2 * k + 1, 10 * k));
    }
    let mut es = vec![(0, ELEMENT, "1", start)];
    for &(a, t, b) in edges {
        es.push((a, t, if t == ELEMENT { "0" } else { "e" }, b));
    }
    build_snapshot(&nodes, &es)
}

fn idoms(text: &str) -> Vec<u32> {
    let (g, a) = analyse_text(text);
    (0..g.node_count() as u32).map(|x| a.idom(x)).collect()
}

#[test]
fn immediate_dominator_chain() {
    assert_eq!(idoms(&graph(3, &[(1, 2), (2, 3)], 1)), vec![0, 0, 1, 2]);
}

#[test]
fn diamond() {
    assert_eq!(
        idoms(&graph(4, &[(1, 2), (1, 3), (2, 4), (3, 4)], 1)),
        vec![0, 0, 1, 1, 1]
    );
}

#[test]
fn simple_loop() {
    assert_eq!(
        idoms(&graph(4, &[(1, 2), (2, 3), (3, 2), (3, 4)], 1)),
        vec![0, 0, 1, 2, 3]
    );
}

#[test]
fn irreducible() {
    let g = graph(4, &[(1, 2), (1, 3), (2, 3), (3, 2), (2, 4), (3, 4)], 1);
    assert_eq!(idoms(&g), vec![0, 0, 1, 1, 1]);
}

#[test]
fn lengauer_tarjan_paper() {
    let e = [
        (6, 5),
        (6, 4),
        (5, 1),
        (4, 2),
        (4, 3),
        (1, 2),
        (2, 3),
        (3, 2),
        (2, 1),
    ];
    assert_eq!(idoms(&graph(6, &e, 6)), vec![0, 6, 6, 6, 6, 6, 0]);
}

#[test]
fn paper_slt() {
    let e = [
        (1, 2),
        (1, 3),
        (2, 3),
        (2, 7),
        (3, 4),
        (3, 6),
        (4, 5),
        (5, 4),
        (6, 7),
        (7, 8),
        (8, 5),
    ];
    assert_eq!(idoms(&graph(8, &e, 1)), vec![0, 0, 1, 1, 1, 1, 3, 1, 7]);
}

#[test]
fn self_edges_and_retained_sizes() {
    let text = graph(3, &[(1, 1), (1, 2), (2, 2), (2, 3), (3, 1)], 1);
    let (_g, a) = analyse_text(&text);
    assert_eq!((a.idom(1), a.idom(2), a.idom(3)), (0, 1, 2));
    assert_eq!(a.retained_size(1, SizeMode::Raw), 60);
    assert_eq!(a.retained_size(3, SizeMode::Raw), 30);
    assert_eq!(a.total_size(), 60);
}

#[test]
fn unreachable_clique_and_weak_orphans() {
    // 1 -> 2 reachable; 3 <-> 4 a garbage clique; 2 -weak-> 5 -> 6: an orphan subtree.
    let e = [
        (1, PROPERTY, 2),
        (3, PROPERTY, 4),
        (4, PROPERTY, 3),
        (2, WEAK, 5),
        (5, PROPERTY, 6),
    ];
    let (_g, a) = analyse_text(&graph_typed(6, &e, 1));
    assert_eq!((a.idom(3), a.idom(4)), (0, 0));
    assert_eq!((a.idom(5), a.idom(6)), (0, 5));
    for x in 3..=6 {
        assert_eq!(a.distance(x), NO_DISTANCE, "distance of {x}");
    }
    assert_eq!(a.retained_size(5, SizeMode::Raw), 110);
    assert_eq!(a.retained_size(3, SizeMode::Raw), 30);
    assert_eq!(a.retained_size(0, SizeMode::Raw), 210);
    assert_eq!(a.dominated(0), &[1, 3, 4, 5]);
}

/// Dominators by the textbook fix-point over bitsets, for nodes reachable from the root.
fn naive_idoms(n: usize, succ: &[Vec<usize>]) -> Vec<Option<usize>> {
    let mut reach = vec![false; n];
    let mut stack = vec![0];
    reach[0] = true;
    while let Some(x) = stack.pop() {
        for &y in &succ[x] {
            if !reach[y] {
                reach[y] = true;
                stack.push(y);
            }
        }
    }
    let mut pred = vec![Vec::new(); n];
    for (x, ys) in succ.iter().enumerate() {
        for &y in ys {
            if y != x {
                pred[y].push(x);
            }
        }
    }
    let full: Vec<bool> = reach.clone();
    let mut dom: Vec<Vec<bool>> = (0..n)
        .map(|x| {
            if x == 0 {
                (0..n).map(|y| y == 0).collect()
            } else {
                full.clone()
            }
        })
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for x in 1..n {
            if !reach[x] {
                continue;
            }
            let mut new = full.clone();
            for &p in pred[x].iter().filter(|&&p| reach[p]) {
                for y in 0..n {
                    new[y] = new[y] && dom[p][y];
                }
            }
            new[x] = true;
            if new != dom[x] {
                dom[x] = new;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|x| {
            if !reach[x] || x == 0 {
                return None;
            }
            // The strict dominator with the most dominators of its own is the immediate one.
            (0..n)
                .filter(|&d| d != x && dom[x][d])
                .max_by_key(|&d| dom[d].iter().filter(|&&b| b).count())
        })
        .collect()
}

#[test]
fn random_graphs_match_naive_fix_point() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for round in 0..60 {
        let n = 2 + rnd(40) as u32;
        let m = rnd(u64::from(n) * 3) as usize;
        // A random spanning tree first: DevTools also counts edges *from* garbage (orphans
        // hang off the root), so the textbook reference only applies when all is reachable.
        let mut edges: Vec<(u32, u32)> = (2..=n)
            .map(|k| (1 + rnd(u64::from(k - 1)) as u32, k))
            .collect();
        for _ in 0..m {
            edges.push((1 + rnd(u64::from(n)) as u32, 1 + rnd(u64::from(n)) as u32));
        }
        let text = graph(n, &edges, 1);
        let (_g, a) = analyse_text(&text);
        let mut succ = vec![Vec::new(); n as usize + 1];
        succ[0].push(1);
        for &(x, y) in &edges {
            succ[x as usize].push(y as usize);
        }
        let naive = naive_idoms(n as usize + 1, &succ);
        for (x, d) in naive.iter().enumerate() {
            if let Some(d) = d {
                assert_eq!(
                    a.idom(x as u32),
                    *d as u32,
                    "round {round}, node {x}, edges {edges:?}"
                );
            }
        }
        // Retained sizes add up, whatever the shape.
        assert_eq!(
            a.total_size(),
            (1..=u64::from(n)).map(|k| 10 * k).sum::<u64>()
        );
    }
}

/// A chain root -> 1 -> 2 -> ... -> n (all named "Link", self size 1), optionally closed into
/// a cycle n -> 1.
fn chain(n: u32, cycle: bool) -> String {
    let mut nodes = vec![(SYNTHETIC, "", 1, 0)];
    let mut es = vec![(0, 5, "1", 1)]; // root shortcut: a user global, everything page-owned
    for k in 1..=n {
        nodes.push((OBJECT, "Link", 2 * k + 1, 1));
        if k < n {
            es.push((k, PROPERTY, "next", k + 1));
        }
    }
    if cycle {
        es.push((n, PROPERTY, "next", 1));
    }
    build_snapshot(&nodes, &es)
}

#[test]
fn million_node_chain_has_no_stack_overflow() {
    const N: u32 = 1_000_000;
    for cycle in [false, true] {
        let (g, a) = analyse_text(&chain(N, cycle));
        assert_eq!(a.idom(1), 0);
        assert_eq!(a.idom(N), N - 1);
        assert_eq!(a.idom(N / 2), N / 2 - 1);
        assert_eq!(a.distance(N) as u32, N);
        assert_eq!(a.retained_size(1, SizeMode::Raw), u64::from(N));
        assert_eq!(a.retained_size(N, SizeMode::DevTools), 1);
        let rows = a.summary(&g, SizeMode::DevTools);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].count, rows[0].shallow_size, rows[0].retained_size),
            (u64::from(N), u64::from(N), u64::from(N))
        );
        let p = a.retainer_path(&g, N, PathKind::DevTools, 20).unwrap();
        assert_eq!(p.steps.len(), 21);
        assert!(!p.complete);
        assert!(p.text.ends_with(".next → Link"));
        let s = a
            .retainer_path(&g, N, PathKind::Shortest, usize::MAX)
            .unwrap();
        assert_eq!(s.steps.len(), N as usize);
        assert!(s.complete);
        assert_eq!(s.steps[0].ordinal, 1);
        let d = a
            .retainer_path(&g, N, PathKind::DevTools, usize::MAX)
            .unwrap();
        assert_eq!(d.steps.len(), N as usize);
        assert!(d.complete);
    }
}

#[test]
fn million_node_unreachable_chain_takes_the_orphan_pass() {
    // Root -> 1; 1 -weak-> 2 -> 3 -> ... -> n: one orphan DFS of a million nodes.
    const N: u32 = 1_000_000;
    let mut nodes = vec![(SYNTHETIC, "", 1, 0)];
    let mut es = vec![(0, 5, "1", 1)];
    for k in 1..=N {
        nodes.push((OBJECT, "Link", 2 * k + 1, 1));
        if k < N {
            es.push((k, if k == 1 { WEAK } else { PROPERTY }, "next", k + 1));
        }
    }
    let (_g, a) = analyse_text(&build_snapshot(&nodes, &es));
    assert_eq!(a.idom(2), 0);
    assert_eq!(a.idom(N), N - 1);
    assert_eq!(a.distance(N), NO_DISTANCE);
    assert_eq!(a.retained_size(2, SizeMode::Raw), u64::from(N - 1));
}

#[test]
fn cancel_is_honoured_inside_the_dominator_loops() {
    use leakguard_core::analysis::Analysis;
    use leakguard_core::{parse_bytes, LoadOptions};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    let text = chain(400_000, false);
    let g = parse_bytes(text.as_bytes(), &LoadOptions::default(), Control::NONE).unwrap();
    let flag = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    // Raise the flag at the first progress report from *inside* a long loop of the dominator
    // phase (its phase boundaries are 0.22 and 0.70).
    let cb = |f: f64| {
        seen.lock().unwrap().push(f);
        if f > 0.22 && f < 0.70 {
            flag.store(true, Ordering::Relaxed);
        }
    };
    let err = Analysis::compute(&g, Control::new(Some(&flag), Some(&cb))).unwrap_err();
    assert_eq!(err.code(), "ERR_LEAKGUARD_ABORTED");
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.iter().all(|&f| f < 0.70),
        "stopped inside the phase: {seen:?}"
    );
}
