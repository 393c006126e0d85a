//! `rpol serve PATH`: the decision service (spec 13, docs/serving.md). The
//! service itself lives in the `rpol-serve` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli_error::CliError;

// Without the `serve` feature the arguments are parsed (help and completions
// stay the same) but not read.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Policy directory or file, or an artifact of `rpol compile`.
    path: PathBuf,
    /// TCP address to listen on [default: 127.0.0.1:8181]; a non-loopback
    /// address needs `--auth-token-file`.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Also (or, without `--listen`, only) listen on this Unix socket.
    #[arg(long, value_name = "SOCKET")]
    unix: Option<PathBuf>,
    /// Registry YAML to use instead of the policy's `registry:` field.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Reload when a policy or registry file changes (SIGHUP always reloads).
    #[arg(long)]
    watch: bool,
    /// Append a line per decision to FILE (docs/decision-logs.md); subject
    /// ids are hashed with the key in `RPOL_LOG_KEY`.
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Require `Authorization: Bearer TOKEN` (the file's content) on every
    /// endpoint but `/health` and `/health/ready`.
    #[arg(long, value_name = "FILE")]
    auth_token_file: Option<PathBuf>,
}

#[cfg(not(feature = "serve"))]
pub fn run(_: ServeArgs) -> Result<ExitCode, CliError> {
    Err(CliError::not_built("`rpol serve`", "serve"))
}

#[cfg(feature = "serve")]
pub fn run(a: ServeArgs) -> Result<ExitCode, CliError> {
    let decision_log = match a.decision_log {
        Some(file) => Some((file, crate::cmd_eval::log_key()?)),
        None => None,
    };
    match rpol_serve::run(rpol_serve::Options {
        path: a.path,
        listen: a.listen,
        unix: a.unix,
        registry: a.registry,
        watch: a.watch,
        decision_log,
        auth_token_file: a.auth_token_file,
    }) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The policy's errors are on stderr already; like `eval`, exit 1.
        Err(rpol_serve::ServeError::Refused(path)) => {
            eprintln!("error: `{path}` was not loaded; nothing is served");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
