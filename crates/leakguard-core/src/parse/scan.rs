//! Byte-level JSON helpers for the structural pass: whitespace, strings (with our own decoder),
//! and a skipper for values we do not interpret.

use super::Item;
use crate::{Error, Result};

/// How often (in bytes) long loops check for cancellation and report progress.
pub(crate) const TICK: usize = 1 << 20;

#[inline(always)]
pub(crate) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

#[inline(always)]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !is_ws(c) {
            break;
        }
        i += 1;
    }
    i
}

/// The error for input that stops early; the offset is the file length, where it ended.
pub(crate) fn truncated(b: &[u8], what: &str) -> Error {
    Error::parse(b.len(), format!("unexpected end of file in {what}"))
}

/// Expects byte `want` at `i` (after whitespace) and returns the index after it.
pub(crate) fn expect(b: &[u8], i: usize, want: u8, what: &str) -> Result<usize> {
    let i = skip_ws(b, i);
    match b.get(i) {
        Some(&c) if c == want => Ok(i + 1),
        Some(_) => Err(Error::parse(
            i,
            format!("expected '{}' {what}", char::from(want)),
        )),
        None => Err(truncated(b, what)),
    }
}

fn hex4(b: &[u8], i: usize) -> Result<u32> {
    let digits = b
        .get(i..i + 4)
        .ok_or_else(|| truncated(b, "a \\u escape"))?;
    let mut v = 0u32;
    for (k, &c) in digits.iter().enumerate() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(Error::parse(i + k, "invalid hex digit in \\u escape")),
        };
        v = (v << 4) | u32::from(d);
    }
    Ok(v)
}

/// Appends raw string bytes; anything that is not valid UTF-8 becomes U+FFFD instead of failing,
/// since one odd byte in a name must not make a whole snapshot unreadable.
#[inline]
fn push_raw(out: &mut String, raw: &[u8]) {
    if raw.is_ascii() {
        // ASCII is valid UTF-8; from_utf8 cannot fail here, but stay panic-free regardless.
        out.push_str(std::str::from_utf8(raw).unwrap_or_default());
    } else {
        match std::str::from_utf8(raw) {
            Ok(s) => out.push_str(s),
            Err(_) => out.push_str(&String::from_utf8_lossy(raw)),
        }
    }
}

/// Decodes the JSON string whose opening quote is at `i`, appending its text to `out`; returns the
/// index after the closing quote. Our own decoder rather than serde_json because V8 writes lone
/// surrogates (`\ud800`) that serde_json rejects; we turn them into U+FFFD.
pub(crate) fn decode_string(b: &[u8], i: usize, out: &mut String) -> Result<usize> {
    if b.get(i) != Some(&b'"') {
        return match b.get(i) {
            None => Err(truncated(b, "a string")),
            Some(_) => Err(Error::parse(i, "expected a string")),
        };
    }
    let mut i = i + 1;
    loop {
        let rest = b.get(i..).unwrap_or_default();
        let Some(p) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(truncated(b, "a string"));
        };
        push_raw(out, rest.get(..p).unwrap_or_default());
        let q = i + p;
        if b.get(q) == Some(&b'"') {
            return Ok(q + 1);
        }
        // Backslash escape at q.
        let Some(&e) = b.get(q + 1) else {
            return Err(truncated(b, "a string escape"));
        };
        i = q + 2;
        match e {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let u = hex4(b, i)?;
                i += 4;
                let c = if (0xD800..0xDC00).contains(&u) {
                    // A high surrogate only counts if a low one follows; otherwise it is lone.
                    let low = if b.get(i..i + 2) == Some(b"\\u") {
                        hex4(b, i + 2).ok().filter(|l| (0xDC00..0xE000).contains(l))
                    } else {
                        None
                    };
                    match low {
                        Some(l) => {
                            i += 6;
                            char::from_u32(0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00))
                        }
                        None => None,
                    }
                } else {
                    char::from_u32(u) // None for a lone low surrogate
                };
                out.push(c.unwrap_or('\u{FFFD}'));
            }
            _ => return Err(Error::parse(q, "invalid escape in string")),
        }
    }
}

