//! Requests (spec 7.1), parsed strictly: every problem is reported with its
//! JSON path, and nothing invalid is ever silently defaulted.

use std::fmt;

use crate::compile::Compiled;
use crate::json::J;
use crate::model::{CONSENT_UNKNOWN, ContextType};

pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
pub const MAX_DEPTH: usize = 32;
pub const MAX_ARRAY_LEN: usize = 100_000;

/// A context value of its declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum CtxVal {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Seconds.
    Dur(i64),
    /// Variant index.
    Enum(u32),
}

/// A feature named by a request: a registry id, or a name not in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureName {
    Known(u32),
    Unknown(String),
}

/// A validated request with every name resolved to an id.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `None` only in a fallback request whose tenant was invalid.
    pub tenant: Option<String>,
    /// `None` only in a fallback request whose surface was invalid.
    pub surface: Option<u32>,
    /// `None` only in a fallback request whose purpose was invalid.
    pub purpose: Option<u32>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Per consent topic: 0 granted, 1 denied, 2 unknown.
    pub consent: Vec<u8>,
    pub consent_version: Option<String>,
    pub context: Vec<Option<CtxVal>>,
    /// Bit per role id.
    pub roles: u64,
    /// The `features` array, deduplicated in order.
    pub features: Option<Vec<FeatureName>>,
}

impl Request {
    /// A request with nothing in it (used for constant folding).
    pub(crate) fn empty() -> Request {
        Request {
            tenant: None,
            surface: None,
            purpose: None,
            user_id: None,
            anonymous_id: None,
            consent: Vec::new(),
            consent_version: None,
            context: Vec::new(),
            roles: 0,
            features: None,
        }
    }
}

