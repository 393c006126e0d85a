//! The compact JSON of a decision, written straight into the caller's
//! buffer (no intermediate tree): `rpol serve` renders batches into one
//! reused `String`. Byte-identical to the tree renderer that
//! [`Decision::to_json_pretty`] uses (a differential test holds them equal).

use std::fmt::Write as _;

use crate::DenyCode;
use crate::compile::Compiled;
use crate::decide::{ReasonOutcome, Verdict};
use crate::decision::Decision;
use crate::model::{Feature, PolicyModel};

/// Appends the inside of a JSON string literal for `s` (no quotes), copying
/// runs without special characters at once.
fn escaped(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // Special bytes are ASCII, so `start..i` lies on char boundaries.
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends `s` as a JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
    escaped(out, s);
    out.push('"');
}

/// Appends `"key":` (keys are plain ASCII).
fn key(out: &mut String, k: &str) {
    out.push('"');
    out.push_str(k);
    out.push_str("\":");
}

/// The capabilities in `mask`, comma-separated, escaped.
fn caps(out: &mut String, m: &PolicyModel, mask: u64) {
    let mut first = true;
    for (i, n) in m.capabilities.iter().enumerate() {
        if mask & (1 << i) != 0 {
            if !first {
                out.push_str(", ");
            }
            first = false;
            escaped(out, n);
        }
    }
}

struct Ctx<'a> {
    c: &'a Compiled,
    m: &'a PolicyModel,
    mode_name: &'a str,
    grants: u64,
}

impl Ctx<'_> {
    fn forbidden(&self, out: &mut String, r: u32) {
        let rule = self.m.forbids.get(r as usize);
        out.push_str("{\"code\":\"forbidden\",\"rule\":");
        string(out, rule.map_or("", |x| x.rule.as_str()));
        if let Some(b) = rule.and_then(|x| x.because.as_ref()) {
            out.push_str(",\"because\":");
            string(out, b);
        }
        out.push('}');
    }

    /// `{"code":…,"detail":"…` up to the detail's text.
    fn denied_head(out: &mut String, code: DenyCode) {
        out.push_str("{\"code\":\"");
        out.push_str(code.as_str());
        out.push_str("\",\"detail\":\"");
    }

    fn source_denied(&self, out: &mut String, i: usize, name: &str, code: DenyCode) {
        Self::denied_head(out, code);
        match code {
            DenyCode::CapabilityMissing => {
                out.push_str("mode ");
                escaped(out, self.mode_name);
                out.push_str(" does not grant ");
                let req = self.c.source_requires.get(i).copied().unwrap_or(0);
                caps(out, self.m, req & !self.grants);
            }
            DenyCode::ConditionFalse => {
                out.push_str("the `when` condition of source ");
                escaped(out, name);
                out.push_str(" is not true");
            }
            other => out.push_str(other.as_str()),
        }
        out.push_str("\"}");
    }

    fn feature_denied(&self, out: &mut String, feat: Option<&Feature>, name: &str, code: DenyCode) {
        Self::denied_head(out, code);
        let m = self.m;
        match (code, feat) {
            (DenyCode::UnknownFeature, _) => {
                out.push_str("feature ");
                escaped(out, name);
                out.push_str(" is not in the registry");
            }
            (DenyCode::PurposeProhibited, _) => {
                out.push_str("the request's purpose is prohibited for feature ");
                escaped(out, name);
            }
            (DenyCode::PurposeNotAllowed, _) => {
                out.push_str("the request's purpose is not an allowed purpose of feature ");
                escaped(out, name);
            }
            (DenyCode::ModeNotAllowed, _) => {
                out.push_str("feature ");
                escaped(out, name);
                out.push_str(" is not allowed in mode ");
                escaped(out, self.mode_name);
            }
            (DenyCode::CapabilityMissing, Some(ft)) => {
                out.push_str("mode ");
                escaped(out, self.mode_name);
                out.push_str(" does not grant ");
                let req = self.c.class_requires.get(ft.class as usize).copied();
                caps(out, m, req.unwrap_or(0) & !self.grants);
                out.push_str(" required by class ");
                escaped(
                    out,
                    m.classes
                        .get(ft.class as usize)
                        .map_or("", |x| x.name.as_str()),
                );
            }
            (DenyCode::ConsentRequired, Some(ft)) => {
                let topic = ft
                    .requires_consent
                    .and_then(|t| m.consent_topics.get(t as usize))
                    .map_or("", String::as_str);
                out.push_str("feature ");
                escaped(out, name);
                out.push_str(" requires consent ");
                escaped(out, topic);
                out.push_str(" to be granted");
            }
            (DenyCode::InvalidRequest, _) => out.push_str("the request's purpose is invalid"),
            (other, _) => out.push_str(other.as_str()),
        }
        out.push_str("\"}");
    }
}

