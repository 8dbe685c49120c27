//! Recognition of V8's WeakMap ephemeron edge names, cached per string index
//! (docs/analysis.md#weakmap-ephemerons).
//!
//! DevTools matches
//! `^\d+(?<dup> / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(?<tableId>\d+)\))$`.
//! We reproduce that language by hand (no regex dependency): because the two `.*?` groups may
//! contain anything but line terminators, a string matches exactly when it has no line
//! terminator, starts with digits + `" / part of key ("`, ends with
//! `" pair in WeakMap (table @" digits ")"`, and the middle is `A " @" digits ") -> value (" B
//! " @" digits ")"` for some A, B.

use super::view::View;

/// What a matching edge name tells us.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EphName {
    /// Byte offset in the name where the duplicated part (shared by the key and table edges)
    /// starts.
    pub dup_start: u32,
    /// The table's object id, saturated (an id that cannot be a `u32` never equals a node id).
    pub table_id: u64,
}

const PREFIX: &str = " / part of key (";
const SUFFIX: &str = " pair in WeakMap (table @";
const MID: &str = ") -> value (";

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// Whether `s` ends with `" @" digits+` (the digits run being the maximal trailing one).
fn ends_with_at_digits(s: &str) -> bool {
    let b = s.as_bytes();
    let d = b.iter().rev().take_while(|&&c| is_digit(c)).count();
    d > 0 && s[..b.len() - d].ends_with(" @")
}

/// Parses one edge name; `None` when DevTools' regular expression would not match.
pub(crate) fn parse_ephemeron_name(s: &str) -> Option<EphName> {
    if s.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let b = s.as_bytes();
    let lead = b.iter().take_while(|&&c| is_digit(c)).count();
    if lead == 0 || !s[lead..].starts_with(PREFIX) {
        return None;
    }
    // Table id: the digit run before the final ')', preceded by SUFFIX.
    let body = s.strip_suffix(')')?;
    let tail = body
        .as_bytes()
        .iter()
        .rev()
        .take_while(|&&c| is_digit(c))
        .count();
    if tail == 0 {
        return None;
    }
    let digits = &body[body.len() - tail..];
    let before = &body[..body.len() - tail];
    let middle_end = before.strip_suffix(SUFFIX)?.len();
    let middle_start = lead + PREFIX.len();
    if middle_end < middle_start {
        return None;
    }
    let middle = &s[middle_start..middle_end];
    // middle = A " @" d+ ") -> value (" B " @" d+ ")"
    let m = middle.strip_suffix(')')?;
    if !ends_with_at_digits(m) {
        return None;
    }
    // The B part must leave room for the final " @" d+ ")" after ") -> value (": guaranteed
    // when the MID occurrence ends at or before the start of that final group.
    let final_group = m.len()
        - m.as_bytes()
            .iter()
            .rev()
            .take_while(|&&c| is_digit(c))
            .count()
        - 2;
    let ok = middle
        .match_indices(MID)
        .any(|(i, _)| ends_with_at_digits(&middle[..i]) && i + MID.len() <= final_group);
    if !ok {
        return None;
    }
    let mut table_id: u64 = 0;
    for c in digits.bytes() {
        table_id = table_id
            .saturating_mul(10)
            .saturating_add(u64::from(c - b'0'));
    }
    Some(EphName {
        dup_start: lead as u32,
        table_id,
    })
}

/// Per-string-index cache of [`parse_ephemeron_name`] (DevTools caches the negative answer).
pub(crate) struct EphCache {
    /// 0 = not yet parsed, 1 = not an ephemeron name, k+2 = `found[k]`.
    state: Vec<u32>,
    found: Vec<EphName>,
}

impl EphCache {
    pub fn new(string_count: usize) -> EphCache {
        EphCache {
            state: vec![0; string_count],
            found: Vec::new(),
        }
    }

    /// Looks up the name of internal edge `e`.
    #[inline]
    pub fn get(&mut self, v: &View<'_>, e: usize) -> Option<EphName> {
        let si = v.edge_name[e] as usize;
        match self.state.get(si).copied() {
            Some(1) | None => None,
            Some(0) => {
                let parsed = parse_ephemeron_name(v.g.string(si as u32));
                match parsed {
                    Some(p) => {
                        self.state[si] = self.found.len() as u32 + 2;
                        self.found.push(p);
                    }
                    None => self.state[si] = 1,
                }
                parsed
            }
            Some(k) => self.found.get(k as usize - 2).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ephemeron_name as p;

    #[test]
    fn recognises_v8_names() {
        let s = "3 / part of key (Key @201) -> value (Val @203) pair in WeakMap (table @205)";
        let r = p(s).unwrap();
        assert_eq!(r.table_id, 205);
        assert_eq!(&s[r.dup_start as usize..], &s[1..]);
        // Names containing the separators themselves still match (the `.*?` groups absorb them).
        assert!(p(
            "12 / part of key (a @1) -> value (b) -> value (c @2) @3) pair in WeakMap (table @9)"
        )
        .is_some());
        assert!(p("1 / part of key ( @1) -> value ( @2) pair in WeakMap (table @9)").is_some());
    }

    #[test]
    fn rejects_near_misses() {
        assert!(
            p("part of key (Key @201) -> value (Val @203) pair in WeakMap (table @205)").is_none()
        );
        assert!(
            p("3 / part of key (Key @201) -> value (Val @203) pair in WeakMap (table @205) ")
                .is_none()
        );
        assert!(
            p("3 / part of key (Key @) -> value (Val @203) pair in WeakMap (table @205)").is_none()
        );
        assert!(
            p("3 / part of key (Key @201) -> value (Val 203) pair in WeakMap (table @205)")
                .is_none()
        );
        assert!(
            p("3 / part of key (K\ney @201) -> value (Val @203) pair in WeakMap (table @205)")
                .is_none()
        );
        assert!(
            p("3 / part of key (Key @201) -> value (Val @203) pair in WeakMap (table @)").is_none()
        );
        assert!(p("").is_none());
        assert!(p("3 / part of key (").is_none());
    }
}
