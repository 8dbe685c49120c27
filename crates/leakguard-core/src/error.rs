//! The single error type of the core; the binding maps [`Error::code`] onto `err.code` in JS.

use std::fmt;

/// Everything that can go wrong in the core. Bad input is always one of these, never a panic,
/// because a panic in an addon would take the host Node.js process down.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed heap snapshot. `offset` points at the offending byte (or
    /// at the start of the array whose row count is wrong, or at the end for truncated files) so
    /// a user can look at the file with a hex viewer.
    Parse {
        /// Byte offset into the file.
        offset: u64,
        /// What was wrong, in words.
        message: String,
    },
    /// The file could not be opened, mapped or read.
    Io {
        /// The path as given by the caller.
        path: String,
        /// The operating system's explanation.
        message: String,
    },
    /// A caller passed an argument that makes no sense (the binding forwards JS arguments).
    InvalidArg(String),
    /// The caller's cancel flag was raised while work was running.
    Aborted,
    /// Two inputs that must belong together do not (e.g. snapshots of different processes).
    Mismatch(String),
    /// The input is well-formed but exceeds what the compact 32-bit layout can index.
    TooLarge(String),
}

/// Shorthand used throughout the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Stable machine-readable code; JS callers switch on it, so never change an existing one.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse { .. } => "ERR_LEAKGUARD_PARSE",
            Error::Io { .. } => "ERR_LEAKGUARD_IO",
            Error::InvalidArg(_) => "ERR_LEAKGUARD_INVALID_ARG",
            Error::Aborted => "ERR_LEAKGUARD_ABORTED",
            Error::Mismatch(_) => "ERR_LEAKGUARD_MISMATCH",
            Error::TooLarge(_) => "ERR_LEAKGUARD_TOO_LARGE",
        }
    }

    /// Builds a [`Error::Parse`]; the offset is `usize` at every call site, so convert here once.
    pub(crate) fn parse(offset: usize, message: impl Into<String>) -> Error {
        Error::Parse {
            offset: offset as u64,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse { offset, message } => write!(f, "{message} at byte {offset}"),
            Error::Io { path, message } => write!(f, "cannot read {path}: {message}"),
            Error::InvalidArg(m) => write!(f, "invalid argument: {m}"),
            Error::Aborted => f.write_str("operation aborted"),
            Error::Mismatch(m) => write!(f, "mismatch: {m}"),
            Error::TooLarge(m) => write!(f, "too large: {m}"),
        }
    }
}

impl std::error::Error for Error {}
