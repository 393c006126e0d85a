//! Deciding one logged request again and comparing the outcome with what the
//! line recorded.

use rpol_engine::model::{Expr, Operand, Path, PolicyModel};
use rpol_engine::{Compiled, DecisionSummary, LOG_DENY_CODES};

use super::line::{self, Line};
use super::report::{ChangeKind, Example, Malformed, NowInvalid, ReplayReport, Seen, Undecidable};

/// What stays the same for every line of one replay.
pub(crate) struct Ctx<'c> {
    pub compiled: &'c Compiled,
    pub max_examples: usize,
    /// Whether the policy compares `subject.user_id` (resp. `anonymous_id`)
    /// with a value: the log holds only keyed hashes of subject ids, so such a
    /// comparison cannot be evaluated again.
    pub reads_user_id: bool,
    pub reads_anonymous_id: bool,
}

impl<'c> Ctx<'c> {
    pub fn new(compiled: &'c Compiled, max_examples: usize) -> Ctx<'c> {
        let m = compiled.model();
        Ctx {
            compiled,
            max_examples,
            reads_user_id: compares_path(m, Path::UserId),
            reads_anonymous_id: compares_path(m, Path::AnonymousId),
        }
    }
}

/// Whether any condition of the policy uses `path`'s value (not just
/// `exists(path)`, which a pseudonym keeps).
fn compares_path(m: &PolicyModel, path: Path) -> bool {
    fn op(o: &Operand, path: Path) -> bool {
        matches!(o, Operand::Path(p) if *p == path)
    }
    fn expr(e: &Expr, path: Path) -> bool {
        match e {
            Expr::Bool(_) | Expr::HasRole { .. } | Expr::Exists(_) => false,
            Expr::Truthy(p) => *p == path,
            Expr::Not(x) => expr(x, path),
            Expr::And(xs) | Expr::Or(xs) => xs.iter().any(|x| expr(x, path)),
            Expr::Compare { lhs, rhs, .. } | Expr::StartsWith(lhs, rhs) => {
                op(lhs, path) || op(rhs, path)
            }
            Expr::InList { lhs, items, .. } => op(lhs, path) || items.iter().any(|i| op(i, path)),
        }
    }
    m.conditions().any(|e| expr(e, path))
}

/// Replays one non-blank line into `out` (a chunk's report).
pub(crate) fn replay_line(ctx: &Ctx<'_>, out: &mut ReplayReport, lineno: u64, text: &str) {
    let max = ctx.max_examples;
    let line = match line::parse(text) {
        Ok(l) => l,
        Err(e) => {
            match e.cause {
                Some(line::Cause::UnknownKey) => out.refused.unknown_key += 1,
                Some(line::Cause::BadTime) => out.refused.bad_time += 1,
                Some(line::Cause::RawSubjectId) => out.refused.raw_subject_id += 1,
                None => {}
            }
            out.malformed.push(max, || Malformed {
                line: lineno,
                message: e.message,
            });
            return;
        }
    };
    out.decisions += 1;
    out.count_digest(&line.digest, 1);
    let c = ctx.compiled;
    if *line.digest != *c.digest() {
        out.other_digest += 1;
    }
    let raw = line.request.get();
    let decision = if line.valid {
        let req = match c.parse_request(raw) {
            Ok(r) => r,
            Err(errors) => {
                out.now_invalid.push(max, || NowInvalid {
                    line: lineno,
                    id: line.id.to_string(),
                    errors: errors.iter().map(ToString::to_string).collect(),
                });
                return;
            }
        };
        let hashed = [
            ("user_id", ctx.reads_user_id && req.user_id.is_some()),
            (
                "anonymous_id",
                ctx.reads_anonymous_id && req.anonymous_id.is_some(),
            ),
        ];
        if let Some((field, _)) = hashed.iter().find(|(_, b)| *b) {
            out.undecidable.push(max, || Undecidable {
                line: lineno,
                id: line.id.to_string(),
                reason: format!(
                    "the policy compares `subject.{field}` with a value, and the log holds only its keyed hash"
                ),
            });
            return;
        }
        c.decide(&req, &[])
    } else {
        out.logged_invalid += 1;
        c.decide_logged_invalid(raw)
    };
    out.redecided += 1;
    let now = c.summarize(&decision);
    let changed = compare(ctx, out, lineno, &line, &now, &decision);
    if changed {
        out.changed += 1;
    }
}

/// Records each kind of change between the line and `now`; whether any.
fn compare(
    ctx: &Ctx<'_>,
    out: &mut ReplayReport,
    lineno: u64,
    line: &Line<'_>,
    now: &DecisionSummary,
    decision: &rpol_engine::Decision,
) -> bool {
    let m = ctx.compiled.model();
    let max = ctx.max_examples;
    let mut any = false;
    let mut record = |kind: ChangeKind, old: Seen, new: Seen, detail: Option<String>| {
        any = true;
        let k = &mut out.changes[kind.index()];
        k.count += 1;
        if matches!(kind, ChangeKind::Mode | ChangeKind::Route) {
            let step = (old.to_string(), new.to_string());
            *k.transitions.entry(step).or_default() += 1;
        }
        if k.examples.len() < max {
            k.examples.push(Example {
                line: lineno,
                id: line.id.to_string(),
                old,
                new,
                detail,
            });
        }
    };
    let mode = m
        .modes
        .get(now.mode as usize)
        .map_or("", |x| x.name.as_str());
    if line.mode != mode {
        record(
            ChangeKind::Mode,
            Seen::Text(line.mode.to_string()),
            Seen::Text(mode.to_string()),
            None,
        );
    }
    let route = now
        .route
        .and_then(|r| m.feature_sets.get(r as usize))
        .map(|fs| fs.name.as_str());
    if line.route.as_deref() != route {
        let name = |r: Option<&str>| r.unwrap_or("none").to_string();
        record(
            ChangeKind::Route,
            Seen::Text(name(line.route.as_deref())),
            Seen::Text(name(route)),
            None,
        );
    }
    let allowed_sources = || {
        let names: Vec<&str> = decision
            .sources
            .iter()
            .zip(&m.sources)
            .filter(|(v, _)| v.is_allowed())
            .map(|(_, s)| s.name.as_str())
            .collect();
        names.join(", ")
    };
    let allowed_features = || {
        let names: Vec<&str> = decision
            .allowed_features()
            .filter_map(|i| m.features.get(i as usize))
            .map(|f| f.name.as_str())
            .collect();
        names.join(", ")
    };
    let kinds = [
        (
            &line.sources,
            &now.sources,
            [
                ChangeKind::SourcesAllowed,
                ChangeKind::SourcesDenied,
                ChangeKind::SourcesCodes,
                ChangeKind::SourcesSet,
            ],
        ),
        (
            &line.features,
            &now.features,
            [
                ChangeKind::FeaturesAllowed,
                ChangeKind::FeaturesDenied,
                ChangeKind::FeaturesCodes,
                ChangeKind::FeaturesSet,
            ],
        ),
    ];
    for (i, (old, new, [allowed, denied, codes, set])) in kinds.into_iter().enumerate() {
        if old.allowed != new.allowed {
            record(
                allowed,
                Seen::Count(old.allowed),
                Seen::Count(new.allowed),
                None,
            );
        }
        let old_total: u32 = old.denied.0.iter().sum();
        if old_total != new.denied_total() {
            record(
                denied,
                Seen::Count(old_total),
                Seen::Count(new.denied_total()),
                None,
            );
        }
        if old.denied.0 != new.denied {
            record(
                codes,
                Seen::Codes(old.denied.0),
                Seen::Codes(new.denied),
                None,
            );
        }
        if old.allowed_set != new.allowed_set {
            let names = if i == 0 {
                allowed_sources()
            } else {
                allowed_features()
            };
            record(
                set,
                Seen::Text(format!("{:016x}", old.allowed_set)),
                Seen::Text(format!("{:016x}", new.allowed_set)),
                Some(format!(
                    "allowed now: {}",
                    if names.is_empty() { "none" } else { &names }
                )),
            );
        }
    }
    any
}

/// `capability_missing=1, forbidden=2` (codes in log order), or `none`.
pub fn codes_text(counts: &[u32; LOG_DENY_CODES.len()]) -> String {
    let parts: Vec<String> = LOG_DENY_CODES
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| format!("{}={n}", c.as_str()))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}
