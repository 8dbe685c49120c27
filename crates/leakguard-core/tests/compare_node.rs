//! End-to-end on real snapshots written by the `node` on PATH: three snapshots of one process
//! for leak detection, the Comparison view between two of them, and the same-heap guard against
//! a second process. Skipped (with a note) when `node` is missing.

use leakguard_core::analysis::{Analysis, SizeMode};
use leakguard_core::compare::{check_same_heap, diff, find_leaks, LeakOptions, LeakReport};
use leakguard_core::Control;
use leakguard_core::{parse_file, Error, HeapGraph, LoadOptions};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const LEAKED: u64 = 200;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakguard-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Runs the request-tracking program in a fresh `node -e` process, writing baseline, target and
/// final snapshots named `<tag>-{b,t,f}.heapsnapshot`. With `release`, the entries are deleted
/// again before the final snapshot. `None` when node is not installed.
fn run_program(tag: &str, release: bool) -> Option<[PathBuf; 3]> {
    let files = three_files(tag);
    let code = format!(
        "const v8 = require('v8');
         class PendingRequest {{
           constructor(i) {{
             this.id = i;
             this.url = '/api/items/' + i + '?expand=' + 'owner,tags'.slice(0, i % 10);
             this.headers = {{ host: 'example.com', 'x-request-id': 'req-' + i }};
             this.body = Buffer.alloc(256);
             this.startedAt = Date.now();
           }}
         }}
         const requests = new Map();
         function handle(i) {{ requests.set(i, new PendingRequest(i)); }}
         // A closure over `requests`, as a real server would have.
         globalThis.pendingCount = () => requests.size;
         v8.writeHeapSnapshot({b:?});
         for (let i = 0; i < {LEAKED}; i++) handle(i);
         v8.writeHeapSnapshot({t:?});
         for (let i = {LEAKED}; i < 2 * {LEAKED}; i++) handle(i);
         if ({release}) for (const k of [...requests.keys()]) requests.delete(k);
         v8.writeHeapSnapshot({f:?});",
        b = files[0].display().to_string(),
        t = files[1].display().to_string(),
        f = files[2].display().to_string(),
    );
    run_node(&code, files)
}

/// Scratch paths `<tag>-{b,t,f}.heapsnapshot` for baseline, target and final.
fn three_files(tag: &str) -> [PathBuf; 3] {
    ["b", "t", "f"].map(|s| scratch(&format!("{tag}-{s}.heapsnapshot")))
}

/// Runs `code` with `node -e`; `Some(files)` when it succeeded, `None` (with a note) when node
/// is not installed.
fn run_node(code: &str, files: [PathBuf; 3]) -> Option<[PathBuf; 3]> {
    match Command::new("node").args(["-e", code]).status() {
        Ok(s) => {
            assert!(s.success(), "node failed: {s}");
            Some(files)
        }
        Err(e) => {
            eprintln!("skipping: cannot run node ({e})");
            None
        }
    }
}

fn load(files: &[PathBuf; 3]) -> [HeapGraph; 3] {
    files
        .each_ref()
        .map(|f| parse_file(f, &LoadOptions::default(), Control::NONE).expect("parse"))
}

