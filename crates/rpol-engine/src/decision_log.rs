//! Decision logs: one compact JSON line per decision, so that a log can be
//! replayed under another policy (`rpol replay`, docs/decision-logs.md).
//!
//! A line keeps what is needed to decide the request again (the request,
//! rebuilt from the parsed [`Request`] with names from the model) and a summary
//! of what was decided (mode, route, allowed and denied counts per deny code,
//! and an order-independent hash of the allowed names). Subject ids are never
//! written: each is replaced by a keyed hash (HMAC-SHA256), so a log does not
//! hold user ids, yet the same user keeps the same pseudonym under one key.

use crate::DenyCode;
use crate::compile::Compiled;
use crate::decision::Decision;
use crate::json::write_str;
use crate::model::ContextType;
use crate::request::{CtxVal, FeatureName, Partial, Request, RequestErrors};

mod key;

use key::push_hex;
pub use key::{LogKey, LogKeyError, MIN_LOG_KEY_BYTES, is_pseudonym};

/// The deny codes a log line counts, in the (sorted) order of their keys.
pub const LOG_DENY_CODES: [DenyCode; 11] = [
    DenyCode::CapabilityMissing,
    DenyCode::ConditionFalse,
    DenyCode::ConsentRequired,
    DenyCode::FeatureDenied,
    DenyCode::Forbidden,
    DenyCode::InvalidRequest,
    DenyCode::ModeNotAllowed,
    DenyCode::NoReasonForCode,
    DenyCode::PurposeNotAllowed,
    DenyCode::PurposeProhibited,
    DenyCode::UnknownFeature,
];

/// The position of `code` in [`LOG_DENY_CODES`].
pub fn log_code_index(code: DenyCode) -> usize {
    LOG_DENY_CODES
        .iter()
        .position(|c| *c == code)
        .unwrap_or(LOG_DENY_CODES.len() - 1)
}

/// What a log line records of the sources or the features of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerdictTally {
    pub allowed: u32,
    /// Denied counts per code, in [`LOG_DENY_CODES`] order.
    pub denied: [u32; LOG_DENY_CODES.len()],
    /// [`allowed_set_hash`] of the allowed names.
    pub allowed_set: u64,
}

impl VerdictTally {
    fn new() -> VerdictTally {
        VerdictTally {
            allowed: 0,
            denied: [0; LOG_DENY_CODES.len()],
            allowed_set: 0,
        }
    }

    fn allow(&mut self, name: &str) {
        self.allowed += 1;
        self.allowed_set = self.allowed_set.wrapping_add(name_hash(name));
    }

    fn deny(&mut self, code: DenyCode) {
        if let Some(n) = self.denied.get_mut(log_code_index(code)) {
            *n += 1;
        }
    }

    pub fn denied_total(&self) -> u32 {
        self.denied.iter().sum()
    }
}

/// FNV-1a of the name, then the SplitMix64 finalizer so that the sum of
/// several hashes stays well mixed.
fn name_hash(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The hash of a set of names that a log line records as `allowed_set`: the
/// wrapping sum of a 64-bit hash per name. A sum does not depend on order, so
/// reordering the registry or the sources is not reported as a change, while
/// any change of the set itself is (up to a 2^-64 chance of collision).
pub fn allowed_set_hash<'a>(names: impl IntoIterator<Item = &'a str>) -> u64 {
    names
        .into_iter()
        .fold(0u64, |acc, n| acc.wrapping_add(name_hash(n)))
}

/// What a log line records of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionSummary {
    pub mode: u32,
    pub route: Option<u32>,
    pub sources: VerdictTally,
    /// Covered registry features and the request's unknown feature names.
    pub features: VerdictTally,
}

impl Compiled {
    /// The summary a log line records of `d`, a decision of this policy.
    pub fn summarize(&self, d: &Decision) -> DecisionSummary {
        let m = &self.model;
        let mut sources = VerdictTally::new();
        for (v, s) in d.sources.iter().zip(&m.sources) {
            match v.code() {
                None => sources.allow(&s.name),
                Some(code) => sources.deny(code),
            }
        }
        let mut features = VerdictTally::new();
        for (i, v) in &d.features {
            match v.code() {
                None => features.allow(m.features.get(*i as usize).map_or("", |f| &f.name)),
                Some(code) => features.deny(code),
            }
        }
        for _ in &d.unknown_features {
            features.deny(DenyCode::UnknownFeature);
        }
        DecisionSummary {
            mode: d.mode,
            route: d.route,
            sources,
            features,
        }
    }

    /// One log line (compact JSON, no newline) for a valid request and its
    /// decision by this policy. `time_unix_ms` is written in RFC 3339 (UTC).
    pub fn log_line(
        &self,
        req: &Request,
        decision: &Decision,
        id: &str,
        time_unix_ms: u64,
        key: &LogKey,
    ) -> String {
        let mut out = String::with_capacity(768);
        self.line_head(&mut out, id, time_unix_ms);
        out.push_str(",\"valid\":true,\"request\":");
        self.write_request(&mut out, req, key);
        self.line_tail(&mut out, decision);
        out
    }

