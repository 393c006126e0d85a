//! `rpol doc PATH [--format md|html] [-o FILE]`: the privacy review sheet
//! (docs/review.md). Exit 0 when written, 2 on errors (check errors, an
//! unwritable output, too many regions).

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use rpol_check::load;
use rpol_doc::{Input, Sheet};

use crate::cli_error::CliError;
use crate::policy::{build, check_path, print_check_errors};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Md,
    /// One self-contained HTML file, readable and printable.
    Html,
}

pub struct DocArgs<'a> {
    pub path: &'a Path,
    pub registry: Option<&'a Path>,
    pub format: DocFormat,
    pub output: Option<&'a Path>,
    pub max_regions: u64,
    pub verify: bool,
}

pub fn run(a: &DocArgs<'_>) -> Result<ExitCode, CliError> {
    let mut checked = check_path(a.path, a.registry)?;
    let Some(policy) = checked.policy.take() else {
        print_check_errors(&checked, a.path);
        return Ok(ExitCode::from(2));
    };
    let compiled = build(policy.model)?;
    let verify = if a.verify {
        Some(crate::cmd_verify::report(
            &checked,
            &policy.spans,
            &compiled,
            a.max_regions,
            crate::AnalysisEngine::Enumerate,
        )?)
    } else {
        None
    };
    let sheet = Sheet::build(Input {
        path: &load::display(a.path),
        checked: &checked,
        spans: &policy.spans,
        compiled: &compiled,
        verify,
        max_regions: a.max_regions,
    })
    .map_err(|e| crate::cmd_verify::located(e, &checked, &policy.spans, None))?;
    let text = match a.format {
        DocFormat::Md => rpol_doc::markdown::render(&sheet),
        DocFormat::Html => rpol_doc::html::render(&sheet),
    };
    match a.output {
        None => out!("{text}"),
        Some(file) => std::fs::write(file, text).map_err(|e| CliError::Write {
            path: file.display().to_string(),
            reason: e.to_string(),
        })?,
    }
    Ok(ExitCode::SUCCESS)
}
