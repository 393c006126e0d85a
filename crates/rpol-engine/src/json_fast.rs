//! A scanner for the common request: plain JSON without fractions,
//! exponents or limits reached, strings with or without the standard escapes.
//! It builds the same [`J`] as the serde path in `json.rs` and gives up
//! (`None`) on anything else (a bad escape, a surrogate escape that is not a
//! pair, a control character), which the serde path then parses, so errors
//! and their messages come from one place only. A differential test holds the
//! two to the same values.

use std::borrow::Cow;

use crate::json::{J, KEEP_LEVELS};
use crate::request::{MAX_ARRAY_LEN, MAX_DEPTH};

/// The decoded text of every string with escapes in a request, in document
/// order, so that the scanner borrows them from one buffer rather than
/// allocating a `String` each (100,000 escaped names are two allocations).
#[derive(Default)]
pub(crate) struct Decoded {
    names: crate::NameList,
    /// Where each string is in the request text: its opening quote, and
    /// just past its closing quote.
    spans: Vec<(u32, u32)>,
}

/// The request text as a value, or `None` to let the serde path decide.
/// Strings with escapes are decoded into `decoded` (see [`Decoded`]) by a
/// first pass, run only once the scanner has met one.
pub(crate) fn parse<'a>(text: &'a str, decoded: &'a mut Decoded) -> Option<J<'a>> {
    let mut escapes = false;
    if let Some(v) = scan(text, None, &mut escapes) {
        return Some(v);
    }
    if !escapes {
        return None;
    }
    collect(text, decoded)?;
    scan(text, Some(decoded), &mut escapes)
}

fn scan<'a>(text: &'a str, decoded: Option<&'a Decoded>, escapes: &mut bool) -> Option<J<'a>> {
    let mut s = Scan {
        text,
        b: text.as_bytes(),
        i: 0,
        decoded,
        next: 0,
        escapes: false,
    };
    s.ws();
    let v = s.value(0);
    *escapes = s.escapes;
    let v = v?;
    s.ws();
    (s.i == s.b.len()).then_some(v)
}

/// Decodes every string with escapes of `text` into `out`, in order. In
/// valid JSON every `"` outside a string opens one, so this finds exactly
/// the strings the scanner meets (which checks each start against
/// [`Decoded::spans`] all the same). `None` where the scanner would give up
/// (see [`decode`]).
fn collect(text: &str, out: &mut Decoded) -> Option<()> {
    let b = text.as_bytes();
    let mut buf = String::new();
    let mut i = 0;
    while let Some(q) = b.get(i..)?.iter().position(|&c| c == b'"') {
        let open = i + q;
        let start = open + 1;
        let at = start + stop(b.get(start..)?)?;
        match b.get(at)? {
            b'"' => i = at + 1,
            b'\\' => {
                buf.clear();
                i = decode(text, start, at, &mut buf)?;
                out.names.push(&buf);
                out.spans
                    .push((u32::try_from(open).ok()?, u32::try_from(i).ok()?));
            }
            _ => return None,
        }
    }
    Some(())
}

/// The string opened before `start` whose first stop (see [`stop`]) is the
/// backslash at `at`, decoded into `out` as serde_json decodes it; the
/// position after its closing quote. `None` for a control character, an
/// unknown escape, bad hex digits or a surrogate escape that is not a
/// high-low pair (serde then reports the error).
fn decode(text: &str, start: usize, mut at: usize, out: &mut String) -> Option<usize> {
    let b = text.as_bytes();
    // Every stop is an ASCII byte, so every slice is on character boundaries.
    out.push_str(text.get(start..at)?);
    loop {
        match b.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => {}
            _ => return None,
        }
        let (c, len) = match *b.get(at + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => match hex4(b.get(at + 2..at + 6)?)? {
                hi @ 0xD800..=0xDBFF => {
                    if b.get(at + 6..at + 8)? != b"\\u" {
                        return None;
                    }
                    let lo = hex4(b.get(at + 8..at + 12)?)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return None;
                    }
                    (
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?,
                        12,
                    )
                }
                0xDC00..=0xDFFF => return None,
                u => (char::from_u32(u)?, 6),
            },
            _ => return None,
        };
        out.push(c);
        at += len;
        if b.get(at) == Some(&b'\\') {
            // A run of escapes: no plain text to look for in between.
            continue;
        }
        let next = stop(b.get(at..)?)?;
        out.push_str(text.get(at..at + next)?);
        at += next;
    }
}

/// The value of four hex digits (either case), as serde_json reads them.
#[inline]
fn hex4(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |v, &c| {
        let d = (c as char).to_digit(16)?;
        Some(v << 4 | d)
    })
}

