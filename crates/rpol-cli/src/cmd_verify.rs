//! `rpol verify PATH [--query EXPR]`: properties proved or refuted over every
//! region (docs/analysis.md). Exit 0 when every property holds (or no request
//! satisfies the query), 1 when one is refuted (or a witness satisfies the
//! query), 2 on errors.

use std::path::Path;
use std::process::ExitCode;

use rpol_analysis::regions::Space;
use rpol_analysis::verify::{VerifyReport, query, verify};
use rpol_check::{Checked, ModelSpans, load};
use rpol_engine::Compiled;

use crate::AnalysisFormat;
use crate::cli_error::CliError;
use crate::policy::{build, check_path, print_check_errors};
use crate::render;

/// The properties of a checked policy, with the refutations the policy
/// itself accepts (`rpol verify` and `rpol doc`).
pub fn report(
    checked: &Checked,
    spans: &ModelSpans,
    compiled: &Compiled,
    max_regions: u64,
) -> Result<VerifyReport, CliError> {
    let mut r = verify(compiled, max_regions)?;
    let (file, span) = spans.fallback;
    if rpol_check::lint::is_allowed(checked, "L003", file, span) {
        r.accept(
            "fail_safe",
            "the policy allows L003 with `# rpol: allow(L003)` on its `resolve` block",
        );
    }
    Ok(r)
}

pub fn run(
    path: &Path,
    registry: Option<&Path>,
    query_text: Option<&str>,
    format: AnalysisFormat,
    max_regions: u64,
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
        let q = match rpol_analysis::query::compile(text, file, &checked.scope, compiled.model()) {
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
        let r = query(&compiled, &q, max_regions)?;
        match format {
            AnalysisFormat::Json => outln!(
                "{}",
                serde_json::to_string_pretty(&r.to_json(text)).unwrap_or_default()
            ),
            AnalysisFormat::Human => match &r.witness {
                Some(w) => {
                    outln!(
                        "satisfiable: `{text}` is true in {} of {} regions of `{name}`",
                        r.satisfying,
                        r.regions
                    );
                    outln!("  witness: {}", Space::witness_text(w));
                }
                None => outln!(
                    "unsatisfiable: no request makes `{text}` true (all {} regions of `{name}` checked)",
                    r.regions
                ),
            },
        }
        return Ok(if r.satisfying == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let r = report(&checked, &policy.spans, &compiled, max_regions)?;
    match format {
        AnalysisFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&r.to_json()).unwrap_or_default()
        ),
        AnalysisFormat::Human => {
            outln!("verified `{name}` over {} regions:", r.regions);
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
