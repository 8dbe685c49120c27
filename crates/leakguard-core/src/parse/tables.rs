//! The optional side tables of a snapshot: `locations` (where each closure's code starts) and
//! the allocation tracker's `trace_function_infos` / `trace_tree` (written only when allocation
//! tracking was on). The structural pass records their byte ranges; this file reads them after
//! the columns: the flat tables with the column parsers' number reader, the tree (which nests
//! arrays, which the column parsers never see) with a small tokenizer of its own that never
//! recurses, so a deep or damaged tree cannot overflow the stack.
//!
//! Each table is read by its field names from `snapshot.meta` (`location_fields`,
//! `trace_function_info_fields`, `trace_node_fields`); a table whose fields we cannot find is
//! ignored (older or future V8), a table that is malformed is a parse error.

use super::numbers::{read_number, separator, Num};
use super::scan::{skip_ws, truncated};
use crate::locations::{FunctionInfo, SourceTables, TraceNode, TraceTable};
use crate::{Error, Result};
use std::ops::Range;

/// Where the structural pass found each table: the byte range of its value.
#[derive(Debug, Default, Clone)]
pub(crate) struct TableRanges {
    pub(crate) locations: Option<Range<usize>>,
    pub(crate) function_infos: Option<Range<usize>>,
    pub(crate) trace_tree: Option<Range<usize>>,
}

impl TableRanges {
    /// Records `range` if `key` names one of the tables; returns whether it did.
    pub(crate) fn record(&mut self, key: &str, range: Range<usize>) -> bool {
        let slot = match key {
            "locations" => &mut self.locations,
            "trace_function_infos" => &mut self.function_infos,
            "trace_tree" => &mut self.trace_tree,
            _ => return false,
        };
        *slot = Some(range);
        true
    }
}

/// The tables' field lists from `snapshot.meta` (empty when absent).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct TableFields {
    #[serde(default)]
    pub(crate) location_fields: Vec<String>,
    #[serde(default)]
    pub(crate) trace_function_info_fields: Vec<String>,
    #[serde(default)]
    pub(crate) trace_node_fields: Vec<String>,
}

/// A number or a bracket of a table, with the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Num(u64),
    Open,
    Close,
}

/// What [`Reader::flat`] gives for a negative number (no table holds a value this large).
const NEGATIVE: u64 = u64::MAX;

