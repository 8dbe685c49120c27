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

    /// Builds an [`Error::Io`] from an OS error, without Rust's " (os error N)" suffix: users
    /// read these messages, the suffix is noise to them.
    pub fn io(path: impl Into<String>, err: &std::io::Error) -> Error {
        let text = err.to_string();
        let message = match text.rfind(" (os error ") {
            Some(at) if text.ends_with(')') => text[..at].to_string(),
            _ => text,
        };
        Error::Io {
            path: path.into(),
            message,
        }
    }

    /// The message without the kind word that [`fmt::Display`] puts first ("mismatch: …"):
    /// for callers that show [`Error::code`] next to it anyway.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidArg(m) | Error::Mismatch(m) | Error::TooLarge(m) => m.clone(),
            other => other.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_drop_the_os_error_suffix_and_message_drops_the_kind() {
        let e = Error::io("/x", &std::io::Error::from_raw_os_error(2));
        assert_eq!(e.to_string(), "cannot read /x: No such file or directory");
        assert_eq!(e.code(), "ERR_LEAKGUARD_IO");
        let m = Error::Mismatch("different heaps".into());
        assert_eq!(m.to_string(), "mismatch: different heaps");
        assert_eq!(m.message(), "different heaps");
        assert_eq!(Error::parse(7, "bad").message(), "bad at byte 7");
        // A message of our own that merely ends in a parenthesis keeps it.
        let own = std::io::Error::other("odd (really)");
        assert_eq!(
            Error::io("/y", &own).to_string(),
            "cannot read /y: odd (really)"
        );
    }
}
