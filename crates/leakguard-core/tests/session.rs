//! The snapshot session's analysis cache: one computation for concurrent callers, a classes-only
//! analysis completed rather than redone, and dispose() racing with queries.

mod analysis_common;

use analysis_common::*;
use leakguard_core::analysis::{Analysis, SizeMode};
use leakguard_core::session::{Analyzed, Session, SessionCounts};
use leakguard_core::Control;
use leakguard_core::Error;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Barrier};

fn session(name: &str) -> Session {
    Session::new(parse_value(&vector_json(name)))
}

fn counts(classes: u32, full: u32, completed: u32) -> SessionCounts {
    SessionCounts {
        classes,
        full,
        completed,
    }
}

#[test]
fn concurrent_callers_share_one_analysis() {
    let s = session("v1");
    let threads = 8;
    let barrier = Barrier::new(threads);
    let got: Vec<Arc<Analysis>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    s.analysis(Control::NONE).expect("analysis").1
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(got.iter().all(|a| Arc::ptr_eq(a, &got[0])));
    assert_eq!(s.counts(), counts(0, 1, 0));
    assert!(s.analysis_bytes() > 0);
}

#[test]
fn classes_only_then_full_completes_instead_of_recomputing() {
    let s = session("v1");
    let (g, c) = s.classes(Control::NONE).unwrap();
    assert!(matches!(c, Analyzed::Classes(_)));
    drop(c); // no running query holds it any more
    assert_eq!(s.counts(), counts(1, 0, 0));
    let (_, a) = s.analysis(Control::NONE).unwrap();
    assert_eq!(s.counts(), counts(1, 0, 1));
    let fresh = Analysis::compute(&g, Control::NONE).unwrap();
    for m in [SizeMode::DevTools, SizeMode::Raw] {
        assert_eq!(a.summary(&g, m), fresh.summary(&g, m));
    }
    // Either kind serves a comparison: the full one is returned, nothing is computed.
    let (_, again) = s.classes(Control::NONE).unwrap();
    assert!(matches!(again, Analyzed::Full(ref x) if Arc::ptr_eq(x, &a)));
    assert_eq!(s.counts(), counts(1, 0, 1));
}

#[test]
fn classes_still_held_by_a_query_are_not_waited_for() {
    let s = session("v1");
    let (_, held) = s.classes(Control::NONE).unwrap();
    let (_, a) = s.analysis(Control::NONE).unwrap();
    assert_eq!(s.counts(), counts(1, 1, 0));
    // The holder's classes stay valid and agree with the full analysis.
    assert_eq!(held.classes().class_names(), a.class_names());
}

#[test]
fn dispose_frees_and_later_queries_fail() {
    let s = session("v2");
    let (g, a) = s.analysis(Control::NONE).unwrap();
    let (graph, analysis) = s.dispose();
    assert!(graph.is_some() && analysis.is_some());
    assert!(s.is_disposed());
    assert_eq!(s.analysis_bytes(), 0);
    for err in [
        s.analysis(Control::NONE).unwrap_err(),
        s.classes(Control::NONE).unwrap_err(),
        s.graph().unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::InvalidArg(ref m) if m.contains("disposed")),
            "{err:?}"
        );
    }
    // A query that already held them finishes undisturbed.
    assert!(!a.summary(&g, SizeMode::DevTools).is_empty());
    let (graph, analysis) = s.dispose();
    assert!(
        graph.is_none() && analysis.is_none(),
        "a second dispose is a no-op"
    );
}

#[test]
fn dispose_during_a_computation_is_not_undone() {
    let s = session("v3");
    let disposed = std::sync::Once::new();
    let progress = |_: f64| disposed.call_once(|| drop(s.dispose()));
    let ctl = Control::new(None, Some(&progress));
    // The running query gets its result; the session stays disposed and caches nothing.
    let (g, a) = s.analysis(ctl).expect("the running query completes");
    assert!(!a.summary(&g, SizeMode::Raw).is_empty());
    assert!(s.is_disposed());
    assert_eq!(s.analysis_bytes(), 0);
}

#[test]
fn a_cancelled_computation_leaves_nothing_behind() {
    let s = session("v1");
    let cancel = AtomicBool::new(true);
    let ctl = Control::new(Some(&cancel), None);
    assert!(matches!(s.analysis(ctl), Err(Error::Aborted)));
    assert!(matches!(s.classes(ctl), Err(Error::Aborted)));
    assert_eq!(s.counts(), counts(0, 0, 0));
    assert_eq!(s.analysis_bytes(), 0);
    s.analysis(Control::NONE)
        .expect("computed on the next query");
    assert_eq!(s.counts(), counts(0, 1, 0));
}

#[test]
fn a_failed_completion_keeps_nothing_and_the_next_query_recomputes() {
    let s = session("v1");
    drop(s.classes(Control::NONE).unwrap());
    let cancel = AtomicBool::new(true);
    let ctl = Control::new(Some(&cancel), None);
    assert!(matches!(s.analysis(ctl), Err(Error::Aborted)));
    // The classes-only analysis was consumed by the failed completion: computed afresh.
    s.analysis(Control::NONE).unwrap();
    assert_eq!(s.counts(), counts(1, 1, 0));
}
