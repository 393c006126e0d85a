//! YAML → [`Registry`]: E0401 for invalid YAML, unknown keys, missing keys and
//! wrong types, each at its line; every entry is checked, not just the first.

use rpol_diag::{Diagnostic, FileId, Span, did_you_mean};
use serde_saphyr::Spanned;

use crate::model::{DebugVisibility, RegFeature, Registry, Sp};
use crate::yaml::Yv;

/// Largest registry accepted.
pub const MAX_REGISTRY_BYTES: usize = 64 * 1024 * 1024;

/// Events that aliases may replay in one registry (docs/limits.md).
pub const MAX_ALIAS_REPLAY: usize = 250_000;

pub(crate) const KEYS: &[&str] = &[
    "name",
    "entity",
    "privacy_class",
    "allowed_privacy_modes",
    "allowed_purposes",
    "prohibited_purposes",
    "retention_days",
    "requires_consent",
    "debug_visibility",
    "description",
    "owner",
    "labels",
];
pub(crate) const REQUIRED: &[&str] = &[
    "name",
    "entity",
    "privacy_class",
    "allowed_privacy_modes",
    "allowed_purposes",
];

/// The span of `len` bytes at `off`, kept inside `text` and on a character boundary.
pub(crate) fn byte_span(text: &str, off: usize, len: usize) -> Span {
    let start = off.min(text.len());
    let mut end = start.saturating_add(len).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Span::new(start, end.max(start))
}

struct Ctx<'a> {
    file: FileId,
    text: &'a str,
    line_starts: Vec<usize>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// Byte span of a node: saphyr's byte offset when it has one, else from line/column.
    fn span<T>(&self, s: &Spanned<T>) -> Span {
        let loc = &s.referenced;
        let sp = loc.span();
        if let Some(off) = sp.byte_offset() {
            let len = sp.byte_len().unwrap_or(0) as usize;
            return byte_span(self.text, off as usize, len);
        }
        let line = (loc.line() as usize).saturating_sub(1);
        let start = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let col = (loc.column() as usize).saturating_sub(1);
        let off = self.text[start..]
            .char_indices()
            .nth(col)
            .map_or(self.text.len(), |(i, _)| start + i);
        Span::new(off, off)
    }

    fn error(&mut self, span: Span, msg: String, help: Option<String>) {
        let mut d = Diagnostic::error("E0401", self.file, span, msg);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.diags.push(d);
    }
}

pub fn load(file: FileId, text: &str) -> Result<Registry, Vec<Diagnostic>> {
    if text.len() > MAX_REGISTRY_BYTES {
        return Err(vec![
            Diagnostic::error(
                "E0401",
                file,
                Span::new(0, 0),
                format!(
                    "registry is {} bytes, over the limit of {MAX_REGISTRY_BYTES} bytes",
                    text.len()
                ),
            )
            .with_help("split unrelated features into separate registries"),
        ]);
    }
    // Most registries have the plain shape docs/reference.md describes (The feature registry); for those the events
    // are read directly (see `fast`). Anything else, valid or not, takes the
    // full path, which reports every problem.
    if let Some(registry) = crate::fast::load(text) {
        return Ok(registry);
    }
    full(file, text)
}

