//! `rpol check` (errors only) and `rpol lint` (errors and lints), of one
//! policy or of each policy in a folder of several (`crate::policy_folders`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rpol_check::Checked;
use rpol_diag::{Diagnostic, Severity};

use crate::CheckFormat;
use crate::cli_error::CliError;
use crate::policy::check_policies;
use crate::render::{self, JsonReport, plural};
use crate::sarif::Sarif;

pub struct Options<'a> {
    pub registry: Option<&'a Path>,
    pub format: CheckFormat,
    pub lint: bool,
    pub deny_warnings: bool,
}

pub fn run(paths: &[PathBuf], o: &Options<'_>) -> Result<ExitCode, CliError> {
    let mut report = JsonReport::new();
    let mut sarif = Sarif::default();
    let mut human = String::new();
    let colour = render::stdout_colour();
    let mut summaries = Vec::new();
    let (mut shown, mut omitted) = (0, 0);
    for path in paths {
        for (folder, checked) in check_policies(path, o.registry)? {
            let mut diags = rpol_check::lint::reported(&checked, o.lint);
            if o.deny_warnings {
                for d in &mut diags {
                    d.severity = Severity::Error;
                }
            }
            for d in &diags {
                report.add(d, &checked.sources);
                sarif.add(d, &checked.sources);
            }
            if o.format == CheckFormat::Human {
                omitted += render::human_capped(
                    &diags,
                    &checked.sources,
                    colour,
                    true,
                    &mut shown,
                    &mut human,
                );
            }
            summaries.push(summary(&checked, folder.as_deref(), &diags));
        }
    }
    match o.format {
        CheckFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        CheckFormat::Sarif => outln!(
            "{}",
            serde_json::to_string_pretty(&sarif.finish()).unwrap_or_default()
        ),
        CheckFormat::Human => {
            out!("{human}");
            if omitted > 0 {
                outln!(
                    "{}\n",
                    render::omitted_line(omitted, "`--format json` lists every one")
                );
            }
            for s in summaries.iter().flatten() {
                outln!("{s}");
            }
            let verb = if o.lint { "lint" } else { "check" };
            outln!("{verb}: {}", outcome(report.errors, report.warnings));
        }
    }
    Ok(if report.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The line that sums up one policy: what it holds; for one policy folder of
/// several, also where it is and its own outcome.
fn summary(checked: &Checked, folder: Option<&Path>, diags: &[Diagnostic]) -> Option<String> {
    let holds = checked.policy.as_ref().map(|p| {
        format!(
            "policy `{}`: {}, {}, {}, {}",
            p.model.name,
            plural(checked.asts.len(), "file"),
            plural(p.model.sources.len(), "source"),
            plural(p.model.features.len(), "feature"),
            plural(p.tests.len(), "test")
        )
    });
    let Some(folder) = folder else {
        return holds;
    };
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let outcome = outcome(errors, warnings);
    let folder = rpol_check::load::display(folder);
    Some(match holds {
        Some(h) => format!("`{folder}`: {outcome} ({h})"),
        None => format!("`{folder}`: {outcome}"),
    })
}

/// `ok`, `2 errors`, `1 error, 3 warnings`.
fn outcome(errors: usize, warnings: usize) -> String {
    match (errors, warnings) {
        (0, 0) => "ok".to_string(),
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}
