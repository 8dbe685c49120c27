//! The last step: checks that need more than one work item (string indices, root index), then
//! the reverse (retainer) index and the graph.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Final checks that need more than one work item, then the reverse index.
pub(super) fn assemble(
    st: Structure,
    nodes: NodesOut,
    edges: EdgesOut,
    ctl: &Item<'_>,
) -> Result<HeapGraph> {
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
        // Filled in by `tables` once the graph exists (script names need its edges).
        sources: None,
    };
    ctl.sh.finish();
    Ok(graph)
}

/// Builds the retainer CSR (DevTools' `buildRetainers`): counts were gathered while parsing
/// edges; an inclusive prefix sum turns them into block ends, and filling in reverse edge order
/// decrements each end to its block start while leaving every block in ascending edge order.
pub(super) fn build_retainers(
    first_edge: &[u32],
    to: &[u32],
    mut first_retainer: Vec<u32>,
    ctl: &Item<'_>,
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
