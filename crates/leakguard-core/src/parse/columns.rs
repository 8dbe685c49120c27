//! The snapshot header (read with serde_json: small and regular) and the hand-written digit
//! loops that turn the huge `nodes` and `edges` arrays straight into columns.

use super::scan::{is_ws, TICK};
use super::{Ctl, Source, RELEASE};
use crate::graph::{EdgeType, NodeType};
use crate::{Error, Result};
use serde::Deserialize;
use std::ops::Range;

#[derive(Deserialize)]
pub(crate) struct Header {
    meta: Meta,
    node_count: u64,
    edge_count: u64,
    #[serde(default)]
    root_index: Option<u64>,
}

#[derive(Deserialize)]
struct Meta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NodeRole {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    Trace,
    Detached,
    Skip,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum EdgeRole {
    Type,
    Name,
    To,
    Skip,
}

/// Everything the column parsers need from the header, resolved by field name.
#[derive(Debug)]
pub(crate) struct Layout {
    node_roles: Vec<NodeRole>,
    edge_roles: Vec<EdgeRole>,
    pub(crate) node_count: usize,
    pub(crate) edge_count: usize,
    pub(crate) root_index: Option<u64>,
    pub(crate) has_detachedness: bool,
    pub(crate) has_trace: bool,
    pub(crate) node_type_names: Vec<String>,
    pub(crate) edge_type_names: Vec<String>,
    /// Per raw edge type value: is `name_or_index` an index (element/hidden) rather than a string?
    index_named: [bool; 256],
    /// Offset of the header object, for errors about header values.
    pub(crate) at: usize,
}

impl Layout {
    pub(crate) fn nf(&self) -> usize {
        self.node_roles.len()
    }

    pub(crate) fn ef(&self) -> usize {
        self.edge_roles.len()
    }

    pub(crate) fn node_type_map(&self) -> Vec<NodeType> {
        enum_map(&self.node_type_names, NodeType::from_meta)
    }

    pub(crate) fn edge_type_map(&self) -> Vec<EdgeType> {
        enum_map(&self.edge_type_names, EdgeType::from_meta)
    }
}

fn enum_map<T>(names: &[String], f: fn(&str, u8) -> T) -> Vec<T> {
    names
        .iter()
        .take(256)
        .enumerate()
        .map(|(i, n)| f(n, i as u8))
        .collect()
}

/// The enum of a `type` column. DevTools reads it at the position of the `type` field
/// (`node_types[node_fields.indexOf("type")]`), V8 always writes it first; when the two disagree
/// (e.g. permuted fields with unpermuted descriptors) take the first list we find.
fn enum_names(
    v: &[serde_json::Value],
    type_pos: usize,
    what: &str,
    at: usize,
) -> Result<Vec<String>> {
    let list = v
        .get(type_pos)
        .and_then(|x| x.as_array())
        .or_else(|| v.iter().find_map(|x| x.as_array()))
        .ok_or_else(|| {
            Error::parse(
                at,
                format!("snapshot.meta.{what} holds no list of type names"),
            )
        })?;
    list.iter()
        .map(|x| {
            x.as_str().map(str::to_owned).ok_or_else(|| {
                Error::parse(
                    at,
                    format!("snapshot.meta.{what} lists a non-string type name"),
                )
            })
        })
        .collect()
}

/// Parses the `snapshot` value at `i`; returns the layout and the index after the value.
pub(crate) fn read_header(b: &[u8], i: usize) -> Result<(Layout, usize)> {
    let slice = b.get(i..).unwrap_or_default();
    let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Header>();
    let header = match stream.next() {
        Some(Ok(h)) => h,
        None => return Err(truncated_at(b)),
        Some(Err(e)) => {
            let offset = if e.is_eof() {
                b.len()
            } else {
                i + line_col_offset(slice, e.line(), e.column())
            };
            return Err(Error::parse(
                offset,
                format!("invalid snapshot header: {e}"),
            ));
        }
    };
    let end = i + stream.byte_offset();
    Ok((layout(header, i)?, end))
}

fn truncated_at(b: &[u8]) -> Error {
    super::scan::truncated(b, "the snapshot header")
}

/// serde_json reports 1-based line/column; turn that back into a byte offset for our errors.
fn line_col_offset(s: &[u8], line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', s.get(start..).unwrap_or_default()) {
            Some(p) => start += p + 1,
            None => break,
        }
    }
    (start + col.saturating_sub(1)).min(s.len())
}

