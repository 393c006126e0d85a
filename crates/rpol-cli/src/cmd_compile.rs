//! `rpol compile PATH -o FILE`: a checked policy as a verified artifact.

use std::path::Path;
use std::process::ExitCode;

use crate::cli_error::CliError;
use crate::policy::compile_path;

pub fn run(path: &Path, out: &Path, registry: Option<&Path>) -> Result<ExitCode, CliError> {
    let Some(compiled) = compile_path(path, registry)? else {
        return Ok(ExitCode::from(1));
    };
    let bytes = compiled.to_artifact();
    std::fs::write(out, &bytes).map_err(|e| CliError::Write {
        path: out.display().to_string(),
        reason: e.to_string(),
    })?;
    outln!(
        "compiled `{}` ({} bytes, digest {}) to {}",
        compiled.model().name,
        bytes.len(),
        compiled.digest(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
