//! Malformed and unusual inputs: every validation rule of the parser
//! (docs/snapshot-format.md#what-the-parser-checks) plus the robustness cases: lone surrogates,
//! unknown node types, the root not first.

mod common;
use common::*;
use leakguard_core::{parse_file, Control, Error, LoadOptions, NodeType};
use serde_json::json;

/// Asserts a Parse error and returns (offset, message).
fn parse_err(bytes: &[u8]) -> (u64, String) {
    for result in [parse(bytes), parse_serial(bytes)] {
        match result {
            Err(Error::Parse { .. }) => {}
            other => panic!(
                "expected a parse error, got {:?}",
                other.map(|g| g.node_count())
            ),
        }
    }
    match parse(bytes) {
        Err(Error::Parse { offset, message }) => (offset, message),
        _ => unreachable!(),
    }
}

fn find(hay: &[u8], needle: &str) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle} not in input"))
}

fn replace_once(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let s = std::str::from_utf8(bytes).unwrap();
    assert!(s.contains(from), "{from}");
    s.replacen(from, to, 1).into_bytes()
}

#[test]
fn unaligned_to_node_is_invalid() {
    let bytes = edit(&vector("v1"), |v| v["edges"][2] = json!(7));
    let (offset, msg) = parse_err(&bytes);
    assert!(msg.contains("invalid to_node"), "{msg}");
    assert_eq!(&bytes[offset as usize..offset as usize + 1], b"7");
    // Past the last node is invalid too.
    let bytes = edit(&vector("v1"), |v| v["edges"][2] = json!(90));
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("invalid to_node"), "{msg}");
}

#[test]
fn edge_count_sum_mismatch() {
    let bytes = edit(&vector("v1"), |v| v["nodes"][4] = json!(3));
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("edge_count"), "{msg}");
    let bytes = edit(&vector("v1"), |v| v["nodes"][4] = json!(1));
    let (offset, msg) = parse_err(&bytes);
    assert!(msg.contains("edge_count"), "{msg}");
    assert_eq!(offset as usize, find(&bytes, "\"nodes\":[") + 8);
}

#[test]
fn row_counts_must_match_header() {
    // More node rows than node_count.
    let bytes = edit(&vector("v1"), |v| v["snapshot"]["node_count"] = json!(14));
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("node"), "{msg}");
    // Fewer: reported at the array's '['.
    let bytes = edit(&vector("v1"), |v| v["snapshot"]["node_count"] = json!(16));
    let (offset, msg) = parse_err(&bytes);
    assert!(msg.contains("node_count"), "{msg}");
    assert_eq!(offset as usize, find(&bytes, "\"nodes\":[") + 8);
    // Edge rows.
    let bytes = edit(&vector("v1"), |v| {
        v["snapshot"]["edge_count"] = json!(20);
        v["nodes"][4] = json!(3);
    });
    let (offset, msg) = parse_err(&bytes);
    assert!(msg.contains("edge"), "{msg}");
    assert_eq!(offset as usize, find(&bytes, "\"edges\":[") + 8);
    let bytes = edit(&vector("v1"), |v| {
        v["snapshot"]["edge_count"] = json!(18);
        v["nodes"][4] = json!(1);
    });
    parse_err(&bytes);
    // A header that claims far more rows than the bytes can hold fails before allocating.
    let bytes = edit(&vector("v1"), |v| {
        v["snapshot"]["node_count"] = json!(1u64 << 31)
    });
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("cannot fit"), "{msg}");
    let bytes = edit(&vector("v1"), |v| {
        v["snapshot"]["edge_count"] = json!(4_000_000_000u64)
    });
    parse_err(&bytes);
    // Beyond the 32-bit layout: TooLarge.
    let bytes = edit(&vector("v1"), |v| {
        v["snapshot"]["node_count"] = json!(1u64 << 40)
    });
    assert!(matches!(parse(&bytes), Err(Error::TooLarge(_))));
}

#[test]
fn node_types_length_may_differ_from_node_fields() {
    let want = dump(&parse(&vector("v1")).unwrap());
    for extra in [false, true] {
        let bytes = edit(&vector("v1"), |v| {
            let t = v["snapshot"]["meta"]["node_types"].as_array_mut().unwrap();
            if extra {
                t.push(json!("number"));
                t.push(json!("number"));
            } else {
                t.pop();
                t.pop();
            }
        });
        assert_eq!(dump(&parse(&bytes).unwrap()), want);
    }
}

