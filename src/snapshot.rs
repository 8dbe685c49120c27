//! `NativeSnapshot`: a parsed heap snapshot held in Rust memory, and the tasks that load it.

use std::path::PathBuf;
use std::sync::Arc;

use leakguard_core::analysis::Analysis;
use leakguard_core::{parse_file, Error as CoreError, HeapGraph, LoadOptions};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use parking_lot::{Mutex, RwLock};

use crate::analysis::{object_sort, path_kind, run_sync, size_mode, AnalysisTask, Query};
use crate::job::{Job, JobState};
use crate::{guard, to_napi};

/// What a snapshot's tasks share: the graph and its cached analysis. Both sit behind locks so
/// `dispose()` can free them at once while tasks that already hold an `Arc` finish undisturbed.
#[derive(Default)]
pub(crate) struct Shared {
    graph: RwLock<Option<Arc<HeapGraph>>>,
    pub(crate) analysis: RwLock<Option<Arc<Analysis>>>,
    /// Held while the analysis is computed, so concurrent first queries compute it once.
    pub(crate) compute_lock: Mutex<()>,
}

impl Shared {
    /// The graph, or `InvalidArg` after dispose().
    pub(crate) fn graph(&self) -> Result<Arc<HeapGraph>, CoreError> {
        self.graph
            .read()
            .clone()
            .ok_or_else(|| CoreError::InvalidArg("this snapshot was disposed".into()))
    }

    pub(crate) fn is_disposed(&self) -> bool {
        self.graph.read().is_none()
    }
}

/// A parsed snapshot held in Rust memory.
#[napi]
pub struct NativeSnapshot {
    shared: Arc<Shared>,
    // Cached so the getters keep answering after dispose().
    node_count: u32,
    edge_count: u32,
    total_size: f64,
    heap_bytes: f64,
}

impl NativeSnapshot {
    fn new(graph: HeapGraph) -> Self {
        let snap = NativeSnapshot {
            node_count: saturate(graph.node_count()),
            edge_count: saturate(graph.edge_count()),
            total_size: graph.total_size() as f64,
            heap_bytes: graph.heap_bytes() as f64,
            shared: Arc::default(),
        };
        *snap.shared.graph.write() = Some(Arc::new(graph));
        snap
    }

    /// The state this snapshot's tasks share.
    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    fn task(&self, job: &Job, query: Query) -> AsyncTask<AnalysisTask> {
        AsyncTask::new(AnalysisTask {
            shared: self.shared.clone(),
            state: job.state.clone(),
            query,
        })
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
        // Tasks still running hold their own Arcs; whichever side lets go last frees the graph.
        free_in_background(std::mem::take(&mut self.shared));
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[napi]
impl NativeSnapshot {
    /// Number of nodes.
    #[napi(getter)]
    pub fn node_count(&self) -> u32 {
        self.node_count
    }

    /// Number of edges.
    #[napi(getter)]
    pub fn edge_count(&self) -> u32 {
        self.edge_count
    }

    /// Sum of all self sizes, in bytes.
    #[napi(getter)]
    pub fn total_size(&self) -> f64 {
        self.total_size
    }

    /// Approximate bytes of Rust memory the parsed graph and, once computed, its analysis hold.
    #[napi(getter)]
    pub fn memory_bytes(&self) -> f64 {
        if self.shared.is_disposed() {
            return 0.0;
        }
        let analysis = self
            .shared
            .analysis
            .read()
            .as_ref()
            .map_or(0, |a| a.heap_bytes());
        self.heap_bytes + analysis as f64
    }

    /// Whether `dispose()` was called.
    #[napi(getter)]
    pub fn disposed(&self) -> bool {
        self.shared.is_disposed()
    }

    /// Frees the graph and its analysis now instead of at garbage collection.
    #[napi]
    pub fn dispose(&self) {
        let graph = self.shared.graph.write().take();
        let analysis = self.shared.analysis.write().take();
        free_in_background((graph, analysis));
    }

    /// Class summary rows, biggest retained size first (`top` rows at most).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn summary(
        &self,
        job: &Job,
        sizes: String,
        top: u32,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        let mode = size_mode(&sizes)?;
        Ok(self.task(
            job,
            Query::Summary {
                mode,
                top: top as usize,
            },
        ))
    }

    /// Objects of one class.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn objects(
        &self,
        job: &Job,
        class_name: String,
        sizes: String,
        sort_by: String,
        limit: u32,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        let query = Query::Objects {
            class_name,
            mode: size_mode(&sizes)?,
            sort: object_sort(&sort_by)?,
            limit: limit as usize,
        };
        Ok(self.task(job, query))
    }

