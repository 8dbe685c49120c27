//! Class names (current DevTools `calculateObjectNames`), plain-object interface inference
//! (`inferInterfaceDefinitions` / `applyInterfaceDefinitions`) and display names (docs/analysis.md#class-names).

use super::view::{cmp_js, js_len, Bits, View, EK};
use crate::control::{Budget, Control, TICK_MASK};
use crate::graph::{HeapGraph, NodeType};
use crate::Result;
use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

/// Interfaces are named after at most this many characters (one property always fits).
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
/// An interface must describe at least this many objects to be worth a name.
const MIN_OBJECT_COUNT_PER_INTERFACE: u32 = 2;
/// ...and at least one in this many plain objects, so a long tail of rare shapes stays
/// `Object` (DevTools' `MIN_OBJECT_PROPORTION_PER_INTERFACE`; this also bounds the list to
/// 1000 definitions).
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;

/// An inferred plain-object interface: objects having all `properties` get class `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDefinition {
    /// The class name, e.g. `{a, b}`.
    pub name: String,
    /// Property names in the order they were first seen.
    pub properties: Vec<String>,
}

/// Interned class names.
#[derive(Debug, Default)]
pub(crate) struct ClassTable {
    pub names: Vec<String>,
    pub lookup: HashMap<String, u32>,
}

impl ClassTable {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.lookup.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.lookup.insert(s.to_owned(), i);
        i
    }
}

/// JSON-quotes property names containing `, ' " { }` as DevTools' `formatPropertyName` does.
pub(crate) fn format_property_name(name: &str) -> Cow<'_, str> {
    if !name.contains([',', '\'', '"', '{', '}']) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// The class name text DevTools derives from an object/native node's (possibly renamed) name.
fn class_text_for_name(name: &str) -> Cow<'_, str> {
    if name.starts_with('<') {
        if let Some(sp) = name.find(' ') {
            return Cow::Owned(format!("{}>", &name[..sp]));
        }
        return Cow::Borrowed(name);
    }
    if let Some(rest) = name.strip_prefix("Detached <") {
        // First space at or after character 10 (the '<' is at 9, so this is in `rest`).
        if let Some(sp) = rest.find(' ') {
            return Cow::Owned(format!("{}>", &name[..10 + sp]));
        }
        return Cow::Borrowed(name);
    }
    Cow::Borrowed(name)
}

fn is_plain_object(v: &View<'_>, x: u32) -> bool {
    v.ntype(x) == NodeType::Object && v.name(x) == "Object"
}

/// Computes the class index of every node (before interface inference).
pub(crate) fn class_names(
    v: &View<'_>,
    renamed: Option<&Bits>,
    table: &mut ClassTable,
    ctl: &Control<'_>,
) -> Result<Vec<u32>> {
    const UNSET: u32 = u32::MAX;
    let strings = v.g.string_count();
    let mut by_string = vec![UNSET; strings];
    let mut by_string_detached: HashMap<u32, u32> = HashMap::new();
    let mut by_type = [UNSET; 256];
    let mut out = vec![0u32; v.n];
    for x in 0..v.n as u32 {
        if x as usize & TICK_MASK == 0 {
            ctl.tick(x as usize, v.n)?;
        }
        let c = match v.ntype(x) {
            NodeType::Object | NodeType::Native => {
                let si = v.node_name[x as usize];
                if renamed.is_some_and(|b| b.get(x as usize)) {
                    *by_string_detached.entry(si).or_insert_with(|| {
                        let full = format!("Detached {}", v.g.string(si));
                        table.intern(&class_text_for_name(&full))
                    })
                } else {
                    match by_string.get(si as usize).copied() {
                        Some(c) if c != UNSET => c,
                        _ => {
                            let c = table.intern(&class_text_for_name(v.g.string(si)));
                            if let Some(slot) = by_string.get_mut(si as usize) {
                                *slot = c;
                            }
                            c
                        }
                    }
                }
            }
            _ => {
                let raw = v.node_type[x as usize] as usize;
                if by_type[raw] == UNSET {
                    let text: Cow<'_, str> = match v.ntype(x) {
                        NodeType::Hidden => "(system)".into(),
                        NodeType::Code => "(compiled code)".into(),
                        NodeType::Closure => "Function".into(),
                        NodeType::RegExp => "RegExp".into(),
                        _ => match v.g.node_type_name(x) {
                            // A value past the end of the enum (DevTools would print
                            // "(undefined)").
                            "" => "(unknown)".into(),
                            t => format!("({t})").into(),
                        },
                    };
                    by_type[raw] = table.intern(&text);
                }
                by_type[raw]
            }
        };
        out[x as usize] = c;
    }
    Ok(out)
}

