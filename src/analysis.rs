//! Analysis queries on a loaded snapshot: one task type runs every query on the thread pool.
//!
//! The snapshot's [`Session`] computes the full analysis on the first query and caches it; later
//! and concurrent queries reuse it. Results cross
//! into JS as one JSON text (top-N rows, one path) that the wrapper parses: a single string
//! is the cheapest thing to hand over, and never one JS object per heap node.

use std::sync::Arc;

use leakguard_core::analysis::{ObjectRow, ObjectSort, PathKind, RetainerPath, SizeMode};
use leakguard_core::{Error as CoreError, QueryControl, Session};
use napi::{Env, Task};
use serde_json::{json, Value};

use crate::guard;
use crate::job::JobState;

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

/// Parses an option string with the core's `FromStr` (whose errors carry the stable code).
pub(crate) fn parse<T: std::str::FromStr<Err = CoreError>>(s: &str) -> napi::Result<T> {
    s.parse().map_err(crate::to_napi)
}

/// Cancellation and progress of `state` for the session's analysis.
pub(crate) fn control<'a>(
    state: &'a JobState,
    progress: &'a (dyn Fn(f64) + Sync),
) -> QueryControl<'a> {
    QueryControl {
        cancel: Some(&state.cancel),
        progress: Some(progress),
    }
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

fn run(session: &Session, state: &JobState, query: &Query) -> Result<Value, CoreError> {
    let progress = |f: f64| state.report(f);
    let (graph, a) = session.analysis(control(state, &progress))?;
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
    pub(crate) session: Arc<Session>,
    pub(crate) state: Arc<JobState>,
    pub(crate) query: Query,
}

impl Task for AnalysisTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guard(|| run(&self.session, &self.state, &self.query).map(|v| v.to_string()))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}
