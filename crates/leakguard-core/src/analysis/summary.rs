//! The Summary view (docs/analysis.md#summary) and object listings.

use super::passes::BASE_SYSTEM_DISTANCE;
use super::{mode_index, Analysis, SizeMode};
use crate::graph::{HeapGraph, NodeType};
use serde::Serialize;

/// One row of the Summary view: all objects of one class. Serialises to the JS API's
/// `ClassRow` (index.d.ts; `__test__/result-shapes.test.js` keeps the two in step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassRow {
    /// Class name (also the grouping key; see the module docs of `analysis` for the one
    /// deviation: classes are not split by script location).
    pub class_name: String,
    /// Number of objects with a non-zero self size in the chosen mode.
    pub count: u64,
    /// Sum of their self sizes.
    pub shallow_size: u64,
    /// Sum of the retained sizes of those members that have no dominator-tree ancestor of the
    /// same class, so nothing is counted twice.
    pub retained_size: u64,
    /// Minimum distance over the members (may be −5 when one is unreachable).
    pub distance: i32,
    /// Whether even the closest member is reachable only through V8's system roots
    /// (`distance` ≥ [`BASE_SYSTEM_DISTANCE`], shown as `sys`).
    pub system: bool,
}

/// One object in a listing; serialises to the JS API's `ObjectRow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRow {
    /// Node ordinal in the graph (internal to one snapshot, so not serialised).
    #[serde(skip)]
    pub ordinal: u32,
    /// V8 object id (stable across snapshots of one process).
    pub id: u32,
    /// Class name.
    pub class_name: String,
    /// DevTools display name.
    pub name: String,
    /// Self size in the chosen mode.
    pub shallow_size: u64,
    /// Retained size in the chosen mode.
    pub retained_size: u64,
    /// Distance from the user roots.
    pub distance: i32,
    /// Whether the object is reachable only through V8's system roots (`distance` ≥
    /// [`BASE_SYSTEM_DISTANCE`], shown as `sys`).
    pub system: bool,
    /// Where the object's code is (`url:line:column`, 1-based): a closure's start, a context's
    /// function, an object's constructor (`crate::locations`); absent when the snapshot does
    /// not tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// Whether `distance` says "reachable only through system roots" (DevTools'
/// `baseSystemDistance` and up; unreachable −5 is not).
pub fn is_system(distance: i32) -> bool {
    distance >= BASE_SYSTEM_DISTANCE
}

/// Sort orders for [`Analysis::objects`]; ties are broken by ascending id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ObjectSort {
    /// Biggest retained size first.
    #[default]
    Retained,
    /// Biggest self size first.
    Shallow,
    /// Closest to a user root first (unreachable −5 last).
    Distance,
    /// Ascending object id (roughly allocation order).
    Id,
}

/// The names of `objects()`' `sortBy` (both the short and the column names).
impl std::str::FromStr for ObjectSort {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<ObjectSort> {
        match s {
            "retained" | "retainedSize" => Ok(ObjectSort::Retained),
            "shallow" | "shallowSize" => Ok(ObjectSort::Shallow),
            "distance" => Ok(ObjectSort::Distance),
            "id" => Ok(ObjectSort::Id),
            _ => Err(crate::Error::InvalidArg(format!(
                "sortBy must be 'retained', 'shallow', 'distance' or 'id', got '{s}'"
            ))),
        }
    }
}

/// Distances for sorting "closest first": unreachable nodes go last instead of first.
fn distance_key(d: i32) -> i64 {
    if d < 0 {
        i64::MAX
    } else {
        i64::from(d)
    }
}

impl Analysis {
    /// The Summary view: one row per class over nodes with a non-zero self size in `mode`,
    /// sorted by retained size (descending), then class name. Computed once per mode and cached.
    pub fn summary(&self, _graph: &HeapGraph, mode: SizeMode) -> Vec<ClassRow> {
        self.summary_cache[mode_index(mode)]
            .get_or_init(|| self.build_summary(mode))
            .clone()
    }

