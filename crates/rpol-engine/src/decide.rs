//! Deciding: the mode, then sources, features and reasons in the order of
//! spec 3.1, through the same single-check functions that services call.

use std::collections::hash_map::Entry;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::DenyCode;
use crate::compile::{Compiled, NO_INSTANCE, NO_TOPIC, PASS};
use crate::decision::Decision;
use crate::eval::{Env, Tri};
use crate::ids::{FeatureId, SourceId};
use crate::model::{CONSENT_GRANTED, Clearance, Visibility};
use crate::request::{Partial, Request, RequestErrors};

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
#[derive(Debug, Clone, PartialEq)]
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
    /// Per `forbid source`/`forbid reason` rule: whether its condition fires
    /// (true or unknown). Only for rules 64 and beyond (empty, so no
    /// allocation, for most policies).
    pub(crate) fired_more: Vec<bool>,
    /// `forbid source`/`forbid reason` rules 0..64 whose condition fires, as bits.
    pub(crate) fired_mask: u64,
    /// Forbid entries 0..64 (see `Compiled::entries`) whose residual fires.
    pub(crate) entries_fired: u64,
    /// The same for entries 64 and beyond (empty for most policies).
    pub(crate) entries_more: Vec<bool>,
    /// Consent topics 0..64 that are `granted`.
    pub(crate) granted_mask: u64,
}

/// The verdict of a static code (`PASS`: allowed until consent and forbid rules say otherwise).
const CODE_VERDICT: [Verdict; 256] = {
    let mut t = [Verdict::Allowed; 256];
    let mut i = 0;
    while i < 256 {
        if i != PASS as usize {
            // Evaluated at compile time: an index out of range would not compile.
            #[allow(clippy::indexing_slicing)]
            let slot = &mut t[i];
            *slot = Verdict::Denied(DenyCode::from_u8(i as u8));
        }
        i += 1;
    }
    t
};

/// Sets bit `i` of a cache-scope bitmap when `v` allows (branch-free).
#[inline(always)]
fn mark(bits: &mut [u8], i: usize, v: Verdict) {
    if let Some(b) = bits.get_mut(i >> 3) {
        *b |= u8::from(v == Verdict::Allowed) << (i & 7);
    }
}

/// The cache-scope bitmap bytes of allowed words (LSB first).
#[inline]
pub(crate) fn words_to_bytes(words: &[u64], bytes: &mut [u8]) {
    // Eight bytes a word, little-endian (LSB first); bytes past the words are 0.
    let mut chunks = bytes.chunks_mut(8);
    for (chunk, w) in chunks.by_ref().zip(words) {
        chunk
            .iter_mut()
            .zip(w.to_le_bytes())
            .for_each(|(b, x)| *b = x);
    }
    chunks.flatten().for_each(|b| *b = 0);
}

