//! The mapping from request fields to table columns (or constants), read
//! from YAML (`--map FILE`) or from JSON text (the Python bindings), which
//! YAML reads as well, so both go through one parser with the same errors.

use rpol_registry::yaml::Yv;
use serde_saphyr::Spanned;

use crate::error::{BatchError, Finding, Place};

/// A request field or batch key a mapping can set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tenant,
    Surface,
    Purpose,
    UserId,
    AnonymousId,
    ConsentVersion,
    /// `consent.TOPIC`.
    Consent(String),
    /// `context.FIELD`.
    Context(String),
    Roles,
    /// The time of the event (an Arrow timestamp column), for retention.
    EventTime,
    /// The retention kind of the row's data.
    Kind,
}

impl Target {
    fn parse(key: &str) -> Option<Target> {
        Some(match key {
            "tenant" => Target::Tenant,
            "surface" => Target::Surface,
            "purpose" => Target::Purpose,
            "subject.user_id" => Target::UserId,
            "subject.anonymous_id" => Target::AnonymousId,
            "consent_version" => Target::ConsentVersion,
            "roles" => Target::Roles,
            "event_time" => Target::EventTime,
            "kind" => Target::Kind,
            _ => {
                if let Some(t) = key.strip_prefix("consent.") {
                    Target::Consent(t.to_string())
                } else if let Some(f) = key.strip_prefix("context.") {
                    Target::Context(f.to_string())
                } else {
                    return None;
                }
            }
        })
    }
}

/// A constant given as `{value: V}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Str(String),
    Int(i128),
    Bool(bool),
    /// A list of strings (`roles`).
    List(Vec<String>),
}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Column(String),
    Const(Const),
}

/// One line of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as written (`consent.training`).
    pub key: String,
    pub target: Target,
    pub source: Source,
    pub(crate) key_place: Place,
    pub(crate) value_place: Place,
}

/// A parsed mapping. It is checked against a policy and a table schema by
/// [`crate::Enforcer::new`], before any row is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub entries: Vec<Entry>,
}

/// Mappings are small; a bigger text is refused before parsing.
pub const MAX_MAPPING_BYTES: usize = 1024 * 1024;

impl Mapping {
    /// Reads a YAML mapping; `file` names it in errors.
    pub fn from_yaml(text: &str, file: &str) -> Result<Mapping, BatchError> {
        parse(text, file)
    }

    /// Reads the same structure from JSON text (an object of key → column
    /// name or `{"value": V}`), as the Python bindings pass a dict.
    pub fn from_json(text: &str) -> Result<Mapping, BatchError> {
        parse(text, "<mapping>")
    }

    /// The entry for `target`, if mapped.
    pub fn get(&self, target: &Target) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.target == target)
    }
}

fn place<T>(file: &str, s: &Spanned<T>) -> Place {
    let loc = &s.referenced;
    let sp = loc.span();
    let start = sp.byte_offset().unwrap_or(0) as usize;
    let len = sp.byte_len().unwrap_or(0) as usize;
    Place {
        file: file.to_string(),
        line: loc.line() as usize,
        column: loc.column() as usize,
        span: (start, start + len),
    }
}

pub(crate) fn finding(
    code: &'static str,
    message: String,
    help: Option<&str>,
    place: Option<Place>,
) -> Finding {
    Finding {
        code,
        message,
        help: help.map(str::to_string),
        place,
    }
}

const KEYS_HELP: &str = "keys are `tenant`, `surface`, `purpose`, `subject.user_id`, `subject.anonymous_id`, `consent_version`, `consent.TOPIC`, `context.FIELD`, `roles`, `event_time` and `kind`";

