//! Per-class leak grouping, the optional last step of [`super::find_leaks`]
//! (docs/leaks.md#per-class-grouping): the suspects regrouped by class, with the holders that
//! keep each class alive, as the leak assertions report them.

use super::leaks::Suspect;
use crate::alloc_trace::{AllocationFrame, AllocationSite};
use crate::analysis::RetainerPath;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::HashMap;

/// Holder paths kept per class.
const MAX_PATHS: usize = 5;

/// Options of the per-class grouping ([`super::LeakOptions::classes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassOptions {
    /// How many times the action ran between the snapshots (≥ 1): `perIteration` is the
    /// class's count divided by it.
    pub calls: u64,
    /// Classes with fewer leaked objects per call are dropped (finite, ≥ 0).
    pub threshold: f64,
    /// Classes with fewer leaked objects in all are dropped.
    pub min_count: u64,
    /// Class names left out of the grouping (exact match). Unlike
    /// [`super::LeakOptions::ignore_classes`], the objects such a class owns stay inside it
    /// instead of becoming leak roots of their own.
    pub ignore_classes: Vec<String>,
}

impl ClassOptions {
    /// Rejects values that would make `perIteration` meaningless.
    pub(crate) fn check(&self) -> Result<()> {
        if self.calls == 0 {
            return Err(Error::InvalidArg(
                "findLeaks({ classes: { calls } }) must be at least 1".into(),
            ));
        }
        if !self.threshold.is_finite() || self.threshold < 0.0 {
            return Err(Error::InvalidArg(format!(
                "findLeaks({{ classes: {{ threshold }} }}) must be a finite number >= 0, got {}",
                self.threshold
            )));
        }
        Ok(())
    }
}

/// The leaked objects of one class; serialises to the JS API's `LeakClass`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakClass {
    /// Class name.
    pub class_name: String,
    /// Leak roots of the class over all its suspects.
    pub count: u64,
    /// `count / calls`.
    pub per_iteration: f64,
    /// Sum of the suspects' retained sizes.
    pub retained_size: u64,
    /// The first of `paths`, `""` when there is none.
    pub path: String,
    /// One sample path per holder (up to 5), the holder of the most objects first.
    pub paths: Vec<String>,
    /// The first of `paths` whole, with its steps (and their source locations): where the
    /// holding variable is declared is read from them (`held by: x, a variable of lib/a.js:9`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<RetainerPath>,
    /// The class whose leaked objects hold every suspect of this class (the sockets of leaked
    /// requests), when it is one other class.
    pub via: Option<String>,
    /// [`ClassOptions::calls`], echoed.
    pub calls: u64,
    /// Where the class is defined, from its first suspect that tells
    /// ([`Suspect::location`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The call stacks that allocated the class's objects over all its suspects, the same stack
    /// summed once, biggest first (at most [`super::leaks::MAX_ALLOCATION_SITES`]); empty, and
    /// absent from the JSON, without an allocation trace ([`Suspect::allocations`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<AllocationSite>,
}

/// A holder under construction: the suspects of a class whose shapes differ only by digits.
#[derive(Default)]
struct Holder {
    count: u64,
    retained: u64,
    /// The first sample path of the holder's first suspect that has one.
    path: Option<RetainerPath>,
}

/// The shape with every run of digits written `#`: a new global per call
/// (`global → .__pending_17`, `.__pending_18`, …) is one holder.
fn loose_shape(shape: &str) -> String {
    let mut out = String::with_capacity(shape.len());
    let mut in_digits = false;
    for c in shape.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

/// A path from V8's own roots (handles, stack), not from the program's globals: ranked after
/// the program's holders, so something Node created once never stands for the leak.
fn internal_root(text: &str) -> bool {
    text.starts_with("(synthetic)") || text.contains("{native_context}")
}

/// One class under construction: its suspects (indices into the suspect list) in report order.
struct Class<'a> {
    name: &'a str,
    count: u64,
    retained: u64,
    suspects: Vec<usize>,
}