    /// One log line for an invalid request (`request_json`, with the errors
    /// `decide_json` returned) and its fallback decision. The line records
    /// `"valid":false`, the number of errors, and as `request` only what the
    /// fallback kept (tenant, surface, purpose and features, each only where it
    /// was itself valid): an invalid request is never logged as sent, since its
    /// subject ids could not be found to be hashed.
    pub fn log_line_invalid(
        &self,
        request_json: &str,
        errors: &RequestErrors,
        fallback: &Decision,
        id: &str,
        time_unix_ms: u64,
    ) -> String {
        let partial = match crate::request::parse(self, request_json) {
            Ok(req) => partial_of(req),
            Err((_, p)) => p,
        };
        let mut out = String::with_capacity(512);
        self.line_head(&mut out, id, time_unix_ms);
        out.push_str(",\"valid\":false,\"errors\":");
        out.push_str(&errors.len().to_string());
        out.push_str(",\"request\":");
        let kept = Request {
            tenant: partial.tenant,
            surface: partial.surface,
            purpose: partial.purpose,
            features: partial.features,
            ..Request::empty()
        };
        // A partial has no subject, so the key is never used.
        self.write_request_fields(&mut out, &kept, None);
        self.line_tail(&mut out, fallback);
        out
    }

    /// The fallback decision of a logged invalid request: `partial_json` is
    /// the `request` of a `"valid":false` line. Fields that do not resolve
    /// under this policy are dropped, as the fallback of spec 3.1 drops them.
    pub fn decide_logged_invalid(&self, partial_json: &str) -> Decision {
        let partial = match crate::request::parse(self, partial_json) {
            Ok(req) => partial_of(req),
            Err((_, p)) => p,
        };
        self.fallback(partial, &[])
    }

    fn line_head(&self, out: &mut String, id: &str, time_unix_ms: u64) {
        out.push_str("{\"id\":");
        write_str(out, id);
        out.push_str(",\"time\":\"");
        out.push_str(&rfc3339_ms(time_unix_ms));
        out.push_str("\",\"digest\":\"");
        out.push_str(&self.digest);
        out.push('"');
    }

    fn line_tail(&self, out: &mut String, d: &Decision) {
        let m = &self.model;
        let s = self.summarize(d);
        out.push_str(",\"mode\":");
        write_str(out, m.modes.get(s.mode as usize).map_or("", |x| &x.name));
        out.push_str(",\"route\":");
        match s.route.and_then(|r| m.feature_sets.get(r as usize)) {
            Some(fs) => write_str(out, &fs.name),
            None => out.push_str("null"),
        }
        out.push_str(",\"sources\":");
        write_tally(out, &s.sources);
        out.push_str(",\"features\":");
        write_tally(out, &s.features);
        out.push('}');
    }

    /// The request as spec 7.1 JSON, subject ids replaced by pseudonyms.
    fn write_request(&self, out: &mut String, req: &Request, key: &LogKey) {
        self.write_request_fields(out, req, Some(key));
    }

    fn write_request_fields(&self, out: &mut String, req: &Request, key: Option<&LogKey>) {
        let m = &self.model;
        let mut obj = Obj::open(out);
        if let Some(t) = &req.tenant {
            write_str(obj.key("tenant"), t);
        }
        if let Some(s) = req.surface.and_then(|s| m.surfaces.get(s as usize)) {
            write_str(obj.key("surface"), s);
        }
        if let Some(p) = req.purpose.and_then(|p| m.purposes.get(p as usize)) {
            write_str(obj.key("purpose"), p);
        }
        let ids = [
            ("user_id", &req.user_id),
            ("anonymous_id", &req.anonymous_id),
        ];
        if let Some(key) = key
            && ids.iter().any(|(_, v)| v.is_some())
        {
            let mut sub = Obj::open(obj.key("subject"));
            for (k, v) in ids {
                if let Some(v) = v {
                    write_str(sub.key(k), &key.pseudonym(v));
                }
            }
            sub.close();
        }
        // `unknown` is what a missing topic means, so only the others are written.
        let states = ["granted", "denied"];
        if req.consent.iter().any(|&c| (c as usize) < states.len()) {
            let mut con = Obj::open(obj.key("consent"));
            for (t, &c) in req.consent.iter().enumerate() {
                if let (Some(state), Some(topic)) =
                    (states.get(c as usize), m.consent_topics.get(t))
                {
                    write_str(con.key(topic), state);
                }
            }
            con.close();
        }
        if let Some(v) = &req.consent_version {
            write_str(obj.key("consent_version"), v);
        }
        if req.context.iter().any(Option::is_some) {
            let mut ctx = Obj::open(obj.key("context"));
            for (field, v) in m.context.iter().zip(&req.context) {
                let Some(v) = v else { continue };
                let o = ctx.key(&field.name);
                match (v, &field.ty) {
                    (CtxVal::Str(s), _) => write_str(o, s),
                    (CtxVal::Int(i), _) => o.push_str(&i.to_string()),
                    (CtxVal::Bool(b), _) => o.push_str(if *b { "true" } else { "false" }),
                    (CtxVal::Dur(secs), _) => write_str(o, &duration_text(*secs)),
                    (CtxVal::Enum(i), ContextType::Enum(vs)) => {
                        write_str(o, vs.get(*i as usize).map_or("", String::as_str))
                    }
                    // A variant index of a non-enum field cannot come from the
                    // parser; an empty name makes the line fail loudly on replay.
                    (CtxVal::Enum(_), _) => write_str(o, ""),
                }
            }
            ctx.close();
        }
        if req.roles != 0 {
            let o = obj.key("roles");
            o.push('[');
            let mut first = true;
            for (i, r) in m.roles.iter().enumerate().take(64) {
                if req.roles >> i & 1 == 1 {
                    if !first {
                        o.push(',');
                    }
                    first = false;
                    write_str(o, r);
                }
            }
            o.push(']');
        }
        if let Some(fs) = &req.features {
            let o = obj.key("features");
            o.push('[');
            for (i, f) in fs.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                match f {
                    FeatureName::Known(id) => {
                        write_str(o, m.features.get(id as usize).map_or("", |x| &x.name))
                    }
                    FeatureName::Unknown(n) => write_str(o, n),
                }
            }
            o.push(']');
        }
        obj.close();
    }
}

