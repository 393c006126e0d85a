//! Which `resolve` arms, sources (allowed and denied), forbid rules (fired),
//! reasons (shown) and feature sets (selected) the tests exercised.

use rpol_check::{CheckedPolicy, ExpectCheck, TestExpect};
use rpol_diag::{FileId, Span};
use rpol_engine::model::PolicyModel;

use crate::observe::{Observed, Outcome, ReasonOutcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageKind {
    ResolveArm,
    SourceAllowed,
    SourceDenied,
    ForbidRule,
    Reason,
    FeatureSet,
}

impl CoverageKind {
    pub fn describe(self) -> &'static str {
        match self {
            CoverageKind::ResolveArm => "resolve arm never taken",
            CoverageKind::SourceAllowed => "source never allowed",
            CoverageKind::SourceDenied => "source never denied",
            CoverageKind::ForbidRule => "forbid rule never fired",
            CoverageKind::Reason => "reason never shown",
            CoverageKind::FeatureSet => "feature set never selected",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CoverageItem {
    pub kind: CoverageKind,
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub covered: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub items: Vec<CoverageItem>,
}

impl Coverage {
    pub fn percent(&self) -> f64 {
        if self.items.is_empty() {
            return 100.0;
        }
        100.0 * self.items.iter().filter(|i| i.covered).count() as f64 / self.items.len() as f64
    }
    pub fn gaps(&self) -> impl Iterator<Item = &CoverageItem> {
        self.items.iter().filter(|i| !i.covered)
    }
}

/// Whether some request can deny source `i`: it has a `when`, some mode lacks
/// one of its capabilities, or a forbid rule targets it.
fn can_be_denied(m: &PolicyModel, i: usize) -> bool {
    let s = &m.sources[i];
    s.when.is_some()
        || m.modes
            .iter()
            .any(|md| s.requires.iter().any(|c| !md.grants.contains(c)))
        || m.forbids.iter().any(|f| {
            f.kind == rpol_engine::model::ForbidKind::Source
                && f.targets.as_ref().is_none_or(|t| t.contains(&(i as u32)))
        })
}

pub(crate) struct Hits {
    arms: Vec<bool>,
    fallback: bool,
    source_allowed: Vec<bool>,
    source_denied: Vec<bool>,
    forbids: Vec<bool>,
    reasons: Vec<bool>,
    sets: Vec<bool>,
}

impl Hits {
    pub fn new(m: &PolicyModel) -> Self {
        Hits {
            arms: vec![false; m.resolve.len()],
            fallback: false,
            source_allowed: vec![false; m.sources.len()],
            source_denied: vec![false; m.sources.len()],
            forbids: vec![false; m.forbids.len()],
            reasons: vec![false; m.reasons.len()],
            sets: vec![false; m.feature_sets.len()],
        }
    }

    /// Records what one test's decision exercised. A reason counts as shown
    /// when it was, or when a forbid rule suppressed it and the test expects
    /// that code suppressed: a reason forbidden on purpose can never be shown,
    /// and a test stating its suppression is what covers it.
    pub fn record(&mut self, o: &Observed, expects: &[TestExpect]) {
        match o.arm {
            Some(i) => self.arms[i] = true,
            None => self.fallback = true,
        }
        for (i, (_, v)) in o.sources.iter().enumerate() {
            match v {
                Outcome::Allowed => self.source_allowed[i] = true,
                Outcome::Denied { .. } => self.source_denied[i] = true,
            }
        }
        for f in &o.forbids_fired {
            self.forbids[*f] = true;
        }
        for (_, r) in &o.reasons {
            if let ReasonOutcome::Shown(name) = r
                && let Some(i) = o.reason_index(name)
            {
                self.reasons[i] = true;
            }
        }
        for e in expects {
            if let ExpectCheck::ReasonSuppressed { code, suppression } = &e.check
                && suppression.as_deref().is_none_or(|s| s == "forbidden")
                && let Some(i) = o.reason_forbidden(code)
            {
                self.reasons[i] = true;
            }
        }
        if let Some(i) = o.route_index {
            self.sets[i] = true;
        }
    }

    pub fn finish(self, p: &CheckedPolicy) -> Coverage {
        let m = &p.model;
        let s = &p.spans;
        let mut items = Vec::new();
        let mut push = |kind, name: String, (file, span): (FileId, Span), covered| {
            items.push(CoverageItem {
                kind,
                name,
                file,
                span,
                covered,
            })
        };
        for (i, a) in m.resolve.iter().enumerate() {
            push(
                CoverageKind::ResolveArm,
                format!("=> {}", m.modes[a.mode as usize].name),
                s.arms[i],
                self.arms[i],
            );
        }
        push(
            CoverageKind::ResolveArm,
            format!("else => {}", m.modes[m.fallback.mode as usize].name),
            s.fallback,
            self.fallback,
        );
        for (i, src) in m.sources.iter().enumerate() {
            push(
                CoverageKind::SourceAllowed,
                src.name.clone(),
                s.sources[i],
                self.source_allowed[i],
            );
            // A source that no request can deny has no "denied" case to test.
            if can_be_denied(m, i) {
                push(
                    CoverageKind::SourceDenied,
                    src.name.clone(),
                    s.sources[i],
                    self.source_denied[i],
                );
            }
        }
        for (i, f) in m.forbids.iter().enumerate() {
            push(
                CoverageKind::ForbidRule,
                f.rule.clone(),
                s.forbids[i],
                self.forbids[i],
            );
        }
        for (i, r) in m.reasons.iter().enumerate() {
            push(
                CoverageKind::Reason,
                r.name.clone(),
                s.reasons[i],
                self.reasons[i],
            );
        }
        for (i, fs) in m.feature_sets.iter().enumerate() {
            push(
                CoverageKind::FeatureSet,
                fs.name.clone(),
                s.feature_sets[i],
                self.sets[i],
            );
        }
        Coverage { items }
    }
}
