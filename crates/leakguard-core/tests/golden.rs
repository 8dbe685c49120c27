//! Golden tests on the hand-checked vectors of docs/analysis.md#test-vectors, also after rewriting
//! them into other column layouts (permuted fields, an inserted trace_node_id column, reordered
//! keys).

mod common;
use common::*;
use leakguard_core::{parse_file, Control, EdgeName, EdgeType, HeapGraph, LoadOptions, NodeType};

fn load(name: &str) -> HeapGraph {
    let g = parse(&vector(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    check_invariants(&g);
    g
}

#[test]
fn v1_counts_names_edges_retainers() {
    let g = load("v1");
    assert_eq!(
        (g.node_count(), g.edge_count(), g.total_size()),
        (15, 19, 314)
    );
    assert_eq!(g.string_count(), 28);
    assert_eq!(g.root(), 0);
    assert!(g.has_detachedness());
    assert!(!g.has_trace_node_id());
    assert_eq!(g.node_type(0), NodeType::Synthetic);
    assert_eq!(g.node_name(0), "");
    assert_eq!(g.node_name(1), "(GC roots)");
    assert_eq!(
        (g.node_name(2), g.node_id(2), g.self_size(2)),
        ("Global", 101, 10)
    );
    assert_eq!(g.node_type(6), NodeType::Array);
    assert_eq!(g.node_type_name(6), "array");
    assert_eq!(g.node_type(9), NodeType::Closure);
    assert_eq!(g.node_type(10), NodeType::String);
    assert_eq!(g.node_name(10), "hello");
    assert_eq!(
        (g.node_type(12), g.node_name(12)),
        (NodeType::Hidden, "system / Context")
    );
    assert_eq!(g.node_id(14), 125);
    // Root edges: element [1] -> (GC roots), shortcut "1" -> Global.
    assert_eq!(g.edges(0), 0..2);
    assert_eq!(g.edge_type(0), EdgeType::Element);
    assert_eq!(g.edge_name(0), EdgeName::Index(1));
    assert_eq!(g.edge_to(0), 1);
    assert_eq!(g.edge_type(1), EdgeType::Shortcut);
    assert_eq!(g.edge_name(1), EdgeName::Str("1"));
    assert_eq!(g.edge_name_or_index(1), 15);
    assert_eq!(g.edge_to(1), 2);
    // C "Bar": internal elements -> D, back -> A (cycle), weak w -> E.
    assert_eq!(g.node_name(5), "Bar");
    assert_eq!(g.edges(5), 10..13);
    assert_eq!(g.edge_count_of(5), 3);
    assert_eq!(
        g.edges(5)
            .map(|e| (g.edge_type(e), g.edge_name(e), g.edge_to(e)))
            .collect::<Vec<_>>(),
        vec![
            (EdgeType::Internal, EdgeName::Str("elements"), 6),
            (EdgeType::Property, EdgeName::Str("back"), 3),
            (EdgeType::Weak, EdgeName::Str("w"), 11),
        ]
    );
    // D's self edge element [0].
    assert_eq!(g.edge_name(13), EdgeName::Index(0));
    assert_eq!(g.edge_to(13), 6);
    // H is retained by A (shortcut), X and f.
    assert_eq!(
        g.retainers(8).collect::<Vec<_>>(),
        vec![(8, 3), (14, 7), (16, 9)]
    );
    assert_eq!(g.retainer_count(8), 3);
    assert_eq!(g.retainers(5).collect::<Vec<_>>(), vec![(7, 3), (9, 4)]);
    assert_eq!(g.retainers(0).count(), 0);
    // P <-> Q clique.
    assert_eq!(g.retainers(13).collect::<Vec<_>>(), vec![(18, 14)]);
    assert_eq!(g.retainers(14).collect::<Vec<_>>(), vec![(17, 13)]);
    // Out-of-range ordinals are neutral, not panics.
    assert_eq!(g.node_name(99), "");
    assert_eq!(g.self_size(99), 0);
    assert_eq!(g.edges(99), 0..0);
    assert_eq!(g.retainers(99).count(), 0);
    assert_eq!(g.string(999), "");
    assert!(g.heap_bytes() > 0);
}

#[test]
fn v1b_reordered_strings() {
    let g = load("v1b");
    assert_eq!(
        (g.node_count(), g.edge_count(), g.total_size()),
        (15, 19, 292)
    );
    assert_eq!(
        (g.node_name(4), g.node_id(4), g.self_size(4)),
        ("Foo", 127, 44)
    );
    assert_eq!(
        (g.node_name(14), g.node_id(14), g.self_size(14)),
        ("New", 129, 24)
    );
    assert_eq!(g.edge_name(1), EdgeName::Str("1"));
    assert_eq!(g.edge_name_or_index(1), 2);
    let names: Vec<_> = g.edges(2).map(|e| g.edge_name(e)).collect();
    assert_eq!(names, ["a", "b", "x", "s", "n"].map(EdgeName::Str).to_vec());
    assert_eq!(g.edge_to(g.edges(2).end - 1), 14);
    assert!((0..15).all(|n| g.node_id(n) != 105 && g.node_id(n) != 119));
}

#[test]
fn v2_weakmap() {
    let g = load("v2");
    assert_eq!(
        (g.node_count(), g.edge_count(), g.total_size()),
        (6, 7, 178)
    );
    assert_eq!((g.node_type(3), g.node_id(3)), (NodeType::Array, 205));
    assert_eq!(
        g.edge_name(4),
        EdgeName::Str(
            "3 / part of key (Key @201) -> value (Val @203) pair in WeakMap (table @205)"
        )
    );
    assert_eq!(g.edge_type(5), EdgeType::Weak);
    assert_eq!(g.retainers(5).collect::<Vec<_>>(), vec![(4, 3), (6, 4)]);
    assert_eq!(g.retainers(4).collect::<Vec<_>>(), vec![(2, 1), (5, 3)]);
}

#[test]
fn v3_naming_and_detachedness() {
    let g = load("v3");
    assert_eq!(
        (g.node_count(), g.edge_count(), g.total_size()),
        (21, 30, 590)
    );
    assert_eq!(
        (g.node_type(8), g.node_name(8)),
        (NodeType::Closure, "myFn")
    );
    assert_eq!(
        (g.node_type(9), g.node_name(9)),
        (NodeType::RegExp, "/ab+c/")
    );
    assert_eq!(g.node_type(10), NodeType::ConsString);
    assert_eq!(g.node_type_name(10), "concatenated string");
    assert_eq!(g.node_type(13), NodeType::Number);
    assert_eq!(g.node_type(14), NodeType::Symbol);
    assert_eq!(g.node_type(15), NodeType::BigInt);
    assert_eq!(
        (g.node_type(16), g.node_name(16)),
        (NodeType::Code, "(Builtin)")
    );
    assert_eq!(
        (g.node_type(17), g.node_name(17)),
        (NodeType::ObjectShape, "system / Map")
    );
    assert_eq!((g.node_type(18), g.self_size(18)), (NodeType::Hidden, 28));
    assert_eq!(
        (g.node_type(19), g.node_name(19)),
        (NodeType::Native, "<div id=\"x\">")
    );
    assert_eq!(g.node_name(20), "<span class=\"y\">");
    assert_eq!((g.detachedness(19), g.node_id(19)), (1, 2));
    assert_eq!((g.detachedness(20), g.node_id(20)), (2, 4));
    assert!((0..19).all(|n| g.detachedness(n) == 0));
    let cs: Vec<_> = g
        .edges(10)
        .map(|e| (g.edge_name(e), g.node_name(g.edge_to(e))))
        .collect();
    assert_eq!(
        cs,
        vec![
            (EdgeName::Str("first"), "foo"),
            (EdgeName::Str("second"), "bar")
        ]
    );
    assert_eq!(g.edge_count_of(1), 16);
}

const VECTORS: [&str; 4] = ["v1", "v1b", "v2", "v3"];

/// Every permutation of the node and edge columns, with and without a zero trace_node_id column,
/// must give the identical graph.
#[test]
fn permuted_layouts_give_identical_graphs() {
    let mut rng = Rng::new(7);
    for name in VECTORS {
        let bytes = vector(name);
        let want = dump(&parse(&bytes).unwrap());
        let mut layouts: Vec<(Vec<usize>, Vec<usize>)> = vec![
            ((0..6).collect(), (0..3).collect()),
            ((0..6).rev().collect(), (0..3).rev().collect()),
            (vec![3, 0, 5, 1, 4, 2], vec![2, 0, 1]),
            (vec![2, 4, 1, 5, 0, 3], vec![1, 2, 0]),
        ];
        for _ in 0..8 {
            let mut n: Vec<usize> = (0..6).collect();
            let mut e: Vec<usize> = (0..3).collect();
            rng.shuffle(&mut n);
            rng.shuffle(&mut e);
            layouts.push((n, e));
        }
        for (n, e) in &layouts {
            for trace in [None, Some(5), Some(0), Some(3), Some(6)] {
                let re = rewrite(&bytes, n, e, trace);
                let g =
                    parse(&re).unwrap_or_else(|err| panic!("{name} {n:?} {e:?} {trace:?}: {err}"));
                assert_eq!(
                    dump(&g),
                    want,
                    "{name} nodes {n:?} edges {e:?} trace {trace:?}"
                );
                assert_eq!(g.has_trace_node_id(), trace.is_some());
                check_invariants(&g);
            }
        }
    }
}

/// Top-level keys in any order, pretty-printed whitespace, absent trace keys, file vs bytes.
#[test]
fn key_order_whitespace_and_file_loading() {
    for name in VECTORS {
        let bytes = vector(name);
        let want = dump(&parse(&bytes).unwrap());
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let obj = v.as_object().unwrap();
        // Strings first, edges before nodes, snapshot last; trace keys dropped.
        let mut text = String::from("{");
        for (i, k) in ["strings", "edges", "nodes", "snapshot"].iter().enumerate() {
            if i > 0 {
                text.push_str(" ,\n ");
            }
            text.push_str(&format!("{:?} : {}", k, obj[*k]));
        }
        text.push('}');
        assert_eq!(
            dump(&parse(text.as_bytes()).unwrap()),
            want,
            "{name} reordered"
        );
        assert_eq!(
            dump(&parse_serial(text.as_bytes()).unwrap()),
            want,
            "{name} reordered serial"
        );
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        assert_eq!(dump(&parse(&pretty).unwrap()), want, "{name} pretty");
        let g = parse_file(&vector_path(name), &LoadOptions::default(), Control::NONE).unwrap();
        assert_eq!(dump(&g), want, "{name} from file");
        for threads in 1..=4 {
            let opts = LoadOptions {
                threads,
                ..LoadOptions::default()
            };
            let g = leakguard_core::parse_bytes(&bytes, &opts, Control::NONE).unwrap();
            assert_eq!(dump(&g), want, "{name} threads {threads}");
        }
    }
}

#[test]
fn graph_is_send_sync_and_outlives_the_file() {
    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    let dir = std::env::temp_dir().join(format!("leakguard-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v1.heapsnapshot");
    std::fs::write(&path, vector("v1")).unwrap();
    let g = parse_file(&path, &LoadOptions::default(), Control::NONE).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_send_sync(&g);
    let g = std::thread::spawn(move || g).join().unwrap();
    assert_eq!(g.node_name(2), "Global");
}
