//! Lints of the abstract evaluation: L002 (a `resolve` arm that can never be
//! the first true one), L003 (not fail-safe: with consent unknown, `resolve`
//! can pick a mode that reaches personal data) and L004 (a `when` that is
//! always or never true).

use std::collections::HashMap;

use rpol_diag::{Diagnostic, FileId, Severity, Span};
use rpol_engine::model::Expr;

use super::{Linter, warn};
use crate::abstract_eval::{Abstract, Consent, T};

impl Linter<'_> {
    /// L002: a `resolve` arm that can never be the first true arm.
    pub(super) fn resolve_arms(&self, out: &mut Vec<Diagnostic>) {
        let a = Abstract {
            model: self.model,
            consent: Consent::Free,
        };
        let arms = &self.model.resolve;
        let spans = &self.policy.spans.arms;
        let mut always: Option<usize> = None;
        // Earlier conditions by their printed form (the model's expressions
        // are not `Hash`): comparing each arm with every earlier one took 21 s
        // for 10,000 arms.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, arm) in arms.iter().enumerate() {
            let (file, span) = spans[i];
            let cond = arm.condition.as_ref();
            if let Some(j) = always {
                out.push(warn(
                    "L002",
                    file,
                    span,
                    format!(
                        "unreachable arm: the arm on line {} is always true",
                        self.line(spans[j])
                    ),
                    "remove this arm or narrow the earlier one",
                ));
                continue;
            }
            let key = format!("{cond:?}");
            if let Some(&j) = seen.get(&key) {
                out.push(warn(
                    "L002",
                    file,
                    span,
                    format!(
                        "unreachable arm: same condition as the arm on line {}",
                        self.line(spans[j])
                    ),
                    "remove the duplicate arm",
                ));
            } else {
                seen.insert(key, i);
            }
            if cond.is_some_and(|c| a.eval(c) == T) {
                always = Some(i);
            }
        }
        if let Some(j) = always {
            let (file, span) = self.policy.spans.fallback;
            out.push(warn(
                "L002",
                file,
                span,
                format!(
                    "unreachable `else`: the arm on line {} is always true",
                    self.line(spans[j])
                ),
                "make the always-true arm the `else` arm",
            ));
        }
    }

    fn line(&self, (file, span): (FileId, Span)) -> usize {
        self.checked.sources.get(file).line_col(span.start).line
    }

    /// L003: with every consent topic unknown, can `resolve` yield a mode that
    /// grants a capability a personal class requires?
    pub(super) fn fail_safe(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        let a = Abstract {
            model: m,
            consent: Consent::AllUnknown,
        };
        let mut candidates: Vec<(u32, (FileId, Span), String)> = Vec::new();
        let mut blocked = false;
        for (i, arm) in m.resolve.iter().enumerate() {
            let Some(c) = &arm.condition else { continue };
            let set = a.eval(c);
            if set & T != 0 {
                let span = self.policy.spans.arms[i];
                candidates.push((arm.mode, span, self.text(span.0, span.1)));
                if set == T {
                    blocked = true;
                    break;
                }
            }
        }
        if !blocked {
            let span = self.policy.spans.fallback;
            candidates.push((m.fallback.mode, span, self.text(span.0, span.1)));
        }
        for (mode, (file, span), text) in candidates {
            let grants = &m.modes[mode as usize].grants;
            let hit = m.classes.iter().filter(|c| c.personal).find_map(|c| {
                c.requires
                    .iter()
                    .find(|r| grants.contains(r))
                    .map(|r| (c, *r))
            });
            if let Some((class, cap)) = hit {
                out.push(
                    Diagnostic {
                        severity: Severity::Error,
                        ..warn(
                            "L003",
                            file,
                            span,
                            format!(
                                "not fail-safe: with every consent topic `unknown`, arm `{text}` can resolve to mode `{}`, which grants `{}` required by personal class `{}`",
                                m.modes[mode as usize].name, m.capabilities[cap as usize], class.name
                            ),
                            "require granted consent in this arm (e.g. `consent.<topic> == granted`), or add `# rpol: allow(L003)` above `resolve` if this is intended",
                        )
                    },
                );
            }
        }
    }

    /// L004: a `when` that is always true or never true.
    pub(super) fn constant_conditions(&self, out: &mut Vec<Diagnostic>) {
        let a = Abstract {
            model: self.model,
            consent: Consent::Free,
        };
        let m = self.model;
        let sp = &self.policy.spans;
        let mut check = |e: &Expr, (file, span): (FileId, Span), what: &str| {
            let set = a.eval(e);
            let verdict = if set == T {
                "always true"
            } else if set & T == 0 {
                "never true"
            } else {
                return;
            };
            out.push(warn(
                "L004",
                file,
                span,
                format!("the `when` condition of {what} is {verdict}"),
                "remove the condition or fix it so that it depends on the request",
            ));
        };
        for (i, arm) in m.resolve.iter().enumerate() {
            if let Some(c) = &arm.condition {
                check(c, sp.arms[i], "this `resolve` arm");
            }
        }
        for (i, s) in m.sources.iter().enumerate() {
            if let Some(c) = &s.when {
                check(c, sp.sources[i], &format!("source `{}`", s.name));
            }
        }
        for (i, f) in m.forbids.iter().enumerate() {
            if let Some(c) = &f.when {
                check(c, sp.forbids[i], "this `forbid` rule");
            }
        }
    }

    fn text(&self, file: FileId, span: Span) -> String {
        let s = self.checked.sources.get(file).slice(span);
        let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if one.len() > 80 {
            format!(
                "{}…",
                &one[..one.char_indices().nth(77).map_or(one.len(), |(i, _)| i)]
            )
        } else {
            one
        }
    }
}
