//! Parsing `.heapsnapshot` files into a [`HeapGraph`].
//!
//! A structural pass walks the top-level keys (in any order) and records where each value lives:
//! the header is read with serde_json, the two big numeric arrays are located with a SIMD search
//! for their closing `]`, the string table is decoded on the spot, and anything else is skipped.
//! As soon as the header and an array's byte range are known, that array becomes a work item for
//! a small thread pool, so the node and edge columns are parsed while the structural pass is still
//! running. Finally the reverse (retainer) index is built from the edge columns.

mod columns;
mod scan;

use crate::graph::HeapGraph;
use crate::{Error, Result};
use columns::{EdgesOut, Layout, NodesOut};
use parking_lot::{Condvar, Mutex};
use scan::{skip_ws, truncated, Strings, TICK};
use std::collections::VecDeque;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Consumed file pages are handed back to the OS in steps of this size, so a mapped 1 GB file
/// never adds 1 GB of resident memory on top of the graph.
pub(crate) const RELEASE: usize = 32 << 20;

/// How a load runs. `Default` means: no cancellation, no progress, automatic thread count.
#[derive(Default, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// Raised by the caller (e.g. from a JS `AbortSignal`) to stop the parse; every thread polls
    /// it about once per MiB, and the parse then returns [`Error::Aborted`].
    pub cancel: Option<&'a AtomicBool>,
    /// Receives the completed fraction in `0..=1`: monotone, at most ~100 calls, ending with
    /// exactly `1.0` on success. May be called from any parser thread.
    pub progress: Option<&'a (dyn Fn(f64) + Sync)>,
    /// Threads to use; 0 = `available_parallelism`. More than 3 never helps (nodes, edges and
    /// strings are the only independent work items), so it is capped there; 1 parses serially.
    pub threads: usize,
}

impl std::fmt::Debug for LoadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("cancel", &self.cancel.is_some())
            .field("progress", &self.progress.is_some())
            .field("threads", &self.threads)
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
                // range that shares a page, should the real page size exceed 4 KiB) faults the
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

/// Shared control block: cancellation, early stop after another thread's failure, progress.
pub(crate) struct Ctl<'a> {
    cancel: Option<&'a AtomicBool>,
    progress: Option<&'a (dyn Fn(f64) + Sync)>,
    stop: AtomicBool,
    done: AtomicU64,
    total: u64,
    last_pct: AtomicU32,
    report: Mutex<()>,
}

/// Share of the progress range given to parsing; the rest covers the retainer index.
const PARSE_SHARE: f64 = 0.9;

