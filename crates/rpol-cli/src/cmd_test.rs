//! `rpol test PATH… [--filter] [--format human|json|junit] [--coverage] [--min-coverage PCT]`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rpol_check::Checked;
use rpol_testing::{Options, Report};

use crate::cli_error::CliError;
use crate::policy::check_path;
use crate::render;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    Human,
    Json,
    Junit,
}

pub struct TestArgs<'a> {
    pub registry: Option<&'a Path>,
    pub filter: Option<String>,
    pub format: TestFormat,
    pub coverage: bool,
    pub min_coverage: Option<f64>,
}

pub fn run(paths: &[PathBuf], a: &TestArgs<'_>) -> Result<ExitCode, CliError> {
    if let Some(m) = a.min_coverage
        && !(0.0..=100.0).contains(&m)
    {
        return Err(CliError::Usage(
            format!("`--min-coverage {m}` is not a percentage"),
            Some("give a number from 0 to 100".into()),
        ));
    }
    let mut checked_all: Vec<Checked> = Vec::new();
    let mut reports: Vec<Report> = Vec::new();
    let mut broken = false;
    let colour = render::stdout_colour();
    for path in paths {
        let checked = check_path(path, a.registry)?;
        let Some(policy) = &checked.policy else {
            // A policy with check errors reports them and runs nothing.
            crate::policy::print_errors(&checked);
            eprintln!(
                "error: `{}` has check errors; no test was run",
                rpol_check::load::display(path)
            );
            broken = true;
            continue;
        };
        let compiled = crate::policy::build(policy.model.clone())?;
        let report = rpol_testing::run(
            policy,
            &compiled,
            &Options {
                filter: a.filter.clone(),
            },
        );
        reports.push(report);
        checked_all.push(checked);
    }
    if let Some(filter) = &a.filter
        && !broken
        && reports.iter().all(|r| r.results.is_empty())
    {
        let total = checked_all
            .iter()
            .filter_map(|c| c.policy.as_ref())
            .map(|p| p.tests.len())
            .sum();
        return Err(CliError::NoTestMatched {
            filter: filter.clone(),
            total,
        });
    }
    let sms: Vec<&rpol_diag::SourceMap> = checked_all.iter().map(|c| &c.sources).collect();
    let coverage = a.coverage || a.min_coverage.is_some();
    match a.format {
        TestFormat::Human => {
            let paint = |text: &str, style: &str| -> String {
                if !colour {
                    return text.to_string();
                }
                let code = match style {
                    "green" => "32",
                    "red" => "31;1",
                    "yellow" => "33",
                    _ => "0",
                };
                format!("\x1b[{code}m{text}\x1b[0m")
            };
            out!("{}", rpol_testing::human(&reports, &sms, coverage, &paint));
        }
        TestFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&rpol_testing::json(&reports, &sms, coverage))
                .unwrap_or_default()
        ),
        TestFormat::Junit => out!("{}", rpol_testing::junit(&reports, &sms)),
    }
    let failed: usize = reports.iter().map(Report::failed).sum();
    let mut below = false;
    if let Some(min) = a.min_coverage {
        for r in &reports {
            let pct = r.coverage.percent();
            if pct + 1e-9 < min {
                below = true;
                if std::io::stderr().is_terminal() || a.format == TestFormat::Human {
                    eprintln!(
                        "error: coverage of `{}` is {pct:.1}%, below the required {min}%",
                        r.policy
                    );
                }
            }
        }
    }
    Ok(if broken || failed > 0 || below {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
