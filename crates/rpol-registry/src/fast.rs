//! The fast path of [`crate::load`]: a registry in the plain shape docs/reference.md describes (The feature registry)
//! is built straight from the events of serde-saphyr's own YAML parser
//! (`granit-parser`, re-exported by serde-saphyr), without the span-carrying
//! value tree.
//!
//! It answers only when it is sure. Whenever the input leaves the common shape
//! (a tag, an anchor or alias, an unknown or repeated key, a value of another
//! type, a plain scalar that YAML could read as something other than a string,
//! a second document, a parse error, a count near a serde-saphyr budget, …)
//! it returns `None` and the caller runs the full serde-saphyr path, which
//! produces every E0401 diagnostic. When it does answer, the registry equals
//! the one the full path builds: the same parser with the same options gives
//! the same events, values and spans, and every scalar accepted here is one
//! that serde-saphyr's `deserialize_any` reads as the same string or integer.
//! `tests::fast_path_agrees_with_the_full_path` checks this on many variants.

use std::borrow::Cow;

use rpol_diag::Span;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StrInput};
use serde_saphyr::granit_parser::{Options, Span as YSpan};

use crate::load::{KEYS, REQUIRED, byte_span};
use crate::model::{DebugVisibility, RegFeature, Registry, Sp};

/// Events (and so nodes) read before giving the input to the full path, well
/// under the budget `load` gives serde-saphyr (4,000,000 nodes).
const MAX_EVENTS: usize = 3_000_000;
/// Scalar bytes read before giving the input to the full path, well under
/// serde-saphyr's budget of 64 MiB.
const MAX_SCALAR_BYTES: usize = 32 * 1024 * 1024;

/// The parser options serde-saphyr derives from its budget (its
/// `Budget::parser_options`; `load` changes only node and event counts).
fn parser_options() -> Options {
    let budget = serde_saphyr::Budget::default();
    let mut o = Options::default();
    o.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    o.flow_nesting_limit = budget.flow_nesting_limit;
    o.block_nesting_limit = o
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    o.emit_comments = false;
    o.strict_indentation = false;
    o.bom_inside_document_as_content = false;
    o
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    text: &'a str,
    events: usize,
    scalar_bytes: usize,
}

/// A scalar without tag or anchor: its text, style and span.
struct Scalar<'a> {
    value: Cow<'a, str>,
    style: ScalarStyle,
    span: Span,
}

enum Node<'a> {
    Scalar(Scalar<'a>),
    SeqStart(Span),
    SeqEnd,
    MapStart(Span),
    MapEnd,
}

impl<'a> Reader<'a> {
    /// The next event, or `None` (give up) on errors, tags, anchors, aliases
    /// and anything near a budget.
    fn raw(&mut self) -> Option<(Event<'a>, YSpan)> {
        let (ev, span) = self.parser.next_event()?.ok()?;
        self.events += 1;
        if self.events > MAX_EVENTS {
            return None;
        }
        Some((ev, span))
    }

    fn span(&self, s: &YSpan) -> Option<Span> {
        let start = s.start.byte_offset()?;
        let end = s.end.byte_offset()?;
        Some(byte_span(self.text, start, end.saturating_sub(start)))
    }

