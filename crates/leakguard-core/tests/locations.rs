//! Source locations and allocation stacks (docs/locations.md) on the hand-made vector
//! `vectors/locations.json`, whose expected values are worked out by hand below, and the
//! parser's handling of damaged or unknown side tables.
//!
//! The vector: `Global` holds `handler` (a closure whose `locations` row says script 40, line
//! 41, column 17, 0-based; its shared function info's `script` is named `/app/lib/server.js`),
//! a `Session` object (map → back_pointer → map → constructor_or_back_pointer → the `Session`
//! closure, row script 41 at 0:0, reached through `script_or_debug_info`, a script node named
//! `file:///app/lib/session.mjs` without a `name` edge), a context whose `scope_info` is
//! `handler`'s, and a `builtin` closure without a row. Trace: `(root)` → `main` (node 2) →
//! `handler` (node 3); `Global` was allocated at node 2, `Session` at node 3.

mod common;

use common::{parse, vector};
use leakguard_core::{AllocationFrame, HeapGraph};

/// Ordinal of the node with V8 id `id`.
fn ord(g: &HeapGraph, id: u32) -> u32 {
    (0..g.node_count() as u32)
        .find(|&n| g.node_id(n) == id)
        .expect("id in the vector")
}

fn loc(g: &HeapGraph, id: u32) -> Option<String> {
    g.location(ord(g, id)).map(|l| l.to_string())
}

fn frame(name: &str, url: &str, line: u32, column: u32) -> AllocationFrame {
    AllocationFrame {
        function_name: name.into(),
        url: url.into(),
        line,
        column,
    }
}

#[test]
fn locations_are_one_based_and_resolved_through_the_script() {
    let g = parse(&vector("locations")).unwrap();
    assert!(g.has_locations());
    // handler: row (40, 41, 17) → line 42, column 18; script via shared → script → name.
    assert_eq!(loc(&g, 5).as_deref(), Some("/app/lib/server.js:42:18"));
    // The context whose scope info is handler's belongs to handler.
    assert_eq!(loc(&g, 13).as_deref(), Some("/app/lib/server.js:42:18"));
    // Session object → its constructor's row (41, 0, 0) in a script known by its node name.
    assert_eq!(
        loc(&g, 17).as_deref(),
        Some("file:///app/lib/session.mjs:1:1")
    );
    assert_eq!(
        loc(&g, 23).as_deref(),
        Some("file:///app/lib/session.mjs:1:1")
    );
    // No row, not a closure, context or object: nothing.
    assert_eq!(loc(&g, 29), None);
    assert_eq!(loc(&g, 11), None);
    assert_eq!(loc(&g, 1), None);
    // Path steps carry closures' and contexts' locations only.
    assert_eq!(
        g.step_location(ord(&g, 5)).as_deref(),
        Some("/app/lib/server.js:42:18")
    );
    assert_eq!(g.step_location(ord(&g, 17)), None);
    let info = g.source_info(17).unwrap();
    assert_eq!(
        info.location.as_deref(),
        Some("file:///app/lib/session.mjs:1:1")
    );
    assert!(g.source_info(999).is_none());
}

#[test]
fn allocation_stacks_come_from_the_trace_tree() {
    let g = parse(&vector("locations")).unwrap();
    assert!(g.has_allocation_trace());
    assert_eq!(g.allocation_trace().unwrap().len(), (3, 3));
    let handler = frame("handler", "/app/lib/server.js", 42, 18);
    let main = frame("main", "/app/main.js", 3, 1);
    assert_eq!(
        g.allocation_stack(ord(&g, 17)),
        Some(vec![handler.clone(), main.clone()])
    );
    assert_eq!(g.allocation_stack(ord(&g, 3)), Some(vec![main.clone()]));
    // trace_node_id 0: allocated before tracking started.
    assert_eq!(g.allocation_stack(ord(&g, 5)), None);
    // Sites: Global (100 B, main) before Session (40 B, handler ← main); untracked nodes skipped.
    let ids = [3, 17, 5, 17];
    let sites = g.allocation_sites(ids.iter().map(|&i| ord(&g, i)), 5);
    let got: Vec<_> = sites
        .iter()
        .map(|s| (s.frames.clone(), s.count, s.size))
        .collect();
    assert_eq!(
        got,
        [
            (vec![main.clone()], 1, 100),
            (vec![handler.clone(), main.clone()], 2, 80)
        ]
    );
    assert_eq!(g.allocation_sites([ord(&g, 17)], 0), []);
}

