//! Three-snapshot leak detection on hand-made graphs: the set logic of
//! docs/leaks.md#the-three-snapshot-method, candidates, ownership, grouping by path shape and the
//! thresholds.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::{Analysis, PathKind, SizeMode};
use leakguard_core::compare::{
    find_leaks, find_leaks_in_window, ClassOptions, IdWindow, LeakOptions, LeakReport,
};
use leakguard_core::Control;
use leakguard_core::{Error, HeapGraph};
use std::sync::atomic::AtomicBool;

// Node type indices of the vector meta.
const HIDDEN: u32 = 0;
const ARRAY: u32 = 1;
const STRING: u32 = 2;
const OBJECT: u32 = 3;
const CODE: u32 = 4;
const CLOSURE: u32 = 5;
const SYNTHETIC: u32 = 9;
// Edge type indices.
const CONTEXT: u32 = 0;
const ELEMENT: u32 = 1;
const PROPERTY: u32 = 2;
const INTERNAL: u32 = 3;
const SHORTCUT: u32 = 5;

type Node = (u32, &'static str, u32, u32);
type Edge = (u32, u32, String, u32);

/// A small heap under construction: root (id 1), `(GC roots)` (id 3), Global (id 101).
struct Heap {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Heap {
    const ROOT: u32 = 0;
    const GC_ROOTS: u32 = 1;
    const GLOBAL: u32 = 2;

    fn new() -> Heap {
        Heap {
            nodes: vec![
                (SYNTHETIC, "", 1, 0),
                (SYNTHETIC, "(GC roots)", 3, 0),
                (OBJECT, "Global", 101, 10),
            ],
            edges: vec![
                (Self::ROOT, ELEMENT, "1".into(), Self::GC_ROOTS),
                (Self::ROOT, SHORTCUT, "global".into(), Self::GLOBAL),
            ],
        }
    }

    fn node(&mut self, ty: u32, name: &'static str, id: u32, size: u32) -> u32 {
        self.nodes.push((ty, name, id, size));
        (self.nodes.len() - 1) as u32
    }

    fn edge(&mut self, from: u32, ty: u32, name: impl ToString, to: u32) {
        self.edges.push((from, ty, name.to_string(), to));
    }

    /// `owner.name` → a Map (id `map_id`) → internal `table` array → elements.
    fn map(&mut self, owner: u32, name: &str, map_id: u32) -> u32 {
        let map = self.node(OBJECT, "Map", map_id, 32);
        let table = self.node(ARRAY, "", map_id + 2, 64);
        self.edge(owner, PROPERTY, name, map);
        self.edge(map, INTERNAL, "table", table);
        table
    }

    /// A `Req` (id `id`) at `table[index]` with a url string (id `id + 1_000_000`) and a
    /// buffer object (id `id + 2_000_000`).
    fn req(&mut self, table: u32, index: u32, id: u32) -> u32 {
        let r = self.node(OBJECT, "Req", id, 40);
        let url = self.node(STRING, "/item", id + 1_000_000, 24);
        let buf = self.node(OBJECT, "Buffer", id + 2_000_000, 64);
        self.edge(table, ELEMENT, index, r);
        self.edge(r, PROPERTY, "url", url);
        self.edge(r, PROPERTY, "buf", buf);
        r
    }

    fn text(&self) -> String {
        let edges: Vec<(u32, u32, &str, u32)> = self
            .edges
            .iter()
            .map(|(f, t, n, to)| (*f, *t, n.as_str(), *to))
            .collect();
        build_snapshot(&self.nodes, &edges)
    }

    fn graph(&self) -> HeapGraph {
        analyse_text(&self.text()).0
    }

    fn analysed(&self) -> (HeapGraph, Analysis) {
        analyse_text(&self.text())
    }
}

fn run(b: &Heap, t: &Heap, f: &Heap, opts: &LeakOptions) -> LeakReport {
    let (fg, fa) = f.analysed();
    find_leaks(&b.graph(), &t.graph(), &fg, &fa, opts, Control::NONE).expect("find_leaks")
}

fn opts(min_count: u64) -> LeakOptions {
    LeakOptions {
        min_count,
        ..LeakOptions::default()
    }
}

#[test]
fn set_logic_of_the_docs_example() {
    // docs/leaks.md#the-three-snapshot-method: baseline {1,3,101,103,105}; target adds 127, 129,
    // 131; final drops 105 and 129 and adds 133. T = {127, 129, 131}; L = {127, 131}.
    let mut b = Heap::new();
    let x103 = b.node(OBJECT, "Old", 103, 8);
    let x105 = b.node(OBJECT, "Old", 105, 8);
    b.edge(Heap::GLOBAL, PROPERTY, "a", x103);
    b.edge(Heap::GLOBAL, PROPERTY, "b", x105);

    let mut t = Heap::new();
    for (id, name) in [
        (103, "Old"),
        (105, "Old"),
        (127, "P"),
        (129, "Q"),
        (131, "R"),
    ] {
        let x = t.node(OBJECT, name, id, 8);
        t.edge(Heap::GLOBAL, PROPERTY, "p", x);
    }

    let mut f = Heap::new();
    for (id, name) in [(103, "Old"), (127, "P"), (131, "R"), (133, "S")] {
        let x = f.node(OBJECT, name, id, 8);
        f.edge(Heap::GLOBAL, PROPERTY, "p", x);
    }

    let r = run(&b, &t, &f, &opts(1));
    assert_eq!(r.new_in_target, 3);
    assert_eq!(r.still_alive, 2);
    assert_eq!((r.nodes.baseline, r.nodes.target, r.nodes.fin), (5, 8, 7));
    let mut classes: Vec<(&str, u64, Vec<u32>)> = r
        .suspects
        .iter()
        .map(|s| (s.class_name.as_str(), s.count, s.sample_ids.clone()))
        .collect();
    classes.sort();
    assert_eq!(classes, vec![("P", 1, vec![127]), ("R", 1, vec![131])]);
    for s in &r.suspects {
        assert_eq!((s.retained_size, s.shallow_size), (8, 8));
        assert_eq!(s.paths.len(), 1);
        assert!(s.paths[0].complete, "{}", s.paths[0].text);
        assert_eq!(s.shape, format!("Global → .p → {}", s.class_name));
    }

    // No final snapshot objects in T: nothing to report.
    let r = run(&b, &b, &f, &opts(1));
    assert_eq!((r.new_in_target, r.still_alive), (0, 0));
    assert!(r.suspects.is_empty());
}

/// Baseline: Global → .reqs Map (ids 201/203) with one old Req. Target: 10 new Reqs. Final: the
/// same 10 plus 10 more that are not in T.
fn request_heaps(n: u32) -> (Heap, Heap, Heap) {
    let base = |h: &mut Heap| {
        let table = h.map(Heap::GLOBAL, "reqs", 201);
        h.req(table, 0, 301);
        table
    };
    let mut b = Heap::new();
    base(&mut b);
    let mut t = Heap::new();
    let table = base(&mut t);
    for i in 0..n {
        t.req(table, i + 1, 1001 + 2 * i);
    }
    let mut f = Heap::new();
    let table = base(&mut f);
    for i in 0..2 * n {
        f.req(table, i + 1, 1001 + 2 * i);
    }
    (b, t, f)
}

#[test]
fn owned_strings_and_buffers_are_part_of_their_request() {
    let (b, t, f) = request_heaps(10);
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        let o = LeakOptions {
            mode,
            ..LeakOptions::default()
        };
        let r = run(&b, &t, &f, &o);
        assert_eq!(
            r.new_in_target, 30,
            "10 Reqs with a string and a buffer each"
        );
        assert_eq!(r.still_alive, 30);
        assert_eq!(r.suspects.len(), 1, "{mode:?}: {:#?}", r.suspects);
        let s = &r.suspects[0];
        assert_eq!(s.class_name, "Req");
        assert_eq!(s.count, 10);
        assert_eq!(s.shallow_size, 10 * 40);
        assert_eq!(s.retained_size, 10 * (40 + 24 + 64));
        assert_eq!(s.sample_ids.len(), 5);
        assert_eq!(s.paths.len(), 5);
        for (p, id) in s.paths.iter().zip(&s.sample_ids) {
            assert!(p.complete, "{}", p.text);
            assert_eq!(p.steps.last().map(|x| x.id), Some(*id));
            assert!(
                p.text.starts_with("Global → .reqs (Map) → {table}"),
                "{}",
                p.text
            );
        }
        assert_eq!(s.shape, "Global → .reqs (Map) → {table} (array) → [] → Req");
    }
}

#[test]
fn samples_are_the_biggest_members() {
    let (b, mut t, mut f) = request_heaps(10);
    // Give request 1005 (third) a big payload in the final snapshot.
    let _ = &mut t;
    let big = f.node(STRING, "payload", 5001, 1000);
    let r1005 = f.nodes.iter().position(|n| n.2 == 1005).expect("req 1005") as u32;
    f.edge(r1005, PROPERTY, "payload", big);
    let r = run(&b, &t, &f, &opts(5));
    let s = &r.suspects[0];
    assert_eq!(s.sample_ids[0], 1005);
    assert_eq!(s.sample_ids[1..], [1001, 1003, 1007, 1009]);
    let o = LeakOptions {
        max_samples: 2,
        path_kind: PathKind::Shortest,
        max_path_steps: 1,
        ..LeakOptions::default()
    };
    let r = run(&b, &t, &f, &o);
    let s = &r.suspects[0];
    assert_eq!(s.sample_ids, vec![1005, 1001]);
    assert!(s
        .paths
        .iter()
        .all(|p| p.kind == PathKind::Shortest && !p.complete));
}

#[test]
fn the_same_class_held_by_two_maps_is_two_suspects() {
    let mut b = Heap::new();
    b.map(Heap::GLOBAL, "pending", 201);
    b.map(Heap::GLOBAL, "done", 211);
    let build = |h: &mut Heap| {
        let t1 = h.map(Heap::GLOBAL, "pending", 201);
        let t2 = h.map(Heap::GLOBAL, "done", 211);
        for i in 0..6 {
            h.req(t1, i, 1001 + 2 * i);
        }
        for i in 0..8 {
            h.req(t2, 100 + i, 2001 + 2 * i);
        }
    };
    let mut t = Heap::new();
    build(&mut t);
    let mut f = Heap::new();
    build(&mut f);
    let r = run(&b, &t, &f, &opts(5));
    let got: Vec<(&str, u64, &str)> = r
        .suspects
        .iter()
        .map(|s| (s.class_name.as_str(), s.count, s.shape.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "Req",
                8,
                "Global → .done (Map) → {table} (array) → [] → Req"
            ),
            (
                "Req",
                6,
                "Global → .pending (Map) → {table} (array) → [] → Req"
            ),
        ]
    );
    // Ranked by retained size.
    assert!(r.suspects[0].retained_size > r.suspects[1].retained_size);
    // A group below min_count disappears on its own.
    let r = run(&b, &t, &f, &opts(7));
    assert_eq!(r.suspects.len(), 1);
    assert_eq!(r.suspects[0].count, 8);
}

