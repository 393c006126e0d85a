//! The privacy review sheet of a checked policy (`rpol doc`).
//!
//! [`Sheet::build`] gathers what a privacy-by-design review asks of every
//! feature and source — class, consent, purposes, modes, retention, debug
//! visibility, the forbid rules that decide it — and decides every region of
//! the request space through the engine ([`matrix`]), so that each cell of the
//! matrices is what the engine answers, for every request of the cell.
//! [`markdown`] and [`html`] render it.

mod blocks;
pub mod html;
pub mod markdown;
pub mod matrix;
pub mod text;

use rpol_analysis::AnalysisError;
use rpol_analysis::verify::VerifyReport;
use rpol_check::{Checked, ModelSpans};
use rpol_diag::{FileId, Span};
use rpol_engine::Compiled;
use rpol_engine::model::{Clearance, ForbidKind, Visibility};

pub use matrix::{Cell, Key, Matrix, Outcome};

#[derive(Debug, Clone, PartialEq)]
pub struct ModeInfo {
    pub name: String,
    pub grants: Vec<String>,
}

/// A `resolve` arm: `when` arms in order, then `else`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmInfo {
    /// `FILE:LINE`.
    pub rule: String,
    /// The arm as written, whitespace collapsed.
    pub text: String,
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureInfo {
    pub name: String,
    pub entity: String,
    pub class: String,
    pub personal: bool,
    pub sensitive: bool,
    pub consent: Option<String>,
    pub retention_days: Option<i64>,
    pub visibility: &'static str,
    pub description: Option<String>,
    pub allowed_modes: Vec<String>,
    pub allowed_purposes: Vec<String>,
    pub prohibited_purposes: Vec<String>,
    /// Feature sets (routes) that list it.
    pub feature_sets: Vec<String>,
    pub forbids: Touch,
    /// Per role (policy order): whether it may see the feature in a debug view.
    pub debug: Vec<bool>,
}

/// The forbid rules that touch an item (indexes in declaration order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Touch {
    /// Rules that deny it for some request.
    pub deciding: Vec<u32>,
    /// Rules that name it (or every item of its kind) but deny it for no
    /// request: an earlier step always denies first, or the condition never
    /// holds where it applies.
    pub idle: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub name: String,
    pub requires: Vec<String>,
    /// The declaration as written, whitespace collapsed.
    pub text: String,
    pub forbids: Touch,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReasonInfo {
    pub name: String,
    pub text: String,
    pub codes: Vec<String>,
    pub requires: Vec<String>,
    pub from: Vec<String>,
    pub forbids: Touch,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForbidInfo {
    /// `FILE:LINE`.
    pub rule: String,
    pub kind: &'static str,
    /// The rule as written, whitespace collapsed.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteInfo {
    pub name: String,
    pub modes: Vec<String>,
    /// `None`: every surface.
    pub surfaces: Option<Vec<String>>,
    pub features: Vec<String>,
}

/// Everything the review sheet shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The policy path as given.
    pub path: String,
    pub name: String,
    pub version: String,
    pub digest: String,
    pub purposes: Vec<String>,
    pub consent_topics: Vec<String>,
    pub modes: Vec<ModeInfo>,
    /// `when` arms, then the `else` arm (the fallback).
    pub resolve: Vec<ArmInfo>,
    pub features: Vec<FeatureInfo>,
    pub sources: Vec<SourceInfo>,
    pub reasons: Vec<ReasonInfo>,
    pub forbids: Vec<ForbidInfo>,
    pub routes: Vec<RouteInfo>,
    /// Declared retention kinds, durations in policy notation.
    pub retention: Vec<(String, String)>,
    /// Roles with their debug clearance (`None`: no debug access).
    pub roles: Vec<(String, Option<&'static str>)>,
    pub matrix: Matrix,
    pub verify: Option<VerifyReport>,
}

/// What [`Sheet::build`] reads.
pub struct Input<'a> {
    /// The policy path as the user gave it.
    pub path: &'a str,
    /// The check run (its sources and registry).
    pub checked: &'a Checked,
    /// The spans of the checked policy.
    pub spans: &'a ModelSpans,
    /// The policy compiled from the checked model.
    pub compiled: &'a Compiled,
    /// `rpol verify`'s report, if it was run.
    pub verify: Option<VerifyReport>,
    /// Refuse (E0701) when the request space splits into more regions.
    pub max_regions: u64,
}