    fn build_summary(&self, mode: SizeMode) -> Vec<ClassRow> {
        let classes = self.class_names.len();
        let mut count = vec![0u64; classes];
        let mut shallow = vec![0u64; classes];
        let mut retained = vec![0u64; classes];
        let mut dist = vec![i32::MAX; classes];
        for (x, &c) in self.class_of.iter().enumerate() {
            let s = self.self_size(x as u32, mode);
            if s == 0 {
                continue;
            }
            let c = c as usize;
            count[c] += 1;
            shallow[c] = shallow[c].saturating_add(s);
            dist[c] = dist[c].min(self.dist[x]);
        }
        // Walk the dominator tree keeping, per class, how many counted ancestors are on the
        // current path; a node adds its retained size only if none is.
        if self.node_count > 0 {
            let mut active = vec![0u32; classes];
            // (node, leaving): `leaving` entries pop the node's class off the path.
            let mut stack: Vec<(u32, bool)> = vec![(self.root, false)];
            while let Some((x, leaving)) = stack.pop() {
                let c = self.class_of[x as usize] as usize;
                if leaving {
                    active[c] -= 1;
                    continue;
                }
                let children = self.dominated(x);
                if active[c] == 0 && self.self_size(x, mode) > 0 {
                    retained[c] = retained[c].saturating_add(self.retained_size(x, mode));
                    if !children.is_empty() {
                        active[c] += 1;
                        stack.push((x, true));
                    }
                }
                stack.extend(children.iter().map(|&y| (y, false)));
            }
        }
        let mut rows: Vec<ClassRow> = (0..classes)
            .filter(|&c| count[c] > 0)
            .map(|c| ClassRow {
                class_name: self.class_names[c].clone(),
                count: count[c],
                shallow_size: shallow[c],
                retained_size: retained[c],
                distance: dist[c],
                system: is_system(dist[c]),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.retained_size
                .cmp(&a.retained_size)
                .then_with(|| a.class_name.cmp(&b.class_name))
        });
        rows
    }

    fn object_row(&self, graph: &HeapGraph, x: u32, mode: SizeMode) -> ObjectRow {
        ObjectRow {
            ordinal: x,
            id: graph.node_id(x),
            class_name: self.class_name(graph, x).to_owned(),
            name: self.display_name(graph, x),
            shallow_size: self.self_size(x, mode),
            retained_size: self.retained_size(x, mode),
            distance: self.distance(x),
            system: is_system(self.distance(x)),
            location: graph.location(x).map(|l| l.to_string()),
        }
    }

    /// Sorts `xs` by `sort` and keeps the first `limit`, selecting before sorting so that a
    /// small limit over millions of candidates stays linear.
    fn top(
        &self,
        graph: &HeapGraph,
        xs: &mut Vec<u32>,
        mode: SizeMode,
        sort: ObjectSort,
        limit: usize,
    ) {
        let key = |&x: &u32| -> (i128, u32) {
            let id = graph.node_id(x);
            let k = match sort {
                ObjectSort::Retained => -i128::from(self.retained_size(x, mode)),
                ObjectSort::Shallow => -i128::from(self.self_size(x, mode)),
                ObjectSort::Distance => i128::from(distance_key(self.distance(x))),
                ObjectSort::Id => 0,
            };
            (k, id)
        };
        if limit == 0 {
            xs.clear();
            return;
        }
        if xs.len() > limit {
            xs.select_nth_unstable_by_key(limit - 1, key);
            xs.truncate(limit);
        }
        xs.sort_unstable_by_key(key);
    }

    /// The members of class `class_name` (those counted in the Summary for `mode`, i.e. with
    /// a non-zero self size), sorted by `sort`, at most `limit`.
    pub fn objects(
        &self,
        graph: &HeapGraph,
        class_name: &str,
        mode: SizeMode,
        sort: ObjectSort,
        limit: usize,
    ) -> Vec<ObjectRow> {
        let Some(&c) = self.class_lookup.get(class_name) else {
            return Vec::new();
        };
        let mut xs: Vec<u32> = self
            .class_of
            .iter()
            .enumerate()
            .filter(|&(x, &k)| k == c && self.self_size(x as u32, mode) > 0)
            .map(|(x, _)| x as u32)
            .collect();
        self.top(graph, &mut xs, mode, sort, limit);
        xs.into_iter()
            .map(|x| self.object_row(graph, x, mode))
            .collect()
    }

    /// The `n` objects with the biggest retained size in `mode`.
    ///
    /// Listed are nodes a user can act on: not synthetic (the root, `(GC roots)` and its
    /// sub-roots group everything and would always top the list), not reachable only through
    /// system roots (distance ≥ 100 000 000: V8 internals such as builtins), and with a non-zero
    /// self size in `mode` (the Summary's membership rule). Unreachable objects are listed; they
    /// are garbage that the next GC frees. Nested objects are listed as they are — an object
    /// and its dominator may both appear.
    pub fn largest_objects(&self, graph: &HeapGraph, mode: SizeMode, n: usize) -> Vec<ObjectRow> {
        let mut xs: Vec<u32> = (0..self.node_count as u32)
            .filter(|&x| {
                graph.node_type(x) != NodeType::Synthetic
                    && self.distance(x) < BASE_SYSTEM_DISTANCE
                    && self.self_size(x, mode) > 0
            })
            .collect();
        self.top(graph, &mut xs, mode, ObjectSort::Retained, n);
        xs.into_iter()
            .map(|x| self.object_row(graph, x, mode))
            .collect()
    }
}
