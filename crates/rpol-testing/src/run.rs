//! Executes each test: builds its request, decides it, checks every `expect`.

use std::time::Instant;

use rpol_check::{CheckedPolicy, ExpectCheck, TestExpect};
use rpol_diag::{FileId, Span};
use rpol_engine::Compiled;

use crate::coverage::{Coverage, Hits};
use crate::observe::{Observed, Outcome, ReasonOutcome, observe};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run only tests whose name contains this text.
    pub filter: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub file: FileId,
    /// The `expect` statement, or the element of its list that failed.
    pub span: Span,
    /// The element's name when the `expect` names a list, so that output
    /// says which one failed.
    pub item: Option<String>,
    /// What the `expect` asked for, in words (`source user_cf denied capability_missing`).
    pub expect: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub failures: Vec<Failure>,
    pub micros: u128,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub policy: String,
    pub results: Vec<TestResult>,
    pub coverage: Coverage,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

pub fn run(policy: &CheckedPolicy, compiled: &Compiled, opts: &Options) -> Report {
    let mut hits = Hits::new(&policy.model);
    let mut results = Vec::new();
    for t in &policy.tests {
        if opts
            .filter
            .as_ref()
            .is_some_and(|f| !t.name.contains(f.as_str()))
        {
            continue;
        }
        let start = Instant::now();
        let reason_codes: Vec<&str> = t
            .expects
            .iter()
            .filter_map(|e| match &e.check {
                ExpectCheck::ReasonShows { code, .. }
                | ExpectCheck::ReasonSuppressed { code, .. } => Some(code.as_str()),
                _ => None,
            })
            .collect();
        let features: Vec<&str> = t
            .expects
            .iter()
            .filter_map(|e| match &e.check {
                ExpectCheck::Feature { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let failures = match observe(compiled, &t.request, &reason_codes, &features) {
            Ok(obs) => {
                hits.record(&obs, &t.expects);
                t.expects
                    .iter()
                    .filter_map(|e| check(e, &obs, compiled))
                    .collect()
            }
            Err(why) => vec![Failure {
                file: t.file,
                span: t.span,
                item: None,
                expect: "a valid `given` request".into(),
                expected: "a valid request".into(),
                actual: why,
            }],
        };
        results.push(TestResult {
            name: t.name.clone(),
            file: t.file,
            span: t.span,
            failures,
            micros: start.elapsed().as_micros(),
        });
    }
    Report {
        policy: policy.model.name.clone(),
        results,
        coverage: hits.finish(policy),
    }
}

fn verdict_text(o: &Outcome) -> String {
    match o {
        Outcome::Allowed => "allowed".into(),
        Outcome::Denied {
            code,
            rule: Some(rule),
            ..
        } => format!("denied {code} (by the rule at {rule})"),
        Outcome::Denied { code, .. } => format!("denied {code}"),
    }
}

/// Seconds as the largest whole unit: `90d`, `36h`, `5m`, `7s`.
fn duration_text(secs: i64) -> String {
    for (unit, n) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs % n == 0 && secs != 0 {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

fn check(e: &TestExpect, obs: &Observed, compiled: &Compiled) -> Option<Failure> {
    let item = e.item.map(|_| match &e.check {
        ExpectCheck::Source { name, .. } | ExpectCheck::Feature { name, .. } => name.clone(),
        ExpectCheck::Debug { feature, .. } => feature.clone(),
        ExpectCheck::ReasonShows { code, .. } | ExpectCheck::ReasonSuppressed { code, .. } => {
            format!("\"{code}\"")
        }
        _ => String::new(),
    });
    let fail = |expect: String, expected: String, actual: String| {
        Some(Failure {
            file: e.file,
            span: e.item.unwrap_or(e.span),
            item: item.clone(),
            expect,
            expected,
            actual,
        })
    };
    match &e.check {
        ExpectCheck::Mode(m) => (obs.mode != *m)
            .then(|| fail(format!("mode == {m}"), m.clone(), obs.mode.clone()))
            .flatten(),
        ExpectCheck::Route(r) => {
            let show = |r: &Option<String>| r.clone().unwrap_or_else(|| "none".into());
            (obs.route != *r)
                .then(|| fail(format!("route == {}", show(r)), show(r), show(&obs.route)))
                .flatten()
        }
        ExpectCheck::Source {
            name,
            allowed,
            code,
        }
        | ExpectCheck::Feature {
            name,
            allowed,
            code,
        } => {
            let is_source = matches!(e.check, ExpectCheck::Source { .. });
            let kind = if is_source { "source" } else { "feature" };
            let got = if is_source {
                obs.sources.iter().find(|(n, _)| n == name).map(|(_, o)| o)
            } else {
                obs.features.iter().find(|(n, _)| n == name).map(|(_, o)| o)
            };
            let Some(got) = got else {
                return fail(
                    format!("{kind} {name}"),
                    "a verdict".into(),
                    "no verdict in the decision".into(),
                );
            };
            let want = match (allowed, code) {
                (true, _) => "allowed".to_string(),
                (false, Some(c)) => format!("denied {c}"),
                (false, None) => "denied".to_string(),
            };
            let ok = match (allowed, code, got) {
                (true, _, Outcome::Allowed) => true,
                (false, None, Outcome::Denied { .. }) => true,
                (false, Some(c), Outcome::Denied { code: got, .. }) => c == got,
                _ => false,
            };
            (!ok)
                .then(|| {
                    fail(
                        format!("{kind} {name} {want}"),
                        want.clone(),
                        verdict_text(got),
                    )
                })
                .flatten()
        }
        ExpectCheck::ReasonShows { code, reason } => {
            match obs.reasons.iter().find(|(c, _)| c == code).map(|(_, r)| r) {
                Some(ReasonOutcome::Shown(n)) if n == reason => None,
                other => fail(
                    format!("reason \"{code}\" shows {reason}"),
                    format!("shows {reason}"),
                    reason_text(other),
                ),
            }
        }
        ExpectCheck::ReasonSuppressed { code, suppression } => {
            match obs.reasons.iter().find(|(c, _)| c == code).map(|(_, r)| r) {
                Some(ReasonOutcome::Suppressed(s))
                    if suppression.as_ref().is_none_or(|want| want == s) =>
                {
                    None
                }
                other => {
                    let want = suppression
                        .as_ref()
                        .map_or_else(|| "suppressed".to_string(), |s| format!("suppressed {s}"));
                    fail(
                        format!("reason \"{code}\" {want}"),
                        want.clone(),
                        reason_text(other),
                    )
                }
            }
        }
        ExpectCheck::Retention { kind, seconds } => {
            let want = duration_text(*seconds);
            match compiled.retention(kind) {
                Ok(got) if got == *seconds => None,
                Ok(got) => fail(
                    format!("retention {kind} {want}"),
                    want.clone(),
                    duration_text(got),
                ),
                Err(e) => fail(
                    format!("retention {kind} {want}"),
                    want.clone(),
                    e.to_string(),
                ),
            }
        }
        ExpectCheck::Debug {
            role,
            feature,
            sees,
        } => {
            let got = compiled
                .feature_id(feature)
                .is_some_and(|f| compiled.debug_visible(role, f));
            let seen = |b: bool| {
                if b {
                    format!("visible to {role}")
                } else {
                    format!("hidden from {role}")
                }
            };
            (got != *sees)
                .then(|| {
                    fail(
                        format!(
                            "debug {role} {} {feature}",
                            if *sees { "sees" } else { "hides" }
                        ),
                        seen(*sees),
                        seen(got),
                    )
                })
                .flatten()
        }
        ExpectCheck::CacheScope(parts) => {
            let wrong: Vec<String> = parts
                .iter()
                .filter_map(|(k, want)| {
                    let got = obs
                        .cache_scope
                        .iter()
                        .find(|(n, _)| n == k)
                        .map_or("-", |(_, v)| v.as_str());
                    (got != want).then(|| format!("{k} `{got}`"))
                })
                .collect();
            let stated = parts
                .iter()
                .map(|(k, v)| format!("{k} `{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            (!wrong.is_empty())
                .then(|| {
                    fail(
                        format!("cache_scope with {stated}"),
                        stated.clone(),
                        format!("{} (cache_scope `{}`)", wrong.join(", "), obs.scope_text),
                    )
                })
                .flatten()
        }
    }
}

fn reason_text(r: Option<&ReasonOutcome>) -> String {
    match r {
        Some(ReasonOutcome::Shown(n)) => format!("shows {n}"),
        Some(ReasonOutcome::Suppressed(s)) => format!("suppressed {s}"),
        None => "no outcome".into(),
    }
}