#[test]
fn internals_and_garbage_are_not_reported_but_system_held_objects_are() {
    // The Map itself is old, but its backing table was reallocated (new id) and holds the new
    // requests; V8 internals, objects held only from (GC roots) and unreachable garbage are new
    // too. In Node.js much live app state (servers, timers, handler closures and the module
    // variables they capture) hangs off global handles, so system-held objects are reported.
    let mut b = Heap::new();
    b.map(Heap::GLOBAL, "reqs", 201);
    let build = |h: &mut Heap| {
        let map = h.node(OBJECT, "Map", 201, 32);
        h.edge(Heap::GLOBAL, PROPERTY, "reqs", map);
        let table = h.node(ARRAY, "", 901, 64);
        h.edge(map, INTERNAL, "table", table);
        for i in 0..6 {
            h.req(table, i, 1001 + 2 * i);
        }
        for i in 0..6 {
            let hid = h.node(HIDDEN, "system / Foo", 3001 + 2 * i, 16);
            h.edge(Heap::GLOBAL, INTERNAL, "h", hid);
            let code = h.node(CODE, "code", 4001 + 2 * i, 16);
            h.edge(Heap::GLOBAL, INTERNAL, "c", code);
            // Reachable only from (GC roots), e.g. through a global handle.
            let sys = h.node(OBJECT, "Sys", 5001 + 2 * i, 16);
            h.edge(Heap::GC_ROOTS, ELEMENT, i, sys);
            // No retainer at all: garbage.
            h.node(OBJECT, "Garbage", 6001 + 2 * i, 16);
        }
    };
    let mut t = Heap::new();
    build(&mut t);
    let mut f = Heap::new();
    build(&mut f);
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        let o = LeakOptions {
            mode,
            ..LeakOptions::default()
        };
        let r = run(&b, &t, &f, &o);
        let classes: Vec<(&str, u64)> = r
            .suspects
            .iter()
            .map(|s| (s.class_name.as_str(), s.count))
            .collect();
        assert_eq!(classes, vec![("Req", 6), ("Sys", 6)], "{mode:?}");
        // In DevTools mode the table's 64 bytes are attributed to its owner, the (old) Map.
        assert_eq!(r.suspects[0].retained_size, 6 * 128);
    }
}

