//! Parsing `.heapsnapshot` files into a [`HeapGraph`].
//!
//! A structural pass walks the top-level keys (in any order) and records where each value lives:
//! the header is read with serde_json, the two big numeric arrays are located with a SIMD search
//! for their closing `]`, the string table is decoded on the spot, and anything else is skipped.
//! As soon as the header and an array's byte range are known, that array becomes a work item for
//! a small thread pool, so the node and edge columns are parsed while the structural pass is still
//! running. The edges array, the largest, is cut into chunks of whole rows (the same SIMD pass
//! counts its commas, which locates row boundaries) that any thread can parse into its own part
//! of the columns. Finally the reverse (retainer) index is built from the edge columns.
//!
//! Every work item has a rank, its place in the order a serial parse runs them; a failure only
//! stops items ranked after it, so the error reported is always the one the serial parse reports.

mod columns;
mod scan;

use crate::graph::HeapGraph;
use crate::{Error, Result};
use columns::{EdgeChunk, EdgeSlices, EdgesOut, Layout, MaxName, NodesOut};
use parking_lot::{Condvar, Mutex};
use scan::{skip_ws, truncated, Strings, TICK};
use std::collections::VecDeque;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Consumed file pages are handed back to the OS in steps of this size, so a mapped 1 GB file
/// never adds 1 GB of resident memory on top of the graph.
pub(crate) const RELEASE: usize = 32 << 20;

/// Default size of the pieces the edges array is cut into for a parallel parse: small enough
/// that the last pieces even out the threads' finishing times, large enough that the per-piece
/// cost (a queue entry, a boundary search) does not matter.
const CHUNK: usize = 1 << 20;

/// How a load runs. `Default` means: no cancellation, no progress, automatic thread count.
#[derive(Default, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// Raised by the caller (e.g. from a JS `AbortSignal`) to stop the parse; every thread polls
    /// it about once per MiB, and the parse then returns [`Error::Aborted`].
    pub cancel: Option<&'a AtomicBool>,
    /// Receives the completed fraction in `0..=1`: monotone, at most ~100 calls, ending with
    /// exactly `1.0` on success. May be called from any parser thread.
    pub progress: Option<&'a (dyn Fn(f64) + Sync)>,
    /// Threads to use; 0 = `available_parallelism`. Capped at 3 (only measured on up to 2
    /// cores); 1 parses serially.
    pub threads: usize,
    /// For tests and tuning: approximate size in bytes of the pieces the edges array is cut into
    /// when more than one thread parses; 0 = the default (1 MiB). Tiny values put piece
    /// boundaries everywhere; the result is the same for every value.
    pub chunk_bytes: usize,
}

impl std::fmt::Debug for LoadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("cancel", &self.cancel.is_some())
            .field("progress", &self.progress.is_some())
            .field("threads", &self.threads)
            .field("chunk_bytes", &self.chunk_bytes)
            .finish()
    }
}

/// The bytes being parsed, plus the mapping (for files) so consumed pages can be released.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) bytes: &'a [u8],
    map: Option<&'a memmap2::Mmap>,
}

impl Source<'_> {
    /// Tells the kernel we are done with the pages inside `from..to`.
    pub(crate) fn release(&self, from: usize, to: usize) {
        #[cfg(unix)]
        if let Some(map) = self.map {
            const PAGE: usize = 4096;
            let start = from.div_ceil(PAGE) * PAGE;
            let end = to.min(map.len()) / PAGE * PAGE;
            if end > start {
                // SAFETY: the map is a private (copy-on-write), read-only file mapping that is
                // never written, so MADV_DONTNEED only drops clean page-table entries: any later
                // read of these addresses (including by another thread reading a neighbouring
                // range that shares a page, or reading past its edge chunk's end) faults the
                // identical bytes back in from the file. No reference observes different data.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = (from, to, self.map);
    }
}

/// Shared control block: cancellation, early stop after another item's failure, progress.
pub(crate) struct Shared<'a> {
    cancel: Option<&'a AtomicBool>,
    progress: Option<&'a (dyn Fn(f64) + Sync)>,
    /// Lowest rank of a work item that failed, `usize::MAX` while none has.
    failed: AtomicUsize,
    done: AtomicU64,
    total: u64,
    last_pct: AtomicU32,
    report: Mutex<()>,
    /// Set from `LEAKGUARD_PARSE_TIMING`: when the parse started, for a per-item timing trace on
    /// stderr (a tuning aid, off in normal use).
    timing: Option<Instant>,
}

