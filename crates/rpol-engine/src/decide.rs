//! Deciding: the mode, then sources, features and reasons in the order of
//! spec 3.1, through the same single-check functions that services call.

use std::collections::HashSet;

use crate::DenyCode;
use crate::compile::{Compiled, FeatureForbid, NO_INSTANCE, NO_TOPIC, PASS};
use crate::decision::Decision;
use crate::eval::{Env, Tri};
use crate::model::{CONSENT_GRANTED, Clearance, Visibility};
use crate::request::{FeatureName, Partial, Request, RequestErrors};

/// A registry feature: its registry position, tied to the registry of the
/// policy that resolved it ([`Compiled::feature_id`]). An id used with a
/// policy whose registry differs (another policy, or one swapped in with the
/// features in another order) is denied `policy_mismatch`, never taken as
/// whatever feature sits at that position there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureId {
    pub(crate) index: u32,
    pub(crate) tag: u64,
}

impl FeatureId {
    pub(crate) fn new(index: u32, tag: u64) -> FeatureId {
        FeatureId { index, tag }
    }

    /// The registry position (an index into `model().features`).
    pub fn index(self) -> u32 {
        self.index
    }
}

/// A candidate source: its declaration position, tied to the sources of the
/// policy that resolved it, as [`FeatureId`] is to its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId {
    pub(crate) index: u32,
    pub(crate) tag: u64,
}

impl SourceId {
    pub(crate) fn new(index: u32, tag: u64) -> SourceId {
        SourceId { index, tag }
    }

    /// The declaration position (an index into `model().sources`).
    pub fn index(self) -> u32 {
        self.index
    }
}

/// The answer for one source or feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied(DenyCode),
    /// Denied by the forbid rule with this index (declaration order).
    Forbidden(u32),
}

impl Verdict {
    pub fn is_allowed(self) -> bool {
        self == Verdict::Allowed
    }
    pub fn code(self) -> Option<DenyCode> {
        match self {
            Verdict::Allowed => None,
            Verdict::Denied(c) => Some(c),
            Verdict::Forbidden(_) => Some(DenyCode::Forbidden),
        }
    }
}

/// What happened to a reason code (spec 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonOutcome {
    /// Shown with the reason of this index.
    Shown(u32),
    Suppressed(DenyCode),
    /// Suppressed by the forbid rule with this index.
    Forbidden(u32),
}

/// An undeclared retention kind: an error to the caller, never a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRetention(pub String);

impl std::fmt::Display for UnknownRetention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "retention kind `{}` is not declared in the policy",
            self.0
        )
    }
}

impl std::error::Error for UnknownRetention {}

/// A request with its mode resolved and its request-only forbid rules
/// evaluated; single checks against it allocate nothing. It belongs to the
/// one [`Compiled`] that prepared it: any other policy denies its checks
/// `policy_mismatch`.
#[derive(Debug, Clone)]
pub struct Prepared<'r> {
    pub(crate) req: &'r Request,
    /// The instance tag of the policy that prepared it (`NO_INSTANCE` when the
    /// request itself belonged to another policy).
    pub(crate) policy: u64,
    /// `purpose × modes + mode`: which column of the static verdict tables
    /// the request reads; `None` when the purpose or the mode is out of range
    /// (an invalid purpose, or a hand-built request), which denies every
    /// feature `invalid_request`.
    pub(crate) pm: Option<usize>,
    pub mode: u32,
    /// The `when` arm that decided the mode; `None` for `else`.
    pub arm: Option<u32>,
    pub(crate) grants: u64,
    /// Per forbid rule: whether its request-only condition fires (true or unknown).
    /// Only for rules 64 and beyond (empty, so no allocation, for most policies).
    pub(crate) fired_more: Vec<bool>,
    /// Rules 0..64 whose request-only condition fires, as bits.
    pub(crate) fired_mask: u64,
    /// Consent topics 0..64 that are `granted`.
    pub(crate) granted_mask: u64,
}