impl<'a> Ctl<'a> {
    fn new(opts: &LoadOptions<'a>, len: usize) -> Self {
        Ctl {
            cancel: opts.cancel,
            progress: opts.progress,
            stop: AtomicBool::new(false),
            done: AtomicU64::new(0),
            // Every byte is scanned once and parsed once.
            total: (2 * len as u64).max(1),
            last_pct: AtomicU32::new(0),
            report: Mutex::new(()),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Err(Aborted) if the caller cancelled or another part of the parse already failed.
    pub(crate) fn check(&self) -> Result<()> {
        if self.cancelled() || self.stop.load(Ordering::Relaxed) {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Records `units` of parse work and polls for cancellation.
    pub(crate) fn advance(&self, units: u64) -> Result<()> {
        self.check()?;
        if self.progress.is_some() {
            let done = self.done.fetch_add(units, Ordering::Relaxed) + units;
            let frac = (done as f64 / self.total as f64).min(1.0) * PARSE_SHARE;
            self.report(frac);
        }
        Ok(())
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

/// Parses the heap snapshot in the file at `path`. The file is memory-mapped, and the mapping is
/// gone when this returns: the graph owns all its data.
pub fn parse_file(path: &Path, opts: &LoadOptions) -> Result<HeapGraph> {
    let io = |e: std::io::Error| Error::io(path.display().to_string(), &e);
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(Error::Io {
            path: path.display().to_string(),
            message: "is a directory".into(),
        });
    }
    if meta.len() == 0 {
        return Err(Error::parse(0, "empty file: not a heap snapshot"));
    }
    // SAFETY: a private read-only mapping. Like every mmap reader we rely on nobody truncating or
    // rewriting the file while we parse (V8 writes snapshots once and never touches them again);
    // a concurrent truncation would raise SIGBUS rather than corrupt memory we own.
    let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }.map_err(io)?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    let result = parse_source(
        Source {
            bytes: &map,
            map: Some(&map),
        },
        opts,
    );
    drop(map);
    result
}

/// Parses a heap snapshot held in memory (same code as [`parse_file`], minus the page release).
pub fn parse_bytes(bytes: &[u8], opts: &LoadOptions) -> Result<HeapGraph> {
    parse_source(Source { bytes, map: None }, opts)
}

/// A column-parsing work item.
enum Job {
    Nodes(Arc<Layout>, Range<usize>),
    Edges(Arc<Layout>, Range<usize>),
}

/// A tiny work queue: items appear while the structural pass runs; workers (and finally the
/// calling thread) take them in order. Items only become ready one after another, so a fixed
/// assignment of items to threads would leave a core idle.
struct Queue {
    state: Mutex<(VecDeque<Job>, bool)>,
    ready: Condvar,
}

impl Queue {
    fn push(&self, job: Job) {
        self.state.lock().0.push_back(job);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.state.lock().1 = true;
        self.ready.notify_all();
    }

    fn pop(&self) -> Option<Job> {
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
struct Slots {
    nodes: Mutex<Option<Result<NodesOut>>>,
    edges: Mutex<Option<Result<EdgesOut>>>,
}

fn work(queue: &Queue, slots: &Slots, src: Source<'_>, ctl: &Ctl<'_>) {
    while let Some(job) = queue.pop() {
        match job {
            Job::Nodes(lay, range) => {
                let r = columns::parse_nodes(src, range, &lay, ctl);
                if r.is_err() {
                    ctl.stop();
                }
                *slots.nodes.lock() = Some(r);
            }
            Job::Edges(lay, range) => {
                let r = columns::parse_edges(src, range, &lay, ctl);
                if r.is_err() {
                    ctl.stop();
                }
                *slots.edges.lock() = Some(r);
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
    let ctl = Ctl::new(opts, src.bytes.len());
    ctl.check()?;
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
    .clamp(1, 3);
    let queue = Queue {
        state: Mutex::new((VecDeque::new(), false)),
        ready: Condvar::new(),
    };
    let slots = Slots {
        nodes: Mutex::new(None),
        edges: Mutex::new(None),
    };
    let structure = std::thread::scope(|s| {
        for _ in 1..threads {
            // If the OS refuses a thread, the calling thread simply does more of the work.
            let _ = std::thread::Builder::new()
                .name("leakguard-parse".into())
                .spawn_scoped(s, || work(&queue, &slots, src, &ctl));
        }
        let r = structure(src, &ctl, &queue);
        if r.is_err() {
            ctl.stop();
        }
        queue.close();
        work(&queue, &slots, src, &ctl);
        r
    });
    let nodes = slots.nodes.into_inner();
    let edges = slots.edges.into_inner();
    if ctl.cancelled() {
        return Err(Error::Aborted);
    }
    // Report the real failure, not the Aborted that other threads saw after it stopped them.
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
    assemble(structure, nodes, edges, &ctl)
}

/// Walks the top-level object, queueing column work as soon as it is possible.
fn structure(src: Source<'_>, ctl: &Ctl<'_>, queue: &Queue) -> Result<Structure> {
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
                    let (range, end) = find_array(b, i, &key, ctl)?;
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
                    queue.push(Job::Edges(lay.clone(), re.clone()));
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

/// Locates a numeric array starting at `i` (its `[`): the first `]` ends it, because a valid
/// numeric array holds nothing else that could contain one. Returns the body range and the
/// index after `]`. Validation of the body is left to the column parser.
fn find_array(b: &[u8], i: usize, what: &str, ctl: &Ctl<'_>) -> Result<(Range<usize>, usize)> {
    let start = scan::expect(b, i, b'[', &format!("to open the {what} array"))?;
    let mut pos = start;
    loop {
        let chunk_end = (pos + TICK).min(b.len());
        let chunk = b.get(pos..chunk_end).unwrap_or_default();
        if let Some(p) = memchr::memchr(b']', chunk) {
            let end = pos + p;
            ctl.advance((end + 1 - pos) as u64)?;
            return Ok((start..end, end + 1));
        }
        ctl.advance(chunk.len() as u64)?;
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
    if let Some(cb) = ctl.progress {
        let _guard = ctl.report.lock();
        ctl.last_pct.store(100, Ordering::Relaxed);
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