#[test]
fn lone_surrogates_become_replacement_characters() {
    let bytes = vector("v1");
    let bytes = replace_once(&bytes, "\"hello\"", "\"\\ud800\"");
    let bytes = replace_once(&bytes, "\"Baz\"", "\"a\\udc00b\"");
    let bytes = replace_once(
        &bytes,
        "\"Foo\"",
        "\"\\ud83d\\ude00 \\uD800\\u0041 \\u00e9\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
    );
    let bytes = replace_once(&bytes, "\"Bar\"", "\"B\\ud800\\ud800r\"");
    let g = parse(&bytes).unwrap();
    assert_eq!(g.node_name(10), "\u{FFFD}");
    assert_eq!(g.node_name(11), "a\u{FFFD}b");
    assert_eq!(
        g.node_name(3),
        "\u{1F600} \u{FFFD}A \u{e9}/\u{8}\u{c}\n\r\t\"\\"
    );
    assert_eq!(g.node_name(5), "B\u{FFFD}\u{FFFD}r");
    assert_eq!(g.node_name(2), "Global");
    // Raw bytes that are not UTF-8 are replaced, raw UTF-8 is kept.
    let mut raw = replace_once(&vector("v1"), "\"hello\"", "\"h\u{e9}\u{6f22}QQ\"");
    let at = find(&raw, "QQ\"") + 1;
    raw[at] = 0xFF;
    let g = parse(&raw).unwrap();
    assert_eq!(g.node_name(10), "h\u{e9}\u{6f22}Q\u{FFFD}");
    // Bad escapes are errors.
    for bad in ["\"\\x\"", "\"\\u12G4\"", "\"\\u12\""] {
        let bytes = replace_once(&vector("v1"), "\"hello\"", bad);
        parse_err(&bytes);
    }
}

#[test]
fn unknown_node_type_is_other() {
    let bytes = edit(&vector("v1"), |v| {
        v["snapshot"]["meta"]["node_types"][0]
            .as_array_mut()
            .unwrap()
            .push(json!("wasm object"));
        v["nodes"][7 * 6] = json!(15);
    });
    let g = parse(&bytes).unwrap();
    assert_eq!(g.node_type(7), NodeType::Other(15));
    assert_eq!(g.node_type_name(7), "wasm object");
    assert_eq!(g.node_name(7), "X");
    // An enum in a different order still resolves by name.
    let bytes = edit(&vector("v1"), |v| {
        let t = v["snapshot"]["meta"]["node_types"][0]
            .as_array_mut()
            .unwrap();
        t.swap(3, 9); // "object" <-> "synthetic"
        for row in 0..15 {
            let c = &mut v["nodes"][row * 6];
            let x = c.as_u64().unwrap();
            *c = json!(if x == 3 {
                9
            } else if x == 9 {
                3
            } else {
                x
            });
        }
    });
    let g = parse(&bytes).unwrap();
    assert_eq!(g.node_type(0), NodeType::Synthetic);
    assert_eq!(g.node_type(2), NodeType::Object);
    // A type value past the enum is Other too; an unknown edge type likewise.
    let bytes = edit(&vector("v1"), |v| {
        v["nodes"][7 * 6] = json!(200);
        v["edges"][3 * 3] = json!(9);
    });
    let g = parse(&bytes).unwrap();
    assert_eq!(g.node_type(7), NodeType::Other(200));
    assert_eq!(g.node_type_name(7), "");
    assert_eq!(g.edge_type(3), leakguard_core::EdgeType::Other(9));
    assert_eq!(g.edge_name(3), leakguard_core::EdgeName::Str("a"));
    // Values that cannot be a u8 enum index are errors.
    let bytes = edit(&vector("v1"), |v| v["nodes"][7 * 6] = json!(256));
    parse_err(&bytes);
}

#[test]
fn root_index() {
    let bytes = edit(&vector("v1"), |v| v["snapshot"]["root_index"] = json!(84));
    let g = parse(&bytes).unwrap();
    assert_eq!(g.root(), 14);
    assert_eq!(g.node_name(g.root()), "Q");
    // With a trace column the field count is 7 and the rewrite scales root_index.
    let re = rewrite(&bytes, &[0, 1, 2, 3, 4, 5], &[0, 1, 2], Some(5));
    assert_eq!(parse(&re).unwrap().root(), 14);
    for bad in [83, 90, 1000] {
        let bytes = edit(&vector("v1"), |v| v["snapshot"]["root_index"] = json!(bad));
        let (_, msg) = parse_err(&bytes);
        assert!(msg.contains("root_index"), "{msg}");
    }
}