/// Writes reason `n` of a reused decision and counts it. The string there is
/// overwritten; past the end, the string that last held position `n` is
/// taken back from `spare` (see `decide_prepared`), so a position keeps its
/// string and the string's capacity across calls.
fn put_reason(
    reasons: &mut Vec<(String, ReasonOutcome)>,
    spare: &mut Vec<String>,
    n: &mut usize,
    code: &str,
    outcome: ReasonOutcome,
) {
    match reasons.get_mut(*n) {
        Some(slot) => {
            slot.0.clear();
            slot.0.push_str(code);
            slot.1 = outcome;
        }
        None => {
            let mut s = spare.pop().unwrap_or_default();
            s.clear();
            s.push_str(code);
            reasons.push((s, outcome));
        }
    }
    *n += 1;
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
    /// Whether the residual of forbid entry `e` fires.
    #[inline]
    pub(crate) fn entry_fired(&self, e: usize) -> bool {
        if e < 64 {
            self.entries_fired >> e & 1 == 1
        } else {
            self.entries_more.get(e - 64).copied().unwrap_or(false)
        }
    }

    /// Whether the condition of source or reason forbid rule `r` fires.
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
    pub(crate) fn resolve(&self, req: &Request) -> (u32, Option<u32>) {
        let env = Env {
            req,
            mode: None,
            feature: None,
        };
        for (i, c) in self.arms.iter().enumerate() {
            if c.eval(&env) == Tri::T {
                // `arms` is built one to one from `resolve`.
                let mode = self.model.resolve.get(i).map_or(0, |a| a.mode);
                return (mode, Some(i as u32));
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
        self.prepare_planned(req, None)
    }

    /// Prepares a request as if `mode` had been resolved, for analysis ("what
    /// would this request get in that mode?"). Serving uses [`Compiled::prepare`].
    /// A mode out of range denies every feature `invalid_request`.
    pub fn prepare_in<'r>(&self, req: &'r Request, mode: u32) -> Prepared<'r> {
        if req.vocabulary != self.tags.vocabulary {
            return self.foreign(req);
        }
        self.prepare_planned(req, Some(mode))
    }

    /// A prepared request that no policy accepts.
    pub(crate) fn foreign<'r>(&self, req: &'r Request) -> Prepared<'r> {
        Prepared {
            req,
            policy: NO_INSTANCE,
            pm: None,
            mode: self.model.fallback.mode,
            arm: None,
            grants: 0,
            fired_more: Vec::new(),
            fired_mask: 0,
            entries_fired: 0,
            entries_more: Vec::new(),
            granted_mask: 0,
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
    ///
    /// Indexing is in range by construction: every caller checks `fi` against
    /// the registry size, `column` is `pm * nf` with `pm` checked against
    /// purposes × modes by `prepare`, and the tables (`feature_static`,
    /// `feature_consent`, `feature_entry_mask`, `entry_more_ranges` of one
    /// more) and entry numbers were all sized from the same model by
    /// `Compiled::build`. The checks are not repeated on the hot path.
    #[allow(clippy::indexing_slicing)]
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
        // The lowest fired entry is the first matching rule (entries are in rule order).
        let hit = self.feature_entry_mask[fi] & p.entries_fired;
        if hit != 0 {
            return Verdict::Forbidden(self.entries[hit.trailing_zeros() as usize].rule);
        }
        let (a, b) = (
            self.entry_more_ranges[fi] as usize,
            self.entry_more_ranges[fi + 1] as usize,
        );
        for &e in &self.entry_more[a..b] {
            if p.entry_fired(e as usize) {
                return Verdict::Forbidden(self.entries[e as usize].rule);
            }
        }
        Verdict::Allowed
    }

    /// The allowed registry features for a prepared request, 64 per word,
    /// written over `allowed` (one word per 64 registry features): steps 2–5
    /// from the (purpose, mode) column, then consent, then the fired forbid
    /// entries in rule order, each a few AND-NOTs per word. When `patch` holds
    /// the static verdict column of every registry feature, the features that
    /// consent or a forbid rule deny get their verdict written there: only
    /// what the request changes is touched. An invalid purpose or mode
    /// allows nothing.
    pub(crate) fn allowed_words(
        &self,
        p: &Prepared<'_>,
        allowed: &mut Vec<u64>,
        mut patch: Option<&mut [(u32, Verdict)]>,
    ) {
        allowed.clear();
        let Some(pass) = p.pm.and_then(|pm| self.pass_words.get(pm)) else {
            allowed.resize(self.feature_consent.len().div_ceil(64), 0);
            return;
        };
        allowed.extend_from_slice(pass);
        let mut deny = |allowed: &mut [u64], words: &[u64], v: Verdict| {
            for (w, (a, &m)) in allowed.iter_mut().zip(words).enumerate() {
                let hit = *a & m;
                if hit == 0 {
                    continue;
                }
                *a &= !hit;
                if let Some(out) = patch.as_deref_mut() {
                    let mut bits = hit;
                    while bits != 0 {
                        if let Some(slot) = out.get_mut(w * 64 + bits.trailing_zeros() as usize) {
                            slot.1 = v;
                        }
                        bits &= bits - 1;
                    }
                }
            }
        };
        for (t, words) in self.topic_words.iter().enumerate() {
            let granted = if t < 64 {
                p.granted_mask >> t & 1 == 1
            } else {
                p.req.consent.get(t).copied() == Some(CONSENT_GRANTED as u8)
            };
            if !granted {
                deny(allowed, words, Verdict::Denied(DenyCode::ConsentRequired));
            }
        }
        for (e, entry) in self.entries.iter().enumerate() {
            if p.entry_fired(e) {
                deny(allowed, &entry.words, Verdict::Forbidden(entry.rule));
            }
        }
    }

    /// The allowed registry features of a prepared request as a bitmap, 64
    /// per word, into `words` (reused): bit `i` is set exactly when
    /// [`Compiled::check_feature`] allows registry feature `i`. A few word
    /// operations for all features at once, for bulk callers that would
    /// otherwise check features one by one. A request prepared by another
    /// policy allows nothing.
    pub fn allowed_feature_words(&self, p: &Prepared<'_>, words: &mut Vec<u64>) {
        if p.policy != self.tags.instance {
            words.clear();
            words.resize(self.feature_consent.len().div_ceil(64), 0);
            return;
        }
        self.allowed_words(p, words, None);
    }

    /// Verdicts of every registry feature: the static column converted by a
    /// table (no branch per feature), then patched by [`Compiled::allowed_words`].
    fn all_features_into(
        &self,
        p: &Prepared<'_>,
        out: &mut Vec<(u32, Verdict)>,
        allowed: &mut Vec<u64>,
    ) {
        let nf = self.feature_consent.len();
        let start = out.len();
        let column =
            p.pm.filter(|&pm| pm < self.pass_words.len())
                .and_then(|pm| self.feature_static.get(pm * nf..(pm + 1) * nf));
        match column {
            Some(column) => {
                // A `u8` always indexes a table of 256.
                #[allow(clippy::indexing_slicing)]
                let verdict = |c: u8| CODE_VERDICT[c as usize];
                out.extend(
                    column
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| (i as u32, verdict(c))),
                );
            }
            _ => out.extend((0..nf as u32).map(|i| (i, Verdict::Denied(DenyCode::InvalidRequest)))),
        }
        self.allowed_words(p, allowed, out.get_mut(start..));
    }

    /// The verdicts of the covered features `ids` (`len` of them, maybe
    /// repeated, in any order) into `out`, in registry order without
    /// repeats. Ids past the registry are dropped (the parser never makes
    /// them; a hand-built list may). A long list is put in order through a
    /// bitmap of the registry (`covered`, reused): linear in the list and the
    /// registry's words, where sorting 100,000 ids would not be.
    fn listed_features_into(
        &self,
        p: &Prepared<'_>,
        ids: impl Iterator<Item = u32>,
        len: usize,
        out: &mut Vec<(u32, Verdict)>,
        bits: &mut [u8],
        covered: &mut Vec<u64>,
    ) {
        let nf = self.feature_consent.len();
        let in_range = |&i: &u32| (i as usize) < nf;
        out.clear();
        out.reserve(len);
        if len > 32 && nf / 64 <= len * 8 {
            covered.clear();
            covered.resize(nf.div_ceil(64), 0);
            for i in ids.filter(in_range) {
                if let Some(w) = covered.get_mut(i as usize / 64) {
                    *w |= 1 << (i % 64);
                }
            }
            for (k, &w) in covered.iter().enumerate() {
                let mut rest = w;
                while rest != 0 {
                    out.push((k as u32 * 64 + rest.trailing_zeros(), Verdict::Allowed));
                    rest &= rest - 1;
                }
            }
        } else {
            out.extend(ids.filter(in_range).map(|i| (i, Verdict::Allowed)));
            out.sort_unstable_by_key(|&(i, _)| i);
            out.dedup_by_key(|&mut (i, _)| i);
        }
        let Some(pm) = p.pm else {
            out.iter_mut()
                .for_each(|x| x.1 = Verdict::Denied(DenyCode::InvalidRequest));
            return;
        };
        let column = pm * nf;
        for x in out.iter_mut() {
            let v = self.feature_verdict(p, x.0 as usize, column);
            mark(bits, x.0 as usize, v);
            x.1 = v;
        }
    }

    /// Decides one source (spec 3.1: capabilities, `when`, forbid rules). A
    /// prepared request or an id of another policy is denied `policy_mismatch`.
    pub fn check_source(&self, p: &Prepared<'_>, s: SourceId) -> Verdict {
        if p.policy != self.tags.instance || s.tag != self.tags.sources {
            return Verdict::Denied(DenyCode::PolicyMismatch);
        }
        self.source_by_index(p, s.index as usize)
    }

    pub(crate) fn source_by_index(&self, p: &Prepared<'_>, si: usize) -> Verdict {
        let Some(&requires) = self.source_requires.get(si) else {
            return Verdict::Denied(DenyCode::ConditionFalse);
        };
        if requires & !p.grants != 0 {
            return Verdict::Denied(DenyCode::CapabilityMissing);
        }
        if let Some(w) = self.source_when.get(si).and_then(Option::as_ref)
            && w.eval(&Env {
                req: p.req,
                mode: Some(p.mode),
                feature: None,
            }) != Tri::T
        {
            return Verdict::Denied(DenyCode::ConditionFalse);
        }
        for &r in self.source_forbids.get(si).into_iter().flatten() {
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
        let Some((ri, reason)) = self
            .model
            .reasons
            .iter()
            .enumerate()
            .find(|(_, r)| r.codes.iter().any(|pat| pattern_matches(pat, code)))
        else {
            return ReasonOutcome::Suppressed(DenyCode::NoReasonForCode);
        };
        // Built one to one with the reasons; a missing entry would deny.
        let requires = self.reason_requires.get(ri).copied().unwrap_or(u64::MAX);
        if requires & !p.grants != 0 {
            return ReasonOutcome::Suppressed(DenyCode::CapabilityMissing);
        }
        if reason
            .from
            .iter()
            .any(|&f| !self.feature_by_index(p, f).is_allowed())
        {
            return ReasonOutcome::Suppressed(DenyCode::FeatureDenied);
        }
        let forbids = self.reason_forbids.get(ri).into_iter().flatten();
        if let Some(&r) = forbids.into_iter().find(|&&r| p.fired(r)) {
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
    /// [`Compiled::decide_into`] gives the same decision in a reused buffer.
    pub fn decide(&self, req: &Request, reason_codes: &[&str]) -> Decision {
        let mut out = self.blank();
        self.decide_into(req, reason_codes, &mut out);
        out
    }

    /// [`Compiled::decide`] into `out`, a decision reused across calls: its
    /// vectors and strings are cleared and refilled in place, so once they
    /// have grown to the policy's size (and the request's feature list) a
    /// decision allocates nothing, reasons included when the same codes are
    /// asked again. Nothing of the previous decision is left in `out`. (A
    /// policy with more than 64 forbid rules of one kind allocates a little
    /// while preparing the request.)
    pub fn decide_into(&self, req: &Request, reason_codes: &[&str], out: &mut Decision) {
        if req.vocabulary != self.tags.vocabulary {
            return self.fallback_into(Partial::default(), reason_codes, out);
        }
        let p = self.prepare(req);
        self.decide_prepared(&p, reason_codes, out);
    }

    /// An empty decision of this policy.
    fn blank(&self) -> Decision {
        Decision::with_digest(self.digest.clone())
    }

    fn decide_prepared(&self, p: &Prepared<'_>, reason_codes: &[&str], out: &mut Decision) {
        let ns = self.model.sources.len();
        let nf = self.model.features.len() as u32;
        if !Arc::ptr_eq(&out.digest, &self.digest) {
            out.digest = self.digest.clone();
        }
        out.mode = p.mode;
        out.arm = p.arm;
        out.reasons_asked = !reason_codes.is_empty();
        let Decision {
            sources,
            features,
            unknown_features,
            reasons,
            cache_scope,
            scratch,
            route: out_route,
            ..
        } = out;
        // The cache scope's two bitmaps, filled while deciding (spec 3.1).
        let bits_len = ns.div_ceil(8) + (nf as usize).div_ceil(8);
        // Small registries keep the bitmap on the stack.
        let mut stack = [0u8; 512];
        let bits: &mut [u8] = match stack.get_mut(..bits_len) {
            Some(bits) => bits,
            None => {
                scratch.bits.clear();
                scratch.bits.resize(bits_len, 0u8);
                &mut scratch.bits
            }
        };
        sources.clear();
        sources.extend((0..ns).map(|s| {
            let v = self.source_by_index(p, s);
            mark(bits, s, v);
            v
        }));
        let (_, feature_bits) = bits.split_at_mut(ns.div_ceil(8));
        let route = self.route(p.req.surface, p.mode);
        *out_route = route;
        features.clear();
        unknown_features.clear();
        match &p.req.features {
            Some(list) => {
                let (ids, len) = (list.known(), list.len() - list.unknown().len());
                self.listed_features_into(
                    p,
                    ids,
                    len,
                    features,
                    feature_bits,
                    &mut scratch.covered,
                );
                unknown_features.clone_from(list.unknown());
            }
            None => match route {
                Some(r) => {
                    // Routes name declared feature sets (`Compiled::build`).
                    let ids = self
                        .model
                        .feature_sets
                        .get(r as usize)
                        .map_or(&[][..], |s| &s.features);
                    let (len, ids) = (ids.len(), ids.iter().copied());
                    self.listed_features_into(
                        p,
                        ids,
                        len,
                        features,
                        feature_bits,
                        &mut scratch.covered,
                    );
                }
                None => {
                    self.all_features_into(p, features, &mut scratch.allowed);
                    words_to_bytes(&scratch.allowed, feature_bits);
                }
            },
        }
        // A repeated code counts once (first position). The strings of the
        // previous decision's reasons are overwritten, not reallocated.
        let mut n = 0usize;
        // A new decision grows its vectors and strings once, not by doubling
        // (no-ops for a reused one that has grown).
        reasons.reserve(reason_codes.len());
        if reason_codes.len() <= 8 {
            for &code in reason_codes {
                if !reasons.iter().take(n).any(|(c, _)| c == code) {
                    put_reason(
                        reasons,
                        &mut scratch.spare,
                        &mut n,
                        code,
                        self.explain(p, code),
                    );
                }
            }
        } else {
            // Many codes: a set of their keyed hashes (reused) keeps this
            // linear. A hash seen before is a repeat when the code at its
            // first position is the same; a different code with the same
            // hash (a 64-bit collision) is checked against the kept ones.
            let seen = scratch.seen.get_or_insert_with(Default::default);
            seen.clear();
            for (i, &code) in reason_codes.iter().enumerate() {
                let h = seen.hasher().hash_one(code);
                let first = match seen.entry(h) {
                    Entry::Vacant(v) => {
                        v.insert(i as u32);
                        true
                    }
                    Entry::Occupied(o) => {
                        reason_codes.get(*o.get() as usize) != Some(&code)
                            && !reasons.iter().take(n).any(|(c, _)| c == code)
                    }
                };
                if first {
                    let o = self.explain(p, code);
                    put_reason(reasons, &mut scratch.spare, &mut n, code, o);
                }
            }
        }
        // The strings past the end are kept for the next call, the one of
        // position `n` on top.
        scratch
            .spare
            .extend(reasons.drain(n..).rev().map(|(s, _)| s));
        cache_scope.clear();
        cache_scope.reserve(96);
        crate::cache_scope::cache_scope_into(self, p, bits, cache_scope);
    }

    /// Parses and decides; an invalid request gets its errors and the fallback
    /// decision (spec 3.1, 12). [`Compiled::decide_json_into`] gives the same
    /// decision in a reused buffer.
    pub fn decide_json(
        &self,
        json: &str,
        reason_codes: &[&str],
    ) -> Result<Decision, (RequestErrors, Decision)> {
        let mut out = self.blank();
        match self.decide_json_into(json, reason_codes, &mut out) {
            Ok(()) => Ok(out),
            Err(errors) => Err((errors, out)),
        }
    }

    /// [`Compiled::decide_json`] into `out`, a decision reused across calls
    /// (see [`Compiled::decide_into`]): the decision, or the fallback decision
    /// and the request's errors. Parsing the request still allocates.
    pub fn decide_json_into(
        &self,
        json: &str,
        reason_codes: &[&str],
        out: &mut Decision,
    ) -> Result<(), RequestErrors> {
        match crate::request::parse(self, json) {
            Ok(req) => {
                self.decide_into(&req, reason_codes, out);
                Ok(())
            }
            Err((errors, partial)) => {
                self.fallback_into(partial, reason_codes, out);
                Err(errors)
            }
        }
    }

    /// The decision for an invalid request: mode = the `else` target, every
    /// consent topic unknown, no subject, no consent version, no context, no
    /// roles; tenant, surface, purpose and features kept only where each was
    /// itself valid. An invalid purpose denies every feature `invalid_request`.
    pub(crate) fn fallback(&self, partial: Partial, reason_codes: &[&str]) -> Decision {
        let mut out = self.blank();
        self.fallback_into(partial, reason_codes, &mut out);
        out
    }

    /// [`Compiled::fallback`] into a reused decision.
    fn fallback_into(&self, partial: Partial, reason_codes: &[&str], out: &mut Decision) {
        let req = self.fallback_request(partial);
        let p = self.prepare_planned(&req, Some(self.model.fallback.mode));
        self.decide_prepared(&p, reason_codes, out);
    }

    /// The request an invalid request is decided as (see [`Compiled::fallback`]).
    pub(crate) fn fallback_request(&self, partial: Partial) -> Request {
        let m = &self.model;
        Request {
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
        }
    }
}
