//! `rpol enforce POLICY --input IN --output OUT --map MAP`: the policy applied
//! to every row of a Parquet file (or an Arrow IPC stream), streamed batch
//! by batch through `rpol-batch` (docs/batch.md). Arrow and Parquet are the
//! largest part of a cold build, so the command is the `enforce` feature.

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Human,
    Json,
}

// Without the `enforce` feature the arguments are parsed (help and
// completions stay the same) but not read.
#[cfg_attr(not(feature = "enforce"), allow(dead_code))]
#[derive(clap::Args)]
pub struct EnforceArgs {
    /// Policy directory or file, or an artifact of `rpol compile`.
    path: PathBuf,
    /// Parquet file to read, or `-` for an Arrow IPC stream on stdin.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Parquet file to write, or `-` for an Arrow IPC stream on stdout.
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
    /// Mapping of request fields to columns (YAML).
    #[arg(long = "map", value_name = "FILE")]
    map: PathBuf,
    /// One purpose for every row (replaces the mapping's `purpose`).
    #[arg(long)]
    purpose: Option<String>,
    /// Drop rows: any of `invalid`, `no_features`, `expired`, comma-separated.
    #[arg(long, value_name = "REASONS", default_value = "")]
    drop: String,
    /// The time retention is measured at (RFC 3339); required with `--drop expired`.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Add the `rpol_denied` column: per row, the features nulled and why.
    #[arg(long)]
    denied_column: bool,
    /// Registry YAML to use instead of the policy's `registry:` field.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// The summary on stderr: `human`, or `json` (on stdout unless `--output -`).
    #[arg(long, value_enum, default_value = "human")]
    format: SummaryFormat,
}

#[cfg(not(feature = "enforce"))]
pub fn run(_: EnforceArgs) -> Result<std::process::ExitCode, crate::cli_error::CliError> {
    Err(crate::cli_error::CliError::not_built(
        "`rpol enforce`",
        "enforce",
    ))
}

#[cfg(feature = "enforce")]
pub use with_arrow::run;

#[cfg(feature = "enforce")]
mod with_arrow {
    use std::io::IsTerminal;
    use std::process::ExitCode;
    use std::sync::Arc;

    use indicatif::{ProgressBar, ProgressStyle};
    use rpol_batch::files::{Io, enforce};
    use rpol_batch::{BatchError, DropWhen, Mapping, Options, Stats};

    use super::{EnforceArgs, SummaryFormat};
    use crate::cli_error::CliError;

    /// Prints a batch error's findings (one line each, with code and place).
    fn report(e: &BatchError) -> ExitCode {
        eprintln!("{}", e.lines());
        ExitCode::from(2)
    }

    fn option_error(message: String, help: &str) -> BatchError {
        BatchError {
            findings: vec![rpol_batch::Finding {
                code: "E0909",
                message,
                help: Some(help.into()),
                place: None,
            }],
        }
    }

    /// Milliseconds since the Unix epoch of an RFC 3339 time.
    fn parse_now(s: &str) -> Result<i64, BatchError> {
        let bad = || {
            option_error(
                format!("`{s}` is not an RFC 3339 time"),
                "write it as `2026-12-01T00:00:00Z`",
            )
        };
        if !rpol_engine::is_rfc3339(s) {
            return Err(bad());
        }
        arrow::compute::kernels::cast_utils::string_to_timestamp_nanos(s)
            .map(|ns| ns.div_euclid(1_000_000))
            .map_err(|_| bad())
    }

    pub fn run(a: EnforceArgs) -> Result<ExitCode, CliError> {
        let drop = match DropWhen::parse(&a.drop) {
            Ok(d) => d,
            Err(e) => return Ok(report(&e)),
        };
        let now_unix_ms = match (&a.now, drop.expired) {
            (Some(s), _) => match parse_now(s) {
                Ok(ms) => ms,
                Err(e) => return Ok(report(&e)),
            },
            (None, true) => {
                return Ok(report(&option_error(
                    "`--drop expired` needs `--now`".into(),
                    "give the time retention is measured at, e.g. `--now 2026-12-01T00:00:00Z`",
                )));
            }
            (None, false) => 0,
        };
        let map_name = rpol_check::load::display(&a.map);
        let map_text =
            rpol_check::load::read_bounded(&a.map, rpol_batch::MAX_MAPPING_BYTES as u64)?;
        let map_text = String::from_utf8(map_text).map_err(|_| CliError::Input {
            path: map_name.clone(),
            reason: "not UTF-8".into(),
        })?;
        let mapping = match Mapping::from_yaml(&map_text, &map_name) {
            Ok(m) => m,
            Err(e) => return Ok(report(&e)),
        };
        let policy = match rpol_check::policy_load::load_policy(&a.path, a.registry.as_deref()) {
            Ok((c, _)) => Arc::new(c),
            Err(refused) => {
                eprintln!("{refused}");
                eprintln!(
                    "error: `{}` was not loaded; nothing was enforced",
                    a.path.display()
                );
                return Ok(ExitCode::from(1));
            }
        };
        let options = Options {
            purpose: a.purpose,
            drop,
            now_unix_ms,
            denied_column: a.denied_column,
        };
        let input = Io::from_arg(&a.input);
        // Parquet is read by seeking: a FIFO or device would block or fail late.
        if input != Io::Stdio {
            rpol_check::load::require_regular(&a.input)?;
        }
        let output = Io::from_arg(&a.output);
        let bar = progress_bar();
        let run = enforce(policy, &mapping, &input, &output, options, |done, total| {
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(done);
        });
        let stats = match run {
            Ok(s) => s,
            Err(e) => {
                bar.abandon();
                return Ok(report(&e));
            }
        };
        bar.finish_and_clear();
        match a.format {
            SummaryFormat::Human => eprint!("{}", human(&stats)),
            SummaryFormat::Json => {
                let text = serde_json::to_string_pretty(&stats).unwrap_or_default();
                if output == Io::Stdio {
                    eprintln!("{text}");
                } else {
                    println!("{text}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }

    fn human(s: &Stats) -> String {
        let mut out = format!(
            "rows in: {}\nrows out: {}\ndropped: {} (invalid {}, expired {}, no_features {})\ninvalid rows: {}\n",
            s.rows_in,
            s.rows_out,
            s.dropped(),
            s.dropped_invalid,
            s.dropped_expired,
            s.dropped_no_features,
            s.invalid_rows
        );
        if s.rows_without_retention > 0 {
            out.push_str(&format!(
                "warning: {} rows have a null or undeclared `kind`: they never expire\n",
                s.rows_without_retention
            ));
        }
        out.push_str("cells nulled:\n");
        for (f, n) in &s.cells_nulled {
            out.push_str(&format!("  {f}: {n}\n"));
        }
        out
    }

    /// A row progress bar on a terminal's stderr; hidden otherwise.
    fn progress_bar() -> ProgressBar {
        if !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "enforcing [{bar:30}] {human_pos}/{human_len} rows ({eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }
}
