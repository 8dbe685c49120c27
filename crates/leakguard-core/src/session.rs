//! A loaded snapshot and its cached analysis, shared by concurrent queries: [`Session`].
//!
//! Each query on a snapshot (a summary, a path, a diff, the leak finder) runs on some worker
//! thread and needs either the class part of the analysis (a diff) or all of it. The session
//! computes each at most once, even when several queries ask at the same time; a cached
//! classes-only analysis is completed with the dominator phases rather than recomputed; and
//! [`Session::dispose`] frees the graph and analysis at once while queries that already hold them
//! finish undisturbed.

use crate::analysis::{Analysis, ClassAnalysis};
use crate::control::Control;
use crate::graph::HeapGraph;
use crate::{Error, Result};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The cached analysis of a snapshot: which part has been computed.
#[derive(Debug, Clone)]
pub enum Analyzed {
    /// Class names, distances and self sizes: what a comparison needs.
    Classes(Arc<ClassAnalysis>),
    /// Everything, dominators and retained sizes included.
    Full(Arc<Analysis>),
}

impl Analyzed {
    /// The class part, which both kinds have.
    pub fn classes(&self) -> &ClassAnalysis {
        match self {
            Analyzed::Classes(c) => c,
            Analyzed::Full(a) => a.classes(),
        }
    }

    /// Approximate bytes of memory held.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Analyzed::Classes(c) => c.heap_bytes(),
            Analyzed::Full(a) => a.heap_bytes(),
        }
    }
}

/// How often a session computed each kind of analysis (for tests and diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// Classes-only analyses computed.
    pub classes: u32,
    /// Full analyses computed from scratch.
    pub full: u32,
    /// Classes-only analyses completed into full ones.
    pub completed: u32,
}

/// A parsed snapshot and its cached analysis.
#[derive(Default)]
pub struct Session {
    graph: RwLock<Option<Arc<HeapGraph>>>,
    analysis: RwLock<Option<Analyzed>>,
    /// Held while an analysis is computed, so concurrent first queries compute it once.
    compute_lock: Mutex<()>,
    classes_computed: AtomicU32,
    full_computed: AtomicU32,
    completed: AtomicU32,
}

impl Session {
    /// A session over `graph`, with nothing analysed yet.
    pub fn new(graph: HeapGraph) -> Session {
        Session {
            graph: RwLock::new(Some(Arc::new(graph))),
            ..Session::default()
        }
    }

    /// The graph, or [`Error::InvalidArg`] after [`Session::dispose`].
    pub fn graph(&self) -> Result<Arc<HeapGraph>> {
        self.graph
            .read()
            .clone()
            .ok_or_else(|| Error::InvalidArg("this snapshot was disposed".into()))
    }

    /// Whether [`Session::dispose`] was called.
    pub fn is_disposed(&self) -> bool {
        self.graph.read().is_none()
    }

    /// Drops the session's hold on the graph and its analysis and returns them, so the caller
    /// chooses where the (possibly slow) freeing happens. Queries that already hold them keep
    /// them; later queries fail with [`Error::InvalidArg`].
    pub fn dispose(&self) -> (Option<Arc<HeapGraph>>, Option<Analyzed>) {
        let graph = self.graph.write().take();
        let analysis = self.analysis.write().take();
        (graph, analysis)
    }

    /// Approximate bytes the cached analysis holds (0 when none is cached).
    pub fn analysis_bytes(&self) -> usize {
        self.analysis
            .read()
            .as_ref()
            .map_or(0, Analyzed::heap_bytes)
    }

    /// What was computed so far.
    pub fn counts(&self) -> SessionCounts {
        SessionCounts {
            classes: self.classes_computed.load(Ordering::Relaxed),
            full: self.full_computed.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
        }
    }

    /// The complete analysis, computed once: a cached classes-only analysis is completed rather
    /// than redone (unless a running query still holds it, in which case waiting for it would
    /// cost more than computing afresh).
    pub fn analysis(&self, ctl: Control<'_>) -> Result<(Arc<HeapGraph>, Arc<Analysis>)> {
        let is_full = |a: &Analyzed| matches!(a, Analyzed::Full(_));
        let (graph, a) = self.cached_or(is_full, |graph, cached| {
            let a = match cached {
                Some(Analyzed::Classes(c)) => match Arc::try_unwrap(c) {
                    Ok(c) => {
                        let a = c.complete(graph, ctl)?;
                        self.completed.fetch_add(1, Ordering::Relaxed);
                        a
                    }
                    Err(_) => self.compute_full(graph, ctl)?,
                },
                _ => self.compute_full(graph, ctl)?,
            };
            Ok(Analyzed::Full(Arc::new(a)))
        })?;
        match a {
            Analyzed::Full(a) => Ok((graph, a)),
            // cached_or only returns what `is_full` accepted or what `make` built.
            Analyzed::Classes(_) => Err(Error::InvalidArg(
                "internal: a full analysis was asked for and a partial one came back".into(),
            )),
        }
    }

