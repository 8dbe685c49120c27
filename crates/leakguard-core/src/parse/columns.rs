//! The hand-written loops that turn the huge `nodes` and `edges` arrays straight into columns,
//! whole or (edges) one chunk of rows at a time.

use super::header::{EdgeRole, Layout, NodeRole};
use super::numbers::{after_rows, next_number, row_end_error, u32_field, u8_field, FastDiv};
use super::scan::TICK;
use super::{Item, Source, RELEASE};
use crate::{Error, Result};
use std::ops::Range;

/// A column that is only materialised once a non-zero value shows up.
struct Lazy<T>(Option<Vec<T>>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(None)
    }
}

impl<T: Copy + Default + PartialEq> Lazy<T> {
    #[inline(always)]
    fn set(&mut self, row: usize, rows: usize, v: T) {
        match &mut self.0 {
            Some(col) => col.push(v),
            None if v == T::default() => {}
            None => {
                let mut col = Vec::with_capacity(rows);
                col.resize(row, T::default());
                col.push(v);
                self.0 = Some(col);
            }
        }
    }
}

/// Node columns as parsed; moved into the graph.
pub(crate) struct NodesOut {
    pub(crate) types: Vec<u8>,
    pub(crate) names: Vec<u32>,
    pub(crate) ids: Vec<u32>,
    pub(crate) sizes: Vec<u32>,
    pub(crate) overflow: Vec<(u32, u64)>,
    /// `None` exactly when the column is absent.
    pub(crate) detachedness: Option<Vec<u8>>,
    /// `None` when the column is absent or all zero.
    pub(crate) trace: Option<Vec<u32>>,
    pub(crate) first_edge: Vec<u32>,
    pub(crate) total_size: u64,
    /// Largest name index and where it was, to check against the string table afterwards
    /// (the strings may be decoded concurrently, so their count is not known yet).
    pub(crate) max_name: (u32, usize),
}

/// Byte-position bookkeeping shared by both column parsers: progress, cancellation and giving
/// consumed file pages back to the OS.
struct Pacer<'a> {
    src: Source<'a>,
    ctl: &'a Item<'a>,
    base: usize,
    last: usize,
    released: usize,
    next_tick: usize,
}

impl<'a> Pacer<'a> {
    fn new(src: Source<'a>, ctl: &'a Item<'a>, base: usize) -> Self {
        Pacer {
            src,
            ctl,
            base,
            last: 0,
            released: 0,
            next_tick: TICK,
        }
    }

    /// Starts the bookkeeping at body offset `start` (a chunk that begins there).
    fn skip_to(&mut self, start: usize) {
        self.last = start;
        self.released = start;
        self.next_tick = start + TICK;
    }

    #[inline(always)]
    fn due(&self, i: usize) -> bool {
        i >= self.next_tick
    }

    #[cold]
    fn tick(&mut self, i: usize) -> Result<()> {
        self.ctl.advance((i - self.last) as u64)?;
        self.last = i;
        self.next_tick = i + TICK;
        if i - self.released >= RELEASE {
            self.src.release(self.base + self.released, self.base + i);
            self.released = i;
        }
        Ok(())
    }

    fn finish(&mut self, end: usize) -> Result<()> {
        self.ctl.advance((end - self.last) as u64)?;
        self.src.release(self.base + self.released, self.base + end);
        Ok(())
    }
}