#[test]
fn string_indices_must_be_in_range() {
    let bytes = edit(&vector("v1"), |v| v["nodes"][6 + 1] = json!(28));
    let (offset, msg) = parse_err(&bytes);
    assert!(msg.contains("string index"), "{msg}");
    assert_eq!(&bytes[offset as usize..offset as usize + 2], b"28");
    // Property edge name out of range.
    let bytes = edit(&vector("v1"), |v| v["edges"][3 * 3 + 1] = json!(99));
    let (offset, msg) = parse_err(&bytes);
    assert!(msg.contains("string index"), "{msg}");
    assert_eq!(&bytes[offset as usize..offset as usize + 2], b"99");
    // Element edges carry an index, not a string: any value is fine.
    let bytes = edit(&vector("v1"), |v| v["edges"][1] = json!(4_000_000_000u64));
    let g = parse(&bytes).unwrap();
    assert_eq!(
        g.edge_name(0),
        leakguard_core::EdgeName::Index(4_000_000_000)
    );
}

#[test]
fn bad_numbers() {
    let v1 = vector("v1");
    let nodes_at = find(&v1, "\"nodes\":[") + 9;
    let edges_at = find(&v1, "\"edges\":[") + 9;
    for (at, tok) in [
        (nodes_at, "-9"),
        (nodes_at, "9.0"),
        (nodes_at, "9e0"),
        (nodes_at, "\"9\""),
        (nodes_at, "null"),
        (nodes_at, "[9]"),
        (edges_at, "x"),
        (edges_at, ",1"),
        (edges_at, "1 1"),
    ] {
        let mut bytes = v1[..at].to_vec();
        bytes.extend_from_slice(tok.as_bytes());
        bytes.extend_from_slice(&v1[at + 1..]);
        let (offset, _) = parse_err(&bytes);
        assert!(
            offset as usize >= at - 1 && offset as usize <= at + 2,
            "{tok}: offset {offset} vs {at}"
        );
    }
    // u32 overflow: ids and names are errors; self_size is kept exact.
    let bytes = edit(&v1, |v| v["nodes"][6 + 2] = json!(1u64 << 32));
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("id"), "{msg}");
    let bytes = edit(&v1, |v| v["nodes"][6 + 2] = json!(u32::MAX));
    assert_eq!(parse(&bytes).unwrap().node_id(1), u32::MAX);
    let big = (1u64 << 40) + 7;
    let bytes = edit(&v1, |v| {
        v["nodes"][6 + 3] = json!(big);
        v["nodes"][2 * 6 + 3] = json!(u32::MAX);
    });
    let g = parse(&bytes).unwrap();
    assert_eq!(g.self_size(1), big);
    assert_eq!(g.self_size(2), u64::from(u32::MAX));
    assert_eq!(g.total_size(), 314 - 10 + big + u64::from(u32::MAX));
    let bytes = replace_once(&v1, "[9,1,1,0,2,0", "[9,1,1,100000000000000000000,2,0");
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("too large"), "{msg}");
    let bytes = replace_once(&v1, "[9,1,1,0,2,0", "[9,1,1,18446744073709551615,2,0");
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("too large"), "{msg}");
    // Summing to more than 2^64 is an error, not a wrap.
    let bytes = replace_once(
        &v1,
        "[9,1,1,0,2,0\n,9,2,3,0",
        "[9,1,1,9999999999999999999,2,0\n,9,2,3,9999999999999999999",
    );
    let (_, msg) = parse_err(&bytes);
    assert!(msg.contains("64 bits"), "{msg}");
}

#[test]
fn not_a_snapshot() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    for bytes in [
        &b""[..],
        b"   \n",
        b"[]",
        b"{}",
        b"{\"a\":1}",
        b"null",
        b"{\"snapshot\":{}}",
        png,
        b"{\"nodes\":[],\"edges\":[],\"strings\":[]}",
    ] {
        parse_err(bytes);
    }
    // A structurally complete snapshot with no nodes at all is fine.
    let empty = edit(&vector("v1"), |v| {
        v["snapshot"]["node_count"] = json!(0);
        v["snapshot"]["edge_count"] = json!(0);
        v["nodes"] = json!([]);
        v["edges"] = json!([]);
    });
    let g = parse(&empty).unwrap();
    assert_eq!((g.node_count(), g.edge_count(), g.total_size()), (0, 0, 0));
}