/// Reads the tokens of a JSON value made of arrays and non-negative integers only. Commas are
/// checked (one between items, none after `[` or before `]`); anything else is an error.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    end: usize,
    /// Whether the last token was an item (number or `]`), so a comma or `]` may follow.
    after_item: bool,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8], r: &Range<usize>, what: &'static str) -> Reader<'a> {
        Reader {
            b,
            i: r.start,
            end: r.end.min(b.len()),
            after_item: false,
            what,
        }
    }

    fn err(&self, at: usize, msg: &str) -> Error {
        Error::parse(at, format!("{} in the {} table", msg, self.what))
    }

    /// The next token and its offset; `None` at the end of the range.
    fn next(&mut self) -> Result<Option<(Tok, usize)>> {
        let mut i = skip_ws(self.b, self.i);
        if i >= self.end {
            self.i = i;
            return Ok(None);
        }
        let c = self.b[i];
        if c == b',' {
            if !self.after_item {
                return Err(self.err(i, "unexpected ','"));
            }
            i = skip_ws(self.b, i + 1);
            if i >= self.end {
                return Err(truncated(self.b, self.what));
            }
            if self.b[i] == b']' {
                return Err(self.err(i, "unexpected ']' after ','"));
            }
        } else if self.after_item && c != b']' {
            return Err(self.err(i, "expected ',' or ']'"));
        }
        let at = i;
        let c = self.b[i];
        let tok = match c {
            b'[' => {
                i += 1;
                self.after_item = false;
                Tok::Open
            }
            b']' => {
                i += 1;
                self.after_item = true;
                Tok::Close
            }
            b'0'..=b'9' => {
                let mut v: u64 = 0;
                while let Some(&d) = self.b.get(i).filter(|d| d.is_ascii_digit() && i < self.end) {
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(d - b'0')))
                        .ok_or_else(|| self.err(at, "number too large"))?;
                    i += 1;
                }
                self.after_item = true;
                Tok::Num(v)
            }
            _ => return Err(self.err(at, "expected a non-negative integer or an array")),
        };
        self.i = i;
        Ok(Some((tok, at)))
    }

    /// Reads a flat array of numbers (the whole range) with the column parsers' number reader:
    /// a flat table holds nothing but numbers, so its first `]` closes it.
    fn flat(self) -> Result<Vec<u64>> {
        let (b, end) = (self.b, self.end);
        let open = skip_ws(b, self.i);
        match b.get(open) {
            Some(b'[') if open < end => {}
            Some(_) if open < end => return Err(self.err(open, "expected '['")),
            _ => return Err(truncated(b, self.what)),
        }
        let body = b.get(open + 1..end).unwrap_or_default();
        let close = memchr::memchr(b']', body).ok_or_else(|| truncated(b, self.what))?;
        if skip_ws(b, open + 2 + close) < end {
            return Err(self.err(open + 2 + close, "unexpected data after the array"));
        }
        let a = body.get(..close).unwrap_or_default();
        let at = |i: usize| open + 1 + i;
        let mut out = Vec::with_capacity(a.len() / 4);
        let mut i = skip_ws(a, 0);
        if i < a.len() {
            loop {
                // A negative number is read whole and kept as NEGATIVE: the caller decides
                // (V8 writes a column left of a script's column offset as one: Vitest runs
                // modules with a negative offset).
                let negative = a.get(i) == Some(&b'-');
                if negative {
                    i += 1;
                }
                match read_number(a, &mut i) {
                    Num::Ok(_) if negative => out.push(NEGATIVE),
                    Num::Ok(v) => out.push(v),
                    Num::NotNumber => return Err(self.err(at(i), "expected an integer")),
                    Num::TooLong => return Err(self.err(at(i), "number too large")),
                }
                if !separator(a, &mut i) {
                    break;
                }
            }
            if i < a.len() {
                return Err(self.err(at(i), "expected ',' or ']'"));
            }
        }
        Ok(out)
    }
}

/// Position of each wanted field in `fields`; `None` if one is missing (the table is then
/// ignored: a V8 we do not know).
fn positions<const N: usize>(fields: &[String], want: [&str; N]) -> Option<[usize; N]> {
    let mut out = [0; N];
    for (slot, name) in out.iter_mut().zip(want) {
        *slot = fields.iter().position(|f| f == name)?;
    }
    Some(out)
}

fn u32_of(v: u64, at: usize, what: &str) -> Result<u32> {
    if v == NEGATIVE {
        return Err(Error::parse(at, format!("{what} is negative")));
    }
    u32::try_from(v).map_err(|_| Error::parse(at, format!("{what} {v} exceeds 2^32 - 1")))
}

