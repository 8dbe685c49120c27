//! Per-class leak grouping (`by_class`, docs/leaks.md#per-class-grouping) on hand-made suspect
//! lists: digits-merged holders, holder ranking with V8-internal roots last, `via`, the
//! threshold / minCount cut, ignored classes and the class order.

use leakguard_core::analysis::{PathKind, RetainerPath};
use leakguard_core::compare::{by_class, ClassOptions, LeakClass, Suspect};

/// A suspect of `class` with `count` roots, `retained` bytes, `shape` and one sample path
/// `path` (none when empty).
fn suspect(class: &str, count: u64, retained: u64, shape: &str, path: &str) -> Suspect {
    Suspect {
        class_name: class.into(),
        count,
        retained_size: retained,
        shallow_size: retained / 2,
        sample_ids: vec![1],
        paths: if path.is_empty() {
            Vec::new()
        } else {
            vec![RetainerPath {
                steps: Vec::new(),
                text: path.into(),
                kind: PathKind::DevTools,
                complete: true,
            }]
        },
        shape: shape.into(),
        held_via: None,
        location: None,
        allocations: Vec::new(),
    }
}

fn opts(calls: u64) -> ClassOptions {
    ClassOptions {
        calls,
        threshold: 0.0,
        min_count: 0,
        ignore_classes: Vec::new(),
    }
}

fn names(classes: &[LeakClass]) -> Vec<&str> {
    classes.iter().map(|c| c.class_name.as_str()).collect()
}

#[test]
fn counts_and_sizes_sum_per_class() {
    let s = [
        suspect(
            "Req",
            30,
            3000,
            "global → .a → Req",
            "global → .a (Map) → Req",
        ),
        suspect("Sock", 10, 500, "global → .s → Sock", "global → .s → Sock"),
        suspect(
            "Req",
            10,
            1000,
            "global → .b → Req",
            "global → .b (Map) → Req",
        ),
    ];
    let c = by_class(&s, &opts(10));
    assert_eq!(names(&c), ["Req", "Sock"]);
    assert_eq!((c[0].count, c[0].retained_size, c[0].calls), (40, 4000, 10));
    assert_eq!(c[0].per_iteration, 4.0);
    assert_eq!(c[0].path, "global → .a (Map) → Req");
    assert_eq!(
        c[0].paths,
        ["global → .a (Map) → Req", "global → .b (Map) → Req"]
    );
    assert_eq!(c[0].via, None);
    assert_eq!(c[1].per_iteration, 1.0);
}

#[test]
fn holders_differing_only_by_digits_are_merged() {
    // A new global per call: `__pending_17`, `__pending_18`, … is one holder, and its count
    // (3 + 3) beats the other holder's 5.
    let s = [
        suspect(
            "Req",
            5,
            100,
            "global → .other → Req",
            "global → .other → Req",
        ),
        suspect(
            "Req",
            3,
            10,
            "global → .__pending_17 → Req",
            "global → .__pending_17 → Req",
        ),
        suspect(
            "Req",
            3,
            10,
            "global → .__pending_18 → Req",
            "global → .__pending_18 → Req",
        ),
    ];
    let c = by_class(&s, &opts(1));
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].paths,
        ["global → .__pending_17 → Req", "global → .other → Req"]
    );
    // The holder's path is the first suspect's that has one.
    let s = [
        suspect("Req", 3, 10, "global → .__pending_1 → Req", ""),
        suspect(
            "Req",
            3,
            10,
            "global → .__pending_2 → Req",
            "global → .__pending_2 → Req",
        ),
    ];
    assert_eq!(
        by_class(&s, &opts(1))[0].paths,
        ["global → .__pending_2 → Req"]
    );
}

#[test]
fn holders_rank_by_count_then_internal_roots_last_then_size() {
    let s = [
        suspect(
            "T",
            4,
            900,
            "(synthetic) → a → T",
            "(synthetic) → (Handles) → T",
        ),
        suspect("T", 4, 100, "global → .b → T", "global → .b → T"),
        suspect(
            "T",
            4,
            800,
            "x → {native_context} → T",
            "x → {native_context} → T",
        ),
        suspect("T", 4, 200, "global → .c → T", "global → .c → T"),
        suspect("T", 9, 1, "global → .big → T", "global → .big → T"),
    ];
    let c = by_class(&s, &opts(1));
    assert_eq!(
        c[0].paths,
        [
            "global → .big → T",
            "global → .c → T",
            "global → .b → T",
            "(synthetic) → (Handles) → T",
            "x → {native_context} → T",
        ]
    );
    // At most five paths; holders without a path are skipped.
    let mut many: Vec<Suspect> = (0..7)
        .map(|i| {
            suspect(
                "T",
                1,
                1,
                &format!("g → .h{} → T", "x".repeat(i)),
                &format!("p{i}"),
            )
        })
        .collect();
    many.push(suspect("T", 50, 1, "g → .nopath → T", ""));
    let c = by_class(&many, &opts(1));
    assert_eq!(c[0].paths, ["p0", "p1", "p2", "p3", "p4"]);
    assert_eq!(c[0].path, "p0");
    assert_eq!(c[0].count, 57);
    // A class with no path at all.
    let c = by_class(&[suspect("U", 2, 2, "s", "")], &opts(1));
    assert_eq!((c[0].path.as_str(), c[0].paths.len()), ("", 0));
}