#[test]
fn strings_and_closures_are_candidates() {
    let mut b = Heap::new();
    let arr = b.node(OBJECT, "Array", 201, 16);
    b.edge(Heap::GLOBAL, PROPERTY, "log", arr);
    let handlers = b.node(OBJECT, "Array", 203, 16);
    b.edge(Heap::GLOBAL, PROPERTY, "handlers", handlers);
    let build = |h: &mut Heap| {
        let arr = h.node(OBJECT, "Array", 201, 16);
        h.edge(Heap::GLOBAL, PROPERTY, "log", arr);
        let handlers = h.node(OBJECT, "Array", 203, 16);
        h.edge(Heap::GLOBAL, PROPERTY, "handlers", handlers);
        for i in 0..5 {
            let s = h.node(STRING, "line", 1001 + 2 * i, 32);
            h.edge(arr, ELEMENT, i, s);
            let f = h.node(CLOSURE, "onData", 2001 + 2 * i, 32);
            h.edge(handlers, ELEMENT, i, f);
            let ctx = h.node(HIDDEN, "system / Context", 3001 + 2 * i, 40);
            h.edge(f, INTERNAL, "context", ctx);
            let captured = h.node(OBJECT, "Session", 4001 + 2 * i, 48);
            h.edge(ctx, CONTEXT, "session", captured);
        }
    };
    let mut t = Heap::new();
    build(&mut t);
    let mut f = Heap::new();
    build(&mut f);
    let r = run(&b, &t, &f, &opts(5));
    let got: Vec<(&str, u64, u64)> = r
        .suspects
        .iter()
        .map(|s| (s.class_name.as_str(), s.count, s.retained_size))
        .collect();
    // Each closure owns its context (moved into it in DevTools mode) and the captured Session.
    assert_eq!(got, vec![("Function", 5, 5 * 120), ("(string)", 5, 5 * 32)]);
}

