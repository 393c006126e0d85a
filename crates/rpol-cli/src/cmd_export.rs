//! `rpol export rego PATH -o DIR`: the policy as a Rego v1 module and its
//! data document (docs/rego.md).

use std::path::Path;
use std::process::ExitCode;

use crate::cli_error::CliError;
use crate::policy::load_policy;

pub fn rego(path: &Path, dir: &Path, registry: Option<&Path>) -> Result<ExitCode, CliError> {
    let Some(compiled) = load_policy(path, registry)? else {
        return Ok(ExitCode::from(1));
    };
    let export = rpol_rego::export(compiled.model());
    std::fs::create_dir_all(dir).map_err(|e| CliError::Write {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let module = dir.join(export.module_file_name());
    let data = dir.join("data.json");
    for (file, text) in [(&module, &export.module), (&data, &export.data_json())] {
        std::fs::write(file, text).map_err(|e| CliError::Write {
            path: file.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    outln!(
        "exported `{}` to {} and {} (query `data.{}.decision`)",
        compiled.model().name,
        module.display(),
        data.display(),
        export.package
    );
    Ok(ExitCode::SUCCESS)
}
