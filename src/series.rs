//! `findLeaks` over a series of two or more snapshots: the three-snapshot leak finder on the
//! first, second-to-last and last, plus the growing collections over all of them
//! (crates/leakguard-core/src/compare/collections.rs). Converts and delegates only.

use std::sync::Arc;

use leakguard_core::analysis::Analysis;
use leakguard_core::compare::{
    find_leaks, find_leaks_of_own_heap, growing_collections, CollectionOptions,
};
use leakguard_core::graph::HeapGraph;
use leakguard_core::{Error as CoreError, Session};
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Task};
use napi_derive::napi;
use serde::Deserialize;

use crate::analysis::control;
use crate::compare::leak_options;
use crate::job::{Job, JobState};
use crate::snapshot::NativeSnapshot;
use crate::{guard, instance, result_json};
use leakguard_core::compare::LeakOptions;

/// `findLeaks(…, { collections })` as the JS wrapper sends it (already validated there);
/// `null` turns the growing collections off.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct CollectionOptionsJs {
    min_growth: Option<u64>,
    min_retained_growth: Option<u64>,
    min_properties: Option<u64>,
    max_collections: Option<usize>,
    max_samples: Option<usize>,
}

/// The leak finder's size mode and path settings apply to the collections too.
/// `own_heap`: the caller took every snapshot of its own heap, so the same-heap guard is off.
fn collection_options(
    json: &str,
    leak: &LeakOptions,
    own_heap: bool,
) -> napi::Result<Option<CollectionOptions>> {
    let o: Option<CollectionOptionsJs> = serde_json::from_str(json).map_err(|e| {
        crate::to_napi(CoreError::InvalidArg(format!(
            "findLeaks collections options: {e}"
        )))
    })?;
    let d = CollectionOptions::default();
    Ok(o.map(|o| CollectionOptions {
        mode: leak.mode,
        min_growth: o.min_growth.unwrap_or(d.min_growth),
        min_retained_growth: o.min_retained_growth.unwrap_or(d.min_retained_growth),
        min_properties: o.min_properties.unwrap_or(d.min_properties),
        max_collections: o.max_collections.unwrap_or(d.max_collections),
        max_samples: o.max_samples.unwrap_or(d.max_samples),
        path_kind: leak.path_kind,
        max_path_steps: leak.max_path_steps,
        check_heap: !own_heap,
    }))
}

/// Runs a series comparison on the thread pool.
pub struct SeriesTask {
    snaps: Vec<Arc<Session>>,
    leak: LeakOptions,
    collections: Option<CollectionOptions>,
    /// Every snapshot is of the caller's own heap: no same-heap guard.
    own_heap: bool,
    state: Arc<JobState>,
}

fn run(t: &SeriesTask, state: &JobState) -> Result<String, CoreError> {
    let progress = |f: f64| state.report(f);
    let ctl = control(state, &progress);
    let n = t.snaps.len();
    if n < 2 {
        return Err(CoreError::InvalidArg(format!(
            "findLeaks needs at least two snapshots, got {n}"
        )));
    }
    // Every snapshot's analysis when the collections need their retained sizes; only the
    // last one's otherwise (the leak finder reads the others for their ids alone).
    let share = 0.9 / n as f64;
    let mut done: Vec<(Arc<HeapGraph>, Option<Arc<Analysis>>)> = Vec::with_capacity(n);
    for (i, s) in t.snaps.iter().enumerate() {
        if t.collections.is_some() || i + 1 == n {
            let (g, a) = s.analysis(ctl.sub(i as f64 * share, share))?;
            done.push((g, Some(a)));
        } else {
            done.push((s.graph()?, None));
        }
    }
    let (fg, fa) = match done.last() {
        Some((g, Some(a))) => (g, a),
        _ => return Err(CoreError::InvalidArg("internal: no final analysis".into())),
    };
    let (b, tg) = (&done[0].0, &done[n - 2].0);
    let mut report = if t.own_heap {
        find_leaks_of_own_heap(b, tg, fg, fa, &t.leak, ctl)?
    } else {
        find_leaks(b, tg, fg, fa, &t.leak, ctl)?
    };
    if let Some(copts) = &t.collections {
        let pairs: Vec<(&HeapGraph, &Analysis)> = done
            .iter()
            .filter_map(|(g, a)| a.as_deref().map(|a| (&**g, a)))
            .collect();
        report.collections = Some(growing_collections(&pairs, copts, ctl)?);
    }
    state.report(1.0);
    result_json(&report)
}

impl Task for SeriesTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guard(|| run(self, &self.state))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// The leak report of a series of two or more snapshots of one heap (oldest first), as JSON:
/// suspects from the first, second-to-last and last, and with `collections` (a JSON object, or
/// `null` for none) the collections that grew in every step. `options` as for `findLeaksIn`.
/// `own_heap`: the wrapper knows every snapshot shows the calling thread's heap (no guard).
#[napi(ts_return_type = "Promise<string>")]
pub fn find_leaks_series(
    snapshots: Vec<Unknown<'_>>,
    job: &Job,
    options: String,
    collections: String,
    own_heap: bool,
) -> napi::Result<AsyncTask<SeriesTask>> {
    let leak = leak_options(&options)?;
    let collections = collection_options(&collections, &leak, own_heap)?;
    let snaps = snapshots
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            instance::<NativeSnapshot>(s, &format!("findLeaks(snapshots[{i}])"))
                .map(|s| s.session())
                .map_err(crate::to_napi)
        })
        .collect::<napi::Result<Vec<_>>>()?;
    Ok(AsyncTask::new(SeriesTask {
        snaps,
        leak,
        collections,
        own_heap,
        state: job.state.clone(),
    }))
}
