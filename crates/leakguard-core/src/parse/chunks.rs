//! Cutting the `edges` array into chunks of whole rows for the parallel parse, and joining the
//! chunks' results (the first error by position, else the columns and summed counts).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Puts the chunk results together: the first chunk's error (the earliest by position, which a
/// serial parse reports), else the columns with the retainer counts summed.
pub(super) fn join_chunks(
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
pub(super) fn edge_cuts(
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
pub(super) fn queue_edges<'c>(
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
