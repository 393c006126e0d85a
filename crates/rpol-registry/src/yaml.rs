//! A span-carrying YAML value: each node keeps where it stands, so one bad
//! entry is reported precisely without hiding the others.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

#[derive(Debug, Clone)]
pub enum Yv {
    Null,
    Bool(bool),
    Int(i128),
    Float,
    Str(String),
    List(Vec<Spanned<Yv>>),
    Map(Vec<(Spanned<String>, Spanned<Yv>)>),
}

impl Yv {
    pub fn kind(&self) -> &'static str {
        match self {
            Yv::Null => "null",
            Yv::Bool(_) => "a boolean",
            Yv::Int(_) => "an integer",
            Yv::Float => "a number",
            Yv::Str(_) => "a string",
            Yv::List(_) => "a list",
            Yv::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Yv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Yv;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E>(self) -> Result<Yv, E> {
                Ok(Yv::Null)
            }
            fn visit_none<E>(self) -> Result<Yv, E> {
                Ok(Yv::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Yv, D2::Error> {
                Yv::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Yv, E> {
                Ok(Yv::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Yv, E> {
                Ok(Yv::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Yv, E> {
                Ok(Yv::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Yv, E> {
                Ok(Yv::Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Yv, E> {
                i128::try_from(v)
                    .map(Yv::Int)
                    .map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Yv, E> {
                {
                    let _ = v;
                    Ok(Yv::Float)
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<Yv, E> {
                Ok(Yv::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Yv, E> {
                Ok(Yv::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yv, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Spanned<Yv>>()? {
                    out.push(v);
                }
                Ok(Yv::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yv, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, Spanned<Yv>>()? {
                    out.push((k, v));
                }
                Ok(Yv::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}