/// Regroups `suspects` (a [`super::LeakReport::suspects`] list, whose `held_via` index into
/// it) by class: classes in `opts.ignore_classes` are skipped; counts and retained sizes are
/// summed; classes under `opts.threshold` objects per call or `opts.min_count` objects are
/// dropped; each class's suspects whose shapes differ only by digits form one holder, ranked by
/// count (descending), then holders reached from V8-internal roots last, then retained size;
/// the first path of up to 5 holders is kept. `via` names another class when every suspect of
/// the class is held through a suspect of that one class. Classes are sorted by objects per
/// call, then retained size (both descending; ties keep report order).
pub fn by_class(suspects: &[Suspect], opts: &ClassOptions) -> Vec<LeakClass> {
    let calls = opts.calls.max(1);
    let mut classes: Vec<Class<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, s) in suspects.iter().enumerate() {
        if opts.ignore_classes.contains(&s.class_name) {
            continue;
        }
        let k = *index.entry(&s.class_name).or_insert_with(|| {
            classes.push(Class {
                name: &s.class_name,
                count: 0,
                retained: 0,
                suspects: Vec::new(),
            });
            classes.len() - 1
        });
        let c = &mut classes[k];
        c.count = c.count.saturating_add(s.count);
        c.retained = c.retained.saturating_add(s.retained_size);
        c.suspects.push(i);
    }
    let mut out: Vec<LeakClass> = classes
        .iter()
        .filter_map(|c| {
            let per_iteration = c.count as f64 / calls as f64;
            if per_iteration < opts.threshold || c.count < opts.min_count {
                return None;
            }
            let mut holders = holder_paths(suspects, &c.suspects);
            let paths: Vec<String> = holders.iter().map(|p| p.text.clone()).collect();
            let holder = (!holders.is_empty()).then(|| holders.swap_remove(0));
            Some(LeakClass {
                class_name: c.name.to_owned(),
                count: c.count,
                per_iteration,
                retained_size: c.retained,
                path: paths.first().cloned().unwrap_or_default(),
                paths,
                holder,
                via: via(suspects, c),
                calls: opts.calls,
                location: c
                    .suspects
                    .iter()
                    .find_map(|&i| suspects.get(i)?.location.clone()),
                allocations: allocations(suspects, &c.suspects),
            })
        })
        .collect();
    // Stable: equal classes keep the order of their first suspect.
    out.sort_by(|a, b| {
        b.per_iteration
            .total_cmp(&a.per_iteration)
            .then(b.retained_size.cmp(&a.retained_size))
    });
    out
}

/// The first paths of a class's holders, best holder first (see [`by_class`]).
fn holder_paths(suspects: &[Suspect], members: &[usize]) -> Vec<RetainerPath> {
    let mut holders: Vec<Holder> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for s in members.iter().filter_map(|&i| suspects.get(i)) {
        let k = *index.entry(loose_shape(&s.shape)).or_insert_with(|| {
            holders.push(Holder::default());
            holders.len() - 1
        });
        let h = &mut holders[k];
        h.count = h.count.saturating_add(s.count);
        h.retained = h.retained.saturating_add(s.retained_size);
        if h.path.is_none() {
            h.path = s.paths.first().filter(|p| !p.text.is_empty()).cloned();
        }
    }
    let text = |h: &Holder| h.path.as_ref().map_or("", |p| p.text.as_str()).to_owned();
    // Stable, so equal holders keep the order of their first suspect.
    holders.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(internal_root(&text(a)).cmp(&internal_root(&text(b))))
            .then(b.retained.cmp(&a.retained))
    });
    holders
        .into_iter()
        .filter_map(|h| h.path)
        .take(MAX_PATHS)
        .collect()
}

/// The allocation stacks of a class's suspects, merged (see [`LeakClass::allocations`]).
fn allocations(suspects: &[Suspect], members: &[usize]) -> Vec<AllocationSite> {
    let mut sites: Vec<AllocationSite> = Vec::new();
    let mut index: HashMap<&[AllocationFrame], usize> = HashMap::new();
    for site in members
        .iter()
        .filter_map(|&i| suspects.get(i))
        .flat_map(|s| &s.allocations)
    {
        match index.get(site.frames.as_slice()) {
            Some(&k) => {
                let m = &mut sites[k];
                m.count = m.count.saturating_add(site.count);
                m.size = m.size.saturating_add(site.size);
            }
            None => {
                index.insert(&site.frames, sites.len());
                sites.push(site.clone());
            }
        }
    }
    // Stable: equal sites keep the order of the suspects (their ranking).
    sites.sort_by(|a, b| b.size.cmp(&a.size).then(b.count.cmp(&a.count)));
    sites.truncate(super::leaks::MAX_ALLOCATION_SITES);
    sites
}

/// The other class every suspect of `c` is held through, if it is one and the same.
fn via(suspects: &[Suspect], c: &Class<'_>) -> Option<String> {
    let mut through = c.suspects.iter().map(|&i| {
        suspects
            .get(i)
            .and_then(|s| s.held_via)
            .and_then(|h| suspects.get(h))
            .map(|h| h.class_name.as_str())
    });
    let first = through.next()??;
    (through.all(|v| v == Some(first)) && first != c.name).then(|| first.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{internal_root, loose_shape};

    #[test]
    fn loose_shapes_and_internal_roots() {
        assert_eq!(
            loose_shape("global → .__pending_17 → Req"),
            "global → .__pending_# → Req"
        );
        assert_eq!(loose_shape("a1b22c333"), "a#b#c#");
        assert_eq!(loose_shape("Zoë"), "Zoë");
        assert!(internal_root("(synthetic) → (Handle scope) → X"));
        assert!(internal_root("global → {native_context} → X"));
        assert!(!internal_root("global → .x → X"));
        assert!(!internal_root(""));
    }
}