#[test]
fn min_count_min_retained_and_ignored_classes() {
    let (b, t, f) = request_heaps(4);
    assert!(run(&b, &t, &f, &LeakOptions::default()).suspects.is_empty());
    let r = run(&b, &t, &f, &opts(4));
    assert_eq!(r.suspects.len(), 1);
    assert_eq!(r.suspects[0].count, 4);
    let o = LeakOptions {
        min_count: 1,
        min_retained_size: 4 * 128 + 1,
        ..LeakOptions::default()
    };
    assert!(run(&b, &t, &f, &o).suspects.is_empty());
    // Ignoring Req makes its string and buffer leak roots of their own.
    let o = LeakOptions {
        min_count: 4,
        ignore_classes: vec!["Req".into()],
        ..LeakOptions::default()
    };
    let r = run(&b, &t, &f, &o);
    let mut got: Vec<(&str, u64)> = r
        .suspects
        .iter()
        .map(|s| (s.class_name.as_str(), s.count))
        .collect();
    got.sort();
    assert_eq!(got, vec![("(string)", 4), ("Buffer", 4)]);
}

#[test]
fn classes_with_more_roots_than_the_path_cap_stay_whole() {
    // 2 600 leaked requests in one Map and 30 in another: the first class exceeds the 2 000
    // shape paths per class, so a sample decides and the rest join the most common shape.
    let mut b = Heap::new();
    b.map(Heap::GLOBAL, "a", 201);
    b.map(Heap::GLOBAL, "b", 211);
    let build = |h: &mut Heap| {
        let ta = h.map(Heap::GLOBAL, "a", 201);
        let tb = h.map(Heap::GLOBAL, "b", 211);
        for i in 0..2600 {
            let r = h.node(OBJECT, "Req", 10_001 + 2 * i, 40);
            h.edge(ta, ELEMENT, i, r);
        }
        for i in 0..30 {
            let r = h.node(OBJECT, "Req", 20_001 + 2 * i, 40);
            h.edge(tb, ELEMENT, i, r);
        }
    };
    let mut t = Heap::new();
    build(&mut t);
    let mut f = Heap::new();
    build(&mut f);
    let r = run(&b, &t, &f, &opts(1));
    let total: u64 = r.suspects.iter().map(|s| s.count).sum();
    assert_eq!(total, 2630);
    assert!(r.suspects[0].shape.contains(".a (Map)"));
    assert!(r.suspects[0].count >= 2600, "{}", r.suspects[0].count);
}

