//! The structural pass: walks the top-level keys in any order, reads the header, locates the
//! big arrays, decodes the strings, and queues column work as soon as its inputs are known.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What the structural pass found.
pub(super) struct Structure {
    pub(super) layout: Arc<Layout>,
    pub(super) strings: Strings,
    /// Where the optional side tables are (`tables`).
    pub(super) tables: super::tables::TableRanges,
}

/// Walks the top-level object, queueing column work as soon as it is possible.
pub(super) fn structure<'c>(
    src: Source<'_>,
    ctl: &Item<'_>,
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
    let mut tables = super::tables::TableRanges::default();
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
                    let (lay, end) = header::read_header(b, i)?;
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
                _ => {
                    let end = scan::skip_value(b, i, ctl)?;
                    // Side tables are read after the columns (`tables`); only note where.
                    tables.record(&key, i..end);
                    i = end;
                }
            }
            // Queue column work the moment its inputs are known.
            if let (Some(lay), Some(r)) = (&layout, &nodes) {
                if !nodes_queued {
                    header::check_fits(lay.node_count, lay.nf(), r, "node")?;
                    queue.push(Job::Nodes(lay.clone(), r.clone()));
                    nodes_queued = true;
                }
                if let (Some(re), false) = (&edges, edges_queued) {
                    header::check_fits(lay.edge_count, lay.ef(), re, "edge")?;
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
    Ok(Structure {
        layout,
        strings,
        tables,
    })
}

/// Comma positions sampled while locating an array: (body offset, commas before it).
pub(super) type Marks = Vec<(usize, usize)>;

/// Locates a numeric array starting at `i` (its `[`): the first `]` ends it, because a valid
/// numeric array holds nothing else that could contain one. Returns the body range, the index
/// after `]` and, if `step` > 0, a [`Marks`] entry every `step` bytes (SIMD comma counts cost
/// little next to reading the pages). Validation of the body is left to the column parser.
pub(super) fn find_array(
    b: &[u8],
    i: usize,
    what: &str,
    ctl: &Item<'_>,
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
