//! Reading one decision-log line (docs/decision-logs.md) without copying it:
//! strings borrow from the line, and the request stays raw JSON text that
//! goes to the engine's strict request parser as it is.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use rpol_engine::{LOG_DENY_CODES, log_code_index};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A parsed log line. An unknown key makes the line malformed: a replay
/// trusts only what `rpol eval --log` and the services write.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Line<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// RFC 3339, checked by [`parse`].
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    #[serde(borrow)]
    pub digest: Cow<'a, str>,
    pub valid: bool,
    /// How many errors an invalid request had (only on `"valid":false`).
    #[serde(default)]
    #[allow(dead_code)]
    pub errors: Option<u32>,
    #[serde(borrow)]
    pub request: &'a RawValue,
    #[serde(borrow)]
    pub mode: Cow<'a, str>,
    /// `null` for no route; the key itself is required.
    #[serde(borrow, deserialize_with = "required_nullable")]
    pub route: Option<Cow<'a, str>>,
    pub sources: Tally,
    pub features: Tally,
}

/// `sources` or `features` of a line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tally {
    pub allowed: u32,
    pub denied: Codes,
    #[serde(deserialize_with = "hex64")]
    pub allowed_set: u64,
}

/// Denied counts per code, in `LOG_DENY_CODES` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Codes(pub [u32; LOG_DENY_CODES.len()]);

impl<'de> Deserialize<'de> for Codes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis;
        impl<'de> Visitor<'de> for Vis {
            type Value = Codes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of deny codes and counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Codes, A::Error> {
                let mut out = [0u32; LOG_DENY_CODES.len()];
                let mut seen = [false; LOG_DENY_CODES.len()];
                while let Some(k) = map.next_key::<Cow<'de, str>>()? {
                    let Some(code) = LOG_DENY_CODES.iter().find(|c| c.as_str() == k) else {
                        return Err(de::Error::custom(format!("unknown deny code `{k}`")));
                    };
                    let i = log_code_index(*code);
                    if seen[i] {
                        return Err(de::Error::custom(format!("duplicate deny code `{k}`")));
                    }
                    seen[i] = true;
                    out[i] = map.next_value()?;
                }
                Ok(Codes(out))
            }
        }
        d.deserialize_map(Vis)
    }
}

fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Option::<Cow<'de, str>>::deserialize(d)
}

fn hex64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = Cow::<'de, str>::deserialize(d)?;
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(de::Error::custom(format!(
            "`allowed_set` must be 16 hex digits, found `{s}`"
        )));
    }
    u64::from_str_radix(&s, 16).map_err(de::Error::custom)
}

/// Why a line was refused: the message, and the cause when it has its own
/// count in the report.
#[derive(Debug)]
pub(crate) struct LineError {
    pub message: String,
    pub cause: Option<Cause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    UnknownKey,
    BadTime,
    RawSubjectId,
}

/// The subject of a logged request, read apart from the engine's parser so
/// that a raw id is refused whatever the request's fate now.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(default, borrow)]
    subject: Option<BTreeMap<Cow<'a, str>, Cow<'a, str>>>,
}

/// Parses one line; the error message names what is wrong and at which
/// column (serde_json's "at line 1" would be confusing next to the log's own
/// line number).
pub(crate) fn parse(text: &str) -> Result<Line<'_>, LineError> {
    let line = serde_json::from_str::<Line<'_>>(text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = match full.strip_suffix(&suffix) {
            Some(msg) if e.line() == 1 => format!("{msg} (column {})", e.column()),
            _ => full,
        };
        let cause = message
            .starts_with("unknown field")
            .then_some(Cause::UnknownKey);
        LineError { message, cause }
    })?;
    if !rpol_engine::is_rfc3339(&line.time) {
        return Err(LineError {
            message: format!("`time` {:?} is not an RFC 3339 date-time", clip(&line.time)),
            cause: Some(Cause::BadTime),
        });
    }
    // A request the engine cannot read is reported by the replay itself.
    if let Ok(head) = serde_json::from_str::<Head<'_>>(line.request.get()) {
        for (field, id) in head.subject.iter().flatten() {
            if !rpol_engine::is_pseudonym(id) {
                return Err(LineError {
                    message: format!(
                        "`subject.{}` is not a pseudonym (`hmac:` and 32 hex digits): a log must not hold raw subject ids",
                        clip(field)
                    ),
                    cause: Some(Cause::RawSubjectId),
                });
            }
        }
    }
    Ok(line)
}

/// At most 64 characters of a value quoted in a message.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
