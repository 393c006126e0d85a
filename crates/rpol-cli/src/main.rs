//! `rpol`: check, lint, test, evaluate and compile RPOL privacy policies.

/// `print!` that ignores a closed pipe (`rpol check … | head` must not panic).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

/// `println!` that ignores a closed pipe.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod cli_error;
mod cmd_bench;
mod cmd_check;
mod cmd_compile;
mod cmd_diff;
mod cmd_doc;
mod cmd_enforce;
mod cmd_eval;
mod cmd_explain;
mod cmd_export;
mod cmd_fmt;
mod cmd_keygen;
mod cmd_replay;
mod cmd_serve;
mod cmd_shell;
mod cmd_test;
mod cmd_verify;
mod policy;
mod policy_folders;
mod render;
mod sarif;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cli_error::CliError;

#[derive(Parser)]
#[command(
    name = "rpol",
    version = env!("RPOL_VERSION"),
    about = "Policy-as-code for privacy in recommendation systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    Json,
}

/// Output of `diff`, `verify` and `replay`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalysisFormat {
    Human,
    Json,
}

/// How `diff` and `verify` cover the request space (same answers either way).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalysisEngine {
    /// Visit every region (bounded by `--max-regions`).
    Enumerate,
    /// Decision diagrams built per decision from the fields it reads.
    Symbolic,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve and type-check policies against their feature registry.
    Check {
        /// Policies: directories or `.rpol` files; a folder of several policies
        /// (`policies/home`, `policies/enterprise`, …) checks each.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Output: `human` (with source snippets), `json`, or `sarif` for code scanning.
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
    },
    /// Decide a request (JSON) and print the decision.
    Eval {
        /// Policy: a directory, a `.rpol` file or a compiled artifact (`rpol compile`).
        path: PathBuf,
        /// Request JSON file, or `-` for standard input.
        #[arg(long)]
        input: String,
        /// A reason code to explain (repeatable).
        #[arg(long = "reason")]
        reasons: Vec<String>,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Output format (the decision's JSON).
        #[arg(long, value_enum, default_value = "json")]
        format: EvalFormat,
        /// Append the decision's log line to FILE (docs/decision-logs.md);
        /// subject ids are hashed with the key in `RPOL_LOG_KEY`.
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// Load only a compiled artifact signed by this public key's pair.
        #[arg(long, value_name = "PUBFILE")]
        verify_key: Option<PathBuf>,
    },
    /// Run the policy's `test` blocks through the compiled engine.
    Test {
        /// Policies: directories or `.rpol` files (each path is one policy).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Run only tests whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Output: `human`, `json`, or `junit` XML for CI.
        #[arg(long, value_enum, default_value = "human")]
        format: cmd_test::TestFormat,
        /// Report which arms, sources, forbid rules, reasons and feature sets no test exercised.
        #[arg(long)]
        coverage: bool,
        /// Fail when coverage is below this percentage (implies --coverage).
        #[arg(long, value_name = "PCT")]
        min_coverage: Option<f64>,
    },
    /// Check and compile a policy into a verified artifact for services to load.
    Compile {
        /// Policy: a directory or a `.rpol` file.
        path: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Sign the artifact with this secret key (from `rpol keygen`).
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
    },
    /// Write a new Ed25519 key pair for signed artifacts: KEYFILE and KEYFILE.pub.
    Keygen {
        /// Secret key file to write; the public key goes to KEYFILE.pub.
        #[arg(short, long, value_name = "KEYFILE")]
        output: PathBuf,
    },
    /// Time a full decision, a single feature check and an explanation.
    Bench {
        /// Policy: a directory, a `.rpol` file or a compiled artifact (`rpol compile`).
        path: PathBuf,
        /// Request JSON file, or `-` for standard input.
        #[arg(long)]
        input: String,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Output: `human` or `json`.
        #[arg(long, value_enum, default_value = "human")]
        format: cmd_bench::BenchFormat,
        /// Also decide the request through the Rego export with regorus and
        /// print both medians and their ratio.
        #[arg(long)]
        rego: bool,
        /// Load only a compiled artifact signed by this public key's pair.
        #[arg(long, value_name = "PUBFILE")]
        verify_key: Option<PathBuf>,
    },
    /// Print the long description of an error or lint code.
    Explain {
        /// An error or lint code, e.g. `E0201` or `L003`.
        code: String,
    },
    /// Check, then run the lints L001–L009 (L003 is an error unless allowed).
    Lint {
        /// Policies: directories or `.rpol` files; a folder of several policies lints each.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Output: `human` (with source snippets), `json`, or `sarif` for code scanning.
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
        /// Treat warnings as errors (exit 1).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Rewrite policy files in canonical form (docs/style.md).
    Fmt {
        /// Policy files or directories (every `.rpol` file under a directory).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; print a unified diff and exit 1 if any file would change.
        #[arg(long)]
        check: bool,
    },
    /// Export the policy to another engine.
    Export {
        #[command(subcommand)]
        target: ExportTarget,
    },
    /// Language server (LSP) over standard input and output, for editors.
    Lsp,
    /// Every difference in mode, route, sources and features between two
    /// policies, each with a witness request (exit 0 equal, 1 different).
    Diff {
        /// The policy before the change: a directory, a `.rpol` file or a compiled artifact.
        old: PathBuf,
        /// The policy after the change: a directory, a `.rpol` file or a compiled artifact.
        new: PathBuf,
        /// Registry for OLD instead of its `registry:` field.
        #[arg(long)]
        old_registry: Option<PathBuf>,
        /// Registry for NEW instead of its `registry:` field.
        #[arg(long)]
        new_registry: Option<PathBuf>,
        /// Output: `human` or `json`.
        #[arg(long, value_enum, default_value = "human")]
        format: AnalysisFormat,
        /// With `--engine enumerate`: refuse (exit 2) when the request space splits into more regions.
        #[arg(long, value_name = "N", default_value_t = rpol_analysis::regions::DEFAULT_MAX_REGIONS)]
        max_regions: u64,
        /// `symbolic` (decision diagrams) or `enumerate` (visit every region; the reference the
        /// symbolic engine is tested against). Both give the same answers.
        #[arg(long, value_enum, default_value = "symbolic")]
        engine: AnalysisEngine,
    },
    /// Prove or refute consent monotonicity, fail-safety, mode monotonicity and
    /// live forbids, or answer a query, over every region of the request space.
    Verify {
        /// Policy: a directory or a `.rpol` file.
        path: PathBuf,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// A condition over the request, `mode`, `allowed(feature NAME)` and
        /// `allowed(source NAME)`: find a request that makes it true, or prove none does.
        #[arg(long, value_name = "EXPR")]
        query: Option<String>,
        /// Output: `human` or `json`.
        #[arg(long, value_enum, default_value = "human")]
        format: AnalysisFormat,
        /// With `--engine enumerate`: refuse (exit 2) when the request space splits into more regions.
        #[arg(long, value_name = "N", default_value_t = rpol_analysis::regions::DEFAULT_MAX_REGIONS)]
        max_regions: u64,
        /// `symbolic` (decision diagrams) or `enumerate` (visit every region; the reference the
        /// symbolic engine is tested against). Both give the same answers.
        #[arg(long, value_enum, default_value = "symbolic")]
        engine: AnalysisEngine,
    },
    /// Re-decide every logged request (JSON lines) under PATH and report what
    /// would change (exit 0 nothing, 1 something).
    Replay {
        /// Policy to decide the logged requests under: a directory, a `.rpol` file or a compiled artifact.
        path: PathBuf,
        /// Decision log: one JSON line per decision, as the engine writes it.
        log: PathBuf,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Output: `human` or `json`.
        #[arg(long, value_enum, default_value = "human")]
        format: AnalysisFormat,
    },
    /// Write the privacy review sheet: modes, the feature × mode × purpose
    /// matrix, sources, reasons, retention, debug visibility, forbid rules and
    /// `verify` results (docs/review.md).
    Doc {
        /// The policy: a `.rpol` file or a directory.
        path: PathBuf,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Output: `md` (for a pull-request comment) or `html` (one printable file).
        #[arg(long, value_enum, default_value = "md")]
        format: cmd_doc::DocFormat,
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Refuse (exit 2) when the request space splits into more regions.
        #[arg(long, value_name = "N", default_value_t = rpol_analysis::regions::DEFAULT_MAX_REGIONS)]
        max_regions: u64,
        /// Leave out the `verify` results (they take a second sweep).
        #[arg(long)]
        no_verify: bool,
    },
    /// Serve decisions over HTTP (docs/serving.md), with Prometheus metrics
    /// and hot reload on SIGHUP or `--watch`.
    Serve(cmd_serve::ServeArgs),
    /// Apply the policy to every row of a Parquet file (or Arrow IPC
    /// stream): null denied feature cells, drop rows (docs/batch.md).
    Enforce(cmd_enforce::EnforceArgs),
    /// Print a shell completion script (docs/cli.md says where to put it).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page of `rpol`, or write one page per command into DIR.
    Man {
        /// Directory for `rpol.1`, `rpol-check.1`, … (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportTarget {
    /// A Rego v1 module and its data document, for OPA (docs/rego.md).
    Rego {
        /// Policy: a directory or a `.rpol` file.
        path: PathBuf,
        /// Output directory (created if missing).
        #[arg(short, long)]
        output: PathBuf,
        /// Registry YAML to use instead of the policy's `registry:` field.
        #[arg(long)]
        registry: Option<PathBuf>,
    },
}

#[cfg(feature = "lsp")]
fn lsp() -> Result<ExitCode, CliError> {
    rpol_lsp::run_stdio()
        .map(|ending| ExitCode::from(ending.exit_code()))
        .map_err(|e| CliError::Load(format!("language server: {e}"), None))
}

#[cfg(not(feature = "lsp"))]
fn lsp() -> Result<ExitCode, CliError> {
    Err(CliError::not_built("`rpol lsp`", "lsp"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check {
            paths,
            registry,
            format,
        } => cmd_check::run(
            &paths,
            &cmd_check::Options {
                registry: registry.as_deref(),
                format,
                lint: false,
                deny_warnings: false,
            },
        ),
        Command::Lint {
            paths,
            registry,
            format,
            deny_warnings,
        } => cmd_check::run(
            &paths,
            &cmd_check::Options {
                registry: registry.as_deref(),
                format,
                lint: true,
                deny_warnings,
            },
        ),
        Command::Eval {
            path,
            input,
            reasons,
            registry,
            format: _,
            log,
            verify_key,
        } => cmd_eval::run(
            &path,
            &input,
            &reasons,
            registry.as_deref(),
            log.as_deref(),
            verify_key.as_deref(),
        ),
        Command::Test {
            paths,
            registry,
            filter,
            format,
            coverage,
            min_coverage,
        } => cmd_test::run(
            &paths,
            &cmd_test::TestArgs {
                registry: registry.as_deref(),
                filter,
                format,
                coverage,
                min_coverage,
            },
        ),
        Command::Compile {
            path,
            output,
            registry,
            sign,
        } => cmd_compile::run(&path, &output, registry.as_deref(), sign.as_deref()),
        Command::Keygen { output } => cmd_keygen::run(&output),
        Command::Bench {
            path,
            input,
            registry,
            format,
            rego,
            verify_key,
        } => cmd_bench::run(
            &path,
            &input,
            registry.as_deref(),
            format,
            rego,
            verify_key.as_deref(),
        ),
        Command::Explain { code } => cmd_explain::run(&code),
        Command::Fmt { paths, check } => cmd_fmt::run(&paths, check),
        Command::Export {
            target:
                ExportTarget::Rego {
                    path,
                    output,
                    registry,
                },
        } => cmd_export::rego(&path, &output, registry.as_deref()),
        Command::Diff {
            old,
            new,
            old_registry,
            new_registry,
            format,
            max_regions,
            engine,
        } => cmd_diff::run(&cmd_diff::DiffArgs {
            old: &old,
            new: &new,
            old_registry: old_registry.as_deref(),
            new_registry: new_registry.as_deref(),
            format,
            max_regions,
            engine,
        }),
        Command::Verify {
            path,
            registry,
            query,
            format,
            max_regions,
            engine,
        } => cmd_verify::run(
            &path,
            registry.as_deref(),
            query.as_deref(),
            format,
            max_regions,
            engine,
        ),
        Command::Replay {
            path,
            log,
            registry,
            format,
        } => cmd_replay::run(&path, &log, registry.as_deref(), format),
        Command::Doc {
            path,
            registry,
            format,
            output,
            max_regions,
            no_verify,
        } => cmd_doc::run(&cmd_doc::DocArgs {
            path: &path,
            registry: registry.as_deref(),
            format,
            output: output.as_deref(),
            max_regions,
            verify: !no_verify,
        }),
        Command::Serve(args) => cmd_serve::run(args),
        Command::Enforce(args) => cmd_enforce::run(args),
        Command::Completions { shell } => cmd_shell::completions(shell),
        Command::Man { output } => cmd_shell::man(output.as_deref()),
        Command::Lsp => lsp(),
    };
    match result {
        Ok(code) => code,
        Err(CliError::Located(d)) => {
            let (d, sources) = &*d;
            eprint!("{}", render::human(d, sources, render::stderr_colour()));
            ExitCode::from(2)
        }
        Err(e) => {
            let mut out = String::new();
            let theme = if render::stderr_colour() {
                miette::GraphicalTheme::unicode()
            } else {
                miette::GraphicalTheme::unicode_nocolor()
            };
            let _ = miette::GraphicalReportHandler::new_themed(theme).render_report(&mut out, &e);
            eprint!("{out}");
            ExitCode::from(2)
        }
    }
}
