//! A validated, borrow-only view of a [`HeapGraph`]'s columns for the hot loops of the analysis.
//!
//! The graph's public accessors are total (they bounds-check and map enums on every call), which
//! is right for callers but costs several times more than a plain slice index in loops that run
//! tens of millions of times. This view checks the CSR invariants once up front; after that every
//! index the analysis computes from the graph is in range, so plain indexing cannot panic. It is
//! also the only place that touches the graph's crate-private fields, so a change of the graph's
//! layout is absorbed here.

use crate::graph::{EdgeType, HeapGraph, NodeType};
use crate::{Error, Result};

/// Edge categories as the analysis needs them: V8's seven plus DevTools' extra `invisible`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EK {
    Context,
    Element,
    Property,
    Internal,
    Hidden,
    Shortcut,
    Weak,
    /// DevTools appends `invisible` after the meta enum; V8 never emits it, but a snapshot that
    /// uses the value one past the enum (or names it) gets DevTools' treatment.
    Invisible,
    Other,
}

pub(crate) struct View<'g> {
    pub g: &'g HeapGraph,
    pub n: usize,
    pub root: u32,
    pub first_edge: &'g [u32],
    pub edge_to: &'g [u32],
    pub edge_type: &'g [u8],
    pub edge_name: &'g [u32],
    pub node_type: &'g [u8],
    pub node_name: &'g [u32],
    pub node_id: &'g [u32],
    pub first_retainer: &'g [u32],
    pub retaining_edge: &'g [u32],
    pub retaining_node: &'g [u32],
    ekind: [EK; 256],
    ntype: [NodeType; 256],
}

fn monotone_csr(first: &[u32], n: usize, total: usize) -> bool {
    first.len() == n + 1
        && first.first() == Some(&0)
        && first.last().map(|&x| x as usize) == Some(total)
        && first.windows(2).all(|w| w[0] <= w[1])
}

impl<'g> View<'g> {
    /// Identity of a graph's buffers: a view of the graph that was validated once (same
    /// buffers, same lengths) can skip the linear scans. `HeapGraph` has no mutating API, so
    /// equal buffers mean equal content.
    pub fn fingerprint(g: &HeapGraph) -> [usize; 4] {
        [
            g.edge_to.as_ptr() as usize,
            g.first_edge.as_ptr() as usize,
            g.node_id.len(),
            g.edge_to.len(),
        ]
    }