fn layout(h: Header, at: usize) -> Result<Layout> {
    let m = h.meta;
    let mut node_roles = Vec::with_capacity(m.node_fields.len());
    for f in &m.node_fields {
        let role = match f.as_str() {
            "type" => NodeRole::Type,
            "name" => NodeRole::Name,
            "id" => NodeRole::Id,
            "self_size" => NodeRole::SelfSize,
            "edge_count" => NodeRole::EdgeCount,
            "trace_node_id" => NodeRole::Trace,
            "detachedness" => NodeRole::Detached,
            _ => NodeRole::Skip,
        };
        if role != NodeRole::Skip && node_roles.contains(&role) {
            return Err(Error::parse(at, format!("duplicate node field \"{f}\"")));
        }
        node_roles.push(role);
    }
    for (role, name) in [
        (NodeRole::Type, "type"),
        (NodeRole::Name, "name"),
        (NodeRole::Id, "id"),
        (NodeRole::SelfSize, "self_size"),
        (NodeRole::EdgeCount, "edge_count"),
    ] {
        if !node_roles.contains(&role) {
            return Err(Error::parse(
                at,
                format!("snapshot.meta.node_fields lacks \"{name}\""),
            ));
        }
    }
    let mut edge_roles = Vec::with_capacity(m.edge_fields.len());
    for f in &m.edge_fields {
        let role = match f.as_str() {
            "type" => EdgeRole::Type,
            "name_or_index" => EdgeRole::Name,
            "to_node" => EdgeRole::To,
            _ => EdgeRole::Skip,
        };
        if role != EdgeRole::Skip && edge_roles.contains(&role) {
            return Err(Error::parse(at, format!("duplicate edge field \"{f}\"")));
        }
        edge_roles.push(role);
    }
    for (role, name) in [
        (EdgeRole::Type, "type"),
        (EdgeRole::Name, "name_or_index"),
        (EdgeRole::To, "to_node"),
    ] {
        if !edge_roles.contains(&role) {
            return Err(Error::parse(
                at,
                format!("snapshot.meta.edge_fields lacks \"{name}\""),
            ));
        }
    }
    let node_type_pos = node_roles
        .iter()
        .position(|&r| r == NodeRole::Type)
        .unwrap_or(0);
    let edge_type_pos = edge_roles
        .iter()
        .position(|&r| r == EdgeRole::Type)
        .unwrap_or(0);
    let node_type_names = enum_names(&m.node_types, node_type_pos, "node_types", at)?;
    let edge_type_names = enum_names(&m.edge_types, edge_type_pos, "edge_types", at)?;
    let mut index_named = [false; 256];
    for (slot, t) in index_named
        .iter_mut()
        .zip(enum_map(&edge_type_names, EdgeType::from_meta))
    {
        *slot = t.has_index_name();
    }
    let node_count = usize::try_from(h.node_count)
        .ok()
        .filter(|&n| n < u32::MAX as usize)
        .ok_or_else(|| Error::TooLarge(format!("node_count {} exceeds 2^32 - 1", h.node_count)))?;
    let edge_count = usize::try_from(h.edge_count)
        .ok()
        .filter(|&n| n <= u32::MAX as usize)
        .ok_or_else(|| Error::TooLarge(format!("edge_count {} exceeds 2^32", h.edge_count)))?;
    Ok(Layout {
        has_detachedness: node_roles.contains(&NodeRole::Detached),
        has_trace: node_roles.contains(&NodeRole::Trace),
        node_roles,
        edge_roles,
        node_count,
        edge_count,
        root_index: h.root_index,
        node_type_names,
        edge_type_names,
        index_named,
        at,
    })
}

/// Rejects a header count that the array's byte length cannot possibly hold (each number needs a
/// digit and a separator), so a lying header cannot make us allocate gigabytes up front.
pub(crate) fn check_fits(
    rows: usize,
    fields: usize,
    range: &Range<usize>,
    what: &str,
) -> Result<()> {
    let len = range.end - range.start;
    let fits = rows
        .checked_mul(fields)
        .is_some_and(|numbers| numbers <= len / 2 + 1);
    if fits {
        Ok(())
    } else {
        Err(Error::parse(
            range.start.saturating_sub(1),
            format!("{what}_count {rows} cannot fit in the {what}s array ({len} bytes)"),
        ))
    }
}