/// The full path: serde-saphyr into a span-carrying value tree, then every
/// entry checked key by key.
pub(crate) fn full(file: FileId, text: &str) -> Result<Registry, Vec<Diagnostic>> {
    let mut line_starts = vec![0];
    line_starts.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let mut cx = Ctx {
        file,
        text,
        line_starts,
        diags: Vec::new(),
    };
    // Defaults keep serde-saphyr's budget (events, nodes, depth 64) and alias
    // replay limits, so an alias bomb is refused before it expands.
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // Room for registries of 100,000 features.
    if let Some(b) = options.budget.as_mut() {
        b.max_nodes = 4_000_000;
        b.max_events = 16_000_000;
    }
    // Anchors for shared lists are fine; replaying more than this many events
    // from aliases is a bomb (serde-saphyr's default, 1,000,000, takes
    // seconds to refuse).
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAY;
    let doc: Spanned<Yv> = match serde_saphyr::from_str_with_options(text, options) {
        Ok(d) => d,
        Err(e) => {
            let span = e
                .location()
                .map_or(Span::new(0, 0), |l| cx.span(&Spanned::new((), l, l)));
            let msg = e.to_string();
            let msg = msg
                .lines()
                .next()
                .unwrap_or("invalid YAML")
                .trim()
                .to_string();
            cx.error(
                span,
                format!("invalid YAML in the registry: {}", lowercase_first(&msg)),
                Some("fix the YAML syntax at this line".into()),
            );
            return Err(cx.diags);
        }
    };
    let top_span = cx.span(&doc);
    let Yv::Map(top) = doc.value else {
        cx.error(
            top_span,
            format!(
                "the registry must be a mapping with a `features` list, found {}",
                doc.value.kind()
            ),
            Some("start the file with `features:`".into()),
        );
        return Err(cx.diags);
    };
    let mut entries = None;
    for (k, v) in top {
        if k.value == "features" {
            entries = Some(v);
        } else {
            let sp = cx.span(&k);
            cx.error(
                sp,
                format!("unknown top-level key `{}` in the registry", k.value),
                Some("the registry has one key, `features`".into()),
            );
        }
    }
    let Some(entries) = entries else {
        cx.error(
            top_span,
            "the registry has no `features` list".into(),
            Some("add `features:` with one entry per feature".into()),
        );
        return Err(cx.diags);
    };
    let list_span = cx.span(&entries);
    let Yv::List(items) = entries.value else {
        cx.error(
            list_span,
            format!("`features` must be a list, found {}", entries.value.kind()),
            Some("write each feature as `- name: …`".into()),
        );
        return Err(cx.diags);
    };
    let mut features = Vec::new();
    for item in items {
        if let Some(f) = entry(&mut cx, item) {
            features.push(f);
        }
    }
    if cx.diags.is_empty() {
        Ok(Registry { features })
    } else {
        Err(cx.diags)
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn entry(cx: &mut Ctx<'_>, item: Spanned<Yv>) -> Option<RegFeature> {
    let span = cx.span(&item);
    let Yv::Map(pairs) = item.value else {
        cx.error(
            span,
            format!(
                "a registry entry must be a mapping, found {}",
                item.value.kind()
            ),
            Some("write `- name: …` followed by its keys".into()),
        );
        return None;
    };
    let name = pairs
        .iter()
        .find(|(k, _)| k.value == "name")
        .and_then(|(_, v)| {
            if let Yv::Str(s) = &v.value {
                Some(s.clone())
            } else {
                None
            }
        });
    let who = name.as_deref().map_or_else(
        || "registry entry".to_string(),
        |n| format!("registry entry `{n}`"),
    );
    let before = cx.diags.len();
    for (i, (k, _)) in pairs.iter().enumerate() {
        let ks = cx.span(k);
        if !KEYS.contains(&k.value.as_str()) {
            let help = match did_you_mean(&k.value, KEYS.iter().copied()) {
                Some(s) => {
                    format!("did you mean `{s}`? an unknown key could silently drop a restriction")
                }
                None => format!("known keys: {}", KEYS.join(", ")),
            };
            cx.error(
                ks,
                format!("unknown key `{}` in {who}", k.value),
                Some(help),
            );
        } else if pairs[..i].iter().any(|(p, _)| p.value == k.value) {
            cx.error(
                ks,
                format!("key `{}` appears twice in {who}", k.value),
                Some("keep one".into()),
            );
        }
    }
    for req in REQUIRED {
        if !pairs.iter().any(|(k, _)| k.value == *req) {
            cx.error(
                span,
                format!("{who} is missing the required key `{req}`"),
                Some(format!("add `{req}: …`")),
            );
        }
    }
    let get = |key: &str| pairs.iter().find(|(k, _)| k.value == key).map(|(_, v)| v);
    let string = |cx: &mut Ctx<'_>, key: &str| -> Option<Sp<String>> {
        let v = get(key)?;
        let sp = cx.span(v);
        match &v.value {
            Yv::Str(s) => Some(Sp {
                value: s.clone(),
                span: sp,
            }),
            other => {
                cx.error(
                    sp,
                    format!("`{key}` of {who} must be a string, found {}", other.kind()),
                    None,
                );
                None
            }
        }
    };
    let list = |cx: &mut Ctx<'_>, key: &str| -> Option<Sp<Vec<Sp<String>>>> {
        let v = get(key)?;
        let sp = cx.span(v);
        match &v.value {
            Yv::List(items) => {
                let mut out = Vec::new();
                for it in items {
                    let isp = cx.span(it);
                    match &it.value {
                        Yv::Str(s) => out.push(Sp {
                            value: s.clone(),
                            span: isp,
                        }),
                        other => cx.error(
                            isp,
                            format!(
                                "items of `{key}` in {who} must be names, found {}",
                                other.kind()
                            ),
                            None,
                        ),
                    }
                }
                Some(Sp {
                    value: out,
                    span: sp,
                })
            }
            other => {
                cx.error(
                    sp,
                    format!("`{key}` of {who} must be a list, found {}", other.kind()),
                    Some(format!("write `{key}: [a, b]`")),
                );
                None
            }
        }
    };
    let f_name = string(cx, "name");
    let entity = string(cx, "entity");
    let class = string(cx, "privacy_class");
    let modes = list(cx, "allowed_privacy_modes");
    let purposes = list(cx, "allowed_purposes");
    let prohibited = list(cx, "prohibited_purposes");
    let consent = string(cx, "requires_consent");
    let retention_days = get("retention_days").and_then(|v| {
        let sp = cx.span(v);
        match &v.value {
            Yv::Int(i) => match i64::try_from(*i) {
                Ok(i) => Some(Sp { value: i, span: sp }),
                Err(_) => {
                    cx.error(sp, format!("`retention_days` of {who} is too large"), None);
                    None
                }
            },
            other => {
                cx.error(
                    sp,
                    format!(
                        "`retention_days` of {who} must be a whole number of days, found {}",
                        other.kind()
                    ),
                    Some("write e.g. `retention_days: 90`".into()),
                );
                None
            }
        }
    });
    let debug_visibility = get("debug_visibility").and_then(|v| {
        let sp = cx.span(v);
        match &v.value {
            Yv::Str(s) if s == "open" => Some(Sp { value: DebugVisibility::Open, span: sp }),
            Yv::Str(s) if s == "restricted" => Some(Sp { value: DebugVisibility::Restricted, span: sp }),
            Yv::Str(s) if s == "hidden" => Some(Sp { value: DebugVisibility::Hidden, span: sp }),
            other => {
                let found = if let Yv::Str(s) = other { format!("`{s}`") } else { other.kind().to_string() };
                cx.error(sp, format!("`debug_visibility` of {who} must be `open`, `restricted` or `hidden`, found {found}"), None);
                None
            }
        }
    });
    let description = string(cx, "description").map(|s| s.value);
    let owner = string(cx, "owner").map(|s| s.value);
    if let Some(v) = get("labels")
        && !matches!(v.value, Yv::Map(_))
    {
        let sp = cx.span(v);
        cx.error(
            sp,
            format!(
                "`labels` of {who} must be a mapping, found {}",
                v.value.kind()
            ),
            Some("write `labels: {team: ranking}`".into()),
        );
    }
    if cx.diags.len() > before {
        return None;
    }
    Some(RegFeature {
        name: f_name?,
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
