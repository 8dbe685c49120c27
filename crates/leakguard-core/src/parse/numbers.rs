//! Reading the numbers of the big arrays: a SWAR digit reader, separators, row-aware errors,
//! and a division by the node field count without a hardware divide per edge.

use super::scan::is_ws;
use crate::{Error, Result};

/// Division by the node field count without a hardware divide per edge: Lemire's
/// `ceil(2^64 / d)` multiply-high trick, exact for every 32-bit numerator.
#[derive(Clone, Copy)]
pub(super) struct FastDiv {
    pub(super) d: u64,
    pub(super) m: u64,
}

impl FastDiv {
    pub(super) fn new(d: u64) -> FastDiv {
        // d >= 5 always (five node fields are required); m = 0 selects the plain path otherwise.
        let m = if d >= 2 { u64::MAX / d + 1 } else { 0 };
        FastDiv { d, m }
    }

    /// Returns (quotient, remainder).
    #[inline(always)]
    pub(super) fn divrem(self, v: u64) -> (u64, u64) {
        if v <= u64::from(u32::MAX) && self.m != 0 {
            let q = ((u128::from(self.m) * u128::from(v)) >> 64) as u64;
            (q, v - q * self.d)
        } else {
            match (v.checked_div(self.d), v.checked_rem(self.d)) {
                (Some(q), Some(r)) => (q, r),
                _ => (0, v),
            }
        }
    }
}

/// Outcome of reading one number.
pub(super) enum Num {
    Ok(u64),
    /// No digit where a number must be.
    NotNumber,
    /// More than 19 digits: cannot be exact in a u64.
    TooLong,
}

/// Converts eight digit values (0..=9 per byte, most significant digit in the lowest byte) into
/// their decimal value with three multiplications (the simdjson trick); leading zero bytes are fine.
#[inline(always)]
pub(super) fn swar8(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    (v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))
        >> 32
}

/// Reads a run of ASCII digits at `*i`. The common case (fewer than 8 digits, 8 readable bytes)
/// is branch-light: a digit mask over one 8-byte word finds the length without a per-digit loop,
/// whose unpredictable exit would otherwise cost a branch miss per number.
#[inline(always)]
pub(super) fn read_number(a: &[u8], i: &mut usize) -> Num {
    let start = *i;
    let mut j = start;
    let mut v: u64 = 0;
    if let Some(word) = a
        .get(start..start + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let x = u64::from_le_bytes(word) ^ 0x3030_3030_3030_3030;
        // High bit set in every byte that is not a digit; carries out of such a byte only reach
        // later bytes, which do not matter because we stop at the first non-digit.
        let non_digit = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
        let len = (non_digit.trailing_zeros() / 8) as usize;
        if len == 0 {
            return Num::NotNumber;
        }
        if len < 8 {
            *i = start + len;
            return Num::Ok(swar8(x << (8 * (8 - len))));
        }
        v = swar8(x);
        j = start + 8;
    }
    while let Some(&c) = a.get(j) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        j += 1;
    }
    *i = j;
    match j - start {
        0 => Num::NotNumber,
        1..=19 => Num::Ok(v),
        _ => Num::TooLong,
    }
}

/// Moves past the `,` between two numbers (V8 writes `,` and `\n,`); false if there is none.
#[inline(always)]
pub(super) fn separator(a: &[u8], i: &mut usize) -> bool {
    if a.get(*i) == Some(&b',') {
        *i += 1;
    } else {
        let mut j = *i;
        while a.get(j).is_some_and(|&c| is_ws(c)) {
            j += 1;
        }
        if a.get(j) != Some(&b',') {
            *i = j;
            return false;
        }
        *i = j + 1;
    }
    while a.get(*i).is_some_and(|&c| is_ws(c)) {
        *i += 1;
    }
    true
}