#[test]
fn via_is_named_only_when_every_group_goes_through_one_other_class() {
    let mut s = vec![
        suspect(
            "Req",
            10,
            1000,
            "global → .reqs → Req",
            "global → .reqs → Req",
        ),
        suspect("Sock", 10, 500, "a → Sock", "a → Req → Sock"),
        suspect("Sock", 10, 500, "b → Sock", "b → Req → Sock"),
        suspect("Other", 10, 1, "c → Other", "c → Other"),
        suspect("Req", 1, 1, "d → Req", "d → Req"),
    ];
    s[1].held_via = Some(0);
    s[2].held_via = Some(4); // another Req suspect: still class Req
    let c = by_class(&s, &opts(1));
    let via = |name: &str| c.iter().find(|c| c.class_name == name).unwrap().via.clone();
    assert_eq!(via("Sock").as_deref(), Some("Req"));
    assert_eq!(via("Req"), None);

    // One group not held through anything: not named.
    s[2].held_via = None;
    let c = by_class(&s, &opts(1));
    assert_eq!(c.iter().find(|c| c.class_name == "Sock").unwrap().via, None);
    // Held through two different classes: not named.
    s[2].held_via = Some(3);
    let c = by_class(&s, &opts(1));
    assert_eq!(c.iter().find(|c| c.class_name == "Sock").unwrap().via, None);
    // Held through its own class (a chain split in two suspects): not named.
    s[1].held_via = Some(2);
    s[2].held_via = Some(1);
    let c = by_class(&s, &opts(1));
    assert_eq!(c.iter().find(|c| c.class_name == "Sock").unwrap().via, None);
}

#[test]
fn threshold_and_min_count_cut_classes() {
    let s = [
        suspect("A", 20, 1, "a", "a"),
        suspect("B", 9, 1, "b", "b"),
        suspect("C", 10, 1, "c", "c"),
    ];
    // 10 calls, threshold 1 per call: B (0.9) is dropped, C (exactly 1) stays.
    let o = ClassOptions {
        threshold: 1.0,
        ..opts(10)
    };
    assert_eq!(names(&by_class(&s, &o)), ["A", "C"]);
    // minCount 11: only A.
    let o = ClassOptions {
        min_count: 11,
        ..opts(10)
    };
    assert_eq!(names(&by_class(&s, &o)), ["A"]);
    // Both cut on the class's sum, not per suspect.
    let s = [suspect("A", 6, 1, "a", "a"), suspect("A", 6, 1, "b", "b")];
    let o = ClassOptions {
        threshold: 1.0,
        min_count: 12,
        ..opts(12)
    };
    assert_eq!(by_class(&s, &o).len(), 1);
}

#[test]
fn ignored_classes_are_skipped() {
    let s = [
        suspect(
            "Cache",
            100,
            10_000,
            "g → .cache → Cache",
            "g → .cache → Cache",
        ),
        suspect("Req", 5, 10, "g → .r → Req", "g → .r → Req"),
    ];
    let o = ClassOptions {
        ignore_classes: vec!["Cache".into(), "Nope".into()],
        ..opts(1)
    };
    assert_eq!(names(&by_class(&s, &o)), ["Req"]);
}

#[test]
fn classes_sort_by_per_iteration_then_retained_size_stably() {
    let s = [
        suspect("Small", 5, 10, "a", "a"),
        suspect("Big", 5, 99, "b", "b"),
        suspect("Many", 8, 1, "c", "c"),
        suspect("Tie", 5, 10, "d", "d"),
    ];
    assert_eq!(
        names(&by_class(&s, &opts(4))),
        ["Many", "Big", "Small", "Tie"]
    );
    assert!(by_class(&[], &opts(1)).is_empty());
}