impl DenyCode {
    pub(crate) fn from_u8(v: u8) -> DenyCode {
        match v {
            0 => DenyCode::CapabilityMissing,
            1 => DenyCode::ConditionFalse,
            2 => DenyCode::Forbidden,
            3 => DenyCode::UnknownFeature,
            4 => DenyCode::PurposeProhibited,
            5 => DenyCode::PurposeNotAllowed,
            6 => DenyCode::ModeNotAllowed,
            7 => DenyCode::ConsentRequired,
            9 => DenyCode::NoReasonForCode,
            10 => DenyCode::FeatureDenied,
            _ => DenyCode::InvalidRequest,
        }
    }
}

/// Sets bit `i` of a cache-scope bitmap when `v` allows (branch-free).
#[inline(always)]
fn mark(bits: &mut [u8], i: usize, v: Verdict) {
    if let Some(b) = bits.get_mut(i >> 3) {
        *b |= u8::from(v == Verdict::Allowed) << (i & 7);
    }
}

/// Whether `code` matches a pattern with at most one `*` (which matches any run).
pub fn pattern_matches(pattern: &str, code: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == code,
        Some((pre, post)) => {
            code.len() >= pre.len() + post.len() && code.starts_with(pre) && code.ends_with(post)
        }
    }
}

impl Prepared<'_> {
    /// Whether the request-only condition of forbid rule `r` fires.
    #[inline]
    pub(crate) fn fired(&self, r: u32) -> bool {
        if r < 64 {
            self.fired_mask >> r & 1 == 1
        } else {
            self.fired_more
                .get(r as usize - 64)
                .copied()
                .unwrap_or(false)
        }
    }
}

impl Compiled {
    /// Parses a request (spec 7.1) strictly.
    pub fn parse_request(&self, json: &str) -> Result<Request, RequestErrors> {
        crate::request::parse(self, json).map_err(|(e, _)| e)
    }

    /// Resolves the mode: the first arm whose condition is true (not unknown).
    fn resolve(&self, req: &Request) -> (u32, Option<u32>) {
        let env = Env {
            req,
            mode: None,
            feature: None,
        };
        for (i, c) in self.arms.iter().enumerate() {
            if c.eval(&env) == Tri::T {
                return (self.model.resolve[i].mode, Some(i as u32));
            }
        }
        (self.model.fallback.mode, None)
    }