/// Reads the next number of an array body `a` (which ends just before the closing `]`), with the
/// separator before it unless `first`. Errors name the row so a user can find it.
#[inline(always)]
pub(super) fn next_number(
    a: &[u8],
    i: &mut usize,
    first: bool,
    what: &str,
    row: usize,
    rows: usize,
    base: usize,
) -> Result<(u64, usize)> {
    if !first && !separator(a, i) {
        return Err(row_end_error(a, *i, what, row, rows, base));
    }
    let at = *i;
    match read_number(a, i) {
        Num::Ok(v) => Ok((v, at + base)),
        Num::NotNumber if at >= a.len() => Err(row_end_error(a, at, what, row, rows, base)),
        Num::NotNumber => Err(Error::parse(
            at + base,
            format!("non-numeric token in {what}s array (row {row})"),
        )),
        Num::TooLong => Err(Error::parse(
            at + base,
            format!("number too large in {what}s array (row {row})"),
        )),
    }
}

/// Running out of numbers is a row-count mismatch, reported at the array's `[`; anything else
/// where a separator belongs is reported where it stands.
#[cold]
pub(super) fn row_end_error(
    a: &[u8],
    i: usize,
    what: &str,
    row: usize,
    rows: usize,
    base: usize,
) -> Error {
    if i >= a.len() {
        Error::parse(
            base.saturating_sub(1),
            format!("{what}s array ends in row {row} but {what}_count is {rows}"),
        )
    } else {
        Error::parse(
            i + base,
            format!("expected ',' in {what}s array (row {row})"),
        )
    }
}

pub(super) fn after_rows(a: &[u8], i: usize, what: &str, rows: usize, base: usize) -> Result<()> {
    let j = super::scan::skip_ws(a, i);
    if j >= a.len() {
        Ok(())
    } else if a.get(j) == Some(&b',') {
        Err(Error::parse(
            j + base,
            format!("{what}s array has more rows than {what}_count ({rows})"),
        ))
    } else {
        Err(Error::parse(
            j + base,
            format!("unexpected token in {what}s array"),
        ))
    }
}

pub(super) fn u32_field(v: u64, at: usize, field: &str, row: usize) -> Result<u32> {
    u32::try_from(v)
        .map_err(|_| Error::parse(at, format!("{field} {v} exceeds 2^32 - 1 (node row {row})")))
}

pub(super) fn u8_field(v: u64, at: usize, field: &str, row: usize) -> Result<u8> {
    u8::try_from(v).map_err(|_| Error::parse(at, format!("{field} {v} out of range (row {row})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(s: &[u8]) -> Option<(u64, usize)> {
        let len = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 19 {
            return None;
        }
        std::str::from_utf8(&s[..len])
            .ok()?
            .parse()
            .ok()
            .map(|v| (v, len))
    }

    #[test]
    fn swar_number_reader_matches_naive_parsing() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet = b"0123456789012345678901234567890123456789,]\n /:9";
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let s: Vec<u8> = (0..len)
                .map(|k| alphabet[((x >> (k % 8 * 8)) as usize + k * 7) % alphabet.len()])
                .collect();
            let mut i = 0;
            let got = match read_number(&s, &mut i) {
                Num::Ok(v) => Some((v, i)),
                _ => None,
            };
            assert_eq!(got, naive(&s), "{:?}", String::from_utf8_lossy(&s));
        }
        for v in [
            0u64,
            9,
            10,
            99_999_999,
            100_000_000,
            4_294_967_295,
            u64::MAX / 10,
        ] {
            let s = format!("{v},");
            let mut i = 0;
            assert!(matches!(read_number(s.as_bytes(), &mut i), Num::Ok(x) if x == v));
            assert_eq!(i, s.len() - 1);
        }
    }

    #[test]
    fn fast_division_is_exact() {
        for d in [2u64, 3, 5, 6, 7, 8, 9, 13, 1000, 4_294_967_295] {
            let div = FastDiv::new(d);
            let mut x: u64 = 12345;
            let mut vs: Vec<u64> = vec![
                0,
                1,
                d - 1,
                d,
                d + 1,
                u64::from(u32::MAX),
                u64::from(u32::MAX) - 1,
            ];
            vs.extend([u64::from(u32::MAX) + 1, u64::MAX]);
            for _ in 0..100_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                vs.push(x & 0xFFFF_FFFF);
            }
            for v in vs {
                assert_eq!(div.divrem(v), (v / d, v % d), "{v} / {d}");
            }
        }
    }
}
