//! leakguard-core: parsing and analysis of V8 heap snapshots, with no Node-API types.
//!
//! The core is kept free of napi so that it can be tested with plain `cargo test` and reused by a
//! command-line tool; the binding in the workspace root only converts values and errors.

pub mod error;
pub use error::{Error, Result};

pub mod control;
pub use control::{Budget, Control};

pub mod graph;
pub use graph::{EdgeName, EdgeType, HeapGraph, NodeType};

pub mod alloc_trace;
pub mod holds;
mod io;
pub mod locations;
pub use alloc_trace::{AllocationFrame, AllocationSite};
pub use locations::{SourceInfo, SourceLocation};
pub mod parse;
pub use parse::{parse_bytes, parse_file, LoadOptions};

mod radix;

pub mod analysis;
pub use analysis::{
    Analysis, ClassAnalysis, ClassRow, ObjectRow, ObjectSort, PathKind, RetainerPath, SizeMode,
};

pub mod compare;
pub use compare::{check_same_heap, diff, find_leaks, DiffRow, LeakOptions, LeakReport, Suspect};

pub mod sampling;

pub mod session;
pub use session::{Analyzed, Session};

pub mod rounds;
