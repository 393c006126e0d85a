//! Requests (spec 7.1), parsed strictly: every problem is reported with its
//! JSON path, and nothing invalid is ever silently defaulted.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::names::{NameList, NameMap, SeenNames};
use std::fmt;

use crate::compile::Compiled;
use crate::json::{J, ParseError};
use crate::model::{CONSENT_UNKNOWN, ContextType};

pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
pub const MAX_DEPTH: usize = 32;
pub const MAX_ARRAY_LEN: usize = 100_000;

/// How many feature names are hashed and touched before they are looked up.
const TOUCH_BATCH: usize = 32;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureName<'a> {
    Known(u32),
    Unknown(&'a str),
}

/// A request's `features`, de-duplicated, in request order. Names not in
/// the registry are kept in one buffer, not one `String` each, so a request
/// of 100,000 unknown names costs two allocations for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Registry ids, and [`UNKNOWN`] for the next name of `unknown`.
    order: Vec<u32>,
    unknown: NameList,
}

/// In [`Features::order`]: the next unknown name. Registry ids stay below it
/// (a registry of 2^32 - 1 features would not fit in a request's limits).
const UNKNOWN: u32 = u32::MAX;

impl Features {
    pub fn new() -> Features {
        Features::default()
    }

    fn with_capacity(n: usize) -> Features {
        Features {
            order: Vec::with_capacity(n),
            unknown: NameList::new(),
        }
    }

    /// Appends registry feature `id` (the caller drops repeats).
    pub fn push_known(&mut self, id: u32) {
        if id != UNKNOWN {
            self.order.push(id);
        }
    }

    /// Appends a name not in the registry (the caller drops repeats).
    pub fn push_unknown(&mut self, name: &str) {
        self.unknown.push(name);
        self.order.push(UNKNOWN);
    }

    /// Empties the list, keeping its buffers.
    pub fn clear(&mut self) {
        self.order.clear();
        self.unknown = NameList::new();
    }

    /// Whether registry feature `id` is in the list.
    pub fn contains_known(&self, id: u32) -> bool {
        id != UNKNOWN && self.order.contains(&id)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every feature, in request order.
    pub fn iter(&self) -> impl Iterator<Item = FeatureName<'_>> + '_ {
        let mut names = self.unknown.iter();
        self.order.iter().map(move |&id| match id {
            UNKNOWN => FeatureName::Unknown(names.next().unwrap_or("")),
            id => FeatureName::Known(id),
        })
    }

    /// The registry ids, in request order.
    pub fn known(&self) -> impl Iterator<Item = u32> + '_ {
        self.order.iter().copied().filter(|&id| id != UNKNOWN)
    }

    /// The names not in the registry, in request order.
    pub fn unknown(&self) -> &NameList {
        &self.unknown
    }
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
    pub features: Option<Features>,
    /// The vocabulary tag of the policy whose ids this request holds: another
    /// policy decides it only if its names are the same (see `PolicyTags`).
    pub(crate) vocabulary: u64,
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
            vocabulary: 0,
        }
    }
}