    /// Prepares a request for single checks. A request parsed by a policy
    /// with another vocabulary (see [`Request`]) gives a prepared request
    /// whose every check is denied `policy_mismatch`.
    pub fn prepare<'r>(&self, req: &'r Request) -> Prepared<'r> {
        if req.vocabulary != self.tags.vocabulary {
            return self.foreign(req);
        }
        let (mode, arm) = self.resolve(req);
        self.prepare_in_mode(req, mode, arm)
    }

    /// Prepares a request as if `mode` had been resolved, for analysis ("what
    /// would this request get in that mode?"). Serving uses [`Compiled::prepare`].
    /// A mode out of range denies every feature `invalid_request`.
    pub fn prepare_in<'r>(&self, req: &'r Request, mode: u32) -> Prepared<'r> {
        if req.vocabulary != self.tags.vocabulary {
            return self.foreign(req);
        }
        self.prepare_in_mode(req, mode, None)
    }

    /// A prepared request that no policy accepts.
    fn foreign<'r>(&self, req: &'r Request) -> Prepared<'r> {
        Prepared {
            req,
            policy: NO_INSTANCE,
            pm: None,
            mode: self.model.fallback.mode,
            arm: None,
            grants: 0,
            fired_more: Vec::new(),
            fired_mask: 0,
            granted_mask: 0,
        }
    }

    fn prepare_in_mode<'r>(&self, req: &'r Request, mode: u32, arm: Option<u32>) -> Prepared<'r> {
        let env = Env {
            req,
            mode: Some(mode),
            feature: None,
        };
        let fires = |(w, only): (&Option<crate::eval::CExpr>, &bool)| {
            *only && w.as_ref().is_none_or(|w| w.eval(&env) != Tri::F)
        };
        let rules = self.forbid_when.iter().zip(&self.forbid_request_only);
        let fired_mask = rules
            .clone()
            .take(64)
            .enumerate()
            .fold(0u64, |m, (i, r)| if fires(r) { m | 1 << i } else { m });
        let fired_more: Vec<bool> = rules.skip(64).map(fires).collect();
        let granted_mask = req
            .consent
            .iter()
            .take(64)
            .enumerate()
            .fold(0u64, |m, (i, c)| {
                if *c == CONSENT_GRANTED as u8 {
                    m | 1 << i
                } else {
                    m
                }
            });
        let (np, nm) = (self.model.purposes.len(), self.model.modes.len());
        let pm = match req.purpose {
            Some(p) if (p as usize) < np && (mode as usize) < nm => {
                Some(p as usize * nm + mode as usize)
            }
            _ => None,
        };
        Prepared {
            req,
            policy: self.tags.instance,
            pm,
            mode,
            arm,
            grants: self.mode_grants.get(mode as usize).copied().unwrap_or(0),
            fired_more,
            fired_mask,
            granted_mask,
        }
    }

    /// Decides one registry feature for a prepared request (steps 2–7 of spec
    /// 3.1). No allocation, no string hashing. A prepared request or an id of
    /// another policy (or registry) is denied `policy_mismatch`.
    pub fn check_feature(&self, p: &Prepared<'_>, f: FeatureId) -> Verdict {
        if p.policy != self.tags.instance || f.tag != self.tags.features {
            return Verdict::Denied(DenyCode::PolicyMismatch);
        }
        self.feature_by_index(p, f.index)
    }

    /// [`Compiled::check_feature`] for a registry position of this policy and
    /// a request it prepared.
    #[inline]
    fn feature_by_index(&self, p: &Prepared<'_>, fi: u32) -> Verdict {
        let Some(pm) = p.pm else {
            return Verdict::Denied(DenyCode::InvalidRequest);
        };
        let nf = self.feature_consent.len();
        if fi as usize >= nf {
            return Verdict::Denied(DenyCode::UnknownFeature);
        }
        self.feature_verdict(p, fi as usize, pm * nf)
    }

    /// The verdict of feature `fi` (in range) with its (purpose, mode) column
    /// precomputed, so that bulk loops do no per-feature setup.
    #[inline(always)]
    fn feature_verdict(&self, p: &Prepared<'_>, fi: usize, column: usize) -> Verdict {
        let code = self.feature_static[column + fi];
        if code != PASS {
            return Verdict::Denied(DenyCode::from_u8(code));
        }
        let topic = self.feature_consent[fi];
        if topic != NO_TOPIC {
            let granted = if topic < 64 {
                p.granted_mask >> topic & 1 == 1
            } else {
                p.req.consent.get(topic as usize).copied() == Some(CONSENT_GRANTED as u8)
            };
            if !granted {
                return Verdict::Denied(DenyCode::ConsentRequired);
            }
        }
        if !self.feature_slow[fi] {
            // Only request-only rules apply: the lowest fired bit is the first
            // matching rule in declaration order.
            let hit = self.feature_request_mask[fi] & p.fired_mask;
            return if hit == 0 {
                Verdict::Allowed
            } else {
                Verdict::Forbidden(hit.trailing_zeros())
            };
        }
        let (a, b) = (
            self.forbid_ranges[fi] as usize,
            self.forbid_ranges[fi + 1] as usize,
        );
        for entry in &self.forbid_entries[a..b] {
            let (rule, fires) = match entry {
                FeatureForbid::Request(r) => (*r, p.fired(*r)),
                FeatureForbid::Always(r) => (*r, true),
                FeatureForbid::Residual(r, e) => (
                    *r,
                    e.eval(&Env {
                        req: p.req,
                        mode: Some(p.mode),
                        feature: None,
                    }) != Tri::F,
                ),
            };
            if fires {
                return Verdict::Forbidden(rule);
            }
        }
        Verdict::Allowed
    }

    /// Verdicts of every registry feature: the same steps as
    /// [`Compiled::feature_verdict`], over zipped columns so that the hot loop
    /// has no bounds checks.
    fn all_features_into(&self, p: &Prepared<'_>, out: &mut Vec<(u32, Verdict)>, bits: &mut [u8]) {
        let nf = self.feature_consent.len();
        let Some(pass) = p.pm.and_then(|pm| self.pass_words.get(pm)) else {
            out.extend((0..nf as u32).map(|i| (i, Verdict::Denied(DenyCode::InvalidRequest))));
            return;
        };
        let column = p.pm.unwrap_or(0) * nf;
        // Features blocked by consent or by a fired request-only rule, 64 at a time.
        let mut blocked = vec![0u64; pass.len()];
        for (t, words) in self.topic_words.iter().enumerate() {
            let granted = if t < 64 {
                p.granted_mask >> t & 1 == 1
            } else {
                p.req.consent.get(t).copied() == Some(CONSENT_GRANTED as u8)
            };
            if !granted {
                blocked.iter_mut().zip(words).for_each(|(b, w)| *b |= w);
            }
        }
        for (r, words) in self.rule_words.iter().enumerate() {
            if p.fired_mask >> r & 1 == 1 {
                blocked.iter_mut().zip(words).for_each(|(b, w)| *b |= w);
            }
        }
        for (w, (&pass, (&block, &slow))) in pass
            .iter()
            .zip(blocked.iter().zip(&self.slow_words))
            .enumerate()
        {
            let allowed = pass & !block & !slow;
            // The cache-scope bitmap takes the allowed word as it is (LSB first).
            for (k, byte) in allowed.to_le_bytes().iter().enumerate() {
                if let Some(b) = bits.get_mut(w * 8 + k) {
                    *b |= byte;
                }
            }
            let base = w * 64;
            let end = (base + 64).min(nf);
            out.extend((base..end).map(|i| {
                if allowed >> (i - base) & 1 == 1 {
                    (i as u32, Verdict::Allowed)
                } else {
                    let v = self.feature_verdict(p, i, column);
                    mark(bits, i, v);
                    (i as u32, v)
                }
            }));
        }
    }

    /// Verdicts of the given features (in range), appended to `out`.
    fn features_into(
        &self,
        p: &Prepared<'_>,
        ids: impl Iterator<Item = u32>,
        out: &mut Vec<(u32, Verdict)>,
        bits: &mut [u8],
    ) {
        let Some(pm) = p.pm else {
            out.extend(ids.map(|i| (i, Verdict::Denied(DenyCode::InvalidRequest))));
            return;
        };
        let column = pm * self.feature_consent.len();
        out.extend(ids.map(|i| {
            let v = self.feature_verdict(p, i as usize, column);
            mark(bits, i as usize, v);
            (i, v)
        }));
    }

    /// Decides one source (spec 3.1: capabilities, `when`, forbid rules). A
    /// prepared request or an id of another policy is denied `policy_mismatch`.
    pub fn check_source(&self, p: &Prepared<'_>, s: SourceId) -> Verdict {
        if p.policy != self.tags.instance || s.tag != self.tags.sources {
            return Verdict::Denied(DenyCode::PolicyMismatch);
        }
        self.source_by_index(p, s.index as usize)
    }

    fn source_by_index(&self, p: &Prepared<'_>, si: usize) -> Verdict {
        let Some(&requires) = self.source_requires.get(si) else {
            return Verdict::Denied(DenyCode::ConditionFalse);
        };
        if requires & !p.grants != 0 {
            return Verdict::Denied(DenyCode::CapabilityMissing);
        }
        if let Some(w) = &self.source_when[si]
            && w.eval(&Env {
                req: p.req,
                mode: Some(p.mode),
                feature: None,
            }) != Tri::T
        {
            return Verdict::Denied(DenyCode::ConditionFalse);
        }
        for &r in &self.source_forbids[si] {
            if p.fired(r) {
                return Verdict::Forbidden(r);
            }
        }
        Verdict::Allowed
    }

    /// Explains one reason code (spec 3.1 reason steps 1–5). A prepared
    /// request of another policy is suppressed `policy_mismatch`.
    pub fn explain(&self, p: &Prepared<'_>, code: &str) -> ReasonOutcome {
        if p.policy != self.tags.instance {
            return ReasonOutcome::Suppressed(DenyCode::PolicyMismatch);
        }
        let Some(ri) = self
            .model
            .reasons
            .iter()
            .position(|r| r.codes.iter().any(|pat| pattern_matches(pat, code)))
        else {
            return ReasonOutcome::Suppressed(DenyCode::NoReasonForCode);
        };
        if self.reason_requires[ri] & !p.grants != 0 {
            return ReasonOutcome::Suppressed(DenyCode::CapabilityMissing);
        }
        if self.model.reasons[ri]
            .from
            .iter()
            .any(|&f| !self.feature_by_index(p, f).is_allowed())
        {
            return ReasonOutcome::Suppressed(DenyCode::FeatureDenied);
        }
        if let Some(&r) = self.reason_forbids[ri].iter().find(|&&r| p.fired(r)) {
            return ReasonOutcome::Forbidden(r);
        }
        ReasonOutcome::Shown(ri as u32)
    }

    /// The retention of a declared kind, in seconds.
    pub fn retention(&self, kind: &str) -> Result<i64, UnknownRetention> {
        self.model
            .retention
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, s)| *s)
            .ok_or_else(|| UnknownRetention(kind.to_string()))
    }

    /// Whether a role may see a feature in a debug view (spec 3.1); never
    /// for an id of another registry.
    pub fn debug_visible(&self, role: &str, f: FeatureId) -> bool {
        let Some(fi) = self.own_feature(f) else {
            return false;
        };
        let Some(&r) = self.names.roles.get(role) else {
            return false;
        };
        let Some(Some(clearance)) = self.role_clearance.get(r as usize) else {
            return false;
        };
        match self.model.features.get(fi as usize).map(|x| x.visibility) {
            Some(Visibility::Open) => true,
            Some(Visibility::Restricted) => *clearance == Clearance::Restricted,
            Some(Visibility::Hidden) | None => false,
        }
    }

    /// The feature set for a surface and mode.
    pub fn route(&self, surface: Option<u32>, mode: u32) -> Option<u32> {
        let s = surface? as usize;
        self.routes
            .get(s * self.model.modes.len() + mode as usize)
            .copied()
            .flatten()
    }

    /// The full decision for a valid request.
    /// A request parsed by a policy with another vocabulary is not readable
    /// here: it gets the fallback decision of a request with nothing valid
    /// (spec 3.1, invalid request), never verdicts for what its ids name here.
    pub fn decide(&self, req: &Request, reason_codes: &[&str]) -> Decision {
        if req.vocabulary != self.tags.vocabulary {
            return self.fallback(Partial::default(), reason_codes);
        }
        let p = self.prepare(req);
        self.decide_prepared(&p, reason_codes)
    }

    fn decide_prepared(&self, p: &Prepared<'_>, reason_codes: &[&str]) -> Decision {
        let ns = self.model.sources.len();
        let nf = self.model.features.len() as u32;
        // The cache scope's two bitmaps, filled while deciding (spec 3.1).
        let bits_len = ns.div_ceil(8) + (nf as usize).div_ceil(8);
        // Small registries keep the bitmap on the stack.
        let mut stack = [0u8; 512];
        let mut heap = Vec::new();
        let bits: &mut [u8] = if bits_len <= stack.len() {
            &mut stack[..bits_len]
        } else {
            heap.resize(bits_len, 0u8);
            &mut heap
        };
        let sources: Vec<Verdict> = (0..ns)
            .map(|s| {
                let v = self.source_by_index(p, s);
                mark(bits, s, v);
                v
            })
            .collect();
        let (_, feature_bits) = bits.split_at_mut(ns.div_ceil(8));
        let route = self.route(p.req.surface, p.mode);
        let mut features: Vec<(u32, Verdict)> = Vec::new();
        let mut unknown_features = Vec::new();
        match &p.req.features {
            Some(list) => {
                let mut known: Vec<u32> = list
                    .iter()
                    .filter_map(|f| {
                        if let FeatureName::Known(i) = f {
                            Some(*i)
                        } else {
                            None
                        }
                    })
                    .collect();
                known.sort_unstable();
                // The parser already dropped duplicates; a hand-built list may not have.
                known.dedup();
                known.retain(|&i| i < nf);
                features.reserve_exact(known.len());
                self.features_into(p, known.into_iter(), &mut features, feature_bits);
                unknown_features.extend(list.iter().filter_map(|f| {
                    if let FeatureName::Unknown(n) = f {
                        Some(n.clone())
                    } else {
                        None
                    }
                }));
            }
            None => match route {
                Some(r) => {
                    let mut ids = self.model.feature_sets[r as usize].features.clone();
                    ids.sort_unstable();
                    ids.dedup();
                    features.reserve_exact(ids.len());
                    self.features_into(p, ids.into_iter(), &mut features, feature_bits);
                }
                None => {
                    features.reserve_exact(nf as usize);
                    self.all_features_into(p, &mut features, feature_bits);
                }
            },
        }
        let mut reasons: Vec<(String, ReasonOutcome)> = Vec::with_capacity(reason_codes.len());
        // A repeated code counts once (first position); a set keeps many codes linear.
        let mut asked: HashSet<&str> = HashSet::new();
        for &code in reason_codes {
            let first = if reason_codes.len() <= 8 {
                !reasons.iter().any(|(c, _)| c == code)
            } else {
                asked.insert(code)
            };
            if first {
                reasons.push((code.to_string(), self.explain(p, code)));
            }
        }
        let cache_scope = crate::cache_scope::cache_scope(self, p, bits);
        Decision {
            digest: self.digest.clone(),
            mode: p.mode,
            arm: p.arm,
            route,
            sources,
            features,
            unknown_features,
            reasons,
            reasons_asked: !reason_codes.is_empty(),
            cache_scope,
        }
    }

    /// Parses and decides; an invalid request gets its errors and the fallback
    /// decision (spec 3.1, 12).
    pub fn decide_json(
        &self,
        json: &str,
        reason_codes: &[&str],
    ) -> Result<Decision, (RequestErrors, Decision)> {
        match crate::request::parse(self, json) {
            Ok(req) => Ok(self.decide(&req, reason_codes)),
            Err((errors, partial)) => Err((errors, self.fallback(partial, reason_codes))),
        }
    }

    /// The decision for an invalid request: mode = the `else` target, every
    /// consent topic unknown, no subject, no consent version, no context, no
    /// roles; tenant, surface, purpose and features kept only where each was
    /// itself valid. An invalid purpose denies every feature `invalid_request`.
    pub(crate) fn fallback(&self, partial: Partial, reason_codes: &[&str]) -> Decision {
        let m = &self.model;
        let req = Request {
            tenant: partial.tenant,
            surface: partial.surface,
            purpose: partial.purpose,
            user_id: None,
            anonymous_id: None,
            consent: vec![crate::model::CONSENT_UNKNOWN as u8; m.consent_topics.len()],
            consent_version: None,
            context: vec![None; m.context.len()],
            roles: 0,
            features: partial.features,
            vocabulary: self.tags.vocabulary,
        };
        let p = self.prepare_in_mode(&req, m.fallback.mode, None);
        self.decide_prepared(&p, reason_codes)
    }
}
