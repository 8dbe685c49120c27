//! End-to-end: real snapshots written by the `node` on PATH, analysed and checked for the class
//! summary and the retainer path of a leaked object. Skipped (with a note) when `node` is
//! missing.

use leakguard_core::analysis::{Analysis, ObjectSort, PathKind, SizeMode};
use leakguard_core::Control;
use leakguard_core::{parse_file, LoadOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const CREATED: u64 = 777;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakguard-analysis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Runs node with `args`; `false` when node is not installed.
fn node(args: &[&str]) -> bool {
    match Command::new("node").args(args).status() {
        Ok(s) => {
            assert!(s.success(), "node {args:?} failed: {s}");
            true
        }
        Err(e) => {
            eprintln!("skipping: cannot run node ({e})");
            false
        }
    }
}

fn check(file: &Path, edge_name: &str) {
    let g = parse_file(file, &LoadOptions::default(), Control::NONE).expect("parse");
    let a = Analysis::compute(&g, Control::NONE).expect("analysis");
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        let rows = a.summary(&g, mode);
        let req = rows
            .iter()
            .find(|r| r.class_name == "Req")
            .expect("Req row");
        assert_eq!(req.count, CREATED, "{mode:?}");
        assert!(req.retained_size >= req.shallow_size);
    }
    let objs = a.objects(&g, "Req", SizeMode::DevTools, ObjectSort::Id, 5);
    assert_eq!(objs.len(), 5);
    for o in objs {
        for kind in [PathKind::DevTools, PathKind::Shortest] {
            let p = a.retainer_path(&g, o.ordinal, kind, 20).expect("path");
            assert!(p.complete, "{kind:?}: {}", p.text);
            assert!(p.text.contains(edge_name), "{kind:?}: {}", p.text);
            assert!(p.text.contains("(Map)"), "{kind:?}: {}", p.text);
            assert!(p.text.ends_with("→ Req"), "{kind:?}: {}", p.text);
            assert_eq!(
                a.distance(p.steps[0].ordinal),
                1,
                "{kind:?} starts at a user root"
            );
            let map_step = p
                .steps
                .iter()
                .find(|s| s.class_name == "Map")
                .expect("Map step");
            assert_eq!(
                map_step.edge.as_ref().map(|e| e.kind.as_str()),
                Some("context")
            );
            assert_eq!(map_step.edge_name(), "requests");
            assert_eq!(p.steps.last().unwrap().ordinal, o.ordinal);
        }
    }
    // The Map retains all its entries: its retained size covers every Req.
    let map = a
        .objects(
            &g,
            "Map",
            SizeMode::DevTools,
            ObjectSort::Retained,
            usize::MAX,
        )
        .into_iter()
        .find(|m| {
            a.retainer_path(&g, m.ordinal, PathKind::DevTools, 20)
                .is_some_and(|p| p.steps.last().is_some_and(|s| s.edge_name() == "requests"))
        })
        .expect("the requests Map");
    let req_total: u64 = a
        .objects(&g, "Req", SizeMode::DevTools, ObjectSort::Id, usize::MAX)
        .iter()
        .map(|o| o.retained_size)
        .sum();
    assert!(map.retained_size >= req_total);
}

#[test]
fn node_script_const_map_of_requests() {
    let out = scratch("script.heapsnapshot");
    let code = format!(
        "const v8 = require('v8');
         const requests = new Map();
         class Req {{ constructor(i) {{ this.i = i; }} }}
         for (let i = 0; i < {CREATED}; i++) requests.set(i, new Req(i));
         v8.writeHeapSnapshot({:?});
         globalThis.keep = () => requests.size;",
        out.display().to_string()
    );
    if !node(&["-e", &code]) {
        return;
    }
    check(&out, "->requests");
    let _ = std::fs::remove_file(&out);
}

#[test]
fn node_module_map_captured_by_a_timer_closure() {
    let out = scratch("module.heapsnapshot");
    let script = scratch("module.js");
    std::fs::write(
        &script,
        format!(
            "const v8 = require('v8');
             const requests = new Map();
             class Req {{ constructor(i) {{ this.i = i; }} }}
             for (let i = 0; i < {CREATED}; i++) requests.set(i, new Req(i));
             const timer = setInterval(() => requests.size, 1e6);
             setTimeout(() => {{ v8.writeHeapSnapshot(process.argv[2]); clearInterval(timer); }}, 5);"
        ),
    )
    .expect("write script");
    if !node(&[&script.display().to_string(), &out.display().to_string()]) {
        return;
    }
    check(&out, "->requests");
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&script);
}