/// Parses the body of the `nodes` array (`range` excludes the brackets).
pub(crate) fn parse_nodes(
    src: Source<'_>,
    range: Range<usize>,
    lay: &Layout,
    ctl: &Item<'_>,
) -> Result<NodesOut> {
    ctl.check()?;
    let base = range.start;
    let open = base.saturating_sub(1);
    let a = src.bytes.get(range).unwrap_or_default();
    let n = lay.node_count;
    let mut out = NodesOut {
        types: Vec::with_capacity(n),
        names: Vec::with_capacity(n),
        ids: Vec::with_capacity(n),
        sizes: Vec::with_capacity(n),
        overflow: Vec::new(),
        detachedness: None,
        trace: None,
        first_edge: Vec::with_capacity(n + 1),
        total_size: 0,
        max_name: (0, 0),
    };
    // trace_node_id stays unallocated while every value is 0 (Node 20 writes an all-zero column
    // unless allocation tracking was on), which saves 4 bytes per node of memory and page faults.
    // detachedness is small (1 byte per node) and analysis keys on its presence, so it is kept
    // whenever the column exists.
    let mut det: Vec<u8> = Vec::with_capacity(if lay.has_detachedness { n } else { 0 });
    let mut trace = Lazy::default();
    let edge_total = lay.edge_count as u64;
    let mut edge_sum: u64 = 0;
    let mut pacer = Pacer::new(src, ctl, base);
    let mut i = super::scan::skip_ws(a, 0);
    out.first_edge.push(0);
    for row in 0..n {
        for (c, &role) in lay.node_roles.iter().enumerate() {
            let (v, at) = next_number(a, &mut i, row == 0 && c == 0, "node", row, n, base)?;
            let at_abs = at;
            match role {
                NodeRole::Type => out.types.push(u8_field(v, at_abs, "node type", row)?),
                NodeRole::Name => {
                    let s = u32_field(v, at_abs, "node name", row)?;
                    if s >= out.max_name.0 {
                        out.max_name = (s, at_abs);
                    }
                    out.names.push(s);
                }
                NodeRole::Id => out.ids.push(u32_field(v, at_abs, "node id", row)?),
                NodeRole::SelfSize => {
                    out.total_size = out.total_size.checked_add(v).ok_or_else(|| {
                        Error::parse(at_abs, "sum of self sizes overflows 64 bits")
                    })?;
                    if v >= u64::from(u32::MAX) {
                        out.overflow.push((row as u32, v));
                        out.sizes.push(u32::MAX);
                    } else {
                        out.sizes.push(v as u32);
                    }
                }
                NodeRole::EdgeCount => {
                    edge_sum = edge_sum.saturating_add(v);
                    if edge_sum > edge_total {
                        return Err(Error::parse(
                            at_abs,
                            format!(
                                "sum of node edge_count exceeds edge_count {edge_total} (node row {row})"
                            ),
                        ));
                    }
                    // edge_sum <= edge_count <= u32::MAX here.
                    out.first_edge.push(edge_sum as u32);
                }
                NodeRole::Trace => trace.set(row, n, u32_field(v, at_abs, "trace_node_id", row)?),
                NodeRole::Detached => det.push(u8_field(v, at_abs, "detachedness", row)?),
                NodeRole::Skip => {}
            }
        }
        if pacer.due(i) {
            pacer.tick(i)?;
        }
    }
    if n == 0 {
        i = super::scan::skip_ws(a, i);
    }
    after_rows(a, i, "node", n, base)?;
    if edge_sum != edge_total {
        return Err(Error::parse(
            open,
            format!("sum of node edge_count ({edge_sum}) != edge_count ({edge_total})"),
        ));
    }
    pacer.finish(a.len())?;
    out.detachedness = lay.has_detachedness.then_some(det);
    out.trace = trace.0;
    Ok(out)
}

/// Edge columns as parsed; moved into the graph.
pub(crate) struct EdgesOut {
    pub(crate) types: Vec<u8>,
    pub(crate) names: Vec<u32>,
    pub(crate) to: Vec<u32>,
    /// Retainer counts per target (`node_count + 1` entries), gathered while the targets stream by
    /// so the reverse index needs no separate counting pass.
    pub(crate) retainer_counts: Vec<u32>,
    /// Largest string index used as an edge name, and where.
    pub(crate) max_name: Option<(u32, usize)>,
}

/// Largest string index used as an edge name and its offset (the last one on ties, as a serial
/// scan keeping `>=` finds it).
pub(crate) type MaxName = Option<(u32, usize)>;

/// Folds a later run's [`MaxName`] into an earlier one's, giving what one scan over both finds.
pub(crate) fn later_max(acc: MaxName, next: MaxName) -> MaxName {
    match (acc, next) {
        (Some(a), Some(b)) if b.0 < a.0 => Some(a),
        (a, None) => a,
        (_, b) => b,
    }
}

/// Where a run of edge rows lands: one slice per column, exactly as long as the run.
pub(crate) struct EdgeSlices<'s> {
    pub(crate) types: &'s mut [u8],
    pub(crate) names: &'s mut [u32],
    pub(crate) to: &'s mut [u32],
}