/// Reads the tables in `ranges` against a snapshot of `node_count` nodes with `nf` node
/// fields and `string_count` strings. `None` when the snapshot has none of them.
pub(crate) fn read_tables(
    b: &[u8],
    ranges: &TableRanges,
    fields: &TableFields,
    nf: usize,
    node_count: usize,
    string_count: usize,
) -> Result<Option<Box<SourceTables>>> {
    let mut tables = SourceTables::default();
    if let (Some(r), Some([oi, sid, line, col])) = (
        &ranges.locations,
        positions(
            &fields.location_fields,
            ["object_index", "script_id", "line", "column"],
        ),
    ) {
        let w = fields.location_fields.len();
        let nums = Reader::new(b, r, "locations").flat()?;
        if nums.len() % w != 0 {
            return Err(Error::parse(
                r.start,
                format!(
                    "the locations table holds {} numbers, not a multiple of its {w} fields",
                    nums.len()
                ),
            ));
        }
        tables.locations.reserve_exact(nums.len() / w);
        for row in nums.chunks_exact(w) {
            // A place V8 could only give relative to a negative column offset (a runner's
            // wrapped module): unknown, like a closure without a row.
            if row[line] == NEGATIVE || row[col] == NEGATIVE {
                continue;
            }
            let index = row[oi];
            if nf == 0 || index % nf as u64 != 0 || index / nf as u64 >= node_count as u64 {
                return Err(Error::parse(
                    r.start,
                    format!("locations: object_index {index} is not the index of a node"),
                ));
            }
            tables.locations.push((
                (index / nf as u64) as u32,
                u32_of(row[sid], r.start, "locations: script_id")?,
                u32_of(row[line], r.start, "locations: line")?,
                u32_of(row[col], r.start, "locations: column")?,
            ));
        }
        tables.locations.sort_unstable();
        tables.locations.dedup_by_key(|l| l.0);
        tables.locations.shrink_to_fit();
    }
    let fi_pos = positions(
        &fields.trace_function_info_fields,
        [
            "function_id",
            "name",
            "script_name",
            "script_id",
            "line",
            "column",
        ],
    );
    let tn_pos = positions(
        &fields.trace_node_fields,
        ["id", "function_info_index", "count", "size", "children"],
    );
    if let (Some(fr), Some(tr), Some(fp), Some(tp)) =
        (&ranges.function_infos, &ranges.trace_tree, fi_pos, tn_pos)
    {
        let functions = read_function_infos(b, fr, fields, fp, string_count)?;
        let nodes = read_trace_tree(b, tr, fields.trace_node_fields.len(), tp, functions.len())?;
        if !nodes.is_empty() {
            tables.trace = Some(TraceTable::new(functions, nodes));
        }
    }
    if tables.locations.is_empty() && tables.trace.is_none() {
        return Ok(None);
    }
    Ok(Some(Box::new(tables)))
}

fn read_function_infos(
    b: &[u8],
    r: &Range<usize>,
    fields: &TableFields,
    [_, name, script, sid, line, col]: [usize; 6],
    string_count: usize,
) -> Result<Vec<FunctionInfo>> {
    let w = fields.trace_function_info_fields.len();
    let nums = Reader::new(b, r, "trace_function_infos").flat()?;
    if nums.len() % w != 0 {
        return Err(Error::parse(
            r.start,
            format!(
                "the trace_function_infos table holds {} numbers, not a multiple of its {w} fields",
                nums.len()
            ),
        ));
    }
    let string = |v: u64| {
        if v < string_count as u64 {
            Ok(v as u32)
        } else {
            Err(Error::parse(
                r.start,
                format!(
                    "trace_function_infos: string index {v} out of range ({string_count} strings)"
                ),
            ))
        }
    };
    nums.chunks_exact(w)
        .map(|row| {
            Ok(FunctionInfo {
                name: string(row[name])?,
                script_name: string(row[script])?,
                script_id: u32_of(row[sid], r.start, "trace_function_infos: script_id")?,
                line: u32_of(row[line], r.start, "trace_function_infos: line")?,
                column: u32_of(row[col], r.start, "trace_function_infos: column")?,
            })
        })
        .collect()
}

