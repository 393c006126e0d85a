//! Errors of the command line itself (usage, I/O): exit code 2.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum CliError {
    #[error("{0}")]
    #[diagnostic(code(rpol::io))]
    Load(String, #[help] Option<String>),
    #[error("cannot read input `{path}`: {reason}")]
    #[diagnostic(
        code(rpol::io),
        help("give a JSON file, or `-` to read standard input")
    )]
    Input { path: String, reason: String },
    #[error("cannot write `{path}`: {reason}")]
    #[diagnostic(code(rpol::io))]
    Write { path: String, reason: String },
    #[error("unknown code `{0}`")]
    #[diagnostic(
        code(rpol::usage),
        help("codes look like `E0201` or `L003`; see docs/errors.md for the list")
    )]
    UnknownCode(String),
    #[error("{0}")]
    #[diagnostic(code(rpol::usage))]
    Usage(String, #[help] Option<String>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Analysis(#[from] rpol_analysis::AnalysisError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Serve(#[from] rpol_serve::ServeError),
}