    /// The `n` objects with the biggest retained size.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn largest_objects(
        &self,
        job: &Job,
        n: u32,
        sizes: String,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        let mode = size_mode(&sizes)?;
        Ok(self.task(
            job,
            Query::Largest {
                mode,
                n: n as usize,
            },
        ))
    }

    /// The chain of references from a user root to the object with V8 id `id`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn retainer_path(
        &self,
        job: &Job,
        id: u32,
        kind: String,
        max_steps: u32,
    ) -> napi::Result<AsyncTask<AnalysisTask>> {
        let query = Query::Path {
            id,
            kind: path_kind(&kind)?,
            max_steps: max_steps as usize,
        };
        Ok(self.task(job, query))
    }

    /// Blocking twin of the queries above, for the CLI: `query` is one of `summary`,
    /// `objects`, `largestObjects`, `retainerPath` with the same arguments in `args`.
    #[napi]
    pub fn query_sync(&self, query: String, args: Vec<String>) -> napi::Result<String> {
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
        let num = |i: usize| {
            arg(i).parse::<u32>().map_err(|_| {
                to_napi(CoreError::InvalidArg(format!(
                    "argument {i} of {query} must be a whole number"
                )))
            })
        };
        let q = match query.as_str() {
            "summary" => Query::Summary {
                mode: size_mode(arg(0))?,
                top: num(1)? as usize,
            },
            "objects" => Query::Objects {
                class_name: arg(0).to_string(),
                mode: size_mode(arg(1))?,
                sort: object_sort(arg(2))?,
                limit: num(3)? as usize,
            },
            "largestObjects" => Query::Largest {
                n: num(0)? as usize,
                mode: size_mode(arg(1))?,
            },
            "retainerPath" => Query::Path {
                id: num(0)?,
                kind: path_kind(arg(1))?,
                max_steps: num(2)? as usize,
            },
            _ => {
                return Err(to_napi(CoreError::InvalidArg(format!(
                    "unknown query {query}"
                ))))
            }
        };
        run_sync(&self.shared, &q)
    }
}

fn load_impl(path: &std::path::Path, state: &JobState) -> napi::Result<NativeSnapshot> {
    guard(|| {
        let progress = |f: f64| state.report(f);
        let opts = LoadOptions {
            cancel: Some(&state.cancel),
            progress: Some(&progress),
            ..LoadOptions::default()
        };
        let graph = parse_file(path, &opts)?;
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
        Ok(output)
    }
}

/// Parses the snapshot file at `path` off the event loop; `job` carries cancel and progress.
#[napi(ts_return_type = "Promise<NativeSnapshot>")]
pub fn load_snapshot(path: String, job: &Job) -> AsyncTask<LoadTask> {
    AsyncTask::new(LoadTask {
        path: PathBuf::from(path),
        state: job.state.clone(),
    })
}

/// Parses the snapshot file at `path` on the calling thread (for the CLI and scripts).
#[napi]
pub fn load_snapshot_sync(path: String) -> napi::Result<NativeSnapshot> {
    load_impl(std::path::Path::new(&path), &JobState::default())
}