#[test]
fn mismatched_inputs_are_errors() {
    let (b, t, f) = request_heaps(10);
    let (fg, fa) = f.analysed();
    let (_, ta) = t.analysed();
    let err = find_leaks(&b.graph(), &t.graph(), &fg, &ta, &opts(1), Control::NONE)
        .expect_err("analysis");
    assert!(matches!(err, Error::InvalidArg(_)), "{err:?}");

    // A final snapshot of another isolate (its global object has another id).
    let mut other = Heap::new();
    other.nodes[2].2 = 151;
    let (og, oa) = other.analysed();
    let err = find_leaks(&b.graph(), &t.graph(), &og, &oa, &opts(1), Control::NONE)
        .expect_err("mismatch");
    assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
    let err = find_leaks(&og, &t.graph(), &fg, &fa, &opts(1), Control::NONE)
        .expect_err("baseline mismatch");
    assert!(matches!(err, Error::Mismatch(_)), "{err:?}");

    let cancel = AtomicBool::new(true);
    let err = find_leaks(
        &b.graph(),
        &t.graph(),
        &fg,
        &fa,
        &opts(1),
        Control::cancel(&cancel),
    )
    .expect_err("cancelled");
    assert_eq!(err, Error::Aborted);
}

#[test]
fn lazy_initialisation_artefacts_are_not_reported() {
    // Code that first ran during the action leaves new literals (internalized strings, held by
    // its constant pool), new binding functions in V8's template cache and new strings owned
    // only by compiled code. None of it is a leak; the new Req objects are.
    let mut b = Heap::new();
    let table = b.map(Heap::GLOBAL, "reqs", 201);
    let _ = table;
    let strings = b.node(SYNTHETIC, "(Internalized strings)", 5, 0);
    b.edge(Heap::GC_ROOTS, ELEMENT, 0, strings);
    let native = b.node(HIDDEN, "system / NativeContext", 203, 64);
    b.edge(Heap::GLOBAL, INTERNAL, "native_context", native);
    let cache = b.node(ARRAY, "", 205, 32);
    b.edge(
        native,
        INTERNAL,
        "fast_template_instantiations_cache",
        cache,
    );
    for (ty, name, id) in [
        (HIDDEN, "system / Context", 207),
        (CLOSURE, "require", 209),
        (HIDDEN, "system / Context", 211),
    ] {
        let x = b.node(ty, name, id, 32);
        b.edge(Heap::GLOBAL, INTERNAL, "old", x);
    }
    let build = |h: &mut Heap| {
        let table = h.map(Heap::GLOBAL, "reqs", 201);
        for i in 0..5 {
            h.req(table, i, 1001 + 2 * i);
        }
        let strings = h.node(SYNTHETIC, "(Internalized strings)", 5, 0);
        h.edge(Heap::GC_ROOTS, ELEMENT, 0, strings);
        let native = h.node(HIDDEN, "system / NativeContext", 203, 64);
        h.edge(Heap::GLOBAL, INTERNAL, "native_context", native);
        let cache = h.node(ARRAY, "", 205, 32);
        h.edge(
            native,
            INTERNAL,
            "fast_template_instantiations_cache",
            cache,
        );
        // Module variables sit further from the global than the native context's cache, as in
        // Node.js (global → closure → its context → the module's context).
        let fun = h.node(CLOSURE, "require", 209, 32);
        h.edge(Heap::GLOBAL, PROPERTY, "require", fun);
        let ctx = h.node(HIDDEN, "system / Context", 211, 32);
        h.edge(fun, INTERNAL, "context", ctx);
        let module_ctx = h.node(HIDDEN, "system / Context", 207, 32);
        h.edge(ctx, INTERNAL, "previous", module_ctx);
        for i in 0..6 {
            // A literal: in the string table and in a user-visible constant.
            let lit = h.node(STRING, "literal", 3001 + 2 * i, 24);
            h.edge(strings, INTERNAL, i, lit);
            h.edge(Heap::GLOBAL, PROPERTY, "k", lit);
            // A binding constructor: in the template cache and in a module variable.
            let f = h.node(CLOSURE, "QueryReqWrap", 4001 + 2 * i, 32);
            h.edge(cache, ELEMENT, i, f);
            h.edge(module_ctx, CONTEXT, "QueryReqWrap", f);
            // A string only compiled code holds.
            let code = h.node(CODE, "(constant pool)", 5001 + 2 * i, 16);
            h.edge(Heap::GLOBAL, INTERNAL, "code", code);
            let s = h.node(STRING, "cons", 6001 + 2 * i, 24);
            h.edge(code, INTERNAL, i, s);
        }
    };
    let mut t = Heap::new();
    build(&mut t);
    let mut f = Heap::new();
    build(&mut f);
    let r = run(&b, &t, &f, &opts(5));
    let got: Vec<(&str, u64)> = r
        .suspects
        .iter()
        .map(|s| (s.class_name.as_str(), s.count))
        .collect();
    assert_eq!(got, vec![("Req", 5)]);
}

