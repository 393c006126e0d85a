//! `rpol eval PATH --input FILE|- [--reason CODE]…`: the decision as JSON.
//! An invalid request prints every validation error on stderr, no decision,
//! and exits 2 (spec 12).

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use crate::cli_error::CliError;
use crate::policy::compile_path;

/// Reads a request from a file or standard input (`-`).
pub fn read_input(input: &str) -> Result<String, CliError> {
    if input == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::Input {
                path: "-".into(),
                reason: e.to_string(),
            })?;
        return Ok(s);
    }
    let bytes = std::fs::read(input).map_err(|e| CliError::Input {
        path: input.into(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| CliError::Input {
        path: input.into(),
        reason: "not valid UTF-8".into(),
    })
}

pub fn run(
    path: &Path,
    input: &str,
    reasons: &[String],
    registry: Option<&Path>,
) -> Result<ExitCode, CliError> {
    let Some(compiled) = compile_path(path, registry)? else {
        return Ok(ExitCode::from(1));
    };
    let text = read_input(input)?;
    let codes: Vec<&str> = reasons.iter().map(String::as_str).collect();
    match compiled.decide_json(&text, &codes) {
        Ok(decision) => {
            outln!("{}", decision.to_json_pretty(&compiled));
            Ok(ExitCode::SUCCESS)
        }
        Err((errors, _fallback)) => {
            let name = if input == "-" {
                "<stdin>".to_string()
            } else {
                input.to_string()
            };
            for e in errors.iter() {
                eprintln!("error[request]: {name}: {e}");
            }
            eprintln!(
                "error: invalid request; no decision printed (a service would get the fallback decision)"
            );
            Ok(ExitCode::from(2))
        }
    }
}