/// Ranks: the order in which a serial parse runs the work items.
const STRUCTURE: usize = 0;
const NODES: usize = 1;
/// The edges array, or its first chunk; chunk `k` has rank `EDGES + k`.
const EDGES: usize = 2;

/// One work item's view of [`Shared`]. Its rank decides which failures stop it: only those of
/// items ranked before it, whose errors a serial parse would report first. Items ranked before a
/// failure run to the end, so the earliest real error is always known.
#[derive(Clone, Copy)]
pub(crate) struct Ctl<'a> {
    sh: &'a Shared<'a>,
    rank: usize,
}

/// Share of the progress range given to parsing; the rest covers the retainer index.
const PARSE_SHARE: f64 = 0.9;

impl<'a> Shared<'a> {
    fn new(opts: &LoadOptions<'a>, len: usize) -> Self {
        Shared {
            cancel: opts.cancel,
            progress: opts.progress,
            failed: AtomicUsize::new(usize::MAX),
            done: AtomicU64::new(0),
            // Every byte is scanned once and parsed once.
            total: (2 * len as u64).max(1),
            last_pct: AtomicU32::new(0),
            report: Mutex::new(()),
            timing: std::env::var_os("LEAKGUARD_PARSE_TIMING").map(|_| Instant::now()),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    fn ctl(&'a self, rank: usize) -> Ctl<'a> {
        Ctl { sh: self, rank }
    }

    /// Prints one line of the `LEAKGUARD_PARSE_TIMING` trace: which thread ran what, when.
    fn trace(&self, what: std::fmt::Arguments<'_>, from: Instant) {
        if let Some(t0) = self.timing {
            let ms = |t: Instant| t.saturating_duration_since(t0).as_secs_f64() * 1e3;
            eprintln!(
                "leakguard parse: {:<16} {what}: {:.1}..{:.1} ms",
                std::thread::current().name().unwrap_or("?"),
                ms(from),
                ms(Instant::now())
            );
        }
    }

    /// Reports `frac` if it is at least one percent past the last report. The lock makes the
    /// check-and-call atomic, so concurrent threads can never deliver values out of order.
    fn report(&self, frac: f64) {
        let Some(cb) = self.progress else { return };
        let pct = (frac * 100.0).floor().clamp(0.0, 100.0) as u32;
        if pct <= self.last_pct.load(Ordering::Relaxed) {
            return;
        }
        let _guard = self.report.lock();
        if pct > self.last_pct.load(Ordering::Relaxed) {
            self.last_pct.store(pct, Ordering::Relaxed);
            cb(f64::from(pct) / 100.0);
        }
    }
}

impl Ctl<'_> {
    /// Err(Aborted) if the caller cancelled or an item ranked before this one failed.
    pub(crate) fn check(&self) -> Result<()> {
        if self.sh.cancelled() || self.sh.failed.load(Ordering::Relaxed) < self.rank {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    /// Records that this item failed, which stops every item ranked after it.
    fn fail(&self) {
        self.sh.failed.fetch_min(self.rank, Ordering::Relaxed);
    }

    /// Records `units` of parse work and polls for cancellation.
    pub(crate) fn advance(&self, units: u64) -> Result<()> {
        self.check()?;
        let sh = self.sh;
        if sh.progress.is_some() {
            let done = sh.done.fetch_add(units, Ordering::Relaxed) + units;
            let frac = (done as f64 / sh.total as f64).min(1.0) * PARSE_SHARE;
            sh.report(frac);
        }
        Ok(())
    }
}

/// Parses the heap snapshot in the file at `path`. The file is memory-mapped (see
/// [`crate::io`]: regular files only, guarded against truncation while mapped), and the mapping
/// is gone when this returns: the graph owns all its data. A file that changed while it was
/// being read fails with [`Error::Io`], whatever the parse made of it.
pub fn parse_file(path: &Path, opts: &LoadOptions) -> Result<HeapGraph> {
    let file = crate::io::open(path)?;
    let result = parse_source(
        Source {
            bytes: file.bytes(),
            map: file.map(),
        },
        opts,
    );
    file.finish(result)
}

/// Parses a heap snapshot held in memory (same code as [`parse_file`], minus the page release).
pub fn parse_bytes(bytes: &[u8], opts: &LoadOptions) -> Result<HeapGraph> {
    parse_source(Source { bytes, map: None }, opts)
}

/// A column-parsing work item. Edge chunks write into disjoint parts of columns that outlive
/// the thread scope (`'c`), hence the lifetime.
enum Job<'c> {
    Nodes(Arc<Layout>, Range<usize>),
    Edges(Arc<Layout>, Range<usize>),
    EdgeChunk(Box<ChunkJob<'c>>),
}

/// Chunk `index` of the edges array whose body is `body`.
struct ChunkJob<'c> {
    index: usize,
    lay: Arc<Layout>,
    body: Range<usize>,
    chunk: EdgeChunk<'c>,
}

/// A tiny work queue: items appear while the structural pass runs; workers (and finally the
/// calling thread) take them in order. Items only become ready one after another, so a fixed
/// assignment of items to threads would leave a core idle.
struct Queue<'c> {
    state: Mutex<(VecDeque<Job<'c>>, bool)>,
    ready: Condvar,
}

impl<'c> Queue<'c> {
    fn push(&self, job: Job<'c>) {
        self.state.lock().0.push_back(job);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.state.lock().1 = true;
        self.ready.notify_all();
    }

    fn pop(&self) -> Option<Job<'c>> {
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
struct Slots {
    nodes: Mutex<Option<Result<NodesOut>>>,
    edges: Mutex<Option<Result<EdgesOut>>>,
    /// Per edge chunk: (index, result).
    chunks: Mutex<Vec<(usize, Result<MaxName>)>>,
    /// Retainer count arrays of finished edge chunks, reused by the next ones: one per thread
    /// at most, summed at the end (cheaper than an atomic increment per edge).
    counts: Mutex<Vec<Vec<u32>>>,
}

/// The edge columns that chunk jobs fill in place.
struct EdgeColumns {
    types: Vec<u8>,
    names: Vec<u32>,
    to: Vec<u32>,
}

fn work<'c>(queue: &Queue<'c>, slots: &Slots, src: Source<'_>, sh: &Shared<'_>) {
    while let Some(job) = queue.pop() {
        let from = Instant::now();
        match job {
            Job::Nodes(lay, range) => {
                let ctl = sh.ctl(NODES);
                let r = columns::parse_nodes(src, range, &lay, &ctl);
                if r.is_err() {
                    ctl.fail();
                }
                *slots.nodes.lock() = Some(r);
                sh.trace(format_args!("nodes"), from);
            }
            Job::Edges(lay, range) => {
                let ctl = sh.ctl(EDGES);
                let r = columns::parse_edges(src, range, &lay, &ctl);
                if r.is_err() {
                    ctl.fail();
                }
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
                let ctl = sh.ctl(EDGES + index);
                let rows = chunk.rows.clone();
                let mut counts = slots.counts.lock().pop().unwrap_or_default();
                // Allocated lazily so that at most one array per thread ever exists.
                if counts.is_empty() {
                    counts = vec![0; lay.node_count + 1];
                }
                let r = columns::parse_edge_chunk(src, body, &lay, &ctl, chunk, &mut counts);
                slots.counts.lock().push(counts);
                if r.is_err() {
                    ctl.fail();
                }
                slots.chunks.lock().push((index, r));
                sh.trace(format_args!("edge chunk {index} rows {rows:?}"), from);
            }
        }
    }
}

/// What the structural pass found.
struct Structure {
    layout: Arc<Layout>,
    strings: Strings,
}

fn parse_source(src: Source<'_>, opts: &LoadOptions) -> Result<HeapGraph> {
    let sh = Shared::new(opts, src.bytes.len());
    sh.ctl(STRUCTURE).check()?;
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
    .clamp(1, 3);
    // Splitting only pays when another thread can take a piece; one thread parses serially.
    let chunk_bytes = match (threads, opts.chunk_bytes) {
        (1, _) => 0,
        (_, 0) => CHUNK,
        (_, c) => c,
    };
    let mut edge_columns: Option<EdgeColumns> = None;
    let queue = Queue {
        state: Mutex::new((VecDeque::new(), false)),
        ready: Condvar::new(),
    };
    let slots = Slots::default();
    let structure = std::thread::scope(|s| {
        for _ in 1..threads {
            // If the OS refuses a thread, the calling thread simply does more of the work.
            let _ = std::thread::Builder::new()
                .name("leakguard-parse".into())
                .spawn_scoped(s, || work(&queue, &slots, src, &sh));
        }
        let from = Instant::now();
        let ctl = sh.ctl(STRUCTURE);
        let r = structure(src, &ctl, &queue, &mut edge_columns, chunk_bytes);
        if r.is_err() {
            ctl.fail();
        }
        sh.trace(format_args!("structure"), from);
        queue.close();
        work(&queue, &slots, src, &sh);
        r
    });
    // The queue is empty now; dropping it ends the chunks' borrow of the edge columns.
    drop(queue);
    let nodes = slots.nodes.into_inner();
    let edges = match edge_columns {
        None => slots.edges.into_inner(),
        Some(cols) => Some(join_chunks(
            cols,
            slots.chunks.into_inner(),
            slots.counts.into_inner(),
        )),
    };
    if sh.cancelled() {
        return Err(Error::Aborted);
    }
    // Report the real failure, not the Aborted that items ranked after it saw. Items ranked
    // before it were not stopped, so this is the error a serial parse reports.
    let real = |e: &Error| !matches!(e, Error::Aborted);
    let first_err = [
        structure.as_ref().err(),
        nodes.as_ref().and_then(|r| r.as_ref().err()),
        edges.as_ref().and_then(|r| r.as_ref().err()),
    ]
    .into_iter()
    .flatten()
    .find(|e| real(e))
    .cloned();
    if let Some(e) = first_err {
        return Err(e);
    }
    let structure = structure?;
    let nodes = nodes.ok_or(Error::Aborted)??;
    let edges = edges.ok_or(Error::Aborted)??;
    let from = Instant::now();
    let graph = assemble(structure, nodes, edges, &sh.ctl(usize::MAX));
    sh.trace(format_args!("assemble"), from);
    graph
}

/// Puts the chunk results together: the first chunk's error (the earliest by position, which a
/// serial parse reports), else the columns with the retainer counts summed.
fn join_chunks(
    cols: EdgeColumns,
    mut results: Vec<(usize, Result<MaxName>)>,
    counts: Vec<Vec<u32>>,
) -> Result<EdgesOut> {
    results.sort_unstable_by_key(|r| r.0);
    let mut max_name = None;
    for (_, r) in results {
        // A chunk only aborts after a cancel or a failure ranked before it, and such a failure
        // is the one reported, so stopping at the first non-Ok chunk is exact.
        max_name = columns::later_max(max_name, r?);
    }
    let mut counts = counts.into_iter();
    let mut total = counts.next().unwrap_or_default();
    for c in counts {
        for (t, x) in total.iter_mut().zip(c) {
            *t += x;
        }
    }
    Ok(EdgesOut {
        types: cols.types,
        names: cols.names,
        to: cols.to,
        retainer_counts: total,
        max_name,
    })
}

/// Cuts the edges body (`a`, `rows` rows of `fields` numbers) into chunks of about `chunk_bytes`,
/// using `marks`: (body offset, commas before it) in increasing order. Returns the row and body
/// offset where each chunk after the first starts: the offset of the comma just before the row's
/// first number. A comma count that does not match the rows only means fewer cuts; the chunk
/// parses themselves detect any malformed input.
fn edge_cuts(
    a: &[u8],
    marks: &[(usize, usize)],
    rows: usize,
    fields: usize,
    chunk_bytes: usize,
) -> Vec<(usize, usize)> {
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut next = chunk_bytes;
    for &(pos, commas) in marks {
        if pos < next {
            continue;
        }
        // The first comma at or after `pos` has index `commas`; the next one that ends a row
        // (its index + 1 is a multiple of `fields`) is `skip` commas further on.
        let skip = (fields - 1 - commas % fields) % fields;
        let row = (commas + skip + 1) / fields;
        if row >= rows {
            break;
        }
        if cuts.last().is_some_and(|&(r, _)| r >= row) {
            continue;
        }
        let Some(at) = a
            .get(pos..)
            .and_then(|tail| memchr::memchr_iter(b',', tail).nth(skip))
        else {
            break;
        };
        cuts.push((row, pos + at));
        next = pos + at + chunk_bytes;
    }
    cuts
}

/// Queues the edges array: one job, or (if it is worth cutting) one job per chunk, each writing
/// its rows straight into its part of `store`'s columns.
fn queue_edges<'c>(
    b: &[u8],
    lay: &Arc<Layout>,
    body: Range<usize>,
    marks: &[(usize, usize)],
    chunk_bytes: usize,
    queue: &Queue<'c>,
    store: &'c mut Option<EdgeColumns>,
) {
    let a = b.get(body.clone()).unwrap_or_default();
    let e = lay.edge_count;
    let cuts = if chunk_bytes == 0 {
        Vec::new()
    } else {
        edge_cuts(a, marks, e, lay.ef(), chunk_bytes)
    };
    if cuts.is_empty() {
        queue.push(Job::Edges(lay.clone(), body));
        return;
    }
    let cols = store.insert(EdgeColumns {
        types: vec![0; e],
        names: vec![0; e],
        to: vec![0; e],
    });
    let (mut types, mut names, mut to) =
        (&mut cols.types[..], &mut cols.names[..], &mut cols.to[..]);
    let starts = std::iter::once((0, 0)).chain(cuts.iter().copied());
    let ends = cuts.iter().copied().chain(std::iter::once((e, a.len())));
    for (index, ((row0, start), (row1, end))) in starts.zip(ends).enumerate() {
        let n = row1 - row0;
        let (t, rest) = std::mem::take(&mut types).split_at_mut(n);
        types = rest;
        let (nm, rest) = std::mem::take(&mut names).split_at_mut(n);
        names = rest;
        let (tt, rest) = std::mem::take(&mut to).split_at_mut(n);
        to = rest;
        queue.push(Job::EdgeChunk(Box::new(ChunkJob {
            index,
            lay: lay.clone(),
            body: body.clone(),
            chunk: EdgeChunk {
                rows: row0..row1,
                start,
                end,
                out: EdgeSlices {
                    types: t,
                    names: nm,
                    to: tt,
                },
            },
        })));
    }
}

/// Walks the top-level object, queueing column work as soon as it is possible.
fn structure<'c>(
    src: Source<'_>,
    ctl: &Ctl<'_>,
    queue: &Queue<'c>,
    edge_columns: &'c mut Option<EdgeColumns>,
    chunk_bytes: usize,
) -> Result<Structure> {
    let b = src.bytes;
    let mut i = skip_ws(b, 0);
    match b.get(i) {
        None => return Err(Error::parse(b.len(), "empty file: not a heap snapshot")),
        Some(b'{') => i += 1,
        Some(_) => {
            return Err(Error::parse(
                i,
                "not a heap snapshot: expected a JSON object",
            ));
        }
    }
    let mut layout: Option<Arc<Layout>> = None;
    let mut nodes: Option<Range<usize>> = None;
    let mut edges: Option<Range<usize>> = None;
    let mut strings: Option<Strings> = None;
    let mut edge_marks = Vec::new();
    let mut edge_columns = Some(edge_columns);
    let (mut nodes_queued, mut edges_queued) = (false, false);
    let mut key = String::new();
    i = skip_ws(b, i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let key_at = skip_ws(b, i);
            key.clear();
            i = scan::decode_string(b, key_at, &mut key)?;
            i = skip_ws(b, scan::expect(b, i, b':', "after an object key")?);
            let dup = || Error::parse(key_at, format!("duplicate key \"{key}\""));
            match key.as_str() {
                "snapshot" => {
                    if layout.is_some() {
                        return Err(dup());
                    }
                    let (lay, end) = columns::read_header(b, i)?;
                    ctl.advance(2 * (end - i) as u64)?;
                    layout = Some(Arc::new(lay));
                    i = end;
                }
                "nodes" | "edges" => {
                    let slot = if key == "nodes" {
                        &mut nodes
                    } else {
                        &mut edges
                    };
                    if slot.is_some() {
                        return Err(dup());
                    }
                    let step = if key == "edges" { chunk_bytes } else { 0 };
                    let (range, end, marks) = find_array(b, i, &key, ctl, step)?;
                    if key == "edges" {
                        edge_marks = marks;
                    }
                    *slot = Some(range);
                    i = end;
                }
                "strings" => {
                    if strings.is_some() {
                        return Err(dup());
                    }
                    let (s, end) = scan::decode_strings(src, i, ctl)?;
                    strings = Some(s);
                    i = end;
                }
                _ => i = scan::skip_value(b, i, ctl)?,
            }
            // Queue column work the moment its inputs are known.
            if let (Some(lay), Some(r)) = (&layout, &nodes) {
                if !nodes_queued {
                    columns::check_fits(lay.node_count, lay.nf(), r, "node")?;
                    queue.push(Job::Nodes(lay.clone(), r.clone()));
                    nodes_queued = true;
                }
                if let (Some(re), false) = (&edges, edges_queued) {
                    columns::check_fits(lay.edge_count, lay.ef(), re, "edge")?;
                    if let Some(store) = edge_columns.take() {
                        queue_edges(b, lay, re.clone(), &edge_marks, chunk_bytes, queue, store);
                    }
                    edge_marks = Vec::new();
                    edges_queued = true;
                }
            }
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                Some(_) => {
                    return Err(Error::parse(
                        i,
                        "expected ',' or '}' after a top-level value",
                    ))
                }
                None => return Err(truncated(b, "the top-level object")),
            }
        }
    }
    i = skip_ws(b, i);
    if i < b.len() {
        return Err(Error::parse(i, "unexpected data after the snapshot object"));
    }
    let missing = |k: &str| Error::parse(b.len(), format!("not a heap snapshot: no \"{k}\" key"));
    let layout = layout.ok_or_else(|| missing("snapshot"))?;
    nodes.ok_or_else(|| missing("nodes"))?;
    edges.ok_or_else(|| missing("edges"))?;
    let strings = strings.ok_or_else(|| missing("strings"))?;
    Ok(Structure { layout, strings })
}

