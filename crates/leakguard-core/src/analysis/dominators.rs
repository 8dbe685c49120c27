//! Lengauer–Tarjan dominators over the essential-edge subgraph, exactly as current DevTools runs
//! them (docs/analysis.md#dominators): iterative DFS from the root, an orphan pass for nodes whose every retainer
//! is non-essential, a clique pass for the rest, then "simple" eval/link with iterative path
//! compression. Vertices are ordinals + 1 so that 0 can mean "none".

use super::view::{Bits, View};
use crate::control::{Control, TICK_MASK};
use crate::Result;

/// The dominator tree.
pub(crate) struct DomTree {
    /// Immediate dominator per ordinal; the root (and nothing else) is its own dominator.
    pub idom: Vec<u32>,
}

pub(crate) fn lengauer_tarjan(
    v: &View<'_>,
    essential: &Bits,
    ctl: &Control<'_>,
) -> Result<DomTree> {
    let nodes = v.n;
    if nodes == 0 {
        return Ok(DomTree { idom: Vec::new() });
    }
    let len = nodes + 1;
    let mut parent = vec![0u32; len];
    let mut ancestor = vec![0u32; len];
    let mut vertex = vec![0u32; len];
    let mut label = vec![0u32; len];
    let mut semi = vec![0u32; len];
    // `dom[w]` is written when w leaves its bucket, after its bucket link was read for the
    // last time, so one array holds both (one column less at the dominators' peak).
    let mut dom = vec![0u32; len];
    // Buckets as singly linked lists: each vertex sits in at most one bucket at a time.
    let mut bucket_head = vec![0u32; len];
    // Next edge to examine per ordinal, for the iterative DFS.
    let mut next_edge = vec![0u32; nodes];
    let mut n: u32 = 0;
    let total = 2 * nodes;

    let r = v.root + 1;

    // Iterative DFS over essential edges from `start` (a vertex); returns when control climbs
    // back to `parent[start]`.
    let mut dfs = |start: u32,
                   n: &mut u32,
                   parent: &mut [u32],
                   semi: &mut [u32],
                   vertex: &mut [u32],
                   label: &mut [u32]|
     -> Result<()> {
        let stop = parent[start as usize];
        next_edge[start as usize - 1] = v.first_edge[start as usize - 1];
        let mut x = start;
        loop {
            let xi = x as usize;
            if semi[xi] == 0 {
                *n += 1;
                semi[xi] = *n;
                vertex[*n as usize] = x;
                label[xi] = x;
                if *n as usize & TICK_MASK == 0 {
                    ctl.tick(*n as usize, total)?;
                }
            }
            let mut x_next = parent[xi];
            let o = xi - 1;
            let end = v.first_edge[o + 1];
            while next_edge[o] < end {
                let e = next_edge[o] as usize;
                next_edge[o] += 1;
                if !essential.get(e) {
                    continue;
                }
                let wo = v.edge_to[e] as usize;
                let w = wo + 1;
                if semi[w] == 0 {
                    parent[w] = x;
                    next_edge[wo] = v.first_edge[wo];
                    x_next = w as u32;
                    break;
                }
            }
            if x_next == stop {
                return Ok(());
            }
            x = x_next;
        }
    };

    dfs(r, &mut n, &mut parent, &mut semi, &mut vertex, &mut label)?;

    // Orphans: nodes whose every retainer is non-essential (e.g. only weak retainers) hang off
    // the root, together with whatever they alone reach.
    if (n as usize) < nodes {
        for x in 1..=nodes as u32 {
            if semi[x as usize] != 0 {
                continue;
            }
            let only_weak = v
                .retainers(x - 1)
                .all(|ri| !essential.get(v.retaining_edge[ri] as usize));
            if only_weak {
                parent[x as usize] = r;
                dfs(x, &mut n, &mut parent, &mut semi, &mut vertex, &mut label)?;
            }
        }
    }
    // Cliques of mutually retaining garbage: number each remaining node alone under the root.
    if (n as usize) < nodes {
        for x in 1..=nodes as u32 {
            let xi = x as usize;
            if semi[xi] == 0 {
                parent[xi] = r;
                n += 1;
                semi[xi] = n;
                vertex[n as usize] = x;
                label[xi] = x;
            }
        }
    }

    // The DFS is over: its per-node cursor goes before the next arrays are touched.
    drop(next_edge);

    let mut stack: Vec<u32> = Vec::new();
    // Path compression with an explicit stack (the recursive version overflows on long chains).
    let compress =
        |x: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], stack: &mut Vec<u32>| {
            let mut x = x;
            stack.clear();
            while ancestor[ancestor[x as usize] as usize] != 0 {
                stack.push(x);
                x = ancestor[x as usize];
            }
            while let Some(w) = stack.pop() {
                let wi = w as usize;
                let a = ancestor[wi] as usize;
                if semi[label[a] as usize] < semi[label[wi] as usize] {
                    label[wi] = label[a];
                }
                ancestor[wi] = ancestor[a];
            }
        };

    for i in (2..=n as usize).rev() {
        if i & TICK_MASK == 0 {
            ctl.tick(nodes + (n as usize - i), total)?;
        }
        let w = vertex[i];
        let wi = w as usize;
        let mut orphan = true;
        for ri in v.retainers(w - 1) {
            if !essential.get(v.retaining_edge[ri] as usize) {
                continue;
            }
            orphan = false;
            let x = v.retaining_node[ri] + 1;
            // eval(x)
            let u = if ancestor[x as usize] == 0 {
                x
            } else {
                compress(x, &mut ancestor, &mut label, &semi, &mut stack);
                label[x as usize]
            };
            if semi[u as usize] < semi[wi] {
                semi[wi] = semi[u as usize];
            }
        }
        if orphan {
            // Treated as having the root as its single predecessor.
            semi[wi] = semi[r as usize];
        }
        let b = vertex[semi[wi] as usize] as usize;
        dom[wi] = bucket_head[b]; // bucket link
        bucket_head[b] = w;
        let p = parent[wi];
        ancestor[wi] = p; // link(parent[w], w)
        let mut x = std::mem::take(&mut bucket_head[p as usize]);
        while x != 0 {
            let next = dom[x as usize]; // bucket link
            let u = if ancestor[x as usize] == 0 {
                x
            } else {
                compress(x, &mut ancestor, &mut label, &semi, &mut stack);
                label[x as usize]
            };
            dom[x as usize] = if semi[u as usize] < semi[x as usize] {
                u
            } else {
                p
            };
            x = next;
        }
    }

    // Only dom, semi and vertex are read from here on: the rest goes before idom is allocated.
    // Vertices still in a bucket (possible only for the orphan and clique vertices hung under
    // the root, whose numbering is not a DFS) never got a dominator: their link goes back to 0,
    // "none", as if they had their own array.
    for b in bucket_head.iter_mut() {
        let mut x = std::mem::take(b);
        while x != 0 {
            x = std::mem::take(&mut dom[x as usize]);
        }
    }
    drop((bucket_head, ancestor, label, parent));

    // dom[0] = root makes every never-assigned vertex fall back to the root.
    dom[0] = r;
    dom[r as usize] = r;
    for i in 2..=n as usize {
        let w = vertex[i] as usize;
        if dom[w] != vertex[semi[w] as usize] {
            dom[w] = dom[dom[w] as usize];
        }
    }

    drop((semi, vertex));
    // In place: dom[o + 1] becomes idom[o].
    dom.remove(0);
    for d in dom.iter_mut() {
        *d = match *d {
            0 => v.root,
            d => d - 1,
        };
    }
    dom.shrink_to_fit();
    Ok(DomTree { idom: dom })
}

/// Children lists of the dominator tree in CSR form (`first[n]..first[n+1]` into `list`); the
/// root is nobody's child.
pub(crate) fn dominated_csr(tree: &DomTree, root: u32) -> (Vec<u32>, Vec<u32>) {
    let n = tree.idom.len();
    let mut first = vec![0u32; n + 1];
    for (o, &d) in tree.idom.iter().enumerate() {
        if o as u32 != root {
            first[d as usize + 1] += 1;
        }
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut list = vec![0u32; first[n] as usize];
    for (o, &d) in tree.idom.iter().enumerate() {
        if o as u32 != root {
            let slot = &mut fill[d as usize];
            list[*slot as usize] = o as u32;
            *slot += 1;
        }
    }
    (first, list)
}
