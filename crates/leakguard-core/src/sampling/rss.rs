//! Reading the resident set size of this process.

use crate::{Error, Result};

/// The resident set size of the calling process, in bytes, from `/proc/self/statm` (its second
/// field, in pages). That file is cheap to read (no allocation in the kernel, a few µs) and,
/// unlike `getrusage`, gives the current size rather than the peak.
///
/// Linux only: elsewhere this returns [`Error::Io`] ("not supported on this platform"), and
/// the sampler then records no RSS samples rather than failing.
#[cfg(target_os = "linux")]
pub fn read_rss() -> Result<u64> {
    let text = std::fs::read_to_string("/proc/self/statm")
        .map_err(|e| Error::io("/proc/self/statm", &e))?;
    let pages = parse_statm(&text).ok_or_else(|| Error::Io {
        path: "/proc/self/statm".into(),
        message: format!("unexpected contents {text:?}"),
    })?;
    Ok(pages.saturating_mul(page_size()))
}

/// See the Linux version: there is no `/proc/self/statm` here.
#[cfg(not(target_os = "linux"))]
pub fn read_rss() -> Result<u64> {
    Err(Error::Io {
        path: "/proc/self/statm".into(),
        message: "reading the resident set size is not supported on this platform".into(),
    })
}

/// The resident pages: the second whitespace-separated number.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_statm(text: &str) -> Option<u64> {
    text.split_ascii_whitespace().nth(1)?.parse().ok()
}

#[cfg(target_os = "linux")]
fn page_size() -> u64 {
    use std::sync::OnceLock;
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions and only reads a constant of the system.
        let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        // statm counts pages of this size; 4 KiB is what every Linux we target uses if the
        // call were ever to fail.
        u64::try_from(v).ok().filter(|&p| p > 0).unwrap_or(4096)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statm() {
        assert_eq!(parse_statm("12345 678 90 1 0 2 0\n"), Some(678));
        assert_eq!(parse_statm("12345"), None);
        assert_eq!(parse_statm("a b c"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_a_plausible_rss() {
        let rss = read_rss().unwrap();
        assert!(rss > 100 * 1024, "{rss}");
        assert!(rss < 1 << 40, "{rss}");
    }
}
