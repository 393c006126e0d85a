//! `rpol fmt PATH… [--check]`.

use std::path::PathBuf;
use std::process::ExitCode;

use rpol_diag::SourceMap;
use rpol_fmt::FormatError;
use similar::TextDiff;

use crate::cli_error::CliError;
use crate::render;

pub fn run(paths: &[PathBuf], check: bool) -> Result<ExitCode, CliError> {
    let mut failed = false;
    let mut changed = 0usize;
    let mut total = 0usize;
    for path in paths {
        let files = crate::policy::read_source(path)?;
        for f in files {
            total += 1;
            match rpol_fmt::format(&f.text) {
                Ok(out) if out == f.text => {}
                Ok(out) => {
                    changed += 1;
                    if check {
                        let diff = TextDiff::from_lines(&f.text, &out);
                        out!(
                            "{}",
                            diff.unified_diff()
                                .context_radius(3)
                                .header(&f.name, &f.name)
                        );
                    } else {
                        std::fs::write(&f.name, out).map_err(|e| CliError::Write {
                            path: f.name.clone(),
                            reason: e.to_string(),
                        })?;
                        outln!("formatted {}", f.name);
                    }
                }
                Err(FormatError::Syntax(d)) => {
                    failed = true;
                    let mut sm = SourceMap::new();
                    sm.add(f.name.clone(), f.text.clone());
                    let d = rpol_diag::Diagnostic {
                        primary: rpol_diag::Label {
                            file: rpol_diag::FileId(0),
                            ..d.primary.clone()
                        },
                        ..d
                    };
                    eprint!("{}", render::human(&d, &sm, render::stderr_colour()));
                    eprintln!("{} left unchanged", f.name);
                }
                Err(e @ FormatError::Internal(_)) => {
                    failed = true;
                    eprintln!(
                        "error: {}: {e}; the file was left unchanged (please report this)",
                        f.name
                    );
                }
            }
        }
    }
    if check {
        outln!(
            "fmt: {changed} of {} would change",
            rpol_diag::plural(total, "file")
        );
    }
    Ok(if failed || (check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
