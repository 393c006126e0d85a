//! `rpol eval PATH --input FILE|- [--reason CODE]…`: the decision as JSON.
//! An invalid request prints every validation error on stderr, no decision,
//! and exits 2 (spec 12). `--log FILE` appends the decision's log line
//! (docs/decision-logs.md), the fallback's for an invalid request.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use rpol_engine::{LogKey, MIN_LOG_KEY_BYTES};

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
    log: Option<&Path>,
) -> Result<ExitCode, CliError> {
    // The key is checked first, so that a missing key never leaves a decision
    // printed but unlogged.
    let key = log.map(|_| log_key()).transpose()?;
    let Some(compiled) = compile_path(path, registry)? else {
        return Ok(ExitCode::from(1));
    };
    let text = read_input(input)?;
    let codes: Vec<&str> = reasons.iter().map(String::as_str).collect();
    let (id, now) = log_id();
    match compiled.parse_request(&text) {
        Ok(req) => {
            let decision = compiled.decide(&req, &codes);
            if let (Some(file), Some(key)) = (log, &key) {
                append_line(file, &compiled.log_line(&req, &decision, &id, now, key))?;
            }
            outln!("{}", decision.to_json_pretty(&compiled));
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => {
            let Err((errors, fallback)) = compiled.decide_json(&text, &codes) else {
                return Err(CliError::Load(
                    "internal error: a request parsed once and failed once".into(),
                    None,
                ));
            };
            // A service logs the fallback it served; so does `eval`.
            if let Some(file) = log {
                append_line(
                    file,
                    &compiled.log_line_invalid(&text, &errors, &fallback, &id, now),
                )?;
            }
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

/// The environment variable that holds the key of subject-id pseudonyms.
pub const LOG_KEY_VAR: &str = "RPOL_LOG_KEY";

/// The log key from `RPOL_LOG_KEY`: `hex:` and hex digits, or the text's own
/// bytes. Without one, `--log` is refused rather than logging raw ids.
pub(crate) fn log_key() -> Result<LogKey, CliError> {
    let help = format!(
        "set `{LOG_KEY_VAR}` to a secret of at least {MIN_LOG_KEY_BYTES} bytes, or to `hex:` and its hex digits (e.g. `hex:$(openssl rand -hex 32)`)"
    );
    let value = match std::env::var(LOG_KEY_VAR) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) | Err(std::env::VarError::NotPresent) => {
            return Err(CliError::Usage(
                format!(
                    "`--log` needs a key in `{LOG_KEY_VAR}` to hash subject ids; nothing was logged"
                ),
                Some(help),
            ));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(CliError::Usage(
                format!("`{LOG_KEY_VAR}` is not valid UTF-8"),
                Some(help),
            ));
        }
    };
    LogKey::parse(&value).map_err(|e| CliError::Usage(format!("`{LOG_KEY_VAR}`: {e}"), Some(help)))
}

/// A decision id unique enough for one machine (`eval-<unix ms>-<pid>`) and
/// the time of the decision in Unix milliseconds.
fn log_id() -> (String, u64) {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    (format!("eval-{ms}-{}", std::process::id()), ms)
}

/// Appends `line` and a newline in one write, so that concurrent writers
/// appending to the same file do not interleave within a line.
fn append_line(file: &Path, line: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(buf.as_bytes()))
        .map_err(|e| CliError::Write {
            path: rpol_check::load::display(file),
            reason: e.to_string(),
        })
}
