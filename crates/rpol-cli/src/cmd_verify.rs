//! `rpol verify PATH [--query EXPR]`: properties proved or refuted over every
//! region (docs/analysis.md). Exit 0 when every property holds (or no request
//! satisfies the query), 1 when one is refuted (or a witness satisfies the
//! query), 2 on errors.

use std::path::Path;
use std::process::ExitCode;

use rpol_analysis::regions::Space;
use rpol_analysis::verify::{VerifyReport, query, verify};
use rpol_check::{Checked, ModelSpans, load};
use rpol_diag::plural;
use rpol_engine::Compiled;

use crate::cli_error::CliError;
use crate::policy::{Origin, analysis_error, build, check_path, print_check_errors};
use crate::render;
use crate::{AnalysisEngine, AnalysisFormat};

/// The properties of a checked policy, with the refutations the policy
/// itself accepts (`rpol verify` and `rpol doc`).
pub fn report(
    checked: &Checked,
    spans: &ModelSpans,
    compiled: &Compiled,
    max_regions: u64,
    engine: AnalysisEngine,
) -> Result<VerifyReport, CliError> {
    let mut r = match engine {
        AnalysisEngine::Enumerate => verify(compiled, max_regions),
        AnalysisEngine::Symbolic => rpol_analysis::symbolic::verify(compiled),
    }
    .map_err(|e| located(e, checked, spans, None))?;
    PropertyAllows::of(checked, spans).apply(&mut r, compiled.model());
    Ok(r)
}