/// Division by the node field count without a hardware divide per edge: Lemire's
/// `ceil(2^64 / d)` multiply-high trick, exact for every 32-bit numerator.
#[derive(Clone, Copy)]
struct FastDiv {
    d: u64,
    m: u64,
}

impl FastDiv {
    fn new(d: u64) -> FastDiv {
        // d >= 5 always (five node fields are required); m = 0 selects the plain path otherwise.
        let m = if d >= 2 { u64::MAX / d + 1 } else { 0 };
        FastDiv { d, m }
    }

    /// Returns (quotient, remainder).
    #[inline(always)]
    fn divrem(self, v: u64) -> (u64, u64) {
        if v <= u64::from(u32::MAX) && self.m != 0 {
            let q = ((u128::from(self.m) * u128::from(v)) >> 64) as u64;
            (q, v - q * self.d)
        } else {
            match (v.checked_div(self.d), v.checked_rem(self.d)) {
                (Some(q), Some(r)) => (q, r),
                _ => (0, v),
            }
        }
    }
}

/// Outcome of reading one number.
enum Num {
    Ok(u64),
    /// No digit where a number must be.
    NotNumber,
    /// More than 19 digits: cannot be exact in a u64.
    TooLong,
}

/// Converts eight digit values (0..=9 per byte, most significant digit in the lowest byte) into
/// their decimal value with three multiplications (the simdjson trick); leading zero bytes are fine.
#[inline(always)]
fn swar8(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    (v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))
        >> 32
}

/// Reads a run of ASCII digits at `*i`. The common case (fewer than 8 digits, 8 readable bytes)
/// is branch-light: a digit mask over one 8-byte word finds the length without a per-digit loop,
/// whose unpredictable exit would otherwise cost a branch miss per number.
#[inline(always)]
fn read_number(a: &[u8], i: &mut usize) -> Num {
    let start = *i;
    let mut j = start;
    let mut v: u64 = 0;
    if let Some(word) = a
        .get(start..start + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let x = u64::from_le_bytes(word) ^ 0x3030_3030_3030_3030;
        // High bit set in every byte that is not a digit; carries out of such a byte only reach
        // later bytes, which do not matter because we stop at the first non-digit.
        let non_digit = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
        let len = (non_digit.trailing_zeros() / 8) as usize;
        if len == 0 {
            return Num::NotNumber;
        }
        if len < 8 {
            *i = start + len;
            return Num::Ok(swar8(x << (8 * (8 - len))));
        }
        v = swar8(x);
        j = start + 8;
    }
    while let Some(&c) = a.get(j) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        j += 1;
    }
    *i = j;
    match j - start {
        0 => Num::NotNumber,
        1..=19 => Num::Ok(v),
        _ => Num::TooLong,
    }
}

/// Moves past the `,` between two numbers (V8 writes `,` and `\n,`); false if there is none.
#[inline(always)]
fn separator(a: &[u8], i: &mut usize) -> bool {
    if a.get(*i) == Some(&b',') {
        *i += 1;
    } else {
        let mut j = *i;
        while a.get(j).is_some_and(|&c| is_ws(c)) {
            j += 1;
        }
        if a.get(j) != Some(&b',') {
            *i = j;
            return false;
        }
        *i = j + 1;
    }
    while a.get(*i).is_some_and(|&c| is_ws(c)) {
        *i += 1;
    }
    true
}

/// Reads the next number of an array body `a` (which ends just before the closing `]`), with the
/// separator before it unless `first`. Errors name the row so a user can find it.
#[inline(always)]
fn next_number(
    a: &[u8],
    i: &mut usize,
    first: bool,
    what: &str,
    row: usize,
    rows: usize,
    base: usize,
) -> Result<(u64, usize)> {
    if !first && !separator(a, i) {
        return Err(row_end_error(a, *i, what, row, rows, base));
    }
    let at = *i;
    match read_number(a, i) {
        Num::Ok(v) => Ok((v, at + base)),
        Num::NotNumber if at >= a.len() => Err(row_end_error(a, at, what, row, rows, base)),
        Num::NotNumber => Err(Error::parse(
            at + base,
            format!("non-numeric token in {what}s array (row {row})"),
        )),
        Num::TooLong => Err(Error::parse(
            at + base,
            format!("number too large in {what}s array (row {row})"),
        )),
    }
}