/// Builds the candidate interface name of one plain object from its property edges (skipping
/// `__proto__`), capped at [`MAX_INTERFACE_NAME_LENGTH`] UTF-16 units after the first property.
fn interface_name<'g>(v: &View<'g>, x: u32, buf: &mut String, props: &mut Vec<&'g str>) {
    buf.clear();
    props.clear();
    buf.push('{');
    let mut len = 1usize;
    for e in v.edges(x) {
        if v.ek(e) != EK::Property {
            continue;
        }
        let name = v.g.string(v.edge_name[e]);
        if name == "__proto__" {
            continue;
        }
        let f = format_property_name(name);
        let flen = js_len(&f);
        if len > 1 && len + flen > MAX_INTERFACE_NAME_LENGTH {
            break;
        }
        if len != 1 {
            buf.push_str(", ");
            len += 2;
        }
        buf.push_str(&f);
        len += flen;
        props.push(name);
    }
    buf.push('}');
}

/// DevTools' `inferInterfaceDefinitions`: the most common property lists of plain objects.
pub(crate) fn infer_interfaces(
    v: &View<'_>,
    ctl: &Control<'_>,
) -> Result<Vec<InterfaceDefinition>> {
    struct Candidate {
        name: String,
        properties: Vec<String>,
        count: u32,
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut cands: Vec<Candidate> = Vec::new();
    let mut buf = String::new();
    let mut props: Vec<&str> = Vec::new();
    // Counts every plain object, with or without properties, as DevTools does.
    let mut total_plain = 0u64;
    for x in 0..v.n as u32 {
        if x as usize & TICK_MASK == 0 {
            ctl.tick(x as usize, 2 * v.n)?;
        }
        if !is_plain_object(v, x) {
            continue;
        }
        total_plain += 1;
        interface_name(v, x, &mut buf, &mut props);
        if props.is_empty() {
            continue; // "{}" would wrongly suggest objects without properties
        }
        match index.get(buf.as_str()) {
            Some(&i) => cands[i].count += 1,
            None => {
                index.insert(buf.clone(), cands.len());
                cands.push(Candidate {
                    name: buf.clone(),
                    properties: props.iter().map(|s| (*s).to_owned()).collect(),
                    count: 1,
                });
            }
        }
    }
    // Stable sort: among equally popular candidates the first seen wins ties later on.
    cands.sort_by_key(|c| std::cmp::Reverse(c.count));
    let min_count = f64::from(MIN_OBJECT_COUNT_PER_INTERFACE)
        .max(total_plain as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE);
    Ok(cands
        .into_iter()
        .take_while(|c| f64::from(c.count) >= min_count)
        .map(|c| InterfaceDefinition {
            name: c.name,
            properties: c.properties,
        })
        .collect())
}

/// A trie over sorted property names; a node that ends a definition carries its match info.
struct Trie {
    /// (node, property id) -> child node.
    next: HashMap<(u32, u32), u32>,
    /// Per node: the greatest property id leaving it (compared as text), if any.
    greatest: Vec<Option<u32>>,
    /// Per node: (property count, definition index) of the earliest definition ending here.
    info: Vec<Option<(usize, usize)>>,
    prop_ids: HashMap<String, u32>,
    prop_text: Vec<String>,
}

impl Trie {
    fn build(defs: &[InterfaceDefinition]) -> Trie {
        let mut t = Trie {
            next: HashMap::new(),
            greatest: vec![None],
            info: vec![None],
            prop_ids: HashMap::new(),
            prop_text: Vec::new(),
        };
        for (di, d) in defs.iter().enumerate() {
            let mut sorted: Vec<&str> = d.properties.iter().map(String::as_str).collect();
            sorted.sort_by(|a, b| cmp_js(a, b));
            let mut cur = 0u32;
            for p in &sorted {
                let pid = match t.prop_ids.get(*p) {
                    Some(&id) => id,
                    None => {
                        let id = t.prop_text.len() as u32;
                        t.prop_text.push((*p).to_owned());
                        t.prop_ids.insert((*p).to_owned(), id);
                        id
                    }
                };
                cur = match t.next.get(&(cur, pid)) {
                    Some(&c) => c,
                    None => {
                        let c = t.greatest.len() as u32;
                        t.greatest.push(None);
                        t.info.push(None);
                        t.next.insert((cur, pid), c);
                        let g = &mut t.greatest[cur as usize];
                        let bigger = match *g {
                            None => true,
                            Some(gid) => cmp_js(&t.prop_text[gid as usize], p).is_lt(),
                        };
                        if bigger {
                            *g = Some(pid);
                        }
                        c
                    }
                };
            }
            // Earlier definitions keep priority.
            if t.info[cur as usize].is_none() {
                t.info[cur as usize] = Some((sorted.len(), di));
            }
        }
        t
    }
}

/// DevTools' `selectBetterMatch`: more properties wins, then the earlier definition.
fn better(a: (usize, usize), b: Option<(usize, usize)>) -> (usize, usize) {
    match b {
        None => a,
        Some(b) if b.0 > a.0 => b,
        Some(b) if a.0 > b.0 => a,
        Some(b) => {
            if a.1 <= b.1 {
                a
            } else {
                b
            }
        }
    }
}

/// DevTools' `applyInterfaceDefinitions`: re-classes plain objects matching a definition.
pub(crate) fn apply_interfaces(
    v: &View<'_>,
    defs: &[InterfaceDefinition],
    classes: &mut [u32],
    table: &mut ClassTable,
    ctl: &Control<'_>,
) -> Result<()> {
    if defs.is_empty() {
        return Ok(());
    }
    let trie = Trie::build(defs);
    let def_class: Vec<u32> = defs.iter().map(|d| table.intern(&d.name)).collect();
    const NONE: (usize, usize) = (0, usize::MAX);
    let mut props: Vec<&str> = Vec::new();
    let mut states: Vec<u32> = Vec::new();
    let mut snapshot: Vec<u32> = Vec::new();
    for x in 0..v.n as u32 {
        if x as usize & TICK_MASK == 0 {
            ctl.tick(v.n + x as usize, 2 * v.n)?;
        }
        if !is_plain_object(v, x) {
            continue;
        }
        props.clear();
        for e in v.edges(x) {
            if v.ek(e) == EK::Property {
                props.push(v.g.string(v.edge_name[e]));
            }
        }
        props.sort_by(|a, b| cmp_js(a, b));
        // The states set, kept in insertion order like a JavaScript Set.
        states.clear();
        states.push(0);
        let mut best = better(NONE, trie.info[0]);
        for p in &props {
            let pid = trie.prop_ids.get(*p).copied();
            snapshot.clear();
            snapshot.extend_from_slice(&states);
            for &s in &snapshot {
                let done = match trie.greatest[s as usize] {
                    None => true,
                    Some(g) => !cmp_js(p, &trie.prop_text[g as usize]).is_lt(),
                };
                if done {
                    // No further transitions are possible from this state.
                    states.retain(|&y| y != s);
                }
                if let Some(next) = pid.and_then(|id| trie.next.get(&(s, id)).copied()) {
                    if !states.contains(&next) {
                        states.push(next);
                    }
                    best = better(best, trie.info[next as usize]);
                }
            }
            if states.is_empty() {
                break;
            }
        }
        if best != NONE {
            if let Some(&c) = def_class.get(best.1) {
                classes[x as usize] = c;
            }
        }
    }
    Ok(())
}

/// DevTools' display name of a node (`JSHeapSnapshotNode.name()`).
pub(crate) fn display_name(v: &View<'_>, renamed: Option<&Bits>, x: u32) -> String {
    match v.ntype(x) {
        NodeType::ConsString => cons_string_name(v, x),
        NodeType::Object if v.name(x) == "Object" => plain_object_name(v, x),
        _ if renamed.is_some_and(|b| b.get(x as usize)) => format!("Detached {}", v.name(x)),
        _ => v.name(x).to_owned(),
    }
}

/// Flattens a cons string (see [`NameCache::cons_name`]) with a cache of its own and no cancel.
fn cons_string_name(v: &View<'_>, x: u32) -> String {
    let mut budget = Control::NONE.budget(u64::MAX);
    // Without a cancel flag the budget never fails.
    NameCache::default()
        .cons_name(v, x, &mut budget)
        .unwrap_or_default()
}

/// UTF-16 units at which a flattened cons string is complete (DevTools' limit).
const CONS_NAME_UNITS: usize = 1024;
/// Parts one flattening visits at most, so a hostile cons string cannot loop forever.
const CONS_NAME_PARTS: usize = 100_000;

/// New cons parts one [`NameCache::short`] call examines before giving up.
const SHORT_EXPLORE: usize = 4096;

/// Display names of one query (a retainer path, a leak report), each computed once per node, and
/// the cons-string parts whose whole text is short enough to append in one piece: shared parts of
/// a cons-string DAG (a crafted `s = s + s` chain has 2^k parts over k nodes) are then
/// flattened once instead of once per visit. Every unit of work (a retainer compared, a part
/// visited, an edge scanned, a byte copied) is charged to the caller's [`Budget`], which polls
/// the cancel flag.
#[derive(Default)]
pub(crate) struct NameCache {
    names: HashMap<u32, Rc<str>>,
    /// A cons string's complete flattened text if shorter than [`CONS_NAME_UNITS`], else None
    /// (also for parts of a cycle).
    short: HashMap<u32, Option<Rc<str>>>,
}

impl NameCache {
    /// [`display_name`] of `x`, computed once.
    pub(crate) fn get(
        &mut self,
        v: &View<'_>,
        renamed: Option<&Bits>,
        x: u32,
        budget: &mut Budget<'_>,
    ) -> Result<Rc<str>> {
        if let Some(n) = self.names.get(&x) {
            return Ok(n.clone());
        }
        let name: Rc<str> = match v.ntype(x) {
            NodeType::ConsString => self.cons_name(v, x, budget)?.into(),
            _ => {
                // A plain object's name scans its edges once.
                budget.spend(1 + v.edges(x).len() as u64)?;
                display_name(v, renamed, x).into()
            }
        };
        budget.spend(name.len() as u64)?;
        self.names.insert(x, name.clone());
        Ok(name)
    }

    /// Flattens a cons string as DevTools does: its leaves in order (`first` before `second`)
    /// until 1024 UTF-16 units are collected. A missing part counts as empty (DevTools would
    /// read node 0's name); at most [`CONS_NAME_PARTS`] parts are visited (a cached short part
    /// counts once). A part whose complete text fits below the limit is appended whole, which
    /// gives the same text: no leaf inside it could have reached the limit.
    pub(crate) fn cons_name(
        &mut self,
        v: &View<'_>,
        x: u32,
        budget: &mut Budget<'_>,
    ) -> Result<String> {
        let mut out = String::new();
        let mut len = 0usize;
        let mut stack: Vec<Option<u32>> = vec![Some(x)];
        let mut parts = CONS_NAME_PARTS;
        while len < CONS_NAME_UNITS && parts > 0 {
            let Some(top) = stack.pop() else { break };
            parts -= 1;
            budget.spend(1)?;
            let Some(y) = top else { continue };
            if v.ntype(y) != NodeType::ConsString {
                let s = v.name(y);
                out.push_str(s);
                len += js_len(s);
                budget.spend(s.len() as u64)?;
                continue;
            }
            if y != x {
                if let Some(s) = self.short(v, y, budget)? {
                    let n = js_len(&s);
                    if len + n < CONS_NAME_UNITS {
                        out.push_str(&s);
                        len += n;
                        budget.spend(s.len() as u64)?;
                        continue;
                    }
                }
            }
            let (first, second) = cons_parts(v, y, budget)?;
            stack.push(second);
            stack.push(first);
        }
        Ok(out)
    }

    /// The complete text of cons string (or leaf) `y` if shorter than [`CONS_NAME_UNITS`]:
    /// computed bottom-up over the parts without recursion, each part once.
    fn short(&mut self, v: &View<'_>, y: u32, budget: &mut Budget<'_>) -> Result<Option<Rc<str>>> {
        if let Some(s) = self.short.get(&y) {
            return Ok(s.clone());
        }
        let mut parts: HashMap<u32, (Option<u32>, Option<u32>)> = HashMap::new();
        let mut stack = vec![(y, false)];
        while let Some((z, children_done)) = stack.pop() {
            budget.spend(1)?;
            if parts.len() > SHORT_EXPLORE {
                // A long right-leaning chain would be walked to its end here, while the caller
                // only needs 1024 units of it: give up; the parts still in progress stay "not
                // short" and are expanded by the caller (same text, just not cached).
                break;
            }
            if !children_done {
                if self.short.contains_key(&z) {
                    continue;
                }
                if v.ntype(z) != NodeType::ConsString {
                    let s = v.name(z);
                    let r = (js_len(s) < CONS_NAME_UNITS).then(|| Rc::from(s));
                    self.short.insert(z, r);
                    continue;
                }
                // In progress: a part that reaches back here (a cycle) reads as "not short".
                self.short.insert(z, None);
                let (f, s) = cons_parts(v, z, budget)?;
                parts.insert(z, (f, s));
                stack.push((z, true));
                for c in [s, f].into_iter().flatten() {
                    if !self.short.contains_key(&c) {
                        stack.push((c, false));
                    }
                }
                continue;
            }
            let (f, s) = parts.get(&z).copied().unwrap_or((None, None));
            let text = |c: Option<u32>| match c {
                None => Some(Rc::from("")),
                Some(c) => self.short.get(&c).cloned().flatten(),
            };
            let r = match (text(f), text(s)) {
                (Some(a), Some(b)) if js_len(&a) + js_len(&b) < CONS_NAME_UNITS => {
                    budget.spend((a.len() + b.len()) as u64)?;
                    Some(Rc::from(format!("{a}{b}")))
                }
                _ => None,
            };
            self.short.insert(z, r);
        }
        Ok(self.short.get(&y).cloned().flatten())
    }
}

/// The `first` and `second` parts of cons string `y` (its internal edges of those names).
fn cons_parts(v: &View<'_>, y: u32, budget: &mut Budget<'_>) -> Result<(Option<u32>, Option<u32>)> {
    let (mut first, mut second) = (None, None);
    for e in v.edges(y) {
        budget.spend(1)?;
        if first.is_some() && second.is_some() {
            break;
        }
        if v.ek(e) == EK::Internal {
            match v.g.string(v.edge_name[e]) {
                "first" => first = Some(v.edge_to[e]),
                "second" => second = Some(v.edge_to[e]),
                _ => {}
            }
        }
    }
    Ok((first, second))
}

/// `{first, second, …, last}` built alternately from both ends of the property list, at most
/// 100 UTF-16 units (one property always fits).
fn plain_object_name(v: &View<'_>, x: u32) -> String {
    let range = v.edges(x);
    let mut start = String::from("{");
    let mut end = String::from("}");
    let (mut start_len, mut end_len) = (1usize, 1usize);
    let (mut lo, mut hi) = (range.start as isize, range.end as isize - 1);
    let mut from_end = false;
    while lo <= hi {
        let e = if from_end { hi } else { lo } as usize;
        let name = v.g.string(v.edge_name[e]);
        if v.ek(e) != EK::Property || name == "__proto__" {
            if from_end {
                hi -= 1;
            } else {
                lo += 1;
            }
            continue;
        }
        let f = format_property_name(name);
        let flen = js_len(&f);
        if start_len > 1 && start_len + end_len + flen > 100 {
            break;
        }
        if from_end {
            hi -= 1;
            if end_len > 1 {
                end.insert_str(0, ", ");
                end_len += 2;
            }
            end.insert_str(0, &f);
            end_len += flen;
        } else {
            lo += 1;
            if start_len > 1 {
                start.push_str(", ");
                start_len += 2;
            }
            start.push_str(&f);
            start_len += flen;
        }
        from_end = !from_end;
    }
    if lo <= hi {
        start.push_str(", ...");
    }
    if end_len > 1 {
        start.push_str(", ");
    }
    start.push_str(&end);
    start
}

/// A snapshot's classes after re-classification with another snapshot's interface
/// definitions: class index per node and the class names those indices refer to. Borrowed when
/// nothing changed (the definitions were equal), so the common case costs no copy.
#[derive(Debug)]
pub(crate) struct Reclassified<'a> {
    pub class_of: Cow<'a, [u32]>,
    pub names: Cow<'a, [String]>,
}

