//! The work queue of the parallel parse: column jobs appear while the structural pass runs,
//! workers (and finally the calling thread) take them in order and leave results in [`Slots`].

#[allow(clippy::wildcard_imports)]
use super::*;

/// A column-parsing work item. Edge chunks write into disjoint parts of columns that outlive
/// the thread scope (`'c`), hence the lifetime.
pub(super) enum Job<'c> {
    Nodes(Arc<Layout>, Range<usize>),
    Edges(Arc<Layout>, Range<usize>),
    EdgeChunk(Box<ChunkJob<'c>>),
}

/// Chunk `index` of the edges array whose body is `body`.
pub(super) struct ChunkJob<'c> {
    pub(super) index: usize,
    pub(super) lay: Arc<Layout>,
    pub(super) body: Range<usize>,
    pub(super) chunk: EdgeChunk<'c>,
}

/// A tiny work queue: items appear while the structural pass runs; workers (and finally the
/// calling thread) take them in order. Items only become ready one after another, so a fixed
/// assignment of items to threads would leave a core idle.
pub(super) struct Queue<'c> {
    pub(super) state: Mutex<(VecDeque<Job<'c>>, bool)>,
    pub(super) ready: Condvar,
}

impl<'c> Queue<'c> {
    pub(super) fn push(&self, job: Job<'c>) {
        self.state.lock().0.push_back(job);
        self.ready.notify_one();
    }

    pub(super) fn close(&self) {
        self.state.lock().1 = true;
        self.ready.notify_all();
    }

    pub(super) fn pop(&self) -> Option<Job<'c>> {
        let mut st = self.state.lock();
        loop {
            if let Some(job) = st.0.pop_front() {
                return Some(job);
            }
            if st.1 {
                return None;
            }
            self.ready.wait(&mut st);
        }
    }
}

/// Where the parsed columns land.
#[derive(Default)]
pub(super) struct Slots {
    pub(super) nodes: Mutex<Option<Result<NodesOut>>>,
    pub(super) edges: Mutex<Option<Result<EdgesOut>>>,
    /// Per edge chunk: (index, result).
    pub(super) chunks: Mutex<Vec<(usize, Result<MaxName>)>>,
    /// Retainer count arrays of finished edge chunks, reused by the next ones: one per thread
    /// at most, summed at the end (cheaper than an atomic increment per edge).
    pub(super) counts: Mutex<Vec<Vec<u32>>>,
}

/// The edge columns that chunk jobs fill in place.
pub(super) struct EdgeColumns {
    pub(super) types: Vec<u8>,
    pub(super) names: Vec<u32>,
    pub(super) to: Vec<u32>,
}

pub(super) fn work<'c>(queue: &Queue<'c>, slots: &Slots, src: Source<'_>, sh: &Shared<'_>) {
    while let Some(job) = queue.pop() {
        let from = Instant::now();
        match job {
            Job::Nodes(lay, range) => {
                let r = sh
                    .item(NODES)
                    .run(|ctl| columns::parse_nodes(src, range, &lay, ctl));
                *slots.nodes.lock() = Some(r);
                sh.trace(format_args!("nodes"), from);
            }
            Job::Edges(lay, range) => {
                let r = sh
                    .item(EDGES)
                    .run(|ctl| columns::parse_edges(src, range, &lay, ctl));
                *slots.edges.lock() = Some(r);
                sh.trace(format_args!("edges"), from);
            }
            Job::EdgeChunk(job) => {
                let ChunkJob {
                    index,
                    lay,
                    body,
                    chunk,
                } = *job;
                let rows = chunk.rows.clone();
                let mut counts = slots.counts.lock().pop().unwrap_or_default();
                // Allocated lazily so that at most one array per thread ever exists.
                if counts.is_empty() {
                    counts = vec![0; lay.node_count + 1];
                }
                let r = sh
                    .item(EDGES + index)
                    .run(|ctl| columns::parse_edge_chunk(src, body, &lay, ctl, chunk, &mut counts));
                slots.counts.lock().push(counts);
                slots.chunks.lock().push((index, r));
                sh.trace(format_args!("edge chunk {index} rows {rows:?}"), from);
            }
        }
    }
}