/// Reads the nested `trace_tree` (`[id, function_info_index, count, size, [children…], …]`)
/// into a flat list of nodes with parent links, without recursion.
fn read_trace_tree(
    b: &[u8],
    r: &Range<usize>,
    w: usize,
    [id, fi, count, size, children]: [usize; 5],
    function_count: usize,
) -> Result<Vec<TraceNode>> {
    if children + 1 != w {
        // Every V8 writes `children` last; a tree laid out otherwise is not one we can read.
        return Err(Error::parse(
            r.start,
            "snapshot.meta.trace_node_fields: children is not the last field",
        ));
    }
    let mut rd = Reader::new(b, r, "trace_tree");
    let mut nodes: Vec<TraceNode> = Vec::new();
    // One frame per open array: the parent node index of the rows it holds, and the row being
    // read (numbers so far).
    let mut stack: Vec<(u32, Vec<u64>)> = Vec::new();
    let bad = |at: usize, m: &str| Error::parse(at, format!("{m} in the trace_tree table"));
    let mut closed_top = false;
    while let Some((tok, at)) = rd.next()? {
        if closed_top {
            return Err(bad(at, "unexpected data after the array"));
        }
        match tok {
            Tok::Open => {
                let parent = match stack.last() {
                    None => u32::MAX,
                    Some((up, row)) if row.len() == children => {
                        // Positions are distinct and below `children` (checked above), so every
                        // field is in the row; `get` keeps that a parse error if it ever was not.
                        let field =
                            |i: usize| row.get(i).copied().ok_or_else(|| bad(at, "short row"));
                        let f = field(fi)?;
                        if f >= function_count as u64 {
                            let m = format!(
                                "function_info_index {f} out of range ({function_count} functions)"
                            );
                            return Err(bad(at, &m));
                        }
                        let me =
                            u32::try_from(nodes.len()).map_err(|_| bad(at, "too many nodes"))?;
                        nodes.push(TraceNode {
                            id: u32_of(field(id)?, at, "trace_tree: id")?,
                            function: f as u32,
                            count: field(count)?,
                            size: field(size)?,
                            parent: *up,
                        });
                        me
                    }
                    Some(_) => return Err(bad(at, "misplaced children array")),
                };
                stack.push((parent, Vec::with_capacity(w)));
            }
            Tok::Num(v) => {
                let Some((_, row)) = stack.last_mut() else {
                    return Err(bad(at, "expected '['"));
                };
                if row.len() == children {
                    return Err(bad(at, "expected a children array"));
                }
                row.push(v);
            }
            Tok::Close => {
                let Some((_, row)) = stack.pop() else {
                    return Err(bad(at, "unexpected ']'"));
                };
                if !row.is_empty() {
                    return Err(bad(at, "a trace node ends early"));
                }
                // The row of the node whose children just closed is complete: reset it.
                if let Some((_, prow)) = stack.last_mut() {
                    prow.clear();
                } else {
                    closed_top = true;
                }
            }
        }
    }
    if !stack.is_empty() || !closed_top {
        return Err(truncated(b, "the trace_tree table"));
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(s: &str) -> Result<Vec<TraceNode>> {
        let b = s.as_bytes();
        read_trace_tree(b, &(0..b.len()), 5, [0, 1, 2, 3, 4], 10)
    }

    #[test]
    fn trace_tree_rows_get_parents() {
        let t = tree("[1,0,0,0,[2,1,5,80,[],3,2,1,16,[4,3,2,32,[]]]]").unwrap();
        let got: Vec<_> = t
            .iter()
            .map(|n| (n.id, n.function, n.count, n.size, n.parent))
            .collect();
        assert_eq!(
            got,
            [
                (1, 0, 0, 0, u32::MAX),
                (2, 1, 5, 80, 0),
                (3, 2, 1, 16, 0),
                (4, 3, 2, 32, 2)
            ]
        );
        assert_eq!(tree("[]").unwrap().len(), 0);
    }

    #[test]
    fn damaged_trace_trees_are_parse_errors() {
        for bad in [
            "[1,0,0,0,[",
            "[1,0,0,0,[]",
            "[1,0,0,[]]",
            "[1,0,0,0,0,[]]",
            "[1,0,0,0,[]]]",
            "[1,0,0,0,[],]",
            "[1,,0,0,0,[]]",
            "[1,99,0,0,[]]",
            "[1,0,0,0,[]] 5",
            "[1,0,0,0,[] 2]",
            "[1,0,0,x,[]]",
            "[1,0,0,-1,[]]",
            "[1,0,0,99999999999999999999999,[]]",
            "5",
            "",
        ] {
            let e = tree(bad).expect_err(bad);
            assert_eq!(e.code(), "ERR_LEAKGUARD_PARSE", "{bad}: {e}");
        }
        // Deep nesting is read without recursion.
        let deep = "[1,0,0,0,".repeat(100_000) + "[]" + &"]".repeat(100_000);
        assert_eq!(tree(&deep).unwrap().len(), 100_000);
    }
}
