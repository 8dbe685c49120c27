//! `NativeSnapshot`: a parsed heap snapshot held in Rust memory, and the tasks that load it.

use std::path::PathBuf;
use std::sync::Arc;

use leakguard_core::{parse_file, HeapGraph, LoadOptions};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use parking_lot::RwLock;

use crate::job::{Job, JobState};
use crate::{guard, to_napi};

/// A parsed snapshot. The graph sits behind a lock so `dispose()` can free it at once while
/// tasks that already hold an `Arc` of it finish undisturbed.
#[napi]
pub struct NativeSnapshot {
    graph: Arc<RwLock<Option<Arc<HeapGraph>>>>,
    // Cached so the getters keep answering after dispose().
    node_count: u32,
    edge_count: u32,
    total_size: f64,
    heap_bytes: f64,
}

impl NativeSnapshot {
    fn new(graph: HeapGraph) -> Self {
        NativeSnapshot {
            node_count: saturate(graph.node_count()),
            edge_count: saturate(graph.edge_count()),
            total_size: graph.total_size() as f64,
            heap_bytes: graph.heap_bytes() as f64,
            graph: Arc::new(RwLock::new(Some(Arc::new(graph)))),
        }
    }

    /// The graph, or `ERR_LEAKGUARD_INVALID_ARG` after dispose().
    #[allow(dead_code)] // used by the analysis tasks that build on this type
    pub(crate) fn graph(&self) -> napi::Result<Arc<HeapGraph>> {
        self.graph.read().clone().ok_or_else(|| {
            to_napi(leakguard_core::Error::InvalidArg(
                "this snapshot was disposed".into(),
            ))
        })
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

    /// Approximate bytes of Rust memory the parsed graph holds.
    #[napi(getter)]
    pub fn memory_bytes(&self) -> f64 {
        self.heap_bytes
    }

    /// Whether `dispose()` was called.
    #[napi(getter)]
    pub fn disposed(&self) -> bool {
        self.graph.read().is_none()
    }

    /// Frees the graph now instead of at garbage collection.
    #[napi]
    pub fn dispose(&self) {
        self.graph.write().take();
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
