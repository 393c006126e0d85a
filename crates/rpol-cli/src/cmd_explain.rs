//! `rpol explain CODE`.

use std::process::ExitCode;

use crate::cli_error::CliError;

pub fn run(code: &str) -> Result<ExitCode, CliError> {
    let info =
        rpol_diag::codes::lookup(code).ok_or_else(|| CliError::UnknownCode(code.to_string()))?;
    out!("{}", rpol_diag::codes::render_explain(info));
    Ok(ExitCode::SUCCESS)
}