fn cleanup(files: &[PathBuf; 3]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

fn describe(r: &LeakReport) -> String {
    let mut s = format!(
        "|T| = {}, |L| = {}, nodes {}/{}/{}\n",
        r.new_in_target, r.still_alive, r.nodes.baseline, r.nodes.target, r.nodes.fin
    );
    for x in &r.suspects {
        s.push_str(&format!(
            "  {} ×{} retained {} shallow {}: {}\n",
            x.class_name, x.count, x.retained_size, x.shallow_size, x.shape
        ));
    }
    s
}

#[test]
fn node_map_of_pending_requests_is_the_top_suspect() {
    let Some(files) = run_program("leak", false) else {
        return;
    };
    let [b, t, f] = load(&files);
    let fa = Analysis::compute(&f, Control::NONE).expect("analysis");
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        let opts = LeakOptions {
            mode,
            ..LeakOptions::default()
        };
        let start = Instant::now();
        let r = find_leaks(&b, &t, &f, &fa, &opts, Control::NONE).expect("find_leaks");
        eprintln!("{mode:?} in {:?}: {}", start.elapsed(), describe(&r));
        let top = r.suspects.first().expect("a suspect");
        assert_eq!(top.class_name, "PendingRequest", "{}", describe(&r));
        // The second 200 were allocated after the target snapshot, so they are not in T.
        assert!(top.count >= LEAKED, "{}", describe(&r));
        assert_eq!(top.sample_ids.len(), 5);
        for p in &top.paths {
            assert!(p.complete, "{}", p.text);
            assert!(p.text.contains("requests"), "{}", p.text);
            assert!(p.text.contains("Map"), "{}", p.text);
            assert!(p.text.ends_with("PendingRequest"), "{}", p.text);
        }
        assert!(top.shape.contains("requests") && top.shape.contains("Map"));
        // Each request owns its url, headers and body: none of them is a suspect of its own.
        assert!(top.retained_size > top.shallow_size + top.count * 256);
        for s in &r.suspects[1..] {
            assert!(
                s.count < LEAKED / 4 || !s.shape.contains("PendingRequest"),
                "{}",
                describe(&r)
            );
        }
        assert!(
            r.suspects.len() <= 3,
            "a plain program must not drown the leak in noise: {}",
            describe(&r)
        );
    }
    cleanup(&files);
}

#[test]
fn node_released_requests_are_not_reported() {
    let Some(files) = run_program("released", true) else {
        return;
    };
    let [b, t, f] = load(&files);
    let fa = Analysis::compute(&f, Control::NONE).expect("analysis");
    let r =
        find_leaks(&b, &t, &f, &fa, &LeakOptions::default(), Control::NONE).expect("find_leaks");
    eprintln!("released: {}", describe(&r));
    assert!(r.suspects.iter().all(|s| s.count < 50), "{}", describe(&r));
    cleanup(&files);
}

#[test]
fn node_same_heap_diff_and_other_process_mismatch() {
    let Some(one) = run_program("one", false) else {
        return;
    };
    let Some(two) = run_program("two", false) else {
        return;
    };
    let [b, t, f] = load(&one);
    let [b2, t2, f2] = load(&two);

    // One process: every pair, in both orders, and each snapshot against itself.
    for (x, y) in [(&b, &t), (&t, &f), (&b, &f), (&f, &b), (&t, &t)] {
        check_same_heap(x, y).expect("snapshots of one process");
    }
    let ba = Analysis::compute(&b, Control::NONE).expect("analysis");
    let ta = Analysis::compute(&t, Control::NONE).expect("analysis");
    let rows = diff(&b, &ba, &t, &ta, SizeMode::DevTools, Control::NONE).expect("diff");
    let req = rows
        .iter()
        .find(|r| r.class_name == "PendingRequest")
        .expect("PendingRequest row");
    assert_eq!((req.added_count, req.removed_count), (LEAKED, 0));
    assert_eq!(req.count_delta, LEAKED as i64);
    assert!(req.size_delta > 0);
    // The classes-only analyses give the same comparison, and completed, the same analysis.
    let bc = Analysis::compute_classes(&b, Control::NONE).expect("classes");
    let tc = Analysis::compute_classes(&t, Control::NONE).expect("classes");
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        assert_eq!(
            diff(&b, &bc, &t, &tc, mode, Control::NONE).expect("diff"),
            diff(&b, &ba, &t, &ta, mode, Control::NONE).expect("diff")
        );
    }
    let bdone = bc.complete(&b, Control::NONE).expect("complete");
    for mode in [SizeMode::DevTools, SizeMode::Raw] {
        assert_eq!(bdone.summary(&b, mode), ba.summary(&b, mode));
        assert_eq!(
            bdone.largest_objects(&b, mode, 100),
            ba.largest_objects(&b, mode, 100)
        );
    }

    // Two processes of the same program.
    for (x, y) in [(&b, &b2), (&t, &t2), (&f, &f2), (&b2, &f)] {
        let err = check_same_heap(x, y).expect_err("different processes");
        assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
        eprintln!("{err}");
    }
    let t2a = Analysis::compute(&t2, Control::NONE).expect("analysis");
    let err = diff(&b, &ba, &t2, &t2a, SizeMode::DevTools, Control::NONE)
        .expect_err("diff across processes");
    assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
    let fa = Analysis::compute(&f, Control::NONE).expect("analysis");
    for (bb, tt) in [(&b2, &t), (&b, &t2)] {
        let err = find_leaks(bb, tt, &f, &fa, &LeakOptions::default(), Control::NONE)
            .expect_err("leaks across processes");
        assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
    }
    cleanup(&one);
    cleanup(&two);
}