impl Compiled {
    /// A request with nothing set yet: every consent topic unknown, no
    /// context, no roles (tenant, surface and purpose still to fill in).
    /// Analysis tools build requests from it without going through JSON.
    pub fn blank_request(&self) -> Request {
        let m = self.model();
        Request {
            consent: vec![CONSENT_UNKNOWN as u8; m.consent_topics.len()],
            context: vec![None; m.context.len()],
            ..Request::empty()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// JSON path such as `$.context.device`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestErrors(pub Vec<RequestError>);

impl RequestErrors {
    pub fn iter(&self) -> impl Iterator<Item = &RequestError> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for RequestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RequestErrors {}

fn depth(j: &J) -> usize {
    match j {
        J::Arr(v) => 1 + v.iter().map(depth).max().unwrap_or(0),
        J::Obj(v) => 1 + v.iter().map(|(_, x)| depth(x)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Parses a duration such as `"90d"`: one integer (no sign, no leading zero)
/// and one unit; zero is allowed in a request.
pub fn parse_duration(s: &str) -> Option<i64> {
    let unit = s.chars().last()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    let digits = &s[..s.len() - 1];
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(mult)
}

/// What survives of an invalid request in its fallback (spec 3.1).
pub(crate) struct Partial {
    pub tenant: Option<String>,
    pub surface: Option<u32>,
    pub purpose: Option<u32>,
    pub features: Option<Vec<FeatureName>>,
}

pub(crate) fn parse(c: &Compiled, text: &str) -> Result<Request, (RequestErrors, Partial)> {
    let mut errs = Vec::new();
    let none = || Partial {
        tenant: None,
        surface: None,
        purpose: None,
        features: None,
    };
    let err = |path: &str, message: String| RequestError {
        path: path.to_string(),
        message,
    };
    if text.len() > MAX_REQUEST_BYTES {
        errs.push(err(
            "$",
            format!(
                "request is {} bytes, over the limit of {MAX_REQUEST_BYTES} bytes",
                text.len()
            ),
        ));
        return Err((RequestErrors(errs), none()));
    }
    let root: J = match serde_json::from_str(text) {
        Ok(j) => j,
        Err(e) => {
            errs.push(err("$", format!("invalid JSON: {e}")));
            return Err((RequestErrors(errs), none()));
        }
    };
    if depth(&root) > MAX_DEPTH {
        errs.push(err(
            "$",
            format!("request nests deeper than {MAX_DEPTH} levels"),
        ));
        return Err((RequestErrors(errs), none()));
    }
    let J::Obj(top) = root else {
        errs.push(err(
            "$",
            format!("a request must be a JSON object, found {}", root.kind()),
        ));
        return Err((RequestErrors(errs), none()));
    };
    let m = c.model();
    let mut req = c.blank_request();
    let mut partial = none();
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in &top {
        let path = format!("$.{k}");
        if seen.contains(&k.as_str()) {
            errs.push(err(&path, format!("duplicate key `{k}`")));
            continue;
        }
        seen.push(k);
        let wrong = |what: &str| err(&path, format!("`{k}` must be {what}, found {}", v.kind()));
        match k.as_str() {
            "tenant" => match v {
                J::Str(s) => {
                    req.tenant = Some(s.clone());
                    partial.tenant = Some(s.clone());
                }
                _ => errs.push(wrong("a string")),
            },
            "surface" | "purpose" => {
                let (names, kind) = if k == "surface" { (&m.surfaces, "surface") } else { (&m.purposes, "purpose") };
                match v {
                    J::Str(s) => match names.iter().position(|n| n == s) {
                        Some(i) => {
                            if k == "surface" {
                                req.surface = Some(i as u32);
                                partial.surface = Some(i as u32);
                            } else {
                                req.purpose = Some(i as u32);
                                partial.purpose = Some(i as u32);
                            }
                        }
                        None => errs.push(err(&path, format!("`{s}` is not a declared {kind} (expected one of {})", list(names)))),
                    },
                    _ => errs.push(wrong("a string")),
                }
            }
            "subject" => match v {
                J::Obj(fields) => {
                    for (fk, fv) in unique_keys(fields, &path, &mut errs) {
                        let fp = format!("{path}.{fk}");
                        let slot = match fk.as_str() {
                            "user_id" => &mut req.user_id,
                            "anonymous_id" => &mut req.anonymous_id,
                            _ => {
                                errs.push(err(&fp, format!("unknown key `{fk}` in `subject` (expected `user_id` or `anonymous_id`)")));
                                continue;
                            }
                        };
                        match fv {
                            J::Str(s) => *slot = Some(s.clone()),
                            other => errs.push(err(&fp, format!("`subject.{fk}` must be a string, found {}", other.kind()))),
                        }
                    }
                }
                _ => errs.push(wrong("an object")),
            },
            "consent" => match v {
                J::Obj(fields) => {
                    for (fk, fv) in unique_keys(fields, &path, &mut errs) {
                        let fp = format!("{path}.{fk}");
                        let Some(t) = m.consent_topics.iter().position(|n| n == fk) else {
                            errs.push(err(&fp, format!("`{fk}` is not a declared consent topic (expected one of {})", list(&m.consent_topics))));
                            continue;
                        };
                        match fv {
                            J::Str(s) => match s.as_str() {
                                "granted" => req.consent[t] = 0,
                                "denied" => req.consent[t] = 1,
                                "unknown" => req.consent[t] = 2,
                                _ => errs.push(err(&fp, format!("`{s}` is not a consent state (expected `granted`, `denied` or `unknown`)"))),
                            },
                            other => errs.push(err(&fp, format!("a consent state must be a string, found {}", other.kind()))),
                        }
                    }
                }
                _ => errs.push(wrong("an object")),
            },
            "consent_version" => match v {
                J::Str(s) => req.consent_version = Some(s.clone()),
                _ => errs.push(wrong("a string")),
            },
            "context" => match v {
                J::Obj(fields) => {
                    for (fk, fv) in unique_keys(fields, &path, &mut errs) {
                        let fp = format!("{path}.{fk}");
                        let Some(fi) = m.context.iter().position(|f| f.name == *fk) else {
                            let names: Vec<String> = m.context.iter().map(|f| f.name.clone()).collect();
                            errs.push(err(&fp, format!("`{fk}` is not a declared context field (expected one of {})", list(&names))));
                            continue;
                        };
                        match context_value(&m.context[fi].ty, fv) {
                            Ok(val) => req.context[fi] = Some(val),
                            Err(why) => errs.push(err(&fp, format!("`context.{fk}` {why}"))),
                        }
                    }
                }
                _ => errs.push(wrong("an object")),
            },
            "roles" => match v {
                J::Arr(items) => {
                    for (i, it) in items.iter().enumerate() {
                        let ip = format!("{path}[{i}]");
                        match it {
                            J::Str(s) => match m.roles.iter().position(|r| r == s) {
                                Some(r) if r < 64 => req.roles |= 1u64 << r,
                                _ => errs.push(err(&ip, format!("`{s}` is not a declared role (expected one of {})", list(&m.roles)))),
                            },
                            other => errs.push(err(&ip, format!("a role must be a string, found {}", other.kind()))),
                        }
                    }
                }
                _ => errs.push(wrong("an array of role names")),
            },
            "features" => match v {
                J::Arr(items) => {
                    let mut out: Vec<FeatureName> = Vec::new();
                    let mut ok = true;
                    for (i, it) in items.iter().enumerate() {
                        match it {
                            J::Str(s) => {
                                let f = match c.feature_id(s) {
                                    Some(id) => FeatureName::Known(id.0),
                                    None => FeatureName::Unknown(s.clone()),
                                };
                                if !out.contains(&f) {
                                    out.push(f);
                                }
                            }
                            other => {
                                ok = false;
                                errs.push(err(&format!("{path}[{i}]"), format!("a feature name must be a string, found {}", other.kind())));
                            }
                        }
                    }
                    if ok {
                        partial.features = Some(out.clone());
                        req.features = Some(out);
                    }
                }
                _ => errs.push(wrong("an array of feature names")),
            },
            _ => errs.push(err(
                &path,
                format!("unknown key `{k}` (expected `tenant`, `surface`, `purpose`, `subject`, `consent`, `consent_version`, `context`, `roles` or `features`)"),
            )),
        }
    }
    for required in ["tenant", "surface", "purpose"] {
        if !seen.contains(&required) {
            errs.push(err("$", format!("missing required key `{required}`")));
        }
    }
    if errs.is_empty() {
        Ok(req)
    } else {
        Err((RequestErrors(errs), partial))
    }
}

/// The entries of an object, each duplicate key reported once and skipped.
fn unique_keys<'j>(
    fields: &'j [(String, J)],
    path: &str,
    errs: &mut Vec<RequestError>,
) -> Vec<(&'j String, &'j J)> {
    let mut out: Vec<(&String, &J)> = Vec::with_capacity(fields.len());
    for (k, v) in fields {
        if out.iter().any(|(seen, _)| *seen == k) {
            errs.push(RequestError {
                path: format!("{path}.{k}"),
                message: format!("duplicate key `{k}`"),
            });
        } else {
            out.push((k, v));
        }
    }
    out
}

fn list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
    if names.len() > 10 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn context_value(ty: &ContextType, v: &J) -> Result<CtxVal, String> {
    match (ty, v) {
        (ContextType::String, J::Str(s)) => Ok(CtxVal::Str(s.clone())),
        (ContextType::Int, J::Int(i)) => i64::try_from(*i)
            .map(CtxVal::Int)
            .map_err(|_| "is out of the 64-bit integer range".to_string()),
        (ContextType::Bool, J::Bool(b)) => Ok(CtxVal::Bool(*b)),
        (ContextType::Duration, J::Str(s)) => parse_duration(s)
            .map(CtxVal::Dur)
            .ok_or_else(|| format!("must be a duration such as `\"90d\"`, found `{s}`")),
        (ContextType::Enum(vs), J::Str(s)) => vs
            .iter()
            .position(|x| x == s)
            .map(|i| CtxVal::Enum(i as u32))
            .ok_or_else(|| format!("has no variant `{s}` (expected one of {})", list(vs))),
        (ty, other) => {
            let want = match ty {
                ContextType::String => "a string",
                ContextType::Int => "an integer",
                ContextType::Bool => "a boolean",
                ContextType::Duration => "a duration string such as `\"90d\"`",
                ContextType::Enum(_) => "a string naming a variant",
            };
            Err(format!("must be {want}, found {}", other.kind()))
        }
    }
}