/// Parses edge rows `rows` of the body `a` from `*i` into `out`, counting retainers into `counts`.
/// For row 0, `*i` is at the array's first number; otherwise at the `,` (or whitespace before it)
/// that ends the previous row. The one row loop for the whole array and for a chunk of it, so
/// both report the same values and errors.
#[inline(always)]
fn edge_rows(
    a: &[u8],
    i: &mut usize,
    rows: Range<usize>,
    lay: &Layout,
    out: EdgeSlices<'_>,
    counts: &mut [u32],
    pacer: &mut Pacer<'_>,
) -> Result<MaxName> {
    let e = lay.edge_count;
    let n = lay.node_count;
    let base = pacer.base;
    let nf = lay.nf() as u64;
    let div = FastDiv::new(nf);
    let mut max_name: MaxName = None;
    let mut ty: u8 = 0;
    let slots = out
        .types
        .iter_mut()
        .zip(out.names.iter_mut())
        .zip(out.to.iter_mut());
    // The slices are as long as `rows` by construction; zip just saves a bounds check per value.
    for (row, ((ty_out, name_out), to_out)) in rows.zip(slots) {
        let mut name = (0u32, 0usize);
        for (c, &role) in lay.edge_roles.iter().enumerate() {
            let start = row == 0 && c == 0;
            let (v, at_abs) = next_number(a, i, start, "edge", row, e, base)?;
            match role {
                EdgeRole::Type => {
                    ty = u8::try_from(v).map_err(|_| {
                        Error::parse(
                            at_abs,
                            format!("edge type {v} out of range (edge row {row})"),
                        )
                    })?;
                    *ty_out = ty;
                }
                EdgeRole::Name => {
                    let s = u32::try_from(v).map_err(|_| {
                        Error::parse(
                            at_abs,
                            format!("edge name_or_index {v} exceeds 2^32 - 1 (edge row {row})"),
                        )
                    })?;
                    name = (s, at_abs);
                    *name_out = s;
                }
                EdgeRole::To => {
                    let (q, r) = div.divrem(v);
                    if r != 0 {
                        return Err(Error::parse(
                            at_abs,
                            format!("invalid to_node {v}: not a multiple of the node field count {nf} (edge row {row})"),
                        ));
                    }
                    let Some(slot) = usize::try_from(q)
                        .ok()
                        .filter(|&q| q < n)
                        .and_then(|q| counts.get_mut(q))
                    else {
                        return Err(Error::parse(
                            at_abs,
                            format!("invalid to_node {v}: past the last node (edge row {row})"),
                        ));
                    };
                    *slot += 1;
                    *to_out = q as u32;
                }
                EdgeRole::Skip => {}
            }
        }
        // The name is a string index unless the type says it is an element/hidden index.
        let index_named = lay
            .index_named
            .get(usize::from(ty))
            .copied()
            .unwrap_or(false);
        if !index_named && max_name.map_or(true, |m| name.0 >= m.0) {
            max_name = Some(name);
        }
        if pacer.due(*i) {
            pacer.tick(*i)?;
        }
    }
    Ok(max_name)
}

/// Parses the body of the `edges` array (`range` excludes the brackets) in one go.
pub(crate) fn parse_edges(
    src: Source<'_>,
    range: Range<usize>,
    lay: &Layout,
    ctl: &Item<'_>,
) -> Result<EdgesOut> {
    ctl.check()?;
    let base = range.start;
    let a = src.bytes.get(range).unwrap_or_default();
    let e = lay.edge_count;
    let mut out = EdgesOut {
        types: vec![0; e],
        names: vec![0; e],
        to: vec![0; e],
        retainer_counts: vec![0; lay.node_count + 1],
        max_name: None,
    };
    let mut pacer = Pacer::new(src, ctl, base);
    let mut i = super::scan::skip_ws(a, 0);
    let slices = EdgeSlices {
        types: &mut out.types,
        names: &mut out.names,
        to: &mut out.to,
    };
    out.max_name = edge_rows(
        a,
        &mut i,
        0..e,
        lay,
        slices,
        &mut out.retainer_counts,
        &mut pacer,
    )?;
    if e == 0 {
        i = super::scan::skip_ws(a, i);
    }
    after_rows(a, i, "edge", e, base)?;
    pacer.finish(a.len())?;
    Ok(out)
}

/// One piece of the `edges` array for a parallel parse: rows `rows`, which start at byte `start`
/// of the body (0 for the first piece, else the `,` ending row `rows.start - 1`) and end just
/// before byte `end` (where the next piece starts, or the body's end).
pub(crate) struct EdgeChunk<'s> {
    pub(crate) rows: Range<usize>,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) out: EdgeSlices<'s>,
}

/// Parses one [`EdgeChunk`] of the `edges` body `range`, counting retainers into `counts`.
///
/// If every earlier chunk succeeded, this returns exactly what the serial parse does for these
/// rows, errors included: the earlier chunks consumed `rows.start * ef - 1` separators, each with
/// one comma, so the serial parse stands at `start` (the comma with that index, found by
/// counting) after skipping whitespace. A row that does not end at `end` is the serial parse's
/// missing-separator error, and the last chunk checks for extra rows like the serial parse.
pub(crate) fn parse_edge_chunk(
    src: Source<'_>,
    range: Range<usize>,
    lay: &Layout,
    ctl: &Item<'_>,
    chunk: EdgeChunk<'_>,
    counts: &mut [u32],
) -> Result<MaxName> {
    ctl.check()?;
    let base = range.start;
    let a = src.bytes.get(range).unwrap_or_default();
    let e = lay.edge_count;
    let first = chunk.rows.start == 0;
    let mut i = if first {
        super::scan::skip_ws(a, 0)
    } else {
        chunk.start
    };
    let mut pacer = Pacer::new(src, ctl, base);
    pacer.skip_to(chunk.start);
    let max_name = edge_rows(
        a,
        &mut i,
        chunk.rows.clone(),
        lay,
        chunk.out,
        counts,
        &mut pacer,
    )?;
    if chunk.end >= a.len() {
        after_rows(a, i, "edge", e, base)?;
    } else {
        let j = super::scan::skip_ws(a, i);
        if j != chunk.end {
            return Err(row_end_error(a, j, "edge", chunk.rows.end, e, base));
        }
    }
    pacer.finish(chunk.end)?;
    Ok(max_name)
}