/// (class, count, held_via) per suspect.
fn via(r: &LeakReport) -> Vec<(&str, u64, Option<usize>)> {
    r.suspects
        .iter()
        .map(|s| (s.class_name.as_str(), s.count, s.held_via))
        .collect()
}

#[test]
fn objects_kept_alive_through_another_suspect_say_which() {
    // 12 leaked Reqs share 6 new Sockets (two requests per keep-alive connection): a Socket is
    // dominated by the table, not by one Req, so it is a leak root of its own — but its path
    // runs through a leaked Req, and the report says so.
    let build = |h: &mut Heap, n: u32| {
        let table = h.map(Heap::GLOBAL, "reqs", 201);
        let sockets: Vec<u32> = (0..n / 2)
            .map(|i| h.node(OBJECT, "Socket", 5001 + 2 * i, 200))
            .collect();
        for i in 0..n {
            let r = h.req(table, i, 1001 + 2 * i);
            h.edge(r, PROPERTY, "client", sockets[(i / 2) as usize]);
        }
    };
    let mut b = Heap::new();
    b.map(Heap::GLOBAL, "reqs", 201);
    let mut t = Heap::new();
    build(&mut t, 12);
    let mut f = Heap::new();
    build(&mut f, 12);
    let r = run(&b, &t, &f, &opts(5));
    assert_eq!(
        via(&r),
        vec![("Req", 12, None), ("Socket", 6, Some(0))],
        "{:#?}",
        r.suspects
    );
    let p = &r.suspects[1].paths[0];
    assert!(p.text.contains("(Req) → .client → Socket"), "{}", p.text);
    // Without the Req group (ignored), nothing is reported as held via it.
    let o = LeakOptions {
        ignore_classes: vec!["Req".into()],
        ..opts(5)
    };
    let r = run(&b, &t, &f, &o);
    let socket = r
        .suspects
        .iter()
        .find(|s| s.class_name == "Socket")
        .expect("Socket");
    assert_eq!(socket.count, 6);
    assert!(
        r.suspects.iter().all(|s| s.held_via.is_none()),
        "{:#?}",
        r.suspects
    );

    // The Req on the Socket's path may be younger than the target snapshot (the same leak,
    // later requests): still the Req suspect's doing.
    let mut f2 = Heap::new();
    let table = f2.map(Heap::GLOBAL, "reqs", 201);
    let sockets: Vec<u32> = (0..6)
        .map(|i| f2.node(OBJECT, "Socket", 5001 + 2 * i, 200))
        .collect();
    for i in 0..12 {
        f2.req(table, i, 1001 + 2 * i);
    }
    for i in 0..12 {
        let young = f2.req(table, 100 + i, 3001 + 2 * i);
        f2.edge(young, PROPERTY, "client", sockets[(i / 2) as usize]);
    }
    let r = run(&b, &t, &f2, &opts(5));
    assert_eq!(
        via(&r),
        vec![("Req", 12, None), ("Socket", 6, Some(0))],
        "{:#?}",
        r.suspects
    );
}

