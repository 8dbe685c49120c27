//! Parses a snapshot and prints counts, wall time and peak RSS; used to tune the parser.
//!
//! `cargo run --release -p leakguard-core --example parse -- FILE [THREADS [CHUNK_BYTES]]`
//!
//! `CHUNK_BYTES` sets [`LoadOptions::chunk_bytes`]. With `LEAKGUARD_PARSE_TIMING=1` the parser
//! also prints, on stderr, which thread ran each work item and when.

use leakguard_core::{parse_file, Control, LoadOptions};
use std::time::Instant;

/// Peak resident set size in KiB (VmHWM), or 0 where /proc is unavailable.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse FILE [THREADS [CHUNK_BYTES]]");
        std::process::exit(2);
    };
    let threads = args.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    let chunk_bytes = args.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    let opts = LoadOptions {
        threads,
        chunk_bytes,
    };
    let start = Instant::now();
    match parse_file(std::path::Path::new(&path), &opts, Control::NONE) {
        Ok(g) => {
            let wall = start.elapsed();
            println!(
                "nodes {} edges {} strings {} total_size {} graph_bytes {} MiB",
                g.node_count(),
                g.edge_count(),
                g.string_count(),
                g.total_size(),
                g.heap_bytes() >> 20
            );
            println!(
                "wall {:.3} s, peak RSS {} MiB",
                wall.as_secs_f64(),
                peak_rss_kib() >> 10
            );
        }
        Err(e) => {
            eprintln!("error ({}): {e}", e.code());
            std::process::exit(1);
        }
    }
}
