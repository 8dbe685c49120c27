//! Comparing snapshots: `diff` (DevTools Comparison view) and the three-snapshot leak finder.

use std::sync::Arc;

use leakguard_core::analysis::{PathKind, SizeMode};
use leakguard_core::compare::{diff, find_leaks, ClassOptions, IdWindow, LeakOptions};
// The binding's function of the same name converts and delegates to this one.
use leakguard_core::compare::find_leaks_in_window as leaks_in_window;
use leakguard_core::{Error as CoreError, Session};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use serde::Deserialize;

use crate::analysis::{control, parse};
use crate::guard;
use crate::job::{Job, JobState};
use crate::result_json;
use crate::snapshot::NativeSnapshot;

enum Op {
    Diff {
        base: Arc<Session>,
        current: Arc<Session>,
        mode: SizeMode,
    },
    Leaks {
        baseline: Arc<Session>,
        target: Arc<Session>,
        fin: Arc<Session>,
        opts: LeakOptions,
    },
    LeaksInWindow {
        window: IdWindow,
        fin: Arc<Session>,
        opts: LeakOptions,
    },
}

/// Options of `findLeaks` as the JS wrapper sends them (already validated there).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct LeakOptionsJs {
    sizes: Option<String>,
    min_count: Option<u64>,
    min_retained_size: Option<u64>,
    ignore_classes: Vec<String>,
    max_samples: Option<usize>,
    path_kind: Option<String>,
    max_path_steps: Option<usize>,
    classes: Option<ClassOptionsJs>,
}

/// `findLeaks({ classes })`: the per-class grouping of the leak assertions. `calls` is
/// required; the core rejects 0 and a negative or non-finite threshold.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClassOptionsJs {
    calls: u64,
    #[serde(default)]
    threshold: f64,
    #[serde(default)]
    min_count: u64,
    #[serde(default)]
    ignore_classes: Vec<String>,
}

pub(crate) fn leak_options(json: &str) -> napi::Result<LeakOptions> {
    let o: LeakOptionsJs = serde_json::from_str(json)
        .map_err(|e| crate::to_napi(CoreError::InvalidArg(format!("findLeaks options: {e}"))))?;
    let d = LeakOptions::default();
    Ok(LeakOptions {
        mode: o
            .sizes
            .as_deref()
            .map(parse::<SizeMode>)
            .transpose()?
            .unwrap_or(d.mode),
        min_count: o.min_count.unwrap_or(d.min_count),
        min_retained_size: o.min_retained_size.unwrap_or(d.min_retained_size),
        ignore_classes: o.ignore_classes,
        max_samples: o.max_samples.unwrap_or(d.max_samples),
        path_kind: o
            .path_kind
            .as_deref()
            .map(parse::<PathKind>)
            .transpose()?
            .unwrap_or(PathKind::DevTools),
        max_path_steps: o.max_path_steps.unwrap_or(d.max_path_steps),
        classes: o.classes.map(|c| ClassOptions {
            calls: c.calls,
            threshold: c.threshold,
            min_count: c.min_count,
            ignore_classes: c.ignore_classes,
        }),
    })
}

fn run(op: &Op, state: &JobState) -> Result<String, CoreError> {
    let progress = |f: f64| state.report(f);
    let ctl = control(state, &progress);
    let out = match op {
        Op::Diff {
            base,
            current,
            mode,
        } => {
            // A comparison needs classes and sizes, not dominators: about half the work. The
            // two analyses run one after the other, each on its half of the progress bar.
            let (bg, ba) = base.classes(ctl.sub(0.0, 0.5))?;
            let (cg, ca) = current.classes(ctl.sub(0.5, 0.5))?;
            result_json(&diff(&bg, ba.classes(), &cg, ca.classes(), *mode, ctl)?)?
        }
        Op::Leaks {
            baseline,
            target,
            fin,
            opts,
        } => {
            let (fg, fa) = fin.analysis(ctl)?;
            let (bg, tg) = (baseline.graph()?, target.graph()?);
            result_json(&find_leaks(&bg, &tg, &fg, &fa, opts, ctl)?)?
        }
        Op::LeaksInWindow { window, fin, opts } => {
            let (fg, fa) = fin.analysis(ctl)?;
            result_json(&leaks_in_window(*window, &fg, &fa, opts, ctl)?)?
        }
    };
    state.report(1.0);
    Ok(out)
}

/// Runs a comparison on the thread pool.
pub struct CompareTask {
    op: Op,
    state: Arc<JobState>,
}

impl Task for CompareTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guard(|| run(&self.op, &self.state))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// Per-class differences between two snapshots of one heap, as JSON rows.
#[napi(ts_return_type = "Promise<string>")]
pub fn diff_snapshots(
    base: &NativeSnapshot,
    current: &NativeSnapshot,
    job: &Job,
    sizes: String,
) -> napi::Result<AsyncTask<CompareTask>> {
    let op = Op::Diff {
        base: base.session(),
        current: current.session(),
        mode: parse(&sizes)?,
    };
    Ok(AsyncTask::new(CompareTask {
        op,
        state: job.state.clone(),
    }))
}

/// Objects created after `baseline`, present in `target` and still alive in `fin`, grouped
/// and explained, as a JSON report. `options` is a JSON object (see `LeakOptionsJs`).
#[napi(ts_return_type = "Promise<string>")]
pub fn find_leaks_in(
    baseline: &NativeSnapshot,
    target: &NativeSnapshot,
    fin: &NativeSnapshot,
    job: &Job,
    options: String,
) -> napi::Result<AsyncTask<CompareTask>> {
    let op = Op::Leaks {
        baseline: baseline.session(),
        target: target.session(),
        fin: fin.session(),
        opts: leak_options(&options)?,
    };
    Ok(AsyncTask::new(CompareTask {
        op,
        state: job.state.clone(),
    }))
}

/// `findLeaks` with an id window (`after < id <= upto`, V8's heap object ids) standing in for the
/// baseline and target snapshots: the leak assertions' one-snapshot explanation.
#[napi(ts_return_type = "Promise<string>")]
pub fn find_leaks_in_window(
    after: u32,
    upto: u32,
    fin: &NativeSnapshot,
    job: &Job,
    options: String,
) -> napi::Result<AsyncTask<CompareTask>> {
    let op = Op::LeaksInWindow {
        window: IdWindow { after, upto },
        fin: fin.session(),
        opts: leak_options(&options)?,
    };
    Ok(AsyncTask::new(CompareTask {
        op,
        state: job.state.clone(),
    }))
}
