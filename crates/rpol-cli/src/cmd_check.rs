//! `rpol check` (errors only) and `rpol lint` (errors and lints), spec 5.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rpol_diag::Severity;

use crate::CheckFormat;
use crate::cli_error::CliError;
use crate::policy::check_path;
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
        let checked = check_path(path, o.registry)?;
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
        if let Some(p) = &checked.policy {
            summaries.push(format!(
                "policy `{}`: {}, {}, {}, {}",
                p.model.name,
                plural(checked.asts.len(), "file"),
                plural(p.model.sources.len(), "source"),
                plural(p.model.features.len(), "feature"),
                plural(p.tests.len(), "test")
            ));
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
            for s in &summaries {
                outln!("{s}");
            }
            let verb = if o.lint { "lint" } else { "check" };
            match (report.errors, report.warnings) {
                (0, 0) => outln!("{verb}: ok"),
                (0, w) => outln!("{verb}: {}", plural(w, "warning")),
                (e, 0) => outln!("{verb}: {}", plural(e, "error")),
                (e, w) => outln!("{verb}: {}, {}", plural(e, "error"), plural(w, "warning")),
            }
        }
    }
    Ok(if report.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