#[test]
fn classes_are_reported_only_when_asked_and_merge_numbered_holders() {
    // Final: 10 Reqs in a Map under `__pending_1` and 10 under `__pending_2`, all new since the
    // baseline: two suspects (the shapes keep digits that are part of a name), one class.
    // The Maps are old (in the baseline): only the Reqs are new.
    let mut b = Heap::new();
    let mut f = Heap::new();
    for (k, name) in [(0u32, "__pending_1"), (1, "__pending_2")] {
        b.map(Heap::GLOBAL, name, 201 + 10 * k);
        let table = f.map(Heap::GLOBAL, name, 201 + 10 * k);
        for i in 0..10 {
            f.req(table, i, 1001 + 2 * i + 100 * k);
        }
    }
    let r = run(&b, &f, &f, &opts(5));
    assert_eq!(r.suspects.len(), 2);
    assert!(r.classes.is_none());
    let json = serde_json::to_value(&r).unwrap();
    assert!(
        json.get("classes").is_none(),
        "no classes key without the option"
    );

    let o = LeakOptions {
        classes: Some(ClassOptions {
            calls: 4,
            threshold: 1.0,
            min_count: 1,
            ignore_classes: Vec::new(),
        }),
        ..opts(5)
    };
    let r = run(&b, &f, &f, &o);
    let classes = r.classes.as_ref().expect("classes");
    let req: Vec<_> = classes.iter().filter(|c| c.class_name == "Req").collect();
    assert_eq!(req.len(), 1, "{classes:?}");
    assert_eq!(
        (req[0].count, req[0].per_iteration, req[0].calls),
        (20, 5.0, 4)
    );
    assert_eq!(req[0].paths.len(), 1, "one holder: {:?}", req[0].paths);
    assert!(req[0].path.contains("__pending_"), "{}", req[0].path);
    let total: u64 = r
        .suspects
        .iter()
        .filter(|s| s.class_name == "Req")
        .map(|s| s.retained_size)
        .sum();
    assert_eq!(req[0].retained_size, total);
    let json = serde_json::to_value(&r).unwrap();
    let c = &json["classes"][0];
    for key in [
        "className",
        "count",
        "perIteration",
        "retainedSize",
        "path",
        "paths",
        "via",
        "calls",
    ] {
        assert!(c.get(key).is_some(), "classes[0].{key} in {c}");
    }

    // Ignored by the class grouping only: the suspects stay.
    let o = LeakOptions {
        classes: Some(ClassOptions {
            ignore_classes: vec!["Req".into()],
            ..o.classes.clone().unwrap()
        }),
        ..opts(5)
    };
    let r = run(&b, &f, &f, &o);
    assert!(r.classes.unwrap().iter().all(|c| c.class_name != "Req"));
    assert_eq!(r.suspects.len(), 2);
}

