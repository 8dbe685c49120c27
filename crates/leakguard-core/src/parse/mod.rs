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
//!
//! This file holds the entry points and the orchestration; the parts live in: `scan` (byte-level
//! JSON: whitespace, strings, skipping), `header` (the `snapshot` header and the column `Layout`),
//! `structure` (the structural pass), `numbers` (reading the arrays' numbers), `columns` (the
//! node and edge column parsers), `chunks` (cutting and joining the edges array), `queue` (the
//! work queue and its workers), `shared` (each work item's view of the caller's `Control`:
//! cancellation, early stop, progress) and `assemble`
//! (final checks and the retainer index). Opening files is `crate::io`.

mod assemble;
mod chunks;
mod columns;
mod header;
mod numbers;
mod queue;
mod scan;
mod shared;
mod structure;
mod tables;

use crate::graph::HeapGraph;
use crate::{Control, Error, Result};
use assemble::assemble;
use chunks::{join_chunks, queue_edges};
use columns::{EdgeChunk, EdgeSlices, EdgesOut, MaxName, NodesOut};
use header::Layout;
use parking_lot::{Condvar, Mutex};
use queue::{work, ChunkJob, EdgeColumns, Job, Queue, Slots};
use scan::{skip_ws, truncated, Strings, TICK};
use shared::{Item, Shared, EDGES, NODES, STRUCTURE};
use std::collections::VecDeque;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use structure::{structure, Structure};

/// Consumed file pages are handed back to the OS in steps of this size, so a mapped 1 GB file
/// never adds 1 GB of resident memory on top of the graph.
pub(crate) const RELEASE: usize = 32 << 20;

/// Default size of the pieces the edges array is cut into for a parallel parse: small enough
/// that the last pieces even out the threads' finishing times, large enough that the per-piece
/// cost (a queue entry, a boundary search) does not matter.
const CHUNK: usize = 1 << 20;

/// How a load runs, besides its [`Control`] (cancel flag and progress, passed separately like
/// every other long core call). `Default` means: automatic thread count, default chunk size.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadOptions {
    /// Threads to use; 0 = `available_parallelism`. Capped at 3 (only measured on up to 2
    /// cores); 1 parses serially.
    pub threads: usize,
    /// For tests and tuning: approximate size in bytes of the pieces the edges array is cut into
    /// when more than one thread parses; 0 = the default (1 MiB). Tiny values put piece
    /// boundaries everywhere; the result is the same for every value.
    pub chunk_bytes: usize,
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
        if let (Some(map), Some(page)) = (self.map, crate::io::page_size()) {
            // Whole pages of the real size (16 KiB on Apple silicon, up to 64 KiB on some
            // arm64 and POWER kernels): a 4 KiB guess would round `end` into a page that is
            // still being read, and `start` to an address madvise refuses.
            let start = from.div_ceil(page) * page;
            let end = to.min(map.len()) / page * page;
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

/// Parses the heap snapshot in the file at `path`. The file is memory-mapped (see
/// `crate::io`: regular files only, guarded against truncation while mapped), and the mapping
/// is gone when this returns: the graph owns all its data. A file that changed while it was
/// being read fails with [`Error::Io`], whatever the parse made of it.
///
/// `ctl`: every parser thread polls its cancel flag about once per MiB (the parse then returns
/// [`Error::Aborted`]); its progress receives fractions of its range that are monotone, at most
/// ~100 calls, ending with exactly its end (`1.0` for a whole-range control) on success, and may
/// be called from any parser thread.
pub fn parse_file(path: &Path, opts: &LoadOptions, ctl: Control<'_>) -> Result<HeapGraph> {
    let file = crate::io::open(path)?;
    let result = parse_source(
        Source {
            bytes: file.bytes(),
            map: file.map(),
        },
        opts,
        ctl,
    );
    file.finish(result)
}

/// Parses a heap snapshot held in memory (same code as [`parse_file`], minus the page release).
pub fn parse_bytes(bytes: &[u8], opts: &LoadOptions, ctl: Control<'_>) -> Result<HeapGraph> {
    parse_source(Source { bytes, map: None }, opts, ctl)
}

fn parse_source(src: Source<'_>, opts: &LoadOptions, ctl: Control<'_>) -> Result<HeapGraph> {
    let sh = Shared::new(ctl, src.bytes.len());
    sh.item(STRUCTURE).check()?;
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
        let r = sh
            .item(STRUCTURE)
            .run(|ctl| structure(src, ctl, &queue, &mut edge_columns, chunk_bytes));
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
    if sh.ctl.is_cancelled() {
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
    let mut structure = structure?;
    let nodes = nodes.ok_or(Error::Aborted)??;
    let edges = edges.ok_or(Error::Aborted)??;
    let from = Instant::now();
    let ranges = std::mem::take(&mut structure.tables);
    let layout = structure.layout.clone();
    let graph = assemble(structure, nodes, edges, &sh.item(usize::MAX));
    sh.trace(format_args!("assemble"), from);
    let mut graph = graph?;
    let from = Instant::now();
    graph.sources = tables::read_tables(
        src.bytes,
        &ranges,
        &layout.tables,
        layout.nf(),
        graph.node_count(),
        graph.string_count(),
    )?
    .map(|mut t| {
        t.resolve_scripts(&graph);
        t
    });
    sh.trace(format_args!("tables"), from);
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::chunks::edge_cuts;
    use super::structure::find_array;
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
            let sh = Shared::new(Control::NONE, b.len());
            let (step, chunk) = match rng.below(3) {
                0 => (1, 1),
                _ => (1 + rng.below(12), 1 + rng.below(40)),
            };
            let (body, end, marks) = find_array(b, 0, "edge", &sh.item(STRUCTURE), step).unwrap();
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
        let sh = Shared::new(Control::NONE, b.len());
        let ctl = sh.item(STRUCTURE);
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
        let sh = Shared::new(Control::NONE, b.len());
        let (body, _, _) = find_array(b, 0, "edge", &sh.item(STRUCTURE), 0).unwrap();
        outcome(columns::parse_edges(src, body, lay, &sh.item(EDGES)))
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
            let (lay, _) = header::read_header(header.as_bytes(), 0).unwrap();
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