/// The vector with `from` replaced by `to` (once).
fn edited(from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(vector("locations")).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn damaged_tables_are_parse_errors() {
    let cases = [
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,40,41,17,77,41,0]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[15,40,41,17,77,41,0,0]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,40,41,17,7700,41,0,0]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,-40,41,17,77,41,0,0]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,40,41,17,77,41,0,-]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,40,41,17,77,41,0,0,]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,[40],41,17,77,41,0,0]"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":{}"#,
        ),
        (
            r#""locations":[14,40,41,17,77,41,0,0]"#,
            r#""locations":[14,40,41,17,77,41,0,99999999999]"#,
        ),
        (
            r#""trace_tree":[1,0,0,0,[2,2,1,100,[3,1,2,64,[]]]]"#,
            r#""trace_tree":[1,0,0,0,[2,2,1,100,[3,1,2,64]]]"#,
        ),
        (
            r#""trace_tree":[1,0,0,0,[2,2,1,100,[3,1,2,64,[]]]]"#,
            r#""trace_tree":[1,0,0,0,[2,9,1,100,[]]]"#,
        ),
        (
            r#""trace_tree":[1,0,0,0,[2,2,1,100,[3,1,2,64,[]]]]"#,
            r#""trace_tree":"x""#,
        ),
        (
            r#""trace_function_infos":[0,23,0,0,0,0,"#,
            r#""trace_function_infos":[0,2300,0,0,0,0,"#,
        ),
        (
            r#""trace_function_infos":[0,23,0,0,0,0,"#,
            r#""trace_function_infos":[0,23,0,0,0,"#,
        ),
    ];
    for (from, to) in cases {
        let e = parse(&edited(from, to)).expect_err(to);
        assert_eq!(e.code(), "ERR_LEAKGUARD_PARSE", "{to}: {e}");
    }
}

#[test]
fn a_negative_line_or_column_is_an_unknown_place() {
    // V8 writes a column left of a script's column offset as a negative number (Vitest runs
    // modules with a negative offset): that closure's place is unknown, the rest stand.
    let g = parse(&edited(
        r#""locations":[14,40,41,17,77,41,0,0]"#,
        r#""locations":[14,40,41,17,77,41,0,-196]"#,
    ))
    .unwrap();
    assert_eq!(loc(&g, 5).as_deref(), Some("/app/lib/server.js:42:18"));
    assert_eq!(loc(&g, 17), None);
    let g = parse(&edited(
        r#""locations":[14,40,41,17,77,41,0,0]"#,
        r#""locations":[14,40,-1,17,77,41,0,0]"#,
    ))
    .unwrap();
    assert_eq!(loc(&g, 5), None);
    assert_eq!(
        loc(&g, 17).as_deref(),
        Some("file:///app/lib/session.mjs:1:1")
    );
}

#[test]
fn unknown_or_missing_tables_are_ignored() {
    // Fields we cannot find: the table is skipped, the snapshot still loads.
    let g = parse(&edited(
        r#""location_fields":["object_index","#,
        r#""location_fields":["object_ordinal","#,
    ))
    .unwrap();
    assert!(!g.has_locations());
    assert!(g.has_allocation_trace());
    assert_eq!(g.location(ord(&g, 5)), None);
    let g = parse(&edited(
        r#""trace_node_fields":["id","#,
        r#""trace_node_fields":["ident","#,
    ))
    .unwrap();
    assert!(g.has_locations() && !g.has_allocation_trace());
    assert_eq!(g.allocation_stack(ord(&g, 17)), None);
    // Empty tables (a snapshot written without tracking): as if absent.
    let g = parse(&edited(
        r#""trace_tree":[1,0,0,0,[2,2,1,100,[3,1,2,64,[]]]]"#,
        r#""trace_tree":[]"#,
    ))
    .unwrap();
    assert!(!g.has_allocation_trace());
    // The spec vectors have no tables at all.
    let v1 = parse(&vector("v1")).unwrap();
    assert!(!v1.has_locations() && !v1.has_allocation_trace());
    assert!((0..v1.node_count() as u32).all(|n| v1.location(n).is_none()));
}