/// Appends `,` before every item but the first.
fn sep(out: &mut String, first: &mut bool) {
    if !*first {
        out.push(',');
    }
    *first = false;
}

impl Decision {
    /// Appends the compact JSON of the decision to `out` (the same bytes as
    /// [`Decision::to_json`]); a service renders many decisions into one
    /// reused buffer this way. Every id is looked up with `get`: a decision
    /// rendered against a policy that did not make it renders blanks, never
    /// panics.
    pub fn write_json(&self, c: &Compiled, out: &mut String) {
        let m = c.model();
        let cx = Ctx {
            c,
            m,
            mode_name: m
                .modes
                .get(self.mode as usize)
                .map_or("", |x| x.name.as_str()),
            grants: c.mode_grants.get(self.mode as usize).copied().unwrap_or(0),
        };
        out.push('{');
        key(out, "policy");
        string(out, &m.name);
        out.push(',');
        key(out, "version");
        string(out, &m.version);
        out.push(',');
        key(out, "digest");
        string(out, &self.digest);
        out.push(',');
        key(out, "mode");
        string(out, cx.mode_name);
        out.push(',');
        key(out, "mode_rule");
        let rule = self.arm.and_then(|a| m.resolve.get(a as usize));
        string(out, rule.map_or(&m.fallback.rule, |x| &x.rule));
        out.push(',');
        key(out, "route");
        match self.route.and_then(|r| m.feature_sets.get(r as usize)) {
            Some(fs) => string(out, &fs.name),
            None => out.push_str("null"),
        }

        out.push_str(",\"sources\":{\"allowed\":[");
        let named = || {
            self.sources
                .iter()
                .enumerate()
                .filter_map(|(i, v)| m.sources.get(i).map(|s| (i, s.name.as_str(), *v)))
        };
        let mut first = true;
        for (_, name, v) in named() {
            if v.is_allowed() {
                sep(out, &mut first);
                string(out, name);
            }
        }
        out.push_str("],\"denied\":{");
        let mut first = true;
        for (i, name, v) in named() {
            match v {
                Verdict::Allowed => continue,
                Verdict::Forbidden(r) => {
                    sep(out, &mut first);
                    string(out, name);
                    out.push(':');
                    cx.forbidden(out, r);
                }
                Verdict::Denied(code) => {
                    sep(out, &mut first);
                    string(out, name);
                    out.push(':');
                    cx.source_denied(out, i, name, code);
                }
            }
        }

        out.push_str("}},\"features\":{\"allowed\":[");
        let known = || {
            self.features
                .iter()
                .filter_map(|(i, v)| m.features.get(*i as usize).map(|f| (f, *v)))
        };
        let mut first = true;
        for (f, v) in known() {
            if v.is_allowed() {
                sep(out, &mut first);
                string(out, &f.name);
            }
        }
        out.push_str("],\"denied\":{");
        let mut first = true;
        for (f, v) in known() {
            match v {
                Verdict::Allowed => continue,
                Verdict::Forbidden(r) => {
                    sep(out, &mut first);
                    string(out, &f.name);
                    out.push(':');
                    cx.forbidden(out, r);
                }
                Verdict::Denied(code) => {
                    sep(out, &mut first);
                    string(out, &f.name);
                    out.push(':');
                    cx.feature_denied(out, Some(f), &f.name, code);
                }
            }
        }
        for name in &self.unknown_features {
            sep(out, &mut first);
            string(out, name);
            out.push(':');
            cx.feature_denied(out, None, name, DenyCode::UnknownFeature);
        }
        out.push_str("}}");

        if self.reasons_asked {
            out.push_str(",\"reasons\":{");
            let mut first = true;
            for (code, o) in &self.reasons {
                sep(out, &mut first);
                string(out, code);
                out.push(':');
                match o {
                    ReasonOutcome::Shown(r) => {
                        let r = m.reasons.get(*r as usize);
                        out.push_str("{\"shown\":");
                        string(out, r.map_or("", |x| x.name.as_str()));
                        out.push_str(",\"text\":");
                        string(out, r.map_or("", |x| x.text.as_str()));
                        out.push('}');
                    }
                    ReasonOutcome::Suppressed(c) => {
                        out.push_str("{\"suppressed\":");
                        string(out, c.as_str());
                        out.push('}');
                    }
                    ReasonOutcome::Forbidden(_) => {
                        out.push_str("{\"suppressed\":\"forbidden\"}");
                    }
                }
            }
            out.push('}');
        }
        out.push(',');
        key(out, "cache_scope");
        string(out, &self.cache_scope);
        out.push('}');
    }
}