#[test]
fn invalid_class_options_are_errors() {
    let (b, t, f) = request_heaps(10);
    let (fg, fa) = f.analysed();
    for (calls, threshold) in [(0, 1.0), (1, -1.0), (1, f64::NAN), (1, f64::INFINITY)] {
        let o = LeakOptions {
            classes: Some(ClassOptions {
                calls,
                threshold,
                min_count: 1,
                ignore_classes: Vec::new(),
            }),
            ..LeakOptions::default()
        };
        let err = find_leaks(&b.graph(), &t.graph(), &fg, &fa, &o, Control::NONE).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArg(_)),
            "{calls} {threshold}: {err:?}"
        );
    }
}

/// Requests whose ids follow V8's counter: the baseline's objects below 1000, those made between
/// baseline and target in (1000, 1100], later ones above 3000 (younger requests, the same leak).
fn counted_request_heaps() -> (Heap, Heap, Heap) {
    let reqs = |h: &mut Heap, table: u32, first: u32, from: u32, n: u32| {
        for i in 0..n {
            let id = from + 6 * i;
            let r = h.node(OBJECT, "Req", id, 40);
            let url = h.node(STRING, "/item", id + 2, 24);
            let buf = h.node(OBJECT, "Buffer", id + 4, 64);
            h.edge(table, ELEMENT, first + i, r);
            h.edge(r, PROPERTY, "url", url);
            h.edge(r, PROPERTY, "buf", buf);
        }
    };
    let mut b = Heap::new();
    b.map(Heap::GLOBAL, "reqs", 201);
    let mut t = Heap::new();
    let table = t.map(Heap::GLOBAL, "reqs", 201);
    reqs(&mut t, table, 0, 1001, 10);
    let mut f = Heap::new();
    let table = f.map(Heap::GLOBAL, "reqs", 201);
    reqs(&mut f, table, 0, 1001, 10);
    reqs(&mut f, table, 10, 3001, 10);
    // An embedder object with an even id inside the window: numbered apart, never "new".
    let native = f.node(8, "Native", 1050, 500);
    f.edge(Heap::GLOBAL, PROPERTY, "native", native);
    (b, t, f)
}

#[test]
fn an_id_window_stands_in_for_baseline_and_target() {
    let (b, t, f) = counted_request_heaps();
    let (fg, fa) = f.analysed();
    let lists = run(&b, &t, &f, &opts(1));
    let window = IdWindow {
        after: 999,
        upto: 1100,
    };
    let w = find_leaks_in_window(window, &fg, &fa, &opts(1), Control::NONE).expect("window");
    assert_eq!(
        via(&lists),
        vec![("Req", 10, None)],
        "{:#?}",
        lists.suspects
    );
    assert_eq!(via(&w), via(&lists));
    let (a, l) = (&w.suspects[0], &lists.suspects[0]);
    assert_eq!(
        (a.retained_size, &a.sample_ids, &a.shape),
        (l.retained_size, &l.sample_ids, &l.shape)
    );
    assert_eq!((w.still_alive, lists.still_alive), (30, 30));
    assert_eq!(w.new_in_target, 50, "the odd ids of (999, 1100]");
    assert_eq!((w.nodes.baseline, w.nodes.target), (0, 0));
    // A window that ends before the baseline's objects: nothing new, nothing reported.
    let empty = IdWindow {
        after: 999,
        upto: 999,
    };
    let e = find_leaks_in_window(empty, &fg, &fa, &opts(1), Control::NONE).expect("empty");
    assert!(e.suspects.is_empty() && e.still_alive == 0);
    let bad = IdWindow {
        after: 1100,
        upto: 999,
    };
    assert!(matches!(
        find_leaks_in_window(bad, &fg, &fa, &opts(1), Control::NONE),
        Err(Error::InvalidArg(_))
    ));
}
