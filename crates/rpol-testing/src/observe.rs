//! The one place the runner talks to the engine: decide the test's request and
//! record what the decision says, in names.

use rpol_engine::{Compiled, ReasonOutcome as EngineReason, Verdict};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Allowed,
    Denied { code: String, rule: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReasonOutcome {
    Shown(String),
    Suppressed(String),
}

#[derive(Debug, Clone)]
pub struct Observed {
    pub mode: String,
    /// The `when` arm taken; `None` for `else`.
    pub arm: Option<usize>,
    pub route: Option<String>,
    pub route_index: Option<usize>,
    /// Every source, declaration order.
    pub sources: Vec<(String, Outcome)>,
    /// The decision's covered features plus the features the test names.
    pub features: Vec<(String, Outcome)>,
    pub reasons: Vec<(String, ReasonOutcome)>,
    pub forbids_fired: Vec<usize>,
    /// (code, reason index) of each code a forbid rule suppressed.
    reasons_forbidden: Vec<(String, usize)>,
    /// The decision's `cache_scope`, split into the components a test can state.
    pub cache_scope: Vec<(&'static str, String)>,
    /// The whole `cache_scope` string, for messages.
    pub scope_text: String,
    reason_names: Vec<String>,
}

impl Observed {
    pub fn reason_index(&self, name: &str) -> Option<usize> {
        self.reason_names.iter().position(|n| n == name)
    }

    /// The reason whose `code` a forbid rule suppressed in this decision.
    pub fn reason_forbidden(&self, code: &str) -> Option<usize> {
        self.reasons_forbidden
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, i)| *i)
    }
}

fn outcome(c: &Compiled, v: Verdict, fired: &mut Vec<usize>) -> Outcome {
    match v {
        Verdict::Allowed => Outcome::Allowed,
        Verdict::Denied(code) => Outcome::Denied {
            code: code.as_str().to_string(),
            rule: None,
        },
        Verdict::Forbidden(r) => {
            fired.push(r as usize);
            Outcome::Denied {
                code: "forbidden".into(),
                rule: Some(c.model().forbids[r as usize].rule.clone()),
            }
        }
    }
}

/// Decides `request` with the compiled engine; `features` are decided whatever the route.
pub fn observe(
    c: &Compiled,
    request: &Value,
    reason_codes: &[&str],
    features: &[&str],
) -> Result<Observed, String> {
    let m = c.model();
    let req = c
        .parse_request(&request.to_string())
        .map_err(|e| format!("the `given` request is invalid: {e}"))?;
    let d = c.decide(&req, reason_codes);
    let mut fired = Vec::new();
    let sources = d
        .sources
        .iter()
        .enumerate()
        .map(|(i, v)| (m.sources[i].name.clone(), outcome(c, *v, &mut fired)))
        .collect();
    let mut feats: Vec<(String, Outcome)> = d
        .features
        .iter()
        .map(|(i, v)| {
            (
                m.features[*i as usize].name.clone(),
                outcome(c, *v, &mut fired),
            )
        })
        .collect();
    feats.extend(d.unknown_features.iter().map(|n| {
        (
            n.to_string(),
            Outcome::Denied {
                code: "unknown_feature".into(),
                rule: None,
            },
        )
    }));
    let p = c.prepare(&req);
    for name in features {
        let v = match c.feature_id(name) {
            Some(id) => outcome(c, c.check_feature(&p, id), &mut fired),
            None => Outcome::Denied {
                code: "unknown_feature".into(),
                rule: None,
            },
        };
        feats.retain(|(n, _)| n != name);
        feats.push((name.to_string(), v));
    }
    let mut forbidden = Vec::new();
    let reasons = d
        .reasons
        .iter()
        .map(|(code, o)| {
            let r = match o {
                EngineReason::Shown(i) => ReasonOutcome::Shown(m.reasons[*i as usize].name.clone()),
                EngineReason::Suppressed(code) => {
                    ReasonOutcome::Suppressed(code.as_str().to_string())
                }
                EngineReason::Forbidden(r) => {
                    fired.push(*r as usize);
                    if let Some(i) = reason_of(m, code) {
                        forbidden.push((code.clone(), i));
                    }
                    ReasonOutcome::Suppressed("forbidden".into())
                }
            };
            (code.clone(), r)
        })
        .collect();
    fired.sort_unstable();
    fired.dedup();
    Ok(Observed {
        mode: m.modes[d.mode as usize].name.clone(),
        arm: d.arm.map(|a| a as usize),
        route: d.route.map(|r| m.feature_sets[r as usize].name.clone()),
        route_index: d.route.map(|r| r as usize),
        sources,
        features: feats,
        reasons,
        forbids_fired: fired,
        reasons_forbidden: forbidden,
        cache_scope: split_scope(c, request, &m.modes[d.mode as usize].name, &d.cache_scope),
        scope_text: d.cache_scope.clone(),
        reason_names: m.reasons.iter().map(|r| r.name.clone()).collect(),
    })
}

/// The reason a code maps to (docs/reference.md: the one reason with a matching pattern).
fn reason_of(m: &rpol_engine::model::PolicyModel, code: &str) -> Option<usize> {
    m.reasons.iter().position(|r| {
        r.codes
            .iter()
            .any(|p| rpol_engine::pattern_matches(p, code))
    })
}

/// The components of a `cache_scope`. The string joins them with `/`, but a
/// tenant or subject may itself hold `/`, so the subject is what remains
/// between the known prefix (tenant, surface, mode) and the known suffix
/// (consent version, digest, bitmap hash), never a split on `/`.
fn split_scope(
    c: &Compiled,
    request: &Value,
    mode: &str,
    scope: &str,
) -> Vec<(&'static str, String)> {
    let field = |k: &str| request.get(k).and_then(Value::as_str).unwrap_or("-");
    let tenant = field("tenant");
    let surface = field("surface");
    let consent_version = field("consent_version");
    let prefix = format!("{tenant}/{surface}/{mode}/");
    let digest = &c.digest()[..12.min(c.digest().len())];
    let suffix_len = 1 + consent_version.len() + 1 + digest.len() + 1 + 8;
    let subject = scope
        .strip_prefix(&prefix)
        .and_then(|rest| rest.get(..rest.len().checked_sub(suffix_len)?))
        .unwrap_or(scope);
    vec![
        ("tenant", tenant.to_string()),
        ("surface", surface.to_string()),
        ("mode", mode.to_string()),
        ("subject", subject.to_string()),
        ("consent_version", consent_version.to_string()),
    ]
}
