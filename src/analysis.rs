//! Analysis queries on a loaded snapshot: one task type runs every query on the thread pool.
//!
//! The first query computes the full [`Analysis`] (distances, dominators, retained sizes, class
//! names) and caches it on the snapshot; later and concurrent queries reuse it. Results cross
//! into JS as one JSON text (top-N rows, one path) that the wrapper parses: a single string
//! is the cheapest thing to hand over, and never one JS object per heap node.

use std::sync::Arc;

use leakguard_core::analysis::{Analysis, ObjectRow, ObjectSort, PathKind, RetainerPath, SizeMode};
use leakguard_core::{Error as CoreError, HeapGraph};
use napi::{Env, Task};
use serde_json::{json, Value};

use crate::guard;
use crate::job::JobState;
use crate::snapshot::Shared;

/// One query against a snapshot.
pub(crate) enum Query {
    Summary {
        mode: SizeMode,
        top: usize,
    },
    Objects {
        class_name: String,
        mode: SizeMode,
        sort: ObjectSort,
        limit: usize,
    },
    Largest {
        mode: SizeMode,
        n: usize,
    },
    Path {
        id: u32,
        kind: PathKind,
        max_steps: usize,
    },
}

/// Parses the size mode names the JS API uses.
pub(crate) fn size_mode(s: &str) -> napi::Result<SizeMode> {
    match s {
        "devtools" => Ok(SizeMode::DevTools),
        "raw" => Ok(SizeMode::Raw),
        _ => Err(invalid(format!(
            "sizes must be 'devtools' or 'raw', got '{s}'"
        ))),
    }
}

/// Parses the sort names of `objects()`.
pub(crate) fn object_sort(s: &str) -> napi::Result<ObjectSort> {
    match s {
        "retained" | "retainedSize" => Ok(ObjectSort::Retained),
        "shallow" | "shallowSize" => Ok(ObjectSort::Shallow),
        "distance" => Ok(ObjectSort::Distance),
        "id" => Ok(ObjectSort::Id),
        _ => Err(invalid(format!(
            "sortBy must be 'retained', 'shallow', 'distance' or 'id', got '{s}'"
        ))),
    }
}

/// Parses the path kinds of `retainerPath()`.
pub(crate) fn path_kind(s: &str) -> napi::Result<PathKind> {
    match s {
        "devtools" => Ok(PathKind::DevTools),
        "shortest" => Ok(PathKind::Shortest),
        _ => Err(invalid(format!(
            "kind must be 'devtools' or 'shortest', got '{s}'"
        ))),
    }
}

fn invalid(msg: String) -> napi::Error {
    crate::to_napi(CoreError::InvalidArg(msg))
}

/// The cached complete analysis of `shared`, computing it (once, even under concurrent calls)
/// if needed; a cached classes-only analysis (from a diff) is completed rather than redone.
pub(crate) fn analysis_of(
    shared: &Shared,
    state: &JobState,
    progress: &(dyn Fn(f64) + Sync),
) -> Result<(Arc<HeapGraph>, Arc<Analysis>), CoreError> {
    cached_or(shared, true, |graph, cached| {
        let cancel = Some(&state.cancel);
        // Completing consumes the classes-only analysis; if a running diff still holds it,
        // compute afresh instead of waiting.
        match cached.map(Arc::try_unwrap) {
            Some(Ok(partial)) => partial.complete(graph, cancel, Some(progress)),
            _ => Analysis::compute(graph, cancel, Some(progress)),
        }
    })
}

/// The cached analysis of `shared`, complete or classes-only (enough for a diff), computing
/// the classes-only one if there is none.
pub(crate) fn classes_of(
    shared: &Shared,
    state: &JobState,
    progress: &(dyn Fn(f64) + Sync),
) -> Result<(Arc<HeapGraph>, Arc<Analysis>), CoreError> {
    cached_or(shared, false, |graph, _| {
        Analysis::compute_classes(graph, Some(&state.cancel), Some(progress))
    })
}