    /// The next node event inside the document.
    fn node(&mut self) -> Option<Node<'a>> {
        let (ev, span) = self.raw()?;
        Some(match ev {
            Event::Scalar(value, style, 0, None) => {
                self.scalar_bytes += value.len();
                if self.scalar_bytes > MAX_SCALAR_BYTES {
                    return None;
                }
                Node::Scalar(Scalar {
                    value,
                    style,
                    span: self.span(&span)?,
                })
            }
            Event::SequenceStart(_, 0, None) => Node::SeqStart(self.span(&span)?),
            Event::SequenceEnd => Node::SeqEnd,
            Event::MappingStart(_, 0, None) => Node::MapStart(self.span(&span)?),
            Event::MappingEnd => Node::MapEnd,
            _ => return None,
        })
    }

    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.node()? {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

/// Whether serde-saphyr's `deserialize_any` surely reads this scalar as the
/// string it holds: any quoted or block scalar, and plain scalars that start
/// with a letter or `_` and are not a YAML 1.1 boolean or null spelling
/// (numbers start with a digit, a sign or a dot; serde-saphyr trims only
/// ASCII blanks and line breaks before inferring a type).
fn is_string(s: &Scalar<'_>) -> bool {
    if s.style != ScalarStyle::Plain {
        return true;
    }
    let t = s.value.trim_matches([' ', '\t', '\r', '\n']);
    let Some(first) = t.chars().next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '_') {
        return false;
    }
    !["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
}

/// A plain decimal integer that serde-saphyr reads as the same `i64`: `0`, or
/// an optional `-` and at most 18 digits without a leading zero.
fn as_int(s: &Scalar<'_>) -> Option<i64> {
    if s.style != ScalarStyle::Plain {
        return None;
    }
    let v: &str = &s.value;
    if v == "0" {
        return Some(0);
    }
    let digits = v.strip_prefix('-').unwrap_or(v);
    let b = digits.as_bytes();
    if b.is_empty() || b.len() > 18 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.parse().ok()
}

fn string(r: &mut Reader<'_>) -> Option<Sp<String>> {
    let s = r.scalar()?;
    is_string(&s).then(|| Sp {
        value: s.value.into_owned(),
        span: s.span,
    })
}

fn list(r: &mut Reader<'_>) -> Option<Sp<Vec<Sp<String>>>> {
    let Node::SeqStart(span) = r.node()? else {
        return None;
    };
    let mut items = Vec::new();
    loop {
        match r.node()? {
            Node::SeqEnd => break,
            Node::Scalar(s) if is_string(&s) => items.push(Sp {
                value: s.value.into_owned(),
                span: s.span,
            }),
            _ => return None,
        }
    }
    Some(Sp { value: items, span })
}

/// `labels`: a mapping of distinct string keys to strings or integers.
fn labels(r: &mut Reader<'_>) -> Option<()> {
    let Node::MapStart(_) = r.node()? else {
        return None;
    };
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    loop {
        let k = match r.node()? {
            Node::MapEnd => return Some(()),
            Node::Scalar(k) if is_string(&k) => k,
            _ => return None,
        };
        if keys.contains(&k.value) {
            return None;
        }
        keys.push(k.value);
        let v = r.scalar()?;
        if !is_string(&v) && as_int(&v).is_none() {
            return None;
        }
    }
}

fn entry(r: &mut Reader<'_>, span: Span) -> Option<RegFeature> {
    let mut seen = 0u32;
    let mut name = None;
    let mut entity = None;
    let mut class = None;
    let mut modes = None;
    let mut purposes = None;
    let mut prohibited = None;
    let mut retention_days = None;
    let mut consent = None;
    let mut debug_visibility = None;
    let mut description = None;
    let mut owner = None;
    loop {
        let key = match r.node()? {
            Node::MapEnd => break,
            Node::Scalar(k) => k,
            _ => return None,
        };
        let i = KEYS.iter().position(|k| *k == key.value)?;
        if seen & (1 << i) != 0 {
            return None;
        }
        seen |= 1 << i;
        match KEYS[i] {
            "name" => name = Some(string(r)?),
            "entity" => entity = Some(string(r)?),
            "privacy_class" => class = Some(string(r)?),
            "allowed_privacy_modes" => modes = Some(list(r)?),
            "allowed_purposes" => purposes = Some(list(r)?),
            "prohibited_purposes" => prohibited = Some(list(r)?),
            "retention_days" => {
                let s = r.scalar()?;
                retention_days = Some(Sp {
                    value: as_int(&s)?,
                    span: s.span,
                });
            }
            "requires_consent" => consent = Some(string(r)?),
            "debug_visibility" => {
                let s = string(r)?;
                let value = match s.value.as_str() {
                    "open" => DebugVisibility::Open,
                    "restricted" => DebugVisibility::Restricted,
                    "hidden" => DebugVisibility::Hidden,
                    _ => return None,
                };
                debug_visibility = Some(Sp {
                    value,
                    span: s.span,
                });
            }
            "description" => description = Some(string(r)?.value),
            "owner" => owner = Some(string(r)?.value),
            "labels" => labels(r)?,
            _ => return None,
        }
    }
    debug_assert!(REQUIRED.iter().all(|k| KEYS.contains(k)));
    Some(RegFeature {
        name: name?,
        entity: entity?,
        privacy_class: class?,
        allowed_privacy_modes: modes?,
        allowed_purposes: purposes?,
        prohibited_purposes: prohibited,
        retention_days,
        requires_consent: consent,
        debug_visibility,
        description,
        owner,
        span,
    })
}

/// The registry, or `None` when the full path must decide.
pub(crate) fn load(text: &str) -> Option<Registry> {
    let mut r = Reader {
        parser: Parser::with_options(StrInput::new(text), parser_options()),
        text,
        events: 0,
        scalar_bytes: 0,
    };
    let (Event::StreamStart, _) = r.raw()? else {
        return None;
    };
    let (Event::DocumentStart(_, None), _) = r.raw()? else {
        return None;
    };
    let Node::MapStart(_) = r.node()? else {
        return None;
    };
    let mut features = None;
    loop {
        match r.node()? {
            Node::MapEnd => break,
            Node::Scalar(k) if k.value == "features" && features.is_none() => {
                let Node::SeqStart(_) = r.node()? else {
                    return None;
                };
                let mut list = Vec::new();
                loop {
                    match r.node()? {
                        Node::SeqEnd => break,
                        Node::MapStart(span) => list.push(entry(&mut r, span)?),
                        _ => return None,
                    }
                }
                features = Some(list);
            }
            _ => return None,
        }
    }
    let (Event::DocumentEnd, _) = r.raw()? else {
        return None;
    };
    let (Event::StreamEnd, _) = r.raw()? else {
        return None;
    };
    Some(Registry {
        features: features?,
    })
}

#[cfg(test)]
mod tests {
    use rpol_diag::FileId;

    use super::*;
    use crate::load::full;

    const SEEDS: &[&str] = &[
        include_str!("../../../policies/features.yaml"),
        include_str!("../../../policies/enterprise/features.yaml"),
        include_str!("../../../tests/check/registries/base.yaml"),
        include_str!("../../../tests/check/registries/e0401_unknown_key.yaml"),
        include_str!("../../../tests/check/registries/e0402.yaml"),
        include_str!("../../../tests/check/registries/e0403.yaml"),
        include_str!("../../../tests/check/registries/e0404.yaml"),
        include_str!("../../../tests/check/registries/e0405.yaml"),
        include_str!("../../../tests/check/registries/e0406.yaml"),
        include_str!("../../../tests/check/registries/e0407.yaml"),
        include_str!("../../../tests/lint/registries/dead_feature.yaml"),
        "features: []\n",
        "features:\n",
        "",
        "---\nfeatures:\n  - {name: a, entity: e, privacy_class: c, allowed_privacy_modes: [], allowed_purposes: []}\n...\n",
        "features:\n  - name: 'a'\n    entity: \"e\\u00e9\"\n    privacy_class: |\n      c\n    allowed_privacy_modes:\n      - m1\n      - 'm2'\n    allowed_purposes: [p]\n    prohibited_purposes: [q, p]\n    retention_days: -5\n    debug_visibility: 'open'\n    description: >\n      folded\n      text\n    owner: team\n    labels: {team: ranking, k: 3, \"q\": x}\n",
        "features:\r\n  - name: a # comment\r\n    entity: e\r\n    privacy_class: c\r\n    allowed_privacy_modes: []\r\n    allowed_purposes: []\r\n    retention_days: 0\r\n",
        "\u{feff}features:\n  - name: é\n    entity: ü\n    privacy_class: c\n    allowed_privacy_modes: [ä]\n    allowed_purposes: []\n    labels:\n      a: 1\n      b: two\n",
        "features:\n  - name: a\n    entity: e\n    privacy_class: c\n    allowed_privacy_modes: []\n    allowed_purposes: []\n    labels: {a: 1, a: 2}\n",
        "features:\n  - name: &x a\n    entity: *x\n    privacy_class: c\n    allowed_privacy_modes: []\n    allowed_purposes: []\n",
        "features:\n  - name: yes\n    entity: ~\n    privacy_class: null\n    allowed_privacy_modes: [on]\n    allowed_purposes: [1e3]\n    retention_days: 030\n",
        "features:\n  - name: !!str a\n    entity: e\n    privacy_class: c\n    allowed_privacy_modes: []\n    allowed_purposes: []\n    retention_days: 99999999999999999999\n",
        "%YAML 1.2\n---\nfeatures: []\n",
        "features: []\n---\nfeatures: []\n",
        "features:\n  - name: a\n    entity: e\n    privacy_class: c\n    allowed_privacy_modes: []\n    allowed_purposes: []\n    labels: {x: .nan, y: [1], z: {w: 1}, <<: {v: 2}}\n",
    ];

    /// Inserted by the mutations: YAML's punctuation, properties, and
    /// scalars that are not strings.
    #[rustfmt::skip]
    const BITS: &[&str] = &[
        " ", "\n", "  ", "- ", ": ", "[", "]", "{", "}", ",", "\"", "'", "&a ", "*a", "!!str ",
        "!x ", "~", "yes", "null", "0", "-1", "007", "1e9", ".inf", "#", "---\n", "...\n",
        "\t", "é", "\r\n", "<<: ", "labels: {a: 1}", "? ", "|\n", ">-\n", "\\", "%", "@", "x",
        "name", "entity", "open", "retention_days: ", "\u{feff}", "a", "_", "-", "9",
    ];

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as usize
        }
        fn below(&mut self, n: usize) -> usize {
            if n == 0 { 0 } else { self.next() % n }
        }
    }

    fn boundary(s: &str, mut i: usize) -> usize {
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    fn mutate(rng: &mut Rng, s: &str) -> String {
        let mut s = s.to_string();
        for _ in 0..1 + rng.below(2) {
            let at = boundary(&s, rng.below(s.len() + 1));
            match rng.below(4) {
                0 => {
                    let end = boundary(&s, (at + 1 + rng.below(6)).min(s.len()));
                    s.replace_range(at..end.max(at), "");
                }
                1 => {
                    let lines: Vec<&str> = s.split_inclusive('\n').collect();
                    if !lines.is_empty() {
                        let i = rng.below(lines.len());
                        let j = rng.below(lines.len());
                        let mut out: Vec<&str> = lines.clone();
                        out.insert(j, lines[i]);
                        s = out.concat();
                    }
                }
                _ => s.insert_str(at, BITS[rng.below(BITS.len())]),
            }
        }
        s
    }

    fn agrees(text: &str) -> bool {
        match load(text) {
            Some(fast) => {
                assert_eq!(
                    full(FileId(0), text),
                    Ok(fast),
                    "the fast path differs from the full path on:\n{text}"
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_plain_shape_takes_the_fast_path() {
        for seed in &SEEDS[..11] {
            if full(FileId(0), seed).is_ok() {
                assert!(agrees(seed), "not on the fast path:\n{seed}");
            }
        }
        assert!(agrees(SEEDS[11]));
        assert!(agrees(SEEDS[14]));
        assert!(agrees(SEEDS[15]));
        assert!(agrees(SEEDS[16]));
        assert!(agrees(SEEDS[17]));
    }

    #[test]
    fn the_rest_takes_the_full_path() {
        for seed in &SEEDS[18..] {
            assert!(load(seed).is_none(), "{seed}");
        }
    }

    /// Mutants of every seed: (on the fast path, total).
    fn fuzz(seed: u64, per_seed: usize) -> (usize, usize) {
        let mut rng = Rng(seed);
        let (mut fast, mut total) = (0, 0);
        for seed in SEEDS {
            agrees(seed);
            for _ in 0..per_seed {
                let m = mutate(&mut rng, seed);
                total += 1;
                if agrees(&m) {
                    fast += 1;
                }
            }
        }
        (fast, total)
    }

    #[test]
    fn fast_path_agrees_with_the_full_path() {
        let (fast, total) = fuzz(0x9e37_79b9_7f4a_7c15, 1_000);
        // Enough mutants keep the plain shape to exercise the comparison.
        assert!(
            fast * 20 > total,
            "{fast} of {total} mutants on the fast path"
        );
    }

    /// `cargo test -p rpol-registry --release -- --ignored`
    #[test]
    #[ignore = "long; run in release after changing the fast path"]
    fn fast_path_agrees_on_many_mutants() {
        for seed in 1..=8 {
            fuzz(seed * 0x2545_f491_4f6c_dd1d, 20_000);
        }
    }
}