fn partial_of(req: Request) -> Partial {
    Partial {
        tenant: req.tenant,
        surface: req.surface,
        purpose: req.purpose,
        features: req.features,
    }
}

/// `{"allowed":N,"denied":{code:N,…},"allowed_set":"16 hex"}`, codes sorted,
/// zero counts left out.
fn write_tally(out: &mut String, t: &VerdictTally) {
    out.push_str("{\"allowed\":");
    out.push_str(&t.allowed.to_string());
    out.push_str(",\"denied\":");
    let mut obj = Obj::open(out);
    for (code, n) in LOG_DENY_CODES.iter().zip(t.denied) {
        if n > 0 {
            obj.key(code.as_str()).push_str(&n.to_string());
        }
    }
    obj.close();
    out.push_str(",\"allowed_set\":\"");
    push_hex(out, &t.allowed_set.to_be_bytes());
    out.push_str("\"}");
}

/// Writes a JSON object key by key.
struct Obj<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut String) -> Obj<'o> {
        out.push('{');
        Obj { out, first: true }
    }

    /// Writes `"k":` and returns the buffer for the value.
    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(self.out, k);
        self.out.push(':');
        self.out
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// A duration in the largest unit that divides it (`"90d"`, `"2w"`, `"0s"`),
/// which `parse_duration` reads back to the same seconds.
pub(crate) fn duration_text(secs: i64) -> String {
    for (unit, n) in [('w', 604_800), ('d', 86_400), ('h', 3_600), ('m', 60)] {
        if secs != 0 && secs % n == 0 {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the Unix epoch (UTC).
pub fn rfc3339_ms(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60,
        unix_ms % 1000
    )
}

/// Whether `s` is an RFC 3339 date-time (`2026-11-25T08:00:00.123Z`,
/// `...+02:00`): what a log line's `time` must be. Fields are range-checked,
/// the day against its month (leap years included); a leap second is allowed.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = b.get(r)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0, |n, c| n * 10 + u32::from(c - b'0')))
    };
    let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return false;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if d == 0 || d > days || h > 23 || mi > 59 || sec > 60 {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let digits = b
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return false;
        }
        i += 1 + digits;
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && at(i + 3, b":")
                && num(i + 1..i + 3).is_some_and(|h| h <= 23)
                && num(i + 4..i + 6).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_checked_field_by_field() {
        for ok in [
            "2026-11-25T08:00:00.123Z",
            "2026-11-25T08:00:00Z",
            "2000-02-29T23:59:60+02:00",
            "2026-01-01t00:00:00.5-05:30",
            &rfc3339_ms(1_795_593_600_123),
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "yesterday",
            "2026-11-25",
            "2026-11-25T08:00:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T08:00:00.Z",
            "2026-11-25T08:00:00Z\u{1b}[2J",
            "2026-11-25T08:00:00+2:00",
            "2026-11-25T08:00:00+02:60",
            "２026-11-25T08:00:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a century leap year).
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_593_600_123), "2026-11-25T08:00:00.123Z");
        assert_eq!(rfc3339_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn durations_read_back_to_the_same_seconds() {
        for secs in [
            0, 1, 59, 60, 90, 3_600, 86_400, 7_776_000, 1_209_600, 86_401,
        ] {
            let text = duration_text(secs);
            assert_eq!(crate::parse_duration(&text), Some(secs), "{text}");
        }
        assert_eq!(duration_text(7_776_000), "90d");
        assert_eq!(duration_text(1_209_600), "2w");
    }

    #[test]
    fn allowed_set_hash_ignores_order() {
        assert_eq!(
            allowed_set_hash(["a", "b", "c"]),
            allowed_set_hash(["c", "a", "b"])
        );
        assert_ne!(allowed_set_hash(["a", "b"]), allowed_set_hash(["a", "c"]));
        assert_eq!(allowed_set_hash([]), 0);
    }
}