    /// Like [`View::new`], but skips the O(nodes + edges) range scans when `known` is the
    /// fingerprint of this very graph.
    pub fn trusted(g: &'g HeapGraph, known: &[usize; 4]) -> Result<View<'g>> {
        Self::build(g, Self::fingerprint(g) != *known)
    }

    /// Builds the view, or explains which invariant the graph breaks (a parser bug, never a
    /// panic here).
    pub fn new(g: &'g HeapGraph) -> Result<View<'g>> {
        Self::build(g, true)
    }

    fn build(g: &'g HeapGraph, scan: bool) -> Result<View<'g>> {
        let n = g.node_id.len();
        let m = g.edge_to.len();
        let bad = |what: &str| {
            Err(Error::InvalidArg(format!(
                "inconsistent heap graph: {what}"
            )))
        };
        if g.node_type.len() != n || g.node_name.len() != n || g.self_size.len() != n {
            return bad("node column lengths differ");
        }
        if g.edge_type.len() != m || g.edge_name.len() != m {
            return bad("edge column lengths differ");
        }
        let r = g.retaining_edge.len();
        if g.first_edge.len() != n + 1
            || g.first_retainer.len() != n + 1
            || g.retaining_node.len() != r
        {
            return bad("offset table lengths");
        }
        if scan && !monotone_csr(&g.first_edge, n, m) {
            return bad("edge offsets");
        }
        if scan && !monotone_csr(&g.first_retainer, n, r) {
            return bad("retainer offsets");
        }
        if scan
            && (g.edge_to.iter().any(|&t| t as usize >= n)
                || g.retaining_node.iter().any(|&t| t as usize >= n)
                || g.retaining_edge.iter().any(|&e| e as usize >= m))
        {
            return bad("edge target out of range");
        }
        if n > 0 && g.root as usize >= n {
            return bad("root out of range");
        }
        if n >= (u32::MAX - 2) as usize || m >= u32::MAX as usize {
            return Err(Error::TooLarge(
                "more nodes or edges than 32-bit ordinals can index".into(),
            ));
        }
        if let Some(d) = &g.detachedness {
            if d.len() != n {
                return bad("detachedness column length");
            }
        }
        let mut ekind = [EK::Other; 256];
        for (raw, k) in ekind.iter_mut().enumerate() {
            let name = g.edge_type_names.get(raw).map(String::as_str);
            *k = match g.edge_type_map.get(raw) {
                Some(EdgeType::Context) => EK::Context,
                Some(EdgeType::Element) => EK::Element,
                Some(EdgeType::Property) => EK::Property,
                Some(EdgeType::Internal) => EK::Internal,
                Some(EdgeType::Hidden) => EK::Hidden,
                Some(EdgeType::Shortcut) => EK::Shortcut,
                Some(EdgeType::Weak) => EK::Weak,
                _ if name == Some("invisible") || raw == g.edge_type_names.len() => EK::Invisible,
                _ => EK::Other,
            };
        }
        let mut ntype = [NodeType::Other(0); 256];
        for (raw, t) in ntype.iter_mut().enumerate() {
            *t = g
                .node_type_map
                .get(raw)
                .copied()
                .unwrap_or(NodeType::Other(raw as u8));
        }
        Ok(View {
            g,
            n,
            root: g.root,
            first_edge: &g.first_edge,
            edge_to: &g.edge_to,
            edge_type: &g.edge_type,
            edge_name: &g.edge_name,
            node_type: &g.node_type,
            node_name: &g.node_name,
            node_id: &g.node_id,
            first_retainer: &g.first_retainer,
            retaining_edge: &g.retaining_edge,
            retaining_node: &g.retaining_node,
            ekind,
            ntype,
        })
    }

    #[inline(always)]
    pub fn edges(&self, v: u32) -> std::ops::Range<usize> {
        self.first_edge[v as usize] as usize..self.first_edge[v as usize + 1] as usize
    }

    #[inline(always)]
    pub fn retainers(&self, v: u32) -> std::ops::Range<usize> {
        self.first_retainer[v as usize] as usize..self.first_retainer[v as usize + 1] as usize
    }

    #[inline(always)]
    pub fn ek(&self, e: usize) -> EK {
        self.ekind[self.edge_type[e] as usize]
    }

    #[inline(always)]
    pub fn ntype(&self, v: u32) -> NodeType {
        self.ntype[self.node_type[v as usize] as usize]
    }

    /// A copy of the graph's self sizes as a size column (same layout, no widening).
    pub fn self_sizes(&self) -> super::sizes::Sizes {
        super::sizes::Sizes::from_parts(self.g.self_size.clone(), self.g.size_overflow.clone())
    }

    #[inline]
    pub fn name(&self, v: u32) -> &'g str {
        self.g.string(self.node_name[v as usize])
    }

    /// DevTools' "user root": a child of the root that is not synthetic, or the synthetic
    /// `(Document DOM trees)` group of a browser snapshot.
    pub fn is_user_root(&self, v: u32) -> bool {
        match self.ntype(v) {
            NodeType::Synthetic => self.name(v) == "(Document DOM trees)",
            _ => true,
        }
    }

    /// The edge's label text (`name()` in DevTools: element/hidden indices as decimal).
    pub fn edge_label(&self, e: usize) -> std::borrow::Cow<'g, str> {
        match self.ek(e) {
            EK::Element | EK::Hidden => self.edge_name[e].to_string().into(),
            _ => self.g.string(self.edge_name[e]).into(),
        }
    }
}

/// A fixed-size bitset over `u64` words.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bits(pub Vec<u64>);

impl Bits {
    pub fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }
    #[inline(always)]
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i >> 6).is_some_and(|w| w & (1 << (i & 63)) != 0)
    }
    #[inline(always)]
    pub fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i >> 6) {
            *w |= 1 << (i & 63);
        }
    }
}

/// Orders two strings the way JavaScript's default comparison does (UTF-16 code units), which
/// differs from Rust's byte order only between U+E000..U+FFFF and supplementary characters.
pub(crate) fn cmp_js(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let i = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    match (x.get(i), y.get(i)) {
        (Some(&p), Some(&q)) if p >= 0xEE || q >= 0xEE => {
            // Compare from the start of the differing character in UTF-16.
            let mut s = i;
            while s > 0 && !a.is_char_boundary(s) {
                s -= 1;
            }
            let a16 = a.get(s..).unwrap_or("").encode_utf16();
            let b16 = b.get(s..).unwrap_or("").encode_utf16();
            a16.cmp(b16)
        }
        _ => x.cmp(y),
    }
}

/// Length of `s` in UTF-16 code units (JavaScript's `length`).
#[inline]
pub(crate) fn js_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// JavaScript `parseInt(s, 10)` for the cases DevTools relies on: leading whitespace, optional
/// sign, decimal digits; `None` is `NaN`.
pub(crate) fn parse_int_js(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for b in t.bytes().take(digits) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if neg { -v } else { v })
}
