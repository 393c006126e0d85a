//! A JSON value that keeps key order and duplicate keys, so that a request is
//! validated strictly (a duplicate key is an error, not "last one wins").
//! Strings borrow from the request text where they have no escapes, so that a
//! request of many short strings costs no allocation per string.

use std::borrow::Cow;
use std::fmt::Write;

use std::cell::Cell;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

#[derive(Debug, Clone, PartialEq)]
pub enum J<'a> {
    Null,
    Bool(bool),
    Int(i128),
    Float,
    Str(Cow<'a, str>),
    Arr(Vec<J<'a>>),
    Obj(Vec<(Cow<'a, str>, J<'a>)>),
}

impl J<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "a boolean",
            J::Int(_) => "an integer",
            J::Float => "a number with a fraction or exponent",
            J::Str(_) => "a string",
            J::Arr(_) => "an array",
            J::Obj(_) => "an object",
        }
    }
}

/// Containers at this level or above (the request object is level 1, the
/// values of its keys level 2) are kept; deeper ones are only checked (depth,
/// array length) and kept as empty placeholders, since nothing below level 2
/// is ever read but its kind. A request of 500,000 nested arrays thus costs
/// no allocation per array.
pub(crate) const KEEP_LEVELS: usize = 2;

/// Why a request text is not a [`J`].
pub enum ParseError {
    /// Containers nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    TooDeep,
    /// An array longer than [`MAX_ARRAY_LEN`](crate::MAX_ARRAY_LEN).
    TooLong,
    Json(serde_json::Error),
}

/// Parses a request text, refusing nesting deeper than `MAX_DEPTH` as soon
/// as it is seen (before serde_json's own recursion limit of 128).
/// Strings with escapes may borrow from `decoded`, a buffer the caller keeps
/// while it reads the value.
pub fn parse<'a>(
    text: &'a str,
    decoded: &'a mut crate::json_fast::Decoded,
) -> Result<J<'a>, ParseError> {
    // The common request takes the fast scanner; anything it is not sure of
    // (and every error) takes serde_json below.
    if let Some(v) = crate::json_fast::parse(text, decoded) {
        return Ok(v);
    }
    parse_serde(text)
}

/// [`parse`] by serde_json alone.
pub(crate) fn parse_serde(text: &str) -> Result<J<'_>, ParseError> {
    let why = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        level: 0,
        why: &why,
    };
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (value, why.get()) {
        (_, Some(limit)) => Err(limit.into()),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(ParseError::Json(e)),
    }
}

#[derive(Clone, Copy)]
enum Limit {
    Depth,
    Length,
}

impl From<Limit> for ParseError {
    fn from(l: Limit) -> ParseError {
        match l {
            Limit::Depth => ParseError::TooDeep,
            Limit::Length => ParseError::TooLong,
        }
    }
}

/// Enters a container at `level`: an error (and the reason noted) if too deep.
fn enter<E: de::Error>(level: usize, why: &Cell<Option<Limit>>) -> Result<(), E> {
    if level > crate::request::MAX_DEPTH {
        why.set(Some(Limit::Depth));
        return Err(E::custom("too deep"));
    }
    Ok(())
}

fn count<E: de::Error>(n: usize, why: &Cell<Option<Limit>>) -> Result<(), E> {
    if n > crate::request::MAX_ARRAY_LEN {
        why.set(Some(Limit::Length));
        return Err(E::custom("too long"));
    }
    Ok(())
}

/// Deserializes a value whose enclosing containers number `level`.
#[derive(Clone, Copy)]
struct Seed<'w> {
    level: usize,
    why: &'w Cell<Option<Limit>>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = J<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<J<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = J<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<J<'de>, E> {
        Ok(J::Null)
    }
    fn visit_none<E>(self) -> Result<J<'de>, E> {
        Ok(J::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<J<'de>, E> {
        Ok(J::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<J<'de>, E> {
        Ok(J::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<J<'de>, E> {
        Ok(J::Int(v.into()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<J<'de>, E> {
        Ok(J::Float)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<J<'de>, E> {
        Ok(J::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<J<'de>, E> {
        Ok(J::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<J<'de>, E> {
        Ok(J::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J<'de>, A::Error> {
        let level = self.level + 1;
        enter(level, self.why)?;
        if level > KEEP_LEVELS {
            let skip = Skip {
                level,
                why: self.why,
            };
            let mut n = 0;
            while seq.next_element_seed(skip)?.is_some() {
                n += 1;
                count(n, self.why)?;
            }
            return Ok(J::Arr(Vec::new()));
        }
        let inner = Seed {
            level,
            why: self.why,
        };
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
            count(out.len(), self.why)?;
        }
        Ok(J::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J<'de>, A::Error> {
        let level = self.level + 1;
        enter(level, self.why)?;
        if level > KEEP_LEVELS {
            let skip = Skip {
                level,
                why: self.why,
            };
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value_seed(skip)?;
            }
            return Ok(J::Obj(Vec::new()));
        }
        let inner = Seed {
            level,
            why: self.why,
        };
        let mut out = Vec::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            out.push((k, map.next_value_seed(inner)?));
        }
        Ok(J::Obj(out))
    }
}

/// Walks a value below the kept levels: checks depth and array length, keeps nothing.
#[derive(Clone, Copy)]
struct Skip<'w> {
    level: usize,
    why: &'w Cell<Option<Limit>>,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Skip {
            level: self.level + 1,
            why: self.why,
        };
        enter(inner.level, self.why)?;
        let mut n = 0;
        while seq.next_element_seed(inner)?.is_some() {
            n += 1;
            count(n, self.why)?;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = Skip {
            level: self.level + 1,
            why: self.why,
        };
        enter(inner.level, self.why)?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// An object key, borrowed when the text has no escapes (serde's own
/// `Cow<str>` always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Vis)
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