/// Skips the JSON string starting at `i` (a quote) without decoding; returns the index after it.
pub(crate) fn skip_string(b: &[u8], i: usize) -> Result<usize> {
    let mut i = i + 1;
    loop {
        let rest = b.get(i..).unwrap_or_default();
        let Some(p) = memchr::memchr2(b'"', b'\\', rest) else {
            return Err(truncated(b, "a string"));
        };
        let q = i + p;
        if b.get(q) == Some(&b'"') {
            return Ok(q + 1);
        }
        if q + 1 >= b.len() {
            return Err(truncated(b, "a string escape"));
        }
        i = q + 2;
    }
}

/// Skips any JSON value at `i` (after whitespace) and returns the index after it. Iterative with
/// an explicit stack, so deeply nested input (e.g. a huge `trace_tree`) cannot overflow the
/// thread stack. It checks bracket balance but is otherwise lenient: the values it skips are ones
/// we do not use.
pub(crate) fn skip_value(b: &[u8], mut i: usize, ctl: &Item) -> Result<usize> {
    let mut stack: Vec<u8> = Vec::new();
    let mut next_tick = i + TICK;
    let mut last = i;
    loop {
        i = skip_ws(b, i);
        let Some(&c) = b.get(i) else {
            return Err(truncated(b, "a value"));
        };
        match c {
            b'"' => i = skip_string(b, i)?,
            b'{' => {
                stack.push(b'}');
                i += 1;
                continue;
            }
            b'[' => {
                stack.push(b']');
                i += 1;
                continue;
            }
            b'}' | b']' => {
                if stack.pop() != Some(c) {
                    return Err(Error::parse(i, "unbalanced bracket"));
                }
                i += 1;
            }
            b',' | b':' => {
                if stack.is_empty() {
                    return Err(Error::parse(i, "expected a value"));
                }
                i += 1;
                continue;
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                while let Some(&c) = b.get(i) {
                    if is_ws(c) || matches!(c, b',' | b']' | b'}' | b':' | b'"' | b'[' | b'{') {
                        break;
                    }
                    i += 1;
                }
            }
            _ => return Err(Error::parse(i, "unexpected character")),
        }
        if stack.is_empty() {
            ctl.advance(2 * (i - last) as u64)?;
            return Ok(i);
        }
        if i >= next_tick {
            ctl.advance(2 * (i - last) as u64)?;
            last = i;
            next_tick = i + TICK;
        }
    }
}

/// Decoded string table: all texts back to back plus `count + 1` offsets.
pub(crate) struct Strings {
    pub(crate) text: String,
    pub(crate) offsets: Vec<u32>,
}

/// Decodes the `strings` array whose `[` is at `open`; returns the table and the index after `]`.
pub(crate) fn decode_strings(
    src: super::Source<'_>,
    open: usize,
    ctl: &Item,
) -> Result<(Strings, usize)> {
    let b = src.bytes;
    let mut text = String::new();
    let mut offsets: Vec<u32> = Vec::new();
    let too_large = || Error::TooLarge("string table exceeds 4 GiB".into());
    let mut i = expect(b, open, b'[', "to open the strings array")?;
    let mut last = open;
    let mut released = open;
    let mut next_tick = open + TICK;
    i = skip_ws(b, i);
    if b.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            offsets.push(u32::try_from(text.len()).map_err(|_| too_large())?);
            i = decode_string(b, i, &mut text)?;
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(_) => {
                    return Err(Error::parse(i, "expected ',' or ']' in strings array"));
                }
                None => return Err(truncated(b, "the strings array")),
            }
            if i >= next_tick {
                ctl.advance(2 * (i - last) as u64)?;
                last = i;
                next_tick = i + TICK;
                if i - released >= super::RELEASE {
                    src.release(released, i);
                    released = i;
                }
            }
        }
    }
    ctl.advance(2 * (i - last) as u64)?;
    src.release(released, i);
    offsets.push(u32::try_from(text.len()).map_err(|_| too_large())?);
    if offsets.len() > u32::MAX as usize {
        return Err(Error::TooLarge("more than 2^32 strings".into()));
    }
    text.shrink_to_fit();
    offsets.shrink_to_fit();
    Ok((Strings { text, offsets }, i))
}
