//! Node-API binding of leakguard: the only Rust code that names napi types.
//!
//! Every entry point follows one pattern (borrowed from oxc's napi packages): an `_impl`
//! function that calls the core, an async task that runs it on the libuv thread pool, and a
//! `…Sync` twin for callers that may block (the CLI). Errors cross into JS as plain napi errors
//! whose message starts with the stable code (`ERR_LEAKGUARD_…: text`); the JS wrapper turns
//! that prefix into `err.code`, because napi-rs async rejections cannot carry custom
//! properties. Panics are caught here so that none can reach Node.

#![deny(clippy::all)]

mod analysis;
mod compare;
mod job;
mod sampler;
mod snapshot;
mod verdict;

pub use job::Job;
pub use sampler::NativeSampler;
pub use snapshot::NativeSnapshot;

use leakguard_core::Error as CoreError;
use napi::{Error, Status};

/// Converts a core error into a napi error carrying the stable code as message prefix.
pub(crate) fn to_napi(err: CoreError) -> Error {
    Error::new(
        Status::GenericFailure,
        format!("{}: {}", err.code(), err.message()),
    )
}

/// Runs `f`, turning a panic (a bug, never expected) into an `ERR_LEAKGUARD_INTERNAL` error
/// instead of unwinding into Node.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, CoreError>) -> napi::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_napi(e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::new(
                Status::GenericFailure,
                format!("ERR_LEAKGUARD_INTERNAL: internal error (please report): {what}"),
            ))
        }
    }
}