/// Running out of numbers is a row-count mismatch, reported at the array's `[`; anything else
/// where a separator belongs is reported where it stands.
#[cold]
fn row_end_error(a: &[u8], i: usize, what: &str, row: usize, rows: usize, base: usize) -> Error {
    if i >= a.len() {
        Error::parse(
            base.saturating_sub(1),
            format!("{what}s array ends in row {row} but {what}_count is {rows}"),
        )
    } else {
        Error::parse(
            i + base,
            format!("expected ',' in {what}s array (row {row})"),
        )
    }
}

fn after_rows(a: &[u8], i: usize, what: &str, rows: usize, base: usize) -> Result<()> {
    let j = super::scan::skip_ws(a, i);
    if j >= a.len() {
        Ok(())
    } else if a.get(j) == Some(&b',') {
        Err(Error::parse(
            j + base,
            format!("{what}s array has more rows than {what}_count ({rows})"),
        ))
    } else {
        Err(Error::parse(
            j + base,
            format!("unexpected token in {what}s array"),
        ))
    }
}

fn u32_field(v: u64, at: usize, field: &str, row: usize) -> Result<u32> {
    u32::try_from(v)
        .map_err(|_| Error::parse(at, format!("{field} {v} exceeds 2^32 - 1 (node row {row})")))
}

fn u8_field(v: u64, at: usize, field: &str, row: usize) -> Result<u8> {
    u8::try_from(v).map_err(|_| Error::parse(at, format!("{field} {v} out of range (row {row})")))
}

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
    ctl: &'a Ctl<'a>,
    base: usize,
    last: usize,
    released: usize,
    next_tick: usize,
}

impl<'a> Pacer<'a> {
    fn new(src: Source<'a>, ctl: &'a Ctl<'a>, base: usize) -> Self {
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
    ctl: &Ctl<'_>,
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
    ctl: &Ctl<'_>,
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
    ctl: &Ctl<'_>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &[u8]) -> Option<(u64, usize)> {
        let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 19 {
            return None;
        }
        std::str::from_utf8(&s[..len])
            .ok()?
            .parse()
            .ok()
            .map(|v| (v, len))
    }

    #[test]
    fn swar_number_reader_matches_naive_parsing() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"0123456789012345678901234567890123456789,]\n /:9";
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let s: Vec<u8> = (0..len)
                .map(|k| alphabet[((x >> (k % 8 * 8)) as usize + k * 7) % alphabet.len()])
                .collect();
            let mut i = 0;
            let got = match read_number(&s, &mut i) {
                Num::Ok(v) => Some((v, i)),
                _ => None,
            };
            assert_eq!(got, naive(&s), "{:?}", String::from_utf8_lossy(&s));
        }
        for v in [
            0u64,
            9,
            10,
            99_999_999,
            100_000_000,
            4_294_967_295,
            u64::MAX / 10,
        ] {
            let s = format!("{v},");
            let mut i = 0;
            assert!(matches!(read_number(s.as_bytes(), &mut i), Num::Ok(x) if x == v));
            assert_eq!(i, s.len() - 1);
        }
    }

    #[test]
    fn fast_division_is_exact() {
        for d in [2u64, 3, 5, 6, 7, 8, 9, 13, 1000, 4_294_967_295] {
            let div = FastDiv::new(d);
            let mut x: u64 = 12345;
            let mut vs: Vec<u64> = vec![
                0,
                1,
                d - 1,
                d,
                d + 1,
                u64::from(u32::MAX),
                u64::from(u32::MAX) - 1,
            ];
            vs.extend([u64::from(u32::MAX) + 1, u64::MAX]);
            for _ in 0..100_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                vs.push(x & 0xFFFF_FFFF);
            }
            for v in vs {
                assert_eq!(div.divrem(v), (v / d, v % d), "{v} / {d}");
            }
        }
    }
}