/// Comma positions sampled while locating an array: (body offset, commas before it).
type Marks = Vec<(usize, usize)>;

/// Locates a numeric array starting at `i` (its `[`): the first `]` ends it, because a valid
/// numeric array holds nothing else that could contain one. Returns the body range, the index
/// after `]` and, if `step` > 0, a [`Marks`] entry every `step` bytes (SIMD comma counts cost
/// little next to reading the pages). Validation of the body is left to the column parser.
fn find_array(
    b: &[u8],
    i: usize,
    what: &str,
    ctl: &Ctl<'_>,
    step: usize,
) -> Result<(Range<usize>, usize, Marks)> {
    let start = scan::expect(b, i, b'[', &format!("to open the {what} array"))?;
    let stride = if step == 0 { TICK } else { step.min(TICK) };
    let mut marks = Vec::new();
    let mut commas = 0;
    let mut pos = start;
    let mut reported = start;
    loop {
        let chunk_end = (pos + stride).min(b.len());
        let chunk = b.get(pos..chunk_end).unwrap_or_default();
        if let Some(p) = memchr::memchr(b']', chunk) {
            let end = pos + p;
            ctl.advance((end + 1 - reported) as u64)?;
            return Ok((start..end, end + 1, marks));
        }
        if step > 0 {
            commas += memchr::memchr_iter(b',', chunk).count();
            marks.push((chunk_end - start, commas));
        }
        if chunk_end - reported >= TICK || chunk_end >= b.len() {
            ctl.advance((chunk_end - reported) as u64)?;
            reported = chunk_end;
        }
        if chunk_end >= b.len() {
            return Err(truncated(b, &format!("the {what} array")));
        }
        pos = chunk_end;
    }
}