/// An HTTP server handling 300 requests (sent by the same process) between baseline and target
/// and 300 more before final, remembering a `Session` per request when `leak`. Node creates
/// plenty of its own objects on the first requests (parsers, binding functions, literals of
/// lazily compiled code); the report must still be about the sessions only.
fn run_server(tag: &str, leak: bool) -> Option<[PathBuf; 3]> {
    let files = three_files(tag);
    let code = format!(
        "const v8 = require('v8');
         const http = require('http');
         const sessions = new Map();
         class Session {{
           constructor(id, req) {{
             this.id = id; this.path = req.url; this.ua = req.headers['user-agent'];
             this.created = new Date(); this.data = {{ hits: 1, tags: ['a', 'b'] }};
           }}
         }}
         const server = http.createServer((req, res) => {{
           const id = 's' + Math.random().toString(36).slice(2);
           if ({leak}) sessions.set(id, new Session(id, req));
           res.setHeader('content-type', 'application/json');
           res.end(JSON.stringify({{ ok: true, id }}));
         }});
         const agent = new http.Agent({{ keepAlive: false }});
         const get = (i) => new Promise((ok, ko) => http.get(
           {{ port: server.address().port, path: '/x/' + i, agent }},
           (r) => {{ r.resume(); r.on('end', ok); }}).on('error', ko));
         async function burst(n, base) {{
           for (let i = 0; i < n; i += 10)
             await Promise.all(Array.from({{ length: 10 }}, (_, k) => get(base + i + k)));
         }}
         const pause = () => new Promise((r) => setTimeout(r, 50));
         server.listen(0, '127.0.0.1', async () => {{
           v8.writeHeapSnapshot({b:?});
           await burst(300, 0); await pause();
           v8.writeHeapSnapshot({t:?});
           await burst(300, 1000); await pause();
           v8.writeHeapSnapshot({f:?});
           server.close();
         }});",
        b = files[0].display().to_string(),
        t = files[1].display().to_string(),
        f = files[2].display().to_string(),
    );
    run_node(&code, files)
}

#[test]
fn node_http_server_leak_is_not_drowned_in_noise() {
    let Some(files) = run_server("http-leak", true) else {
        return;
    };
    let [b, t, f] = load(&files);
    let fa = Analysis::compute(&f, Control::NONE).expect("analysis");
    let r =
        find_leaks(&b, &t, &f, &fa, &LeakOptions::default(), Control::NONE).expect("find_leaks");
    eprintln!("http leak: {}", describe(&r));
    let top = r.suspects.first().expect("a suspect");
    assert_eq!(top.class_name, "Session", "{}", describe(&r));
    assert_eq!(top.count, 300, "{}", describe(&r));
    assert!(top.shape.contains("->sessions (Map)"), "{}", top.shape);
    // Besides the sessions (and the Map's key strings) at most Node's own pools may show.
    assert!(r.suspects.len() <= 4, "{}", describe(&r));
    assert!(
        r.suspects[1..]
            .iter()
            .all(|s| s.retained_size < top.retained_size / 4),
        "{}",
        describe(&r)
    );
    cleanup(&files);

    let Some(files) = run_server("http-ok", false) else {
        return;
    };
    let [b, t, f] = load(&files);
    let fa = Analysis::compute(&f, Control::NONE).expect("analysis");
    let r =
        find_leaks(&b, &t, &f, &fa, &LeakOptions::default(), Control::NONE).expect("find_leaks");
    eprintln!("http no leak: {}", describe(&r));
    assert!(r.suspects.iter().all(|s| s.count < 50), "{}", describe(&r));
    cleanup(&files);
}
