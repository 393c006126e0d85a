//! `rpol verify PATH [--query EXPR]`: properties proved or refuted over every
//! region (docs/analysis.md). Exit 0 when every property holds (or no request
//! satisfies the query), 1 when one is refuted (or a witness satisfies the
//! query), 2 on errors.

use std::path::Path;
use std::process::ExitCode;

use rpol_analysis::regions::Space;
use rpol_analysis::verify::{query, verify};
use rpol_check::load;
use rpol_diag::plural;

use crate::AnalysisFormat;
use crate::cli_error::CliError;
use crate::policy::{build, check_path, print_check_errors};
use crate::render;

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
    let (file, span) = policy.spans.fallback;
    let l003_allowed = rpol_check::lint::is_allowed(&checked, "L003", file, span);
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
    let mut r = verify(&compiled, max_regions)?;
    if l003_allowed {
        r.accept(
            "fail_safe",
            "the policy allows L003 with `# rpol: allow(L003)` on its `resolve` block",
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