/// Final checks that need more than one work item, then the reverse index.
fn assemble(st: Structure, nodes: NodesOut, edges: EdgesOut, ctl: &Ctl<'_>) -> Result<HeapGraph> {
    let lay = st.layout;
    let string_count = st.strings.offsets.len().saturating_sub(1);
    let n = nodes.ids.len();
    if nodes.max_name.0 as usize >= string_count && n > 0 {
        return Err(Error::parse(
            nodes.max_name.1,
            format!(
                "node name string index {} out of range ({string_count} strings)",
                nodes.max_name.0
            ),
        ));
    }
    if let Some((max, at)) = edges.max_name {
        if max as usize >= string_count {
            return Err(Error::parse(
                at,
                format!("edge name string index {max} out of range ({string_count} strings)"),
            ));
        }
    }
    let nf = lay.nf() as u64;
    let root = match lay.root_index {
        None => 0,
        Some(r) if r % nf == 0 && r / nf < n as u64 => (r / nf) as u32,
        Some(r) => {
            return Err(Error::parse(
                lay.at,
                format!("snapshot.root_index {r} is not the index of a node"),
            ));
        }
    };
    ctl.check()?;
    let (first_retainer, retaining_edge, retaining_node) =
        build_retainers(&nodes.first_edge, &edges.to, edges.retainer_counts, ctl)?;
    let graph = HeapGraph {
        node_type: nodes.types,
        node_name: nodes.names,
        node_id: nodes.ids,
        self_size: nodes.sizes,
        size_overflow: nodes.overflow,
        detachedness: nodes.detachedness,
        trace_node_id: nodes.trace,
        has_detachedness: lay.has_detachedness,
        has_trace_node_id: lay.has_trace,
        first_edge: nodes.first_edge,
        edge_type: edges.types,
        edge_name: edges.names,
        edge_to: edges.to,
        first_retainer,
        retaining_edge,
        retaining_node,
        strings: st.strings.text,
        string_offsets: st.strings.offsets,
        node_type_map: lay.node_type_map(),
        edge_type_map: lay.edge_type_map(),
        node_type_names: lay.node_type_names.clone(),
        edge_type_names: lay.edge_type_names.clone(),
        root,
        total_size: nodes.total_size,
    };
    if let Some(cb) = ctl.sh.progress {
        let _guard = ctl.sh.report.lock();
        ctl.sh.last_pct.store(100, Ordering::Relaxed);
        cb(1.0);
    }
    Ok(graph)
}

