//! The snapshot header (`snapshot.meta` and the counts), read with serde_json: small and
//! regular. Resolves the fields by name into the [`Layout`] the column parsers follow.

use crate::graph::{EdgeType, NodeType};
use crate::{Error, Result};
use serde::Deserialize;
use std::ops::Range;

#[derive(Deserialize)]
pub(crate) struct Header {
    pub(super) meta: Meta,
    pub(super) node_count: u64,
    pub(super) edge_count: u64,
    #[serde(default)]
    pub(super) root_index: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct Meta {
    pub(super) node_fields: Vec<String>,
    pub(super) node_types: Vec<serde_json::Value>,
    pub(super) edge_fields: Vec<String>,
    pub(super) edge_types: Vec<serde_json::Value>,
    /// The optional side tables' fields (`locations`, allocation trace); see `tables`.
    #[serde(flatten)]
    pub(super) tables: super::tables::TableFields,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum NodeRole {
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
pub(super) enum EdgeRole {
    Type,
    Name,
    To,
    Skip,
}

/// Everything the column parsers need from the header, resolved by field name.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(super) node_roles: Vec<NodeRole>,
    pub(super) edge_roles: Vec<EdgeRole>,
    pub(crate) node_count: usize,
    pub(crate) edge_count: usize,
    pub(crate) root_index: Option<u64>,
    pub(crate) has_detachedness: bool,
    pub(crate) has_trace: bool,
    pub(crate) node_type_names: Vec<String>,
    pub(crate) edge_type_names: Vec<String>,
    /// Per raw edge type value: is `name_or_index` an index (element/hidden) rather than a string?
    pub(super) index_named: [bool; 256],
    /// Offset of the header object, for errors about header values.
    pub(crate) at: usize,
    /// Field lists of the side tables (`locations`, `trace_*`), read by `tables`.
    pub(super) tables: super::tables::TableFields,
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

pub(super) fn enum_map<T>(names: &[String], f: fn(&str, u8) -> T) -> Vec<T> {
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
pub(super) fn enum_names(
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

pub(super) fn truncated_at(b: &[u8]) -> Error {
    super::scan::truncated(b, "the snapshot header")
}

/// serde_json reports 1-based line/column; turn that back into a byte offset for our errors.
pub(super) fn line_col_offset(s: &[u8], line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', s.get(start..).unwrap_or_default()) {
            Some(p) => start += p + 1,
            None => break,
        }
    }
    (start + col.saturating_sub(1)).min(s.len())
}

/// The node fields leakguard reads, and whether a snapshot must have them.
const NODE_FIELDS: [(&str, NodeRole, bool); 7] = [
    ("type", NodeRole::Type, true),
    ("name", NodeRole::Name, true),
    ("id", NodeRole::Id, true),
    ("self_size", NodeRole::SelfSize, true),
    ("edge_count", NodeRole::EdgeCount, true),
    ("trace_node_id", NodeRole::Trace, false),
    ("detachedness", NodeRole::Detached, false),
];

/// The edge fields leakguard reads (all required).
const EDGE_FIELDS: [(&str, EdgeRole, bool); 3] = [
    ("type", EdgeRole::Type, true),
    ("name_or_index", EdgeRole::Name, true),
    ("to_node", EdgeRole::To, true),
];

/// The role of each of `fields` (`skip` for fields not in `known`); an error for a known field
/// named twice or a required one missing. `what` is `node` or `edge`, for the messages.
fn roles<R: Copy + PartialEq>(
    fields: &[String],
    known: &[(&str, R, bool)],
    skip: R,
    what: &str,
    at: usize,
) -> Result<Vec<R>> {
    let mut roles = Vec::with_capacity(fields.len());
    for f in fields {
        let role = known.iter().find(|k| k.0 == f).map_or(skip, |k| k.1);
        if role != skip && roles.contains(&role) {
            return Err(Error::parse(at, format!("duplicate {what} field \"{f}\"")));
        }
        roles.push(role);
    }
    for &(name, role, required) in known {
        if required && !roles.contains(&role) {
            return Err(Error::parse(
                at,
                format!("snapshot.meta.{what}_fields lacks \"{name}\""),
            ));
        }
    }
    Ok(roles)
}

pub(super) fn layout(h: Header, at: usize) -> Result<Layout> {
    let m = h.meta;
    let node_roles = roles(&m.node_fields, &NODE_FIELDS, NodeRole::Skip, "node", at)?;
    let edge_roles = roles(&m.edge_fields, &EDGE_FIELDS, EdgeRole::Skip, "edge", at)?;
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
        tables: m.tables,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The header with these node and edge field lists; its error message, or its roles.
    fn roles_of(
        nodes: &str,
        edges: &str,
    ) -> std::result::Result<(Vec<NodeRole>, Vec<EdgeRole>), String> {
        let h = format!(
            r#"{{"meta":{{"node_fields":[{nodes}],"node_types":[["hidden"]],"edge_fields":[{edges}],"edge_types":[["property"]]}},"node_count":0,"edge_count":0}}"#
        );
        match read_header(h.as_bytes(), 0) {
            Ok((lay, _)) => Ok((lay.node_roles, lay.edge_roles)),
            Err(Error::Parse { message, .. }) => Err(message),
            Err(e) => Err(format!("not a parse error: {e}")),
        }
    }

    const NODES: &str = r#""type","name","id","self_size","edge_count""#;
    const EDGES: &str = r#""type","name_or_index","to_node""#;

    #[test]
    fn field_roles_come_by_name_in_any_order() {
        use {EdgeRole as E, NodeRole as N};
        let (n, e) = roles_of(
            r#""detachedness","id","x","edge_count","name","trace_node_id","self_size","type""#,
            r#""to_node","extra","name_or_index","type""#,
        )
        .unwrap();
        let want = [
            N::Detached,
            N::Id,
            N::Skip,
            N::EdgeCount,
            N::Name,
            N::Trace,
            N::SelfSize,
            N::Type,
        ];
        assert_eq!(n, want);
        assert_eq!(e, [E::To, E::Skip, E::Name, E::Type]);
        // Unknown fields may repeat; they are skipped.
        assert!(roles_of(&format!("{NODES},\"x\",\"x\""), EDGES).is_ok());
    }

    #[test]
    fn missing_and_duplicate_fields_are_named() {
        let cases = [
            (
                r#""type","name","self_size","edge_count""#,
                EDGES,
                r#"snapshot.meta.node_fields lacks "id""#,
            ),
            (
                r#""name","id""#,
                EDGES,
                r#"snapshot.meta.node_fields lacks "type""#,
            ),
            (
                &format!("{NODES},\"name\"") as &str,
                EDGES,
                r#"duplicate node field "name""#,
            ),
            (
                NODES,
                r#""name_or_index","to_node""#,
                r#"snapshot.meta.edge_fields lacks "type""#,
            ),
            (
                NODES,
                r#""type","name_or_index""#,
                r#"snapshot.meta.edge_fields lacks "to_node""#,
            ),
            (
                NODES,
                r#""type","to_node","name_or_index","to_node""#,
                r#"duplicate edge field "to_node""#,
            ),
        ];
        for (nodes, edges, want) in cases {
            assert_eq!(
                roles_of(nodes, edges),
                Err(want.to_string()),
                "{nodes} / {edges}"
            );
        }
    }
}
