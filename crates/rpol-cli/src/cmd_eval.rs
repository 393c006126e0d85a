//! `rpol eval PATH --input FILE|- [--reason CODE]…`: the decision as JSON.
//! An invalid request prints every validation error on stderr, no decision,
//! and exits 2 (docs/cli.md). `--log FILE` appends the decision's log line
//! (docs/decision-logs.md), the fallback's for an invalid request.

use std::path::Path;
use std::process::ExitCode;

use rpol_check::load;
use rpol_engine::{LogKey, MIN_LOG_KEY_BYTES};

use crate::cli_error::CliError;
use crate::policy::load_policy_verified;

/// Most bytes read as a request: the request limit plus a margin, so that an
/// over-long request is still refused by the parser with its own message,
/// while an endless stream (`/dev/zero`, a pipe) is cut off.
pub const MAX_INPUT_BYTES: u64 = rpol_engine::MAX_REQUEST_BYTES as u64 + 64 * 1024;

/// Reads a request from a regular file or standard input (`-`) as text.
pub fn read_input(input: &str) -> Result<String, CliError> {
    String::from_utf8(read_input_bytes(input)?).map_err(|_| CliError::Input {
        path: input.into(),
        reason: "not valid UTF-8".into(),
    })
}

/// Reads a request's bytes from a regular file or standard input (`-`), at
/// most [`MAX_INPUT_BYTES`].
pub fn read_input_bytes(input: &str) -> Result<Vec<u8>, CliError> {
    if input == "-" {
        return load::read_stream_bounded(std::io::stdin().lock(), MAX_INPUT_BYTES).map_err(|e| {
            CliError::Input {
                path: "-".into(),
                reason: e.to_string(),
            }
        });
    }
    Ok(load::read_bounded(Path::new(input), MAX_INPUT_BYTES)?)
}

pub fn run(
    path: &Path,
    input: &str,
    reasons: &[String],
    registry: Option<&Path>,
    log: Option<&Path>,
    verify_key: Option<&Path>,
) -> Result<ExitCode, CliError> {
    // The key is checked first, so that a missing key never leaves a decision
    // printed but unlogged.
    let key = log.map(|_| log_key()).transpose()?;
    let Some(compiled) = load_policy_verified(path, registry, verify_key)? else {
        return Ok(ExitCode::from(1));
    };
    // Bytes, not text: a request that is not UTF-8 is an invalid request, and
    // a service logs the fallback it serves for it like for any other.
    let bytes = read_input_bytes(input)?;
    let (text, utf8) = match String::from_utf8(bytes) {
        Ok(t) => (t, true),
        Err(_) => (String::new(), false),
    };
    let codes: Vec<&str> = reasons.iter().map(String::as_str).collect();
    let (id, now) = log_id();
    match compiled
        .parse_request(&text)
        .ok()
        .filter(|_| utf8)
        .ok_or(())
    {
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
            if utf8 {
                for e in errors.iter() {
                    eprintln!("error[request]: {name}: {e}");
                }
            } else {
                eprintln!("error[request]: {name}: the request is not valid UTF-8");
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
