//! `NativeSnapshot`: a parsed heap snapshot held in Rust memory (a core [`Session`]: the graph
//! and its cached analysis), and the tasks that load it.

use std::path::PathBuf;
use std::sync::Arc;

use leakguard_core::analysis::{ObjectSort, PathKind, SizeMode};
use leakguard_core::{parse_file, Error as CoreError, HeapGraph, LoadOptions, Session};
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Task};
use napi_derive::napi;

use crate::analysis::{control, AnalysisTask, Query};
use crate::job::{Job, JobState};
use crate::{guard, instance, value};

/// A parsed snapshot held in Rust memory.
#[napi]
pub struct NativeSnapshot {
    session: Arc<Session>,
    // Cached so the getters keep answering after dispose().
    node_count: u32,
    edge_count: u32,
    total_size: f64,
    heap_bytes: f64,
    has_locations: bool,
    has_allocation_trace: bool,
}

impl NativeSnapshot {
    fn new(graph: HeapGraph) -> Self {
        NativeSnapshot {
            node_count: saturate(graph.node_count()),
            edge_count: saturate(graph.edge_count()),
            total_size: graph.total_size() as f64,
            heap_bytes: graph.heap_bytes() as f64,
            has_locations: graph.has_locations(),
            has_allocation_trace: graph.has_allocation_trace(),
            session: Arc::new(Session::new(graph)),
        }
    }

    /// The session this snapshot's tasks share.
    pub(crate) fn session(&self) -> Arc<Session> {
        self.session.clone()
    }

    /// The task running `query` for the [`Job`] passed as `job`.
    fn task(&self, job: Unknown<'_>, query: Query) -> Result<AsyncTask<AnalysisTask>, CoreError> {
        Ok(AsyncTask::new(AnalysisTask {
            session: self.session.clone(),
            state: instance::<Job>(job, "job")?.state.clone(),
            query,
        }))
    }
}

/// Drops `value` on a short-lived thread: freeing a 1 GB graph takes ~200 ms, which must not
/// block the event loop (dispose() and the GC finalizer both run on the JS thread).
fn free_in_background<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("leakguard-free".into())
        .spawn(move || drop(value));
    // If no thread can be started the value was dropped with the error: freed here, still freed.
    let _ = spawned;
}

impl Drop for NativeSnapshot {
    fn drop(&mut self) {
        // Runs as the GC finalizer, where a panic would abort the process.
        let _ = guard(|| {
            // Tasks still running hold their own Arcs; whichever side lets go last frees the
            // graph.
            free_in_background(std::mem::take(&mut self.session));
            Ok(())
        });
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[napi]
impl NativeSnapshot {
    /// Number of nodes.
    #[napi(getter)]
    pub fn node_count(&self) -> napi::Result<u32> {
        guard(|| Ok(self.node_count))
    }

    /// Number of edges.
    #[napi(getter)]
    pub fn edge_count(&self) -> napi::Result<u32> {
        guard(|| Ok(self.edge_count))
    }

    /// Sum of all self sizes, in bytes.
    #[napi(getter)]
    pub fn total_size(&self) -> napi::Result<f64> {
        guard(|| Ok(self.total_size))
    }

    /// Approximate bytes of Rust memory the parsed graph and, once computed, its analysis hold.
    #[napi(getter)]
    pub fn memory_bytes(&self) -> napi::Result<f64> {
        guard(|| {
            if self.session.is_disposed() {
                return Ok(0.0);
            }
            Ok(self.heap_bytes + self.session.analysis_bytes() as f64)
        })
    }

    /// Whether the snapshot has V8's closure `locations` table (docs/locations.md).
    #[napi(getter)]
    pub fn has_locations(&self) -> napi::Result<bool> {
        guard(|| Ok(self.has_locations))
    }

    /// Whether the snapshot was written with allocation tracking on (it has allocation stacks).
    #[napi(getter)]
    pub fn has_allocation_trace(&self) -> napi::Result<bool> {
        guard(|| Ok(self.has_allocation_trace))
    }

    /// Where the object with V8 id `id` comes from, as the JSON of a core `SourceInfo`;
    /// `null` when no object has that id. Synchronous: one linear search of the id column.
    #[napi]
    pub fn source_info(&self, id: u32) -> napi::Result<Option<String>> {
        guard(|| {
            let graph = self.session.graph()?;
            match graph.source_info(id) {
                Some(info) => Ok(Some(crate::result_json(&info)?)),
                None => Ok(None),
            }
        })
    }

    /// Whether `dispose()` was called.
    #[napi(getter)]
    pub fn disposed(&self) -> napi::Result<bool> {
        guard(|| Ok(self.session.is_disposed()))
    }

    /// Frees the graph and its analysis now instead of at garbage collection.
    #[napi]
    pub fn dispose(&self) -> napi::Result<()> {
        guard(|| {
            free_in_background(self.session.dispose());
            Ok(())
        })
    }

    /// Class summary rows, biggest retained size first (`top` rows at most).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn summary(
        &self,
        #[napi(ts_arg_type = "Job")] job: Unknown,
        sizes: String,
        top: u32,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        guard(|| {
            let query = Query::Summary {
                mode: sizes.parse()?,
                top: top as usize,
            };
            self.task(job, query)
        })
    }

    /// Objects of one class.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn objects(
        &self,
        #[napi(ts_arg_type = "Job")] job: Unknown,
        class_name: String,
        sizes: String,
        sort_by: String,
        limit: u32,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        guard(|| {
            let query = Query::Objects {
                class_name,
                mode: sizes.parse::<SizeMode>()?,
                sort: sort_by.parse::<ObjectSort>()?,
                limit: limit as usize,
            };
            self.task(job, query)
        })
    }