    /// The cached analysis if there is one (either kind is enough for a comparison), else a
    /// classes-only analysis computed once.
    pub fn classes(&self, ctl: Control<'_>) -> Result<(Arc<HeapGraph>, Analyzed)> {
        self.cached_or(
            |_| true,
            |graph, _| {
                let c = Analysis::compute_classes(graph, ctl)?;
                self.classes_computed.fetch_add(1, Ordering::Relaxed);
                Ok(Analyzed::Classes(Arc::new(c)))
            },
        )
    }

    fn compute_full(&self, graph: &HeapGraph, ctl: Control<'_>) -> Result<Analysis> {
        let a = Analysis::compute(graph, ctl)?;
        self.full_computed.fetch_add(1, Ordering::Relaxed);
        Ok(a)
    }

    /// The cached analysis if `usable` accepts it, else `make(graph, cached)` under the compute
    /// lock (concurrent first queries queue there instead of computing the same thing twice).
    fn cached_or(
        &self,
        usable: impl Fn(&Analyzed) -> bool,
        make: impl FnOnce(&HeapGraph, Option<Analyzed>) -> Result<Analyzed>,
    ) -> Result<(Arc<HeapGraph>, Analyzed)> {
        let graph = self.graph()?;
        let cached = || self.analysis.read().clone().filter(|a| usable(a));
        if let Some(a) = cached() {
            return Ok((graph, a));
        }
        let _computing = self.compute_lock.lock();
        if let Some(a) = cached() {
            return Ok((graph, a));
        }
        // Taken out of the cache so that completing it can own it; on failure the next query
        // simply computes again.
        let taken = self.analysis.write().take();
        let made = make(&graph, taken)?;
        // A dispose() that raced with the computation must not be undone by caching the result.
        // dispose() empties `graph` before `analysis`, so deciding under the analysis lock is
        // enough: a dispose that emptied `graph` first is seen here, and one that comes later
        // clears `analysis` after this store (checking outside the lock left a window in which a
        // whole dispose could run between the check and the store).
        let mut slot = self.analysis.write();
        if !self.is_disposed() {
            #[cfg(test)]
            tests::before_store(self);
            *slot = Some(made.clone());
        }
        Ok((graph, made))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Control;
    use std::sync::atomic::AtomicUsize;

    type Hook = Box<dyn FnOnce() + Send>;
    /// A one-shot hook run between the "not disposed" decision and the store, for the session at
    /// the given address (other tests' sessions pass by).
    static HOOK: Mutex<Option<(usize, Hook)>> = Mutex::new(None);
    static HOOK_RAN: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn before_store(s: &Session) {
        let mut h = HOOK.lock();
        if h.as_ref()
            .is_some_and(|(at, _)| *at == s as *const Session as usize)
        {
            if let Some((_, f)) = h.take() {
                drop(h);
                HOOK_RAN.fetch_add(1, Ordering::SeqCst);
                f();
            }
        }
    }

    fn v1() -> HeapGraph {
        let text = include_str!("../tests/vectors/v1.json");
        crate::parse_bytes(
            text.as_bytes(),
            &crate::LoadOptions::default(),
            Control::NONE,
        )
        .expect("v1 parses")
    }

    #[test]
    fn dispose_between_the_decision_and_the_store_leaves_nothing_cached() {
        let s = Arc::new(Session::new(v1()));
        let disposer: Arc<Mutex<Option<std::thread::JoinHandle<()>>>> = Arc::default();
        let (s2, d2) = (s.clone(), disposer.clone());
        let hook: Hook = Box::new(move || {
            // dispose() on another thread, given time to run as far as it can while this
            // query is about to store its result.
            *d2.lock() = Some(std::thread::spawn(move || drop(s2.dispose())));
            std::thread::sleep(std::time::Duration::from_millis(100));
        });
        *HOOK.lock() = Some((Arc::as_ptr(&s) as usize, hook));
        let (g, a) = s
            .analysis(Control::NONE)
            .expect("the running query completes");
        assert!(!a.summary(&g, crate::SizeMode::Raw).is_empty());
        assert_eq!(HOOK_RAN.load(Ordering::SeqCst), 1, "the hook ran");
        let handle = disposer.lock().take();
        handle
            .expect("dispose was started")
            .join()
            .expect("dispose");
        assert!(s.is_disposed());
        assert_eq!(
            s.analysis_bytes(),
            0,
            "the analysis stayed cached after dispose()"
        );
        assert!(matches!(
            s.classes(Control::NONE),
            Err(Error::InvalidArg(_))
        ));
    }
}