/// The cached analysis if it is complete enough, else `make(graph, cached)` under the compute
/// lock (concurrent first queries queue there instead of computing the same thing twice).
fn cached_or(
    shared: &Shared,
    need_complete: bool,
    make: impl FnOnce(&HeapGraph, Option<Arc<Analysis>>) -> Result<Analysis, CoreError>,
) -> Result<(Arc<HeapGraph>, Arc<Analysis>), CoreError> {
    let graph = shared.graph()?;
    let usable = |a: &Option<Arc<Analysis>>| {
        a.as_ref()
            .filter(|a| a.is_complete() || !need_complete)
            .cloned()
    };
    if let Some(a) = usable(&shared.analysis.read()) {
        return Ok((graph, a));
    }
    let _computing = shared.compute_lock.lock();
    if let Some(a) = usable(&shared.analysis.read()) {
        return Ok((graph, a));
    }
    // Taken out of the cache so that completing it can own it; on failure it is simply
    // recomputed by the next query.
    let cached = shared.analysis.write().take();
    let a = Arc::new(make(&graph, cached)?);
    // A dispose() that raced with us must not be undone by caching the result.
    if !shared.is_disposed() {
        *shared.analysis.write() = Some(a.clone());
    }
    Ok((graph, a))
}

/// A retainer path as the JS API shows it.
pub(crate) fn path_json(p: &RetainerPath) -> Value {
    json!({
        "kind": match p.kind { PathKind::DevTools => "devtools", PathKind::Shortest => "shortest" },
        "complete": p.complete,
        "text": p.text,
        "steps": p.steps.iter().map(|s| json!({
            "id": s.id,
            "className": s.class_name,
            "name": s.name,
            "edge": if s.edge_type.is_empty() { Value::Null } else {
                json!({ "type": s.edge_type, "name": s.edge_name })
            },
        })).collect::<Vec<_>>(),
    })
}

fn object_json(r: &ObjectRow) -> Value {
    json!({
        "id": r.id,
        "className": r.class_name,
        "name": r.name,
        "shallowSize": r.shallow_size,
        "retainedSize": r.retained_size,
        "distance": r.distance,
    })
}

fn run(shared: &Shared, state: &JobState, query: &Query) -> Result<Value, CoreError> {
    let (graph, a) = analysis_of(shared, state, &|f| state.report(f))?;
    let out = match query {
        Query::Summary { mode, top } => {
            let rows = a.summary(&graph, *mode);
            Value::Array(
                rows.iter()
                    .take(*top)
                    .map(|r| {
                        json!({
                            "className": r.class_name,
                            "count": r.count,
                            "shallowSize": r.shallow_size,
                            "retainedSize": r.retained_size,
                            "distance": r.distance,
                        })
                    })
                    .collect(),
            )
        }
        Query::Objects {
            class_name,
            mode,
            sort,
            limit,
        } => Value::Array(
            a.objects(&graph, class_name, *mode, *sort, *limit)
                .iter()
                .map(object_json)
                .collect(),
        ),
        Query::Largest { mode, n } => Value::Array(
            a.largest_objects(&graph, *mode, *n)
                .iter()
                .map(object_json)
                .collect(),
        ),
        Query::Path {
            id,
            kind,
            max_steps,
        } => {
            let n = a.node_by_id(*id).ok_or_else(|| {
                CoreError::InvalidArg(format!("no object with id {id} in this snapshot"))
            })?;
            a.retainer_path(&graph, n, *kind, *max_steps)
                .as_ref()
                .map_or(Value::Null, path_json)
        }
    };
    state.report(1.0);
    Ok(out)
}

/// Runs one [`Query`] on the thread pool.
pub struct AnalysisTask {
    pub(crate) shared: Arc<Shared>,
    pub(crate) state: Arc<JobState>,
    pub(crate) query: Query,
}

impl Task for AnalysisTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guard(|| run(&self.shared, &self.state, &self.query).map(|v| v.to_string()))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// Runs one query on the calling thread (the `…Sync` twin for the CLI).
pub(crate) fn run_sync(shared: &Shared, query: &Query) -> napi::Result<String> {
    guard(|| run(shared, &JobState::default(), query).map(|v| v.to_string()))
}