#[test]
fn structural_errors() {
    let v1 = vector("v1");
    // Duplicate keys, trailing data, missing required keys and header fields.
    let dup = replace_once(&v1, "\"samples\":[]", "\"nodes\":[]");
    assert!(parse_err(&dup).1.contains("duplicate"));
    let mut trailing = v1.clone();
    trailing.extend_from_slice(b" x");
    parse_err(&trailing);
    let mut twice = v1.clone();
    twice.extend_from_slice(&v1);
    parse_err(&twice);
    for key in ["nodes", "edges", "strings", "snapshot"] {
        let bytes = edit(&v1, |v| {
            v.as_object_mut().unwrap().remove(key);
        });
        assert!(parse_err(&bytes).1.contains(key));
    }
    for field in ["type", "name", "id", "self_size", "edge_count"] {
        let bytes = edit(&v1, |v| {
            let f = v["snapshot"]["meta"]["node_fields"].as_array_mut().unwrap();
            let p = f.iter().position(|x| x == field).unwrap();
            f[p] = json!("something_else");
        });
        assert!(parse_err(&bytes).1.contains(field));
    }
    for field in ["type", "name_or_index", "to_node"] {
        let bytes = edit(&v1, |v| {
            let f = v["snapshot"]["meta"]["edge_fields"].as_array_mut().unwrap();
            let p = f.iter().position(|x| x == field).unwrap();
            f[p] = json!("x");
        });
        assert!(parse_err(&bytes).1.contains(field));
    }
    let bytes = edit(&v1, |v| {
        v["snapshot"]["meta"]["node_fields"][1] = json!("id")
    });
    assert!(parse_err(&bytes).1.contains("duplicate"));
    let bytes = edit(&v1, |v| v["snapshot"]["node_count"] = json!(-1));
    parse_err(&bytes);
    let bytes = edit(&v1, |v| v["snapshot"]["meta"]["node_types"] = json!(["x"]));
    parse_err(&bytes);
    // Unknown extra columns are skipped.
    let re = edit(
        &rewrite(&v1, &[0, 1, 2, 3, 4, 5], &[0, 1, 2], Some(6)),
        |v| {
            v["snapshot"]["meta"]["node_fields"][6] = json!("future_field");
        },
    );
    assert_eq!(dump(&parse(&re).unwrap()), dump(&parse(&v1).unwrap()));
    // Unknown top-level values of any shape are skipped.
    let extra = replace_once(
        &v1,
        "\"samples\":[]",
        "\"samples\":[], \"x\":{\"a\":[1,{\"b\":\"]}\\\"\"}],\"c\":true,\"d\":-1.5e3,\"e\":null}",
    );
    assert_eq!(dump(&parse(&extra).unwrap()), dump(&parse(&v1).unwrap()));
    let unbalanced = replace_once(&v1, "\"samples\":[]", "\"samples\":[}");
    parse_err(&unbalanced);
}

#[test]
fn errors_have_codes_and_display() {
    let e = Error::Parse {
        offset: 12,
        message: "bad".into(),
    };
    assert_eq!(e.to_string(), "bad at byte 12");
    assert_eq!(e.code(), "ERR_LEAKGUARD_PARSE");
    assert_eq!(Error::Aborted.code(), "ERR_LEAKGUARD_ABORTED");
    assert_eq!(
        Error::InvalidArg("x".into()).code(),
        "ERR_LEAKGUARD_INVALID_ARG"
    );
    assert_eq!(Error::Mismatch("x".into()).code(), "ERR_LEAKGUARD_MISMATCH");
    assert_eq!(
        Error::TooLarge("x".into()).code(),
        "ERR_LEAKGUARD_TOO_LARGE"
    );
    let io = parse_file(
        std::path::Path::new("/nonexistent/leakguard.heapsnapshot"),
        &LoadOptions::default(),
        Control::NONE,
    )
    .unwrap_err();
    assert_eq!(io.code(), "ERR_LEAKGUARD_IO");
    assert!(io
        .to_string()
        .contains("/nonexistent/leakguard.heapsnapshot"));
    let dir = parse_file(
        &std::env::temp_dir(),
        &LoadOptions::default(),
        Control::NONE,
    )
    .unwrap_err();
    assert_eq!(dir.code(), "ERR_LEAKGUARD_IO");
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    is_error(&e);
    // Empty files are parse errors, not I/O errors.
    let path = std::env::temp_dir().join(format!(
        "leakguard-empty-{}.heapsnapshot",
        std::process::id()
    ));
    std::fs::write(&path, b"").unwrap();
    let r = parse_file(&path, &LoadOptions::default(), Control::NONE);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(r, Err(Error::Parse { offset: 0, .. })));
}