impl Sheet {
    pub fn build(input: Input<'_>) -> Result<Sheet, AnalysisError> {
        let c = input.compiled;
        let m = c.model();
        let matrix = matrix::matrix(c, input.max_regions)?;
        let names = |ids: &[u32], of: &[String]| -> Vec<String> {
            ids.iter()
                .filter_map(|&i| of.get(i as usize).cloned())
                .collect()
        };
        let caps = |ids: &[u32]| names(ids, &m.capabilities);
        let written = |(file, span): (FileId, Span)| {
            text::collapse(input.checked.sources.get(file).slice(span))
        };
        let modes: Vec<String> = m.modes.iter().map(|x| x.name.clone()).collect();
        let feature_names: Vec<String> = m.features.iter().map(|f| f.name.clone()).collect();
        let mut resolve: Vec<ArmInfo> = m
            .resolve
            .iter()
            .zip(&input.spans.arms)
            .map(|(a, &at)| ArmInfo {
                rule: a.rule.clone(),
                text: written(at),
                mode: modes[a.mode as usize].clone(),
            })
            .collect();
        resolve.push(ArmInfo {
            rule: m.fallback.rule.clone(),
            text: written(input.spans.fallback),
            mode: modes[m.fallback.mode as usize].clone(),
        });
        let description = |name: &str| {
            input
                .checked
                .registry
                .as_ref()?
                .features
                .iter()
                .find(|f| f.name.value == name)?
                .description
                .clone()
        };
        let roles: Vec<(String, Option<&'static str>)> = m
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let clearance = m
                    .debug
                    .iter()
                    .find(|(id, _)| *id as usize == i)
                    .map(|(_, cl)| match cl {
                        Clearance::Open => "open",
                        Clearance::Restricted => "restricted",
                    });
                (r.clone(), clearance)
            })
            .collect();
        let touch = |kind: ForbidKind, i: usize, cells: &mut dyn Iterator<Item = &Cell>| {
            let mut deciding: Vec<u32> = cells
                .flat_map(|c| c.outcomes.iter().filter_map(|o| o.key.rule))
                .collect();
            deciding.sort_unstable();
            deciding.dedup();
            let idle = m
                .forbids
                .iter()
                .enumerate()
                .filter(|(r, f)| {
                    f.kind == kind
                        && f.targets.as_ref().is_none_or(|t| t.contains(&(i as u32)))
                        && !deciding.contains(&(*r as u32))
                        // A rule on every feature that reads `feature.*` names
                        // none in particular: it touches those it decides.
                        && !(f.targets.is_none() && f.when.as_ref().is_some_and(|w| w.reads_feature()))
                })
                .map(|(r, _)| r as u32)
                .collect();
            Touch { deciding, idle }
        };
        let ids: Vec<rpol_engine::FeatureId> = c.feature_ids().collect();
        let features = m
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let class = &m.classes[f.class as usize];
                let id = ids.get(i).copied();
                FeatureInfo {
                    name: f.name.clone(),
                    entity: f.entity.clone(),
                    class: class.name.clone(),
                    personal: class.personal,
                    sensitive: class.sensitive,
                    consent: f
                        .requires_consent
                        .and_then(|t| m.consent_topics.get(t as usize).cloned()),
                    retention_days: f.retention_days,
                    visibility: match f.visibility {
                        Visibility::Open => "open",
                        Visibility::Restricted => "restricted",
                        Visibility::Hidden => "hidden",
                    },
                    description: description(&f.name),
                    allowed_modes: names(&f.allowed_modes, &modes),
                    allowed_purposes: names(&f.allowed_purposes, &m.purposes),
                    prohibited_purposes: names(&f.prohibited_purposes, &m.purposes),
                    feature_sets: m
                        .feature_sets
                        .iter()
                        .filter(|s| s.features.contains(&(i as u32)))
                        .map(|s| s.name.clone())
                        .collect(),
                    forbids: touch(
                        ForbidKind::Feature,
                        i,
                        &mut matrix.features[i].iter().flatten(),
                    ),
                    debug: m
                        .roles
                        .iter()
                        .map(|r| id.is_some_and(|id| c.debug_visible(r, id)))
                        .collect(),
                }
            })
            .collect();
        let sources = m
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| SourceInfo {
                name: s.name.clone(),
                requires: caps(&s.requires),
                text: written(input.spans.sources[i]),
                forbids: touch(ForbidKind::Source, i, &mut matrix.sources[i].iter()),
            })
            .collect();
        let reasons = m
            .reasons
            .iter()
            .enumerate()
            .map(|(i, r)| ReasonInfo {
                name: r.name.clone(),
                text: r.text.clone(),
                codes: r.codes.clone(),
                requires: caps(&r.requires),
                from: names(&r.from, &feature_names),
                forbids: touch(ForbidKind::Reason, i, &mut matrix.reasons[i].iter()),
            })
            .collect();
        let forbids = m
            .forbids
            .iter()
            .zip(&input.spans.forbids)
            .map(|(f, &at)| ForbidInfo {
                rule: f.rule.clone(),
                kind: match f.kind {
                    ForbidKind::Feature => "feature",
                    ForbidKind::Source => "source",
                    ForbidKind::Reason => "reason",
                },
                text: written(at),
            })
            .collect();
        let routes = m
            .feature_sets
            .iter()
            .map(|s| RouteInfo {
                name: s.name.clone(),
                modes: names(&s.modes, &modes),
                surfaces: s.surfaces.as_ref().map(|x| names(x, &m.surfaces)),
                features: names(&s.features, &feature_names),
            })
            .collect();
        Ok(Sheet {
            path: input.path.to_string(),
            name: m.name.clone(),
            version: m.version.clone(),
            digest: m.digest.clone(),
            purposes: m.purposes.clone(),
            consent_topics: m.consent_topics.clone(),
            modes: m
                .modes
                .iter()
                .map(|x| ModeInfo {
                    name: x.name.clone(),
                    grants: caps(&x.grants),
                })
                .collect(),
            resolve,
            features,
            sources,
            reasons,
            forbids,
            routes,
            retention: m
                .retention
                .iter()
                .map(|(k, s)| (k.clone(), text::duration(*s)))
                .collect(),
            roles,
            matrix,
            verify: input.verify,
        })
    }

    /// `F1`, `F2`, …: the label of forbid rule `r` (declaration order).
    pub fn rule_label(r: u32) -> String {
        format!("F{}", r + 1)
    }
}