pub fn run(
    path: &Path,
    registry: Option<&Path>,
    query_text: Option<&str>,
    format: AnalysisFormat,
    max_regions: u64,
    engine: AnalysisEngine,
) -> Result<ExitCode, CliError> {
    let mut checked = check_path(path, registry)?;
    let Some(policy) = checked.policy.take() else {
        print_check_errors(&checked, path);
        return Ok(ExitCode::from(2));
    };
    let compiled = build(policy.model)?;
    let name = load::display(path);
    if let Some(text) = query_text {
        let file = checked.sources.add("<query>", text.to_string());
        let q = match rpol_analysis::query::check(text, file, &checked.scope, compiled.model()) {
            Ok(q) => q,
            Err(diags) => {
                for d in &diags {
                    eprint!(
                        "{}",
                        render::human(d, &checked.sources, render::stderr_colour())
                    );
                }
                return Err(CliError::Usage(
                    format!("the query `{text}` has errors"),
                    Some("a query is a condition over the request and `mode`, with `allowed(feature NAME)` and `allowed(source NAME)`".into()),
                ));
            }
        };
        let r = match engine {
            AnalysisEngine::Enumerate => query(&compiled, &q, max_regions),
            AnalysisEngine::Symbolic => rpol_analysis::symbolic::query::query(&compiled, &q),
        }
        .map_err(|e| located(e, &checked, &policy.spans, Some(&q.spans)))?;
        match format {
            AnalysisFormat::Json => outln!(
                "{}",
                serde_json::to_string_pretty(&r.to_json(text)).unwrap_or_default()
            ),
            AnalysisFormat::Human => match &r.witness {
                Some(w) => {
                    outln!(
                        "satisfiable: `{text}` is true in {} of {} of `{name}`",
                        r.satisfying,
                        plural(r.regions, "region")
                    );
                    outln!("  witness: {}", Space::witness_text(w));
                }
                None => outln!(
                    "unsatisfiable: no request makes `{text}` true (all {} of `{name}` checked)",
                    plural(r.regions, "region")
                ),
            },
        }
        return Ok(if r.satisfying == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let r = report(&checked, &policy.spans, &compiled, max_regions, engine)?;
    for d in PropertyAllows::of(&checked, &policy.spans).unneeded(&checked, &r) {
        eprint!(
            "{}",
            render::human(&d, &checked.sources, render::stderr_colour())
        );
    }
    match format {
        AnalysisFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&r.to_json()).unwrap_or_default()
        ),
        AnalysisFormat::Human => {
            outln!("verified `{name}` over {}:", plural(r.regions, "region"));
            for p in &r.properties {
                let mark = match (p.holds, &p.accepted) {
                    (true, _) => "holds   ",
                    (false, Some(_)) => "accepted",
                    (false, None) => "REFUTED ",
                };
                outln!("  {mark} {:<22} {}", p.name, p.summary);
                if let Some(why) = &p.accepted {
                    outln!("           accepted: {why}");
                }
                if let Some(w) = &p.witness {
                    outln!("           witness: {}", Space::witness_text(w));
                }
            }
        }
    }
    Ok(if r.holds() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// An analysis error of the checked policy (and its query) as a diagnostic
/// in its sources.
pub fn located(
    e: rpol_analysis::AnalysisError,
    checked: &Checked,
    spans: &ModelSpans,
    query: Option<&[rpol_check::ConditionSpans]>,
) -> CliError {
    let origin = Origin::Source {
        sources: checked.sources.clone(),
        spans: spans.clone(),
    };
    analysis_error(e, &[&origin], query)
}

/// The `# rpol: allow(…)` comments that accept refuted properties: above
/// `resolve` for the whole-policy properties (`L003` accepts `fail_safe`
/// too), above a forbid rule for `live_forbids`.
struct PropertyAllows {
    l003: bool,
    on_resolve: Vec<&'static str>,
    /// Forbid rules (by index) allowed to deny nothing.
    forbids: Vec<usize>,
    resolve_start: usize,
    forbid_starts: Vec<(rpol_diag::FileId, usize)>,
}

const ON_RESOLVE: [&str; 3] = ["fail_safe", "consent_monotonicity", "mode_monotonicity"];

impl PropertyAllows {
    fn of(checked: &Checked, spans: &ModelSpans) -> Self {
        use rpol_check::lint::{allow_anchor, is_allowed};
        let (file, span) = spans.fallback;
        let forbids = spans
            .forbids
            .iter()
            .enumerate()
            .filter(|(_, (f, sp))| is_allowed(checked, "live_forbids", *f, *sp))
            .map(|(i, _)| i)
            .collect();
        PropertyAllows {
            l003: is_allowed(checked, "L003", file, span),
            on_resolve: ON_RESOLVE
                .into_iter()
                .filter(|n| is_allowed(checked, n, file, span))
                .collect(),
            forbids,
            resolve_start: allow_anchor(checked, file, span),
            forbid_starts: spans
                .forbids
                .iter()
                .map(|(f, sp)| (*f, allow_anchor(checked, *f, *sp)))
                .collect(),
        }
    }

    fn apply(
        &self,
        r: &mut rpol_analysis::verify::VerifyReport,
        m: &rpol_engine::model::PolicyModel,
    ) {
        if self.l003 {
            r.accept(
                "fail_safe",
                "the policy allows L003 with `# rpol: allow(L003)` on its `resolve` block",
            );
        }
        for n in &self.on_resolve {
            r.accept(
                n,
                &format!("the policy accepts it with `# rpol: allow({n})` on its `resolve` block"),
            );
        }
        r.accept_dead_forbids(m, &self.forbids);
    }

    /// L012 for each property allow that accepts nothing: above `resolve`
    /// while the property holds, above a forbid rule that is live, or above
    /// any other item.
    fn unneeded(
        &self,
        checked: &rpol_check::Checked,
        r: &rpol_analysis::verify::VerifyReport,
    ) -> Vec<rpol_diag::Diagnostic> {
        let refuted = |n: &str| r.properties.iter().any(|p| p.name == n && !p.holds);
        let dead: Vec<usize> = r
            .properties
            .iter()
            .flat_map(|p| p.dead_forbids.iter().copied())
            .collect();
        rpol_check::lint::allow_names(checked)
            .into_iter()
            .filter(|a| rpol_check::lint::PROPERTIES.contains(&a.name.as_str()))
            .filter_map(|a| {
                let on_resolve = a.item == Some(self.resolve_start);
                let forbid = self
                    .forbid_starts
                    .iter()
                    .position(|&(f, s)| f == a.file && Some(s) == a.item);
                let why = match (a.name.as_str(), forbid) {
                    ("live_forbids", Some(i)) if dead.contains(&i) => return None,
                    ("live_forbids", Some(_)) => {
                        "the forbid rule below denies something in some region".to_string()
                    }
                    ("live_forbids", None) => "it is not above a forbid rule".to_string(),
                    (n, _) if on_resolve && refuted(n) => return None,
                    (n, _) if on_resolve => format!("`{n}` holds"),
                    _ => "it is not above the `resolve` block".to_string(),
                };
                Some(
                    rpol_diag::Diagnostic::warning(
                        "L012",
                        a.file,
                        a.span,
                        format!("`# rpol: allow({})` accepts nothing: {why}", a.name),
                    )
                    .with_label("nothing to accept")
                    .with_help("remove the allow, so that a reader does not take the item for an accepted exception"),
                )
            })
            .collect()
    }
}