    /// The `n` objects with the biggest retained size.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn largest_objects(
        &self,
        #[napi(ts_arg_type = "Job")] job: Unknown,
        n: u32,
        sizes: String,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        guard(|| {
            let query = Query::Largest {
                mode: sizes.parse()?,
                n: n as usize,
            };
            self.task(job, query)
        })
    }

    /// The chain of references from a user root to the object with V8 id `id`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn retainer_path(
        &self,
        #[napi(ts_arg_type = "Job")] job: Unknown,
        id: u32,
        kind: String,
        max_steps: u32,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        guard(|| {
            let query = Query::Path {
                id,
                kind: kind.parse::<PathKind>()?,
                max_steps: max_steps as usize,
            };
            self.task(job, query)
        })
    }
}

fn load_impl(path: &std::path::Path, state: &JobState) -> napi::Result<NativeSnapshot> {
    guard(|| {
        let progress = |f: f64| state.report(f);
        let ctl = control(state, &progress);
        let graph = parse_file(path, &LoadOptions::default(), ctl)?;
        state.report(1.0);
        Ok(NativeSnapshot::new(graph))
    })
}

/// Loads a snapshot file on the thread pool.
pub struct LoadTask {
    path: PathBuf,
    state: Arc<JobState>,
}

impl Task for LoadTask {
    type Output = NativeSnapshot;
    type JsValue = NativeSnapshot;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        load_impl(&self.path, &self.state)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        guard(|| Ok(output))
    }
}

/// Parses the snapshot file at `path` off the event loop; `job` carries cancel and progress.
#[napi(ts_return_type = "Promise<NativeSnapshot>")]
pub fn load_snapshot(
    #[napi(ts_arg_type = "string")] path: Unknown,
    #[napi(ts_arg_type = "Job")] job: Unknown,
) -> napi::Result<AsyncTask<LoadTask>> {
    guard(|| {
        Ok(AsyncTask::new(LoadTask {
            path: PathBuf::from(value::<String>(path, "path", "a string")?),
            state: instance::<Job>(job, "job")?.state.clone(),
        }))
    })
}

/// Parses the snapshot file at `path` on the calling thread (for the CLI and scripts).
#[napi]
pub fn load_snapshot_sync(
    #[napi(ts_arg_type = "string")] path: Unknown,
) -> napi::Result<NativeSnapshot> {
    let path = guard(|| value::<String>(path, "path", "a string"))?;
    load_impl(std::path::Path::new(&path), &JobState::default())
}
