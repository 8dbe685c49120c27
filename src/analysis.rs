//! Analysis queries on a loaded snapshot: one task type runs every query on the thread pool.
//!
//! The snapshot's [`Session`] computes the full analysis on the first query and caches it; later
//! and concurrent queries reuse it. Results cross
//! into JS as one JSON text (top-N rows, one path) that the wrapper parses: a single string
//! is the cheapest thing to hand over, and never one JS object per heap node. The JSON is the
//! core's result types serialised as they are (their `Serialize` derives name the keys), so
//! the field names live in one place (plus index.d.ts, checked by
//! `__test__/result-shapes.test.js`).

use std::sync::Arc;

use crate::result_json;
use leakguard_core::analysis::{ObjectSort, PathKind, SizeMode};
use leakguard_core::{Control, Error as CoreError, Session};
use napi::{Env, Task};

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

/// Units of path work (retainers compared, name parts visited) between two cancel checks.
const PATH_CHECK_EVERY: u64 = 4096;

/// Parses an option string with the core's `FromStr` (whose errors carry the stable code).
pub(crate) fn parse<T: std::str::FromStr<Err = CoreError>>(s: &str) -> napi::Result<T> {
    s.parse().map_err(crate::to_napi)
}

/// Cancellation and progress of `state` for the core's work.
pub(crate) fn control<'a>(state: &'a JobState, progress: &'a (dyn Fn(f64) + Sync)) -> Control<'a> {
    Control::new(Some(&state.cancel), Some(progress))
}

fn run(session: &Session, state: &JobState, query: &Query) -> Result<String, CoreError> {
    let progress = |f: f64| state.report(f);
    let ctl = control(state, &progress);
    let (graph, a) = session.analysis(ctl)?;
    let out = match query {
        Query::Summary { mode, top } => {
            let rows = a.summary(&graph, *mode);
            result_json(&rows[..rows.len().min(*top)])?
        }
        Query::Objects {
            class_name,
            mode,
            sort,
            limit,
        } => result_json(&a.objects(&graph, class_name, *mode, *sort, *limit))?,
        Query::Largest { mode, n } => result_json(&a.largest_objects(&graph, *mode, *n))?,
        Query::Path {
            id,
            kind,
            max_steps,
        } => {
            let n = a.node_by_id(*id).ok_or_else(|| {
                CoreError::InvalidArg(format!("no object with id {id} in this snapshot"))
            })?;
            // `None` (nothing retains the object) is JSON `null`. The budget polls the job's
            // cancel flag inside the path's steps, however long one of them is.
            let mut budget = ctl.budget(PATH_CHECK_EVERY);
            result_json(&a.retainer_path_in(&graph, n, *kind, *max_steps, &mut budget)?)?
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
        guard(|| run(&self.session, &self.state, &self.query))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}