/// The position of the first `"`, `\\` or control character in `b`: eight
/// bytes at a time (a long string costs a few cycles per eight bytes).
/// Inlined into the string scanner, where a call per string would show.
#[inline(always)]
fn stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        // A high bit per byte that is zero after the xor (a quote or a
        // backslash), or below 0x20; bytes of 0x80 and above never match.
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        let hit = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if hit != 0 {
            break;
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| i + p)
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    /// The decoded strings of the second pass (`None` in the first).
    decoded: Option<&'a Decoded>,
    /// The next string of `decoded`.
    next: usize,
    /// Whether the first pass gave up on a string with escapes.
    escapes: bool,
}

impl<'a> Scan<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.i += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Whitespace, then `c` (consumed) or `None`.
    #[inline]
    fn consume(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A value inside `level` containers.
    fn value(&mut self, level: usize) -> Option<J<'a>> {
        match self.peek()? {
            // Not through `any_string`: a `Cow` built here from the borrowed
            // slice in registers is measurably faster than one returned.
            b'"' => match self.string() {
                Some(s) => Some(J::Str(Cow::Borrowed(s))),
                None => self.escaped().map(|s| J::Str(Cow::Borrowed(s))),
            },
            // Containers below the kept levels are only checked, never
            // built: see `skip`.
            b'{' | b'[' if level >= KEEP_LEVELS => {
                let obj = self.peek()? == b'{';
                self.skip(level)?;
                Some(if obj {
                    J::Obj(Vec::new())
                } else {
                    J::Arr(Vec::new())
                })
            }
            b'{' => self.object(level + 1),
            b'[' => self.array(level + 1),
            b't' => self.literal(b"true", J::Bool(true)),
            b'f' => self.literal(b"false", J::Bool(false)),
            b'n' => self.literal(b"null", J::Null),
            _ => self.integer(),
        }
    }

    fn literal(&mut self, word: &[u8], v: J<'a>) -> Option<J<'a>> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| {
            self.i = end;
            v
        })
    }

    /// A string without escapes or control characters, borrowed; `None`
    /// for any other (see [`Scan::any_string`]).
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        let start = self.i + 1;
        let rest = self.b.get(start..)?;
        let len = stop(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        // Both ends are ASCII quotes, so this is on character boundaries.
        self.text.get(start..start + len)
    }

    /// A string: borrowed from the text when it has no escapes, else from
    /// [`Decoded`] ([`Scan::escaped`]). The plain case is kept apart (and the
    /// other out of line) so that scanning plain strings stays as fast.
    #[inline]
    fn any_string(&mut self) -> Option<Cow<'a, str>> {
        match self.string() {
            Some(s) => Some(Cow::Borrowed(s)),
            None => self.escaped().map(Cow::Borrowed),
        }
    }

    /// The string with escapes at the current position (its opening
    /// quote): the next one of [`Decoded`], which must have been found at the
    /// same place. In the first pass, `None` (and noted).
    #[cold]
    #[inline(never)]
    fn escaped(&mut self) -> Option<&'a str> {
        let Some(decoded) = self.decoded else {
            self.escapes = true;
            return None;
        };
        let (open, end) = decoded.spans.get(self.next).copied()?;
        if open as usize != self.i {
            return None;
        }
        self.i = end as usize;
        self.next += 1;
        decoded.names.get(self.next - 1)
    }

    /// An integer serde_json reads as one (`u64`, or a negative `i64`); any
    /// other number (fraction, exponent, `-0`, out of range) is left to serde.
    fn integer(&mut self) -> Option<J<'a>> {
        let neg = self.peek()? == b'-';
        let start = self.i + usize::from(neg);
        let digits = self.b.get(start..)?;
        let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
        // 18 digits always fit an i64 and a u64; longer is left to serde.
        if n == 0 || n > 18 || (n > 1 && digits[0] == b'0') {
            return None;
        }
        if matches!(digits.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let v = digits[..n]
            .iter()
            .fold(0i64, |v, &c| v * 10 + i64::from(c - b'0'));
        if neg && v == 0 {
            return None;
        }
        self.i = start + n;
        Some(J::Int(if neg { -v } else { v }.into()))
    }

    /// Checks one value inside `level` containers exactly as [`value`]
    /// would (same limits, same refusals), without building it: a loop with a
    /// stack of open containers instead of a call per level, for values below
    /// the kept levels (half a million nested arrays cost no call and no
    /// drop each).
    ///
    /// [`value`]: Self::value
    fn skip(&mut self, level: usize) -> Option<()> {
        // Open containers: bit `d` of `objects` says whether the one at
        // depth `d` is an object; `items[d]` counts an array's items.
        let mut objects = 0u64;
        let mut items = [0u32; MAX_DEPTH + 1];
        let mut depth = 0usize;
        loop {
            // A value.
            self.ws();
            match self.peek()? {
                b'"' => {
                    self.any_string()?;
                }
                c @ (b'{' | b'[') => {
                    if level + depth + 1 > MAX_DEPTH {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    let obj = c == b'{';
                    let close = if obj { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.i += 1;
                    } else {
                        *items.get_mut(depth)? = 1;
                        objects = objects & !(1 << depth) | u64::from(obj) << depth;
                        depth += 1;
                        if obj {
                            self.key()?;
                        }
                        continue;
                    }
                }
                b't' => {
                    self.literal(b"true", J::Null)?;
                }
                b'f' => {
                    self.literal(b"false", J::Null)?;
                }
                b'n' => {
                    self.literal(b"null", J::Null)?;
                }
                _ => {
                    self.integer()?;
                }
            }
            // After a value: close what ends here, up to the next value.
            loop {
                let Some(top) = depth.checked_sub(1) else {
                    return Some(());
                };
                let obj = objects >> top & 1 == 1;
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        if obj {
                            self.key()?;
                        } else {
                            let n = items.get_mut(top)?;
                            *n += 1;
                            if *n as usize > MAX_ARRAY_LEN {
                                return None;
                            }
                        }
                        break;
                    }
                    b'}' if obj => {
                        self.i += 1;
                        depth = top;
                    }
                    b']' if !obj => {
                        self.i += 1;
                        depth = top;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// An object key and its colon (whitespace before each).
    fn key(&mut self) -> Option<Cow<'a, str>> {
        self.ws();
        if self.peek()? != b'"' {
            return None;
        }
        let k = self.any_string()?;
        self.consume(b':')?;
        Some(k)
    }

    fn object(&mut self, level: usize) -> Option<J<'a>> {
        if level > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(J::Obj(out));
        }
        loop {
            self.ws();
            if self.peek()? != b'"' {
                return None;
            }
            let k = self.any_string()?;
            self.consume(b':')?;
            self.ws();
            let v = self.value(level)?;
            if out.capacity() == 0 {
                out.reserve(if level == 1 { 10 } else { 4 });
            }
            out.push((k, v));
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(J::Obj(out));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, level: usize) -> Option<J<'a>> {
        if level > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(J::Arr(out));
        }
        let mut n = 0usize;
        loop {
            self.ws();
            let v = self.value(level)?;
            n += 1;
            if n > MAX_ARRAY_LEN {
                return None;
            }
            out.push(v);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(J::Arr(out));
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use std::borrow::Cow;

    use crate::json::{J, parse_serde};

    /// The scanner's answer, owned (its decoded strings live in a local buffer).
    fn parse(text: &str) -> Option<J<'static>> {
        let mut decoded = super::Decoded::default();
        super::parse(text, &mut decoded).map(owned)
    }

    fn owned(j: J<'_>) -> J<'static> {
        match j {
            J::Null => J::Null,
            J::Bool(b) => J::Bool(b),
            J::Int(i) => J::Int(i),
            J::Float => J::Float,
            J::Str(s) => J::Str(Cow::Owned(s.into_owned())),
            J::Arr(v) => J::Arr(v.into_iter().map(owned).collect()),
            J::Obj(kv) => J::Obj(
                kv.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), owned(v)))
                    .collect(),
            ),
        }
    }

    /// Whenever the scanner answers, serde_json accepts the text and builds
    /// the same value (so errors and their messages all come from serde).
    fn agrees(text: &str) -> Result<(), TestCaseError> {
        if let Some(fast) = parse(text) {
            match parse_serde(text) {
                Ok(slow) => prop_assert_eq!(fast, slow, "{}", text),
                Err(_) => prop_assert!(false, "the scanner accepted {text:?}, serde did not"),
            }
        }
        Ok(())
    }

    /// Pieces of JSON, valid and not, glued at random.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\t",
            "\r",
            "\"",
            "\"a\"",
            "\"k\"",
            "\\",
            "\\n",
            "\\u0041",
            "\\u0066eat_1",
            "\\\"",
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\r",
            "\\t",
            "\\x",
            "\\u00e9",
            "\\u00E9",
            "\\u0000",
            "\\u12",
            "\\uZZZZ",
            "\\uD83D\\uDE00",
            "\\uDBFF\\uDFFF",
            "\\uD83D",
            "\\uDE00",
            "\\uD83D\\u0041",
            "\\uD83D\\uD83D",
            "\\uD83Dx",
            "\"\\u0066eatures\"",
            "\u{1}",
            "é",
            "0",
            "-0",
            "01",
            "7",
            "-12",
            "1.5",
            "1e3",
            "E",
            "18446744073709551615",
            "18446744073709551616",
            "999999999999999999",
            "-999999999999999999",
            "-9223372036854775808",
            "true",
            "false",
            "null",
            "tru",
            "nul",
            "x",
            "\"tenant\"",
            "\"features\"",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn scanner_agrees_with_serde_on_glued_pieces(parts in prop::collection::vec(piece(), 0..40)) {
            agrees(&parts.concat())?;
        }

        #[test]
        fn eight_bytes_at_a_time_finds_the_first_stop(b in prop::collection::vec(
            prop::sample::select(vec![b'a', b'"', b'\\', 0, 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x21, 0x5d]), 0..40)) {
            let naive = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            prop_assert_eq!(super::stop(&b), naive);
        }

        #[test]
        fn scanner_agrees_with_serde_on_valid_json(v in json_value(4)) {
            let text = v.to_string();
            agrees(&text)?;
            let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
            agrees(&pretty)?;
        }
    }

    /// `s` as a JSON string literal, each character written raw or escaped
    /// as `pick` says: a short escape, `\uXXXX` in either case (a surrogate
    /// pair past the BMP), or raw; characters that must be escaped always are.
    fn literal(s: &str, pick: &[u8]) -> String {
        let mut out = String::from("\"");
        for (c, &p) in s.chars().zip(pick.iter().cycle()) {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            let must = matches!(c, '"' | '\\') || (c as u32) < 0x20;
            match short {
                Some(e) if p % 3 == 0 => out.push_str(e),
                _ if must || p % 3 == 1 => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        if p & 4 == 0 {
                            out.push_str(&format!("\\u{u:04x}"));
                        } else {
                            out.push_str(&format!("\\u{u:04X}"));
                        }
                    }
                }
                _ => out.push(c),
            }
        }
        out.push('"');
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any string, escaped any standard way, is decoded by the scanner
        /// (not left to serde) to the same value serde gives: as a value, a
        /// key, and below the kept levels.
        #[test]
        fn escaped_strings_are_decoded_as_serde_decodes_them(
            s in "(\\PC|[\u{0}-\u{1f}\"\\\\/]|\u{1F600}|\u{10FFFF}){0,12}",
            pick in prop::collection::vec(any::<u8>(), 1..16),
        ) {
            let lit = literal(&s, &pick);
            prop_assert_eq!(parse(&lit), Some(crate::json::J::Str(s.clone().into())), "{}", lit);
            agrees(&lit)?;
            let doc = format!(r#"{{{lit}:[{lit},"x"],"deep":[[{lit},{{{lit}:{lit}}}]]}}"#);
            prop_assert!(parse(&doc).is_some(), "{}", doc);
            agrees(&doc)?;
        }
    }

    fn json_value(depth: u32) -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z\"\\\\\n\u{1}é]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(depth, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec(("[a-z]{0,3}", inner), 0..6)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn common_requests_take_the_scanner() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/requests");
        let mut seen = 0;
        for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.contains('\\') || !text.trim_start().starts_with('{') {
                continue;
            }
            seen += 1;
            assert!(parse(&text).is_some(), "{}", e.path().display());
            assert!(agrees(&text).is_ok());
        }
        assert!(seen > 0);
    }

    #[test]
    fn limits_and_odd_numbers_are_left_to_serde() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let long = format!("[{}0]", "0,".repeat(crate::request::MAX_ARRAY_LEN));
        for text in [
            &deep[..],
            &long,
            "-0",
            "1.0",
            "1e2",
            "01",
            "18446744073709551615",
            "\"\\x\"",
            "\"\\uD800\"",
            "\"\\uDC00\"",
            "\"\\uD800\\u0041\"",
            "\"\\u12\"",
            "\"a\u{1}\"",
            "{\"a\":1,}",
            "[1,]",
            "{} x",
            "",
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
        assert_eq!(parse("-12"), Some(crate::json::J::Int(-12)));
        // Standard escapes are decoded here, not left to serde.
        assert_eq!(
            parse(r#""\u0066eat_1\n\uD83D\uDE00\/""#),
            Some(crate::json::J::Str("feat_1\n\u{1F600}/".into()))
        );
    }

    #[test]
    fn values_below_the_kept_levels_are_checked_not_built() {
        let text = r#"{"x":[[1,{"b":[true,null,"s",-3]},[]],{},{"c":{"d":[[]]}}],"y":{"z":[0]}}"#;
        assert!(parse(text).is_some());
        assert!(agrees(text).is_ok());
        // The same limits as the levels that are built.
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(31), "]".repeat(31));
        assert!(parse(&deep).is_some());
        let too_deep = format!("{{\"x\":{}{}}}", "[".repeat(32), "]".repeat(32));
        assert!(parse(&too_deep).is_none());
        let long = format!(
            "{{\"x\":[[{}0]]}}",
            "0,".repeat(crate::request::MAX_ARRAY_LEN)
        );
        assert!(parse(&long).is_none());
        for bad in [
            r#"{"x":[[1,]]}"#,
            r#"{"x":[{"a":1,}]}"#,
            r#"{"x":[{"a" 1}]}"#,
            r#"{"x":[[}]}"#,
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