fn parse(text: &str, file: &str) -> Result<Mapping, BatchError> {
    let whole = Place {
        file: file.to_string(),
        line: 1,
        column: 1,
        span: (0, 0),
    };
    if text.len() > MAX_MAPPING_BYTES {
        return Err(BatchError {
            findings: vec![finding(
                "E0901",
                format!(
                    "mapping is {} bytes, over the limit of {MAX_MAPPING_BYTES} bytes",
                    text.len()
                ),
                None,
                Some(whole),
            )],
        });
    }
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let doc: Spanned<Yv> = match serde_saphyr::from_str_with_options(text, options) {
        Ok(d) => d,
        Err(e) => {
            let place = e.location().map_or(whole, |l| Place {
                file: file.to_string(),
                line: l.line() as usize,
                column: l.column() as usize,
                span: {
                    let o = l.span().byte_offset().unwrap_or(0) as usize;
                    (o, o)
                },
            });
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid syntax").trim();
            // The place is reported on its own.
            let first = first.split(" at line ").next().unwrap_or(first);
            let mut first = first.to_string();
            if let Some(c) = first.get(..1) {
                first.replace_range(..1, &c.to_lowercase());
            }
            if let Some(key) = first.strip_prefix("duplicate mapping key: ") {
                let key = key.split(',').next().unwrap_or(key);
                return Err(BatchError {
                    findings: vec![finding(
                        "E0901",
                        format!("`{key}` is mapped twice"),
                        Some("keep one line per field"),
                        Some(place),
                    )],
                });
            }
            return Err(BatchError {
                findings: vec![finding(
                    "E0901",
                    format!("invalid mapping: {first}"),
                    Some("a mapping is YAML (or JSON) of `field: column` lines"),
                    Some(place),
                )],
            });
        }
    };
    let Yv::Map(items) = doc.value else {
        return Err(BatchError {
            findings: vec![finding(
                "E0901",
                format!(
                    "a mapping must be a map of request fields to columns, found {}",
                    doc.value.kind()
                ),
                Some("write one `field: column` line per mapped field"),
                Some(place(file, &doc)),
            )],
        });
    };
    let mut entries: Vec<Entry> = Vec::new();
    let mut findings = Vec::new();
    for (k, v) in items {
        let key_place = place(file, &k);
        let value_place = place(file, &v);
        let key = k.value;
        let Some(target) = Target::parse(&key) else {
            findings.push(finding(
                "E0902",
                format!("`{key}` is not a request field or batch key"),
                Some(KEYS_HELP),
                Some(key_place),
            ));
            continue;
        };
        if entries.iter().any(|e| e.target == target) {
            findings.push(finding(
                "E0901",
                format!("`{key}` is mapped twice"),
                Some("keep one line per field"),
                Some(key_place),
            ));
            continue;
        }
        let source = match v.value {
            Yv::Str(col) => Source::Column(col),
            Yv::Map(fields) => match constant(fields) {
                Some(c) => Source::Const(c),
                None => {
                    findings.push(finding(
                        "E0901",
                        format!("the value of `{key}` must be a column name or `{{value: V}}`"),
                        Some("a constant is `{value: V}` with V a string, integer, boolean or list of strings"),
                        Some(value_place),
                    ));
                    continue;
                }
            },
            other => {
                findings.push(finding(
                    "E0901",
                    format!(
                        "the value of `{key}` must be a column name or `{{value: V}}`, found {}",
                        other.kind()
                    ),
                    Some("quote a column name; write a constant as `{value: V}`"),
                    Some(value_place),
                ));
                continue;
            }
        };
        entries.push(Entry {
            key,
            target,
            source,
            key_place,
            value_place,
        });
    }
    if findings.is_empty() {
        Ok(Mapping { entries })
    } else {
        Err(BatchError { findings })
    }
}

/// `{value: V}` as a constant, if it is one.
fn constant(fields: Vec<(Spanned<String>, Spanned<Yv>)>) -> Option<Const> {
    let [(k, v)] = <[_; 1]>::try_from(fields).ok()?;
    if k.value != "value" {
        return None;
    }
    Some(match v.value {
        Yv::Str(s) => Const::Str(s),
        Yv::Int(i) => Const::Int(i),
        Yv::Bool(b) => Const::Bool(b),
        Yv::List(items) => Const::List(
            items
                .into_iter()
                .map(|i| match i.value {
                    Yv::Str(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    })
}