impl super::ClassAnalysis {
    /// Classes of the analysed graph with plain objects matched against `defs` instead of this
    /// snapshot's own inferred interfaces (docs/analysis.md#interface-definitions): the base snapshot of a comparison
    /// is classified with the *current* snapshot's definitions so that the same object keeps the
    /// same `{a, b}` class on both sides.
    ///
    /// Only plain objects (type `object`, raw name `Object`) can change class; each is reset to
    /// the class it had before interface application (`Object`, or `Detached Object` if DOM
    /// propagation renamed it) and then matched as DevTools' `applyInterfaceDefinitions` does.
    pub(crate) fn reclassify<'a>(
        &'a self,
        graph: &HeapGraph,
        defs: &[InterfaceDefinition],
        ctl: Control<'_>,
    ) -> Result<Reclassified<'a>> {
        if defs == self.interfaces.as_slice() {
            return Ok(Reclassified {
                class_of: Cow::Borrowed(&self.class_of),
                names: Cow::Borrowed(&self.class_names),
            });
        }
        let v = View::trusted(graph, &self.fingerprint)?;
        if v.n != self.node_count || self.class_of.len() != v.n {
            return Err(crate::Error::InvalidArg(
                "the analysis does not belong to this snapshot (node counts differ)".into(),
            ));
        }
        let mut table = ClassTable {
            names: self.class_names.clone(),
            lookup: self.class_lookup.clone(),
        };
        let mut class_of = self.class_of.clone();
        let plain = table.intern("Object");
        let mut plain_detached = None;
        let renamed = self.detached_renamed.as_ref();
        for x in 0..v.n as u32 {
            if x as usize & TICK_MASK == 0 {
                ctl.check()?;
            }
            if !is_plain_object(&v, x) {
                continue;
            }
            // Same text `class_names` gives a renamed plain object before interfaces apply.
            class_of[x as usize] = if renamed.is_some_and(|b| b.get(x as usize)) {
                *plain_detached.get_or_insert_with(|| table.intern("Detached Object"))
            } else {
                plain
            };
        }
        apply_interfaces(&v, defs, &mut class_of, &mut table, &ctl)?;
        Ok(Reclassified {
            class_of: Cow::Owned(class_of),
            names: Cow::Owned(table.names),
        })
    }
}