/// Builds the retainer CSR (DevTools' `buildRetainers`): counts were gathered while parsing
/// edges; an inclusive prefix sum turns them into block ends, and filling in reverse edge order
/// decrements each end to its block start while leaving every block in ascending edge order.
fn build_retainers(
    first_edge: &[u32],
    to: &[u32],
    mut first_retainer: Vec<u32>,
    ctl: &Ctl<'_>,
) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let e = to.len();
    let inconsistent = || Error::parse(0, "internal inconsistency while indexing retainers");
    let mut acc: u32 = 0;
    for c in first_retainer.iter_mut() {
        acc = acc.checked_add(*c).ok_or_else(inconsistent)?;
        *c = acc;
    }
    if acc as usize != e {
        return Err(inconsistent());
    }
    let mut retaining_edge = vec![0u32; e];
    let mut retaining_node = vec![0u32; e];
    let mut since_check = 0usize;
    let nodes = first_edge.len().saturating_sub(1);
    for n in (0..nodes).rev() {
        let (Some(&a), Some(&z)) = (first_edge.get(n), first_edge.get(n + 1)) else {
            return Err(inconsistent());
        };
        for edge in (a as usize..z as usize).rev() {
            let t = *to.get(edge).ok_or_else(inconsistent)? as usize;
            let slot = first_retainer.get_mut(t).ok_or_else(inconsistent)?;
            *slot = slot.checked_sub(1).ok_or_else(inconsistent)?;
            let p = *slot as usize;
            *retaining_edge.get_mut(p).ok_or_else(inconsistent)? = edge as u32;
            *retaining_node.get_mut(p).ok_or_else(inconsistent)? = n as u32;
        }
        since_check += (z - a) as usize + 1;
        if since_check >= TICK {
            since_check = 0;
            ctl.check()?;
        }
    }
    Ok((first_retainer, retaining_edge, retaining_node))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64: deterministic randomness without a dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    const SEPS: [&str; 7] = [",", ",", "\n,", ", ", " ,\n ", "\t,\r\n", ",  "];
    const WS: [&str; 4] = ["", " ", "\n", " \r\n\t "];

    /// `[n, n, ...]` with V8's and other separators, and whitespace inside the brackets.
    fn array(rng: &mut Rng, nums: &[u64]) -> String {
        let mut s = format!("[{}", WS[rng.below(WS.len())]);
        for (k, v) in nums.iter().enumerate() {
            if k > 0 {
                s.push_str(SEPS[rng.below(SEPS.len())]);
            }
            s.push_str(&v.to_string());
        }
        s.push_str(WS[rng.below(WS.len())]);
        s.push(']');
        s
    }

    #[test]
    fn cuts_fall_on_the_commas_that_end_rows() {
        let mut rng = Rng(0x5eed_cafe);
        for _ in 0..3000 {
            let fields = 1 + rng.below(5);
            let rows = 1 + rng.below(40);
            let nums: Vec<u64> = (0..rows * fields).map(|_| rng.below(1000) as u64).collect();
            let text = array(&mut rng, &nums);
            let b = text.as_bytes();
            let sh = Shared::new(&LoadOptions::default(), b.len());
            let (step, chunk) = match rng.below(3) {
                0 => (1, 1),
                _ => (1 + rng.below(12), 1 + rng.below(40)),
            };
            let (body, end, marks) = find_array(b, 0, "edge", &sh.ctl(STRUCTURE), step).unwrap();
            assert_eq!(end, b.len());
            let a = &b[body];
            let cuts = edge_cuts(a, &marks, rows, fields, chunk);
            let mut last = (0, 0);
            for &(row, at) in &cuts {
                assert!(
                    row > last.0 && row < rows && at > last.1,
                    "{cuts:?} in {text}"
                );
                assert_eq!(a[at], b',');
                let before = a[..at].iter().filter(|&&c| c == b',').count();
                assert_eq!(before, row * fields - 1, "cut {row} at {at} in {text}");
                last = (row, at);
            }
            if (step, chunk) == (1, 1) {
                assert_eq!(cuts.len(), rows - 1, "every row boundary is a cut: {text}");
            }
        }
    }

    /// The edge columns and everything else an edge parse yields, comparable.
    type Outcome = Result<(Vec<u8>, Vec<u32>, Vec<u32>, Vec<u32>, MaxName)>;

    fn outcome(r: Result<EdgesOut>) -> Outcome {
        r.map(|o| (o.types, o.names, o.to, o.retainer_counts, o.max_name))
    }

    /// Parses the edges array at the start of `b` in chunks of `chunk` bytes with the real
    /// queue and workers (run on this thread); returns the outcome and the number of jobs.
    fn chunked(b: &[u8], lay: &Arc<Layout>, chunk: usize) -> (Outcome, usize) {
        let src = Source {
            bytes: b,
            map: None,
        };
        let sh = Shared::new(&LoadOptions::default(), b.len());
        let ctl = sh.ctl(STRUCTURE);
        let (body, _, marks) = find_array(b, 0, "edge", &ctl, chunk).unwrap();
        let mut store = None;
        let queue = Queue {
            state: Mutex::new((VecDeque::new(), false)),
            ready: Condvar::new(),
        };
        queue_edges(b, lay, body, &marks, chunk, &queue, &mut store);
        let jobs = queue.state.lock().0.len();
        queue.close();
        let slots = Slots::default();
        work(&queue, &slots, src, &sh);
        drop(queue);
        let out = match store {
            Some(cols) => join_chunks(cols, slots.chunks.into_inner(), slots.counts.into_inner()),
            None => slots.edges.into_inner().unwrap(),
        };
        (outcome(out), jobs)
    }

    fn serial(b: &[u8], lay: &Layout) -> Outcome {
        let src = Source {
            bytes: b,
            map: None,
        };
        let sh = Shared::new(&LoadOptions::default(), b.len());
        let (body, _, _) = find_array(b, 0, "edge", &sh.ctl(STRUCTURE), 0).unwrap();
        outcome(columns::parse_edges(src, body, lay, &sh.ctl(EDGES)))
    }

    #[test]
    fn chunk_jobs_match_the_serial_parse_also_on_damaged_arrays() {
        let mut rng = Rng(0x0dd_ba11);
        let nodes = 50usize;
        let mut chunked_jobs = 0;
        for round in 0..1500 {
            let rows = 1 + rng.below(60);
            let header = format!(
                r#"{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["hidden"]],"edge_fields":["type","name_or_index","extra","to_node"],"edge_types":[["context","element","property"],"string_or_number","number","node"]}},"node_count":{nodes},"edge_count":{rows}}}"#
            );
            let (lay, _) = columns::read_header(header.as_bytes(), 0).unwrap();
            let lay = Arc::new(lay);
            let mut nums = Vec::new();
            for _ in 0..rows {
                nums.push(rng.below(3) as u64);
                nums.push(rng.below(100) as u64);
                nums.push(rng.below(7) as u64);
                nums.push((rng.below(nodes) * 5) as u64);
            }
            let text = array(&mut rng, &nums);
            let mut b = text.into_bytes();
            // Damage most arrays: a wrong byte, a lost or an extra one.
            for _ in 0..rng.below(3) {
                let at = 1 + rng.below(b.len() - 2);
                let junk = b"0123456789,, \n-x9"[rng.below(17)];
                match rng.below(3) {
                    0 => b[at] = junk,
                    1 => {
                        b.remove(at);
                    }
                    _ => b.insert(at, junk),
                }
            }
            let want = serial(&b, &lay);
            for chunk in [1, 2, 3, 5, 8, 13, 40, 1 << 20] {
                let (got, jobs) = chunked(&b, &lay, chunk);
                assert_eq!(got, want, "round {round} chunk {chunk}");
                if jobs > 1 {
                    chunked_jobs += 1;
                }
            }
            if round == 0 {
                let (_, jobs) = chunked(&b, &lay, 1);
                assert!(jobs > 1 || rows == 1, "{jobs} jobs for {rows} rows");
            }
        }
        assert!(chunked_jobs > 5000, "{chunked_jobs} chunked parses");
    }
}