impl Compiled {
    /// A request with nothing set yet: every consent topic unknown, no
    /// context, no roles (tenant, surface and purpose still to fill in).
    /// Analysis tools build requests from it without going through JSON; ids
    /// set in it are this policy's (an out-of-range one is denied, never a panic).
    pub fn blank_request(&self) -> Request {
        let m = self.model();
        Request {
            consent: vec![CONSENT_UNKNOWN as u8; m.consent_topics.len()],
            context: vec![None; m.context.len()],
            vocabulary: self.tags.vocabulary,
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
#[derive(Default)]
pub(crate) struct Partial {
    pub tenant: Option<String>,
    pub surface: Option<u32>,
    pub purpose: Option<u32>,
    pub features: Option<Features>,
}

/// At most this many errors of one request are listed; the rest are counted
/// in one last error, so that a request of 100,000 bad keys costs no more
/// than finding them (issue 16).
pub const MAX_REQUEST_ERRORS: usize = 100;

/// The errors of one request: formatted only while there is room.
struct Errs {
    list: Vec<RequestError>,
    more: usize,
}

impl Errs {
    fn room(&mut self) -> bool {
        if self.list.len() < MAX_REQUEST_ERRORS {
            true
        } else {
            self.more += 1;
            false
        }
    }

    /// Whether another error would still be listed (counts nothing).
    fn has_room(&self) -> bool {
        self.list.len() < MAX_REQUEST_ERRORS
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn done(mut self) -> RequestErrors {
        if self.more > 0 {
            self.list.push(RequestError {
                path: "$".into(),
                message: format!(
                    "{} more errors not listed (at most {MAX_REQUEST_ERRORS} are)",
                    self.more
                ),
            });
        }
        RequestErrors(self.list)
    }
}

/// Records an error at `$path` with a `format!` message, both built only
/// when the error will be listed.
macro_rules! bad {
    ($errs:expr, $path:expr, $($msg:tt)+) => {
        if $errs.room() {
            let path: String = $path;
            let message = format!($($msg)+);
            $errs.list.push(RequestError { path, message });
        }
    };
}

fn one(path: &str, message: String) -> RequestErrors {
    RequestErrors(vec![RequestError {
        path: path.to_string(),
        message,
    }])
}

pub(crate) fn parse(c: &Compiled, text: &str) -> Result<Request, (RequestErrors, Partial)> {
    let fail = |message: String| Err((one("$", message), Partial::default()));
    if text.len() > MAX_REQUEST_BYTES {
        return fail(format!(
            "request is {} bytes, over the limit of {MAX_REQUEST_BYTES} bytes",
            text.len()
        ));
    }
    // Holds the decoded strings that `root` borrows.
    let mut decoded = crate::json_fast::Decoded::default();
    let root = match crate::json::parse(text, &mut decoded) {
        Ok(j) => j,
        Err(ParseError::TooDeep) => {
            return fail(format!("request nests deeper than {MAX_DEPTH} levels"));
        }
        Err(ParseError::TooLong) => {
            return fail(format!("an array is longer than {MAX_ARRAY_LEN} items"));
        }
        Err(ParseError::Json(e)) => return fail(format!("invalid JSON: {e}")),
    };
    let J::Obj(top) = root else {
        return fail(format!(
            "a request must be a JSON object, found {}",
            root.kind()
        ));
    };
    let m = c.model();
    let ix = &c.names;
    let mut req = c.blank_request();
    let mut partial = Partial::default();
    let mut errs = Errs {
        list: Vec::new(),
        more: 0,
    };
    // Every lookup below is a hash lookup, so parsing is linear in the request
    // whatever the policy declares (issue 16).
    let mut seen_known = 0u16;
    let mut seen_unknown: HashSet<&str> = HashSet::new();
    for (k, v) in &top {
        let k: &str = k;
        let dup = match REQUEST_KEYS.iter().position(|x| *x == k) {
            Some(i) => {
                let dup = seen_known >> i & 1 == 1;
                seen_known |= 1 << i;
                dup
            }
            // An unknown key is an error either way: the set only chooses its
            // message, so it is kept only while errors are still listed.
            None => errs.has_room() && !seen_unknown.insert(k),
        };
        if dup {
            bad!(errs, format!("$.{k}"), "duplicate key `{k}`");
            continue;
        }
        macro_rules! wrong {
            ($what:expr) => {
                bad!(
                    errs,
                    format!("$.{k}"),
                    "`{k}` must be {}, found {}",
                    $what,
                    v.kind()
                )
            };
        }
        match k {
            "tenant" => match v {
                J::Str(s) => {
                    req.tenant = Some(s.to_string());
                    partial.tenant = Some(s.to_string());
                }
                _ => wrong!("a string"),
            },
            "surface" | "purpose" => {
                let (names, index, kind) = if k == "surface" {
                    (&m.surfaces, &ix.surfaces, "surface")
                } else {
                    (&m.purposes, &ix.purposes, "purpose")
                };
                match v {
                    J::Str(s) => match declared(index, names, kind, s) {
                        Ok(i) => {
                            if k == "surface" {
                                req.surface = Some(i);
                                partial.surface = Some(i);
                            } else {
                                req.purpose = Some(i);
                                partial.purpose = Some(i);
                            }
                        }
                        Err(why) => bad!(errs, format!("$.{k}"), "{why}"),
                    },
                    _ => wrong!("a string"),
                }
            }
            "subject" => match v {
                J::Obj(fields) => {
                    let subject_key = |fk: &str| match fk {
                        "user_id" => Some(0),
                        "anonymous_id" => Some(1),
                        _ => None,
                    };
                    for (fk, fv, i) in unique_keys(fields, k, subject_key, 2, &mut errs) {
                        let slot = match i {
                            Some(0) => &mut req.user_id,
                            Some(_) => &mut req.anonymous_id,
                            None => {
                                bad!(
                                    errs,
                                    format!("$.{k}.{fk}"),
                                    "unknown key `{fk}` in `subject` (expected `user_id` or `anonymous_id`)"
                                );
                                continue;
                            }
                        };
                        match fv {
                            J::Str(s) => *slot = Some(s.to_string()),
                            other => bad!(
                                errs,
                                format!("$.{k}.{fk}"),
                                "`subject.{fk}` must be a string, found {}",
                                other.kind()
                            ),
                        }
                    }
                }
                _ => wrong!("an object"),
            },
            "consent" => match v {
                J::Obj(fields) => {
                    let topic = |fk: &str| ix.consent_topics.get(fk).copied();
                    let n = m.consent_topics.len();
                    for (fk, fv, t) in unique_keys(fields, k, topic, n, &mut errs) {
                        let Some(t) = t else {
                            bad!(
                                errs,
                                format!("$.{k}.{fk}"),
                                "`{fk}` is not a declared consent topic (expected one of {})",
                                list(&m.consent_topics)
                            );
                            continue;
                        };
                        let t = t as usize;
                        match fv {
                            J::Str(s) => match consent_state(s) {
                                Ok(state) => {
                                    if let Some(slot) = req.consent.get_mut(t) {
                                        *slot = state;
                                    }
                                }
                                Err(why) => bad!(errs, format!("$.{k}.{fk}"), "{why}"),
                            },
                            other => bad!(
                                errs,
                                format!("$.{k}.{fk}"),
                                "a consent state must be a string, found {}",
                                other.kind()
                            ),
                        }
                    }
                }
                _ => wrong!("an object"),
            },
            "consent_version" => match v {
                J::Str(s) => req.consent_version = Some(s.to_string()),
                _ => wrong!("a string"),
            },
            "context" => match v {
                J::Obj(fields) => {
                    let field = |fk: &str| ix.context.get(fk).copied();
                    let n = m.context.len();
                    for (fk, fv, fi) in unique_keys(fields, k, field, n, &mut errs) {
                        let Some(fi) = fi else {
                            let names = m.context.iter().map(|f| f.name.as_str());
                            bad!(
                                errs,
                                format!("$.{k}.{fk}"),
                                "`{fk}` is not a declared context field (expected one of {})",
                                list_of(names, m.context.len())
                            );
                            continue;
                        };
                        let fi = fi as usize;
                        // `fi` comes from this policy's index of `m.context`.
                        #[allow(clippy::indexing_slicing)]
                        let ty = &m.context[fi].ty;
                        match context_value(ty, ix.variants.get(fi), fv) {
                            Ok(val) => {
                                if let Some(slot) = req.context.get_mut(fi) {
                                    *slot = Some(val);
                                }
                            }
                            Err(why) => bad!(errs, format!("$.{k}.{fk}"), "`context.{fk}` {why}"),
                        }
                    }
                }
                _ => wrong!("an object"),
            },
            "roles" => match v {
                J::Arr(items) => {
                    for (i, it) in items.iter().enumerate() {
                        match it {
                            // The message (which lists the roles) is built
                            // only while errors are listed: 100,000 unknown
                            // roles cost a lookup each, not a message each.
                            J::Str(s) => match role(c, s) {
                                Some(bit) => req.roles |= bit,
                                None if errs.has_room() => {
                                    if let Err(why) = role_bit(c, s) {
                                        bad!(errs, format!("$.{k}[{i}]"), "{why}");
                                    }
                                }
                                None => errs.more += 1,
                            },
                            other => bad!(
                                errs,
                                format!("$.{k}[{i}]"),
                                "a role must be a string, found {}",
                                other.kind()
                            ),
                        }
                    }
                }
                _ => wrong!("an array of role names"),
            },
            "features" => match v {
                J::Arr(items) => {
                    let mut out = Features::with_capacity(items.len().min(m.features.len()));
                    let mut ok = true;
                    // Duplicates count once (spec 12), first position kept: a
                    // bit per registry feature; for unknown names a set that
                    // reuses the hash of the registry lookup (one hash a name).
                    let mut known = vec![0u64; m.features.len().div_ceil(64)];
                    let table = &c.feature_index;
                    let mut unknown = SeenNames::new(table);
                    let mut unknown_names = NameList::new();
                    let mut rest = items.len();
                    // Names are hashed and their slots touched a batch at a
                    // time (see `FeatureTable::touch`), then looked up.
                    for (b, batch) in items.chunks(TOUCH_BATCH).enumerate() {
                        let mut hashes = [0u64; TOUCH_BATCH];
                        for (h, it) in hashes.iter_mut().zip(batch) {
                            if let J::Str(s) = it {
                                *h = table.hash(s);
                            }
                        }
                        let touched = hashes
                            .iter()
                            .take(batch.len())
                            .fold(0, |t, &h| t ^ table.touch(h) ^ unknown.touch(h));
                        std::hint::black_box(touched);
                        for (j, (it, &h)) in batch.iter().zip(&hashes).enumerate() {
                            let i = b * TOUCH_BATCH + j;
                            rest -= 1;
                            match it {
                                J::Str(s) => match table.get_hashed(h, s) {
                                    Some(&id) => {
                                        let (w, b) = (id as usize / 64, id % 64);
                                        if let Some(word) = known.get_mut(w)
                                            && *word >> b & 1 == 0
                                        {
                                            *word |= 1 << b;
                                            out.push_known(id);
                                        }
                                    }
                                    None => {
                                        if unknown.add(&mut unknown_names, h, s, rest + 1) {
                                            out.order.push(UNKNOWN);
                                        }
                                    }
                                },
                                other => {
                                    ok = false;
                                    bad!(
                                        errs,
                                        format!("$.{k}[{i}]"),
                                        "a feature name must be a string, found {}",
                                        other.kind()
                                    );
                                }
                            }
                        }
                    }
                    out.unknown = unknown_names;
                    if ok {
                        req.features = Some(out);
                    }
                }
                _ => wrong!("an array of feature names"),
            },
            _ => bad!(
                errs,
                format!("$.{k}"),
                "unknown key `{k}` (expected `tenant`, `surface`, `purpose`, `subject`, `consent`, `consent_version`, `context`, `roles` or `features`)"
            ),
        }
    }
    for (i, required) in REQUEST_KEYS.iter().enumerate().take(3) {
        if seen_known >> i & 1 == 0 {
            bad!(errs, "$".to_string(), "missing required key `{required}`");
        }
    }
    if errs.is_empty() && errs.more == 0 {
        Ok(req)
    } else {
        // Only the features survive into the fallback from here (the rest of
        // `partial` was filled as it was read).
        partial.features = req.features.take();
        Err((errs.done(), partial))
    }
}

/// The entries of an object (the value of top-level key `key`) with the id
/// `index` gives each key among `n` declared ones, each duplicate key
/// reported and skipped.
fn unique_keys<'j>(
    fields: &'j [(Cow<'_, str>, J<'_>)],
    key: &str,
    index: impl Fn(&str) -> Option<u32>,
    n: usize,
    errs: &mut Errs,
) -> Vec<(&'j str, &'j J<'j>, Option<u32>)> {
    let mut known = vec![0u64; n.div_ceil(64)];
    let mut unknown: HashSet<&str> = HashSet::new();
    // Undeclared keys passed on, each an error to come.
    let mut pending = 0;
    let mut out = Vec::with_capacity(fields.len().min(n + MAX_REQUEST_ERRORS));
    for (k, v) in fields {
        let id = index(k);
        let dup = match id {
            Some(i) => {
                let (w, b) = (i as usize / 64, i % 64);
                let dup = known.get(w).is_some_and(|x| x >> b & 1 == 1);
                if let Some(x) = known.get_mut(w) {
                    *x |= 1 << b;
                }
                dup
            }
            // Undeclared: an error either way (here if a duplicate, else
            // where the caller reads it); the set only picks the message, so
            // it is kept only while errors are still listed.
            None if errs.list.len() + pending < MAX_REQUEST_ERRORS => {
                let first = unknown.insert(k);
                pending += usize::from(first);
                !first
            }
            None => {
                errs.more += 1;
                continue;
            }
        };
        if dup {
            bad!(errs, format!("$.{key}.{k}"), "duplicate key `{k}`");
        } else {
            out.push((&**k, v, id));
        }
    }
    out
}

/// The keys of a request (spec 7.1), in the spec's order; the first three
/// are required. A test's `given` block has the same keys.
pub const REQUEST_KEYS: [&str; 9] = [
    "tenant",
    "surface",
    "purpose",
    "subject",
    "consent",
    "consent_version",
    "context",
    "roles",
    "features",
];

/// The id of `s` among declared surfaces or purposes (`kind`).
pub(crate) fn declared(
    index: &crate::names::NameMap,
    names: &[String],
    kind: &str,
    s: &str,
) -> Result<u32, String> {
    index.get(s).copied().ok_or_else(|| {
        format!(
            "`{s}` is not a declared {kind} (expected one of {})",
            list(names)
        )
    })
}

/// A consent state: 0 granted, 1 denied, 2 unknown.
pub(crate) fn consent_state(s: &str) -> Result<u8, String> {
    match s {
        "granted" => Ok(0),
        "denied" => Ok(1),
        "unknown" => Ok(2),
        _ => Err(format!(
            "`{s}` is not a consent state (expected `granted`, `denied` or `unknown`)"
        )),
    }
}

/// The bit of declared role `s` in [`Request::roles`].
fn role(c: &Compiled, s: &str) -> Option<u64> {
    match c.names.roles.get(s) {
        Some(&r) if r < 64 => Some(1u64 << r),
        _ => None,
    }
}

/// The bit of a declared role in [`Request::roles`].
pub(crate) fn role_bit(c: &Compiled, s: &str) -> Result<u64, String> {
    match role(c, s) {
        Some(bit) => Ok(bit),
        None => Err(format!(
            "`{s}` is not a declared role (expected one of {})",
            list(&c.model().roles)
        )),
    }
}

fn list(names: &[String]) -> String {
    list_of(names.iter().map(String::as_str), names.len())
}

/// The first ten of `len` names, in backticks.
fn list_of<'a>(names: impl Iterator<Item = &'a str>, len: usize) -> String {
    let shown: Vec<String> = names.take(10).map(|n| format!("`{n}`")).collect();
    if len > 10 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

pub(crate) fn context_value(
    ty: &ContextType,
    variants: Option<&NameMap>,
    v: &J<'_>,
) -> Result<CtxVal, String> {
    match (ty, v) {
        (ContextType::String, J::Str(s)) => Ok(CtxVal::Str(s.to_string())),
        (ContextType::Int, J::Int(i)) => i64::try_from(*i)
            .map(CtxVal::Int)
            .map_err(|_| "is out of the 64-bit integer range".to_string()),
        (ContextType::Bool, J::Bool(b)) => Ok(CtxVal::Bool(*b)),
        (ContextType::Duration, J::Str(s)) => parse_duration(s)
            .map(CtxVal::Dur)
            .ok_or_else(|| format!("must be a duration such as `\"90d\"`, found `{s}`")),
        (ContextType::Enum(vs), J::Str(s)) => variants
            .and_then(|ix| ix.get(&**s))
            .map(|&i| CtxVal::Enum(i))
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
