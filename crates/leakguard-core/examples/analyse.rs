//! Analyses a heap snapshot and prints phase timings, the top Summary rows, the largest objects
//! and, optionally, retainer paths of one class.
//!
//! ```text
//! cargo run --release -p leakguard-core --example analyse -- FILE [--raw] [--top N] [--class NAME]
//! ```

use leakguard_core::analysis::{Analysis, ObjectSort, PathKind, SizeMode};
use leakguard_core::Control;
use leakguard_core::{parse_file, LoadOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut mode = SizeMode::DevTools;
    let mut top = 15usize;
    let mut class: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--raw" => mode = SizeMode::Raw,
            "--top" => top = args.next().and_then(|s| s.parse().ok()).unwrap_or(top),
            "--class" => class = args.next(),
            _ => file = Some(PathBuf::from(a)),
        }
    }
    let Some(file) = file else {
        eprintln!("usage: analyse FILE [--raw] [--top N] [--class NAME]");
        return ExitCode::from(2);
    };

    let t = Instant::now();
    let graph = match parse_file(&file, &LoadOptions::default(), Control::NONE) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("parse failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let parse_time = t.elapsed();
    println!(
        "{}: {} nodes, {} edges, parsed in {:.3} s",
        file.display(),
        graph.node_count(),
        graph.edge_count(),
        parse_time.as_secs_f64()
    );

    let t = Instant::now();
    let a = match Analysis::compute(&graph, Control::NONE) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("analysis failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let total = t.elapsed();
    println!("analysis phases:");
    for (name, d) in &a.timings().phases {
        println!("  {name:<16} {:>8.1} ms", d.as_secs_f64() * 1e3);
    }
    println!("  {:<16} {:>8.1} ms", "total", total.as_secs_f64() * 1e3);

    let t = Instant::now();
    let rows = a.summary(&graph, mode);
    println!(
        "summary ({mode:?}) built in {:.1} ms, {} classes, total size {}",
        t.elapsed().as_secs_f64() * 1e3,
        rows.len(),
        a.total_size()
    );
    println!(
        "{:<40} {:>9} {:>12} {:>12} {:>10}",
        "class", "count", "shallow", "retained", "distance"
    );
    for r in rows.iter().take(top) {
        let name: String = r.class_name.chars().take(40).collect();
        println!(
            "{name:<40} {:>9} {:>12} {:>12} {:>10}",
            r.count, r.shallow_size, r.retained_size, r.distance
        );
    }

    println!("largest objects:");
    for o in a.largest_objects(&graph, mode, top.min(10)) {
        let name: String = o.name.chars().take(40).collect();
        println!(
            "  @{:<10} {:<30} {:<40} retained {:>12}",
            o.id,
            o.class_name.chars().take(30).collect::<String>(),
            name,
            o.retained_size
        );
    }

    if let Some(class) = class {
        let objs = a.objects(&graph, &class, mode, ObjectSort::Retained, 3);
        for o in objs {
            for kind in [PathKind::DevTools, PathKind::Shortest] {
                let t = Instant::now();
                if let Some(p) = a.retainer_path(&graph, o.ordinal, kind, 20) {
                    println!(
                        "{kind:?} path of @{} ({:.2} ms): {}",
                        o.id,
                        t.elapsed().as_secs_f64() * 1e3,
                        p.text
                    );
                }
            }
        }
    }
    ExitCode::SUCCESS
}
