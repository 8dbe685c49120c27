//! Node-API binding of leakguard: the only Rust code that names napi types.
//!
//! Each module binds one part of the core: it converts JS values, delegates, and converts the
//! result back. Heavy work (loading, analysis, comparison) runs as an async task on the libuv
//! thread pool; only `loadSnapshotSync` also exists as a blocking twin, for the CLI and scripts.
//! Errors cross into JS as plain napi errors whose message starts with the stable code
//! (`ERR_LEAKGUARD_…: text`); the JS wrapper turns that prefix into `err.code`, because napi-rs
//! async rejections cannot carry custom properties. Every entry point, getters and finalizers
//! included, runs inside [`guard`], so no panic can reach Node; arguments that napi-rs would
//! reject with its own untyped errors are read through [`instance`] and [`value`] instead, so
//! a wrong object comes back as `ERR_LEAKGUARD_INVALID_ARG` naming what was expected.

#![deny(clippy::all)]

mod analysis;
mod compare;
mod job;
mod sampler;
mod series;
mod snapshot;
mod verdict;

pub use job::Job;
pub use sampler::NativeSampler;
pub use snapshot::NativeSnapshot;

use leakguard_core::Error as CoreError;
use napi::bindgen_prelude::{ClassInstance, FromNapiValue, MaybeTypeTag, TypeName, Unknown};
use napi::{Error, JsValue, Status, ValueType};
use serde::Serialize;

/// Converts a core error into a napi error carrying the stable code as message prefix.
pub(crate) fn to_napi(err: CoreError) -> Error {
    Error::new(
        Status::GenericFailure,
        format!("{}: {}", err.code(), err.message()),
    )
}

/// Runs `f`, turning a panic (a bug, never expected) into an `ERR_LEAKGUARD_INTERNAL` error
/// instead of unwinding into Node. The one panic barrier of the binding: entry points,
/// getters, task steps and finalizers all go through it.
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

/// JSON text of a result, its object keys in sorted order: serialised through
/// `serde_json::Value` (whose maps are sorted) rather than in field declaration order, because
/// the CLI prints the parsed objects again (`--json`) and that output has always had sorted
/// keys. The one JSON helper of the binding (analysis, comparison and sampler results).
/// Serialising these types cannot fail (no maps with non-string keys); the error only keeps a
/// surprise from becoming a panic.
pub fn result_json<T: Serialize + ?Sized>(v: &T) -> Result<String, CoreError> {
    serde_json::to_value(v)
        .map(|v| v.to_string())
        .map_err(|e| CoreError::InvalidArg(format!("cannot serialise a result: {e}")))
}

/// The JS type of `v` in words, for argument errors.
fn describe(v: &Unknown<'_>) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) => "another object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "something else",
    }
}

/// Argument `what` as a native class instance (`Job`, `NativeSnapshot`, …): napi-rs checks the
/// class (napi_unwrap, then the type tag) before it casts; anything else (a plain object, an
/// instance of another class) is `ERR_LEAKGUARD_INVALID_ARG` instead of napi-rs's untyped
/// error, which JS would report as internal.
pub(crate) fn instance<'a, T: 'a + MaybeTypeTag + TypeName>(
    v: Unknown<'a>,
    what: &str,
) -> Result<ClassInstance<'a, T>, CoreError> {
    let raw = v.value();
    // SAFETY: env and value come from the call napi-rs is converting, and the instance only
    // lives as long as that call's arguments.
    unsafe { ClassInstance::<T>::from_napi_value(raw.env, raw.value) }.map_err(|_| {
        CoreError::InvalidArg(format!(
            "{what} must be a {} instance, got {}",
            T::type_name(),
            describe(&v)
        ))
    })
}

/// Argument `what` converted to `T` (a string, a number, …), or `ERR_LEAKGUARD_INVALID_ARG`.
pub(crate) fn value<T: FromNapiValue>(
    v: Unknown<'_>,
    what: &str,
    want: &str,
) -> Result<T, CoreError> {
    let raw = v.value();
    // SAFETY: env and value come from the call napi-rs is converting; FromNapiValue checks
    // the JS type before reading it.
    unsafe { T::from_napi_value(raw.env, raw.value) }
        .map_err(|_| CoreError::InvalidArg(format!("{what} must be {want}, got {}", describe(&v))))
}
