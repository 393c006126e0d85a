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
    #[error(
        "`--filter {filter}` matches no test: none of the {total} tests has `{filter}` in its name"
    )]
    #[diagnostic(
        code(E0602),
        help(
            "the filter keeps the tests whose name contains the text, case included; run `rpol test` without `--filter` to see every name"
        )
    )]
    NoTestMatched { filter: String, total: usize },
    /// A diagnostic with its place in a file (the analysis's E0701–E0705),
    /// rendered like the checker's, with its snippet.
    #[error("{}", .0.0.message)]
    Located(Box<(rpol_diag::Diagnostic, rpol_diag::SourceMap)>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] FileError),
    #[cfg(feature = "serve")]
    #[error(transparent)]
    #[diagnostic(transparent)]
    Serve(#[from] rpol_serve::ServeError),
    #[error("`{0}` is a compiled artifact of `rpol compile`, not policy source")]
    #[diagnostic(
        code(E0105),
        help(
            "check the policy it was compiled from (its folder or `.rpol` file); `rpol eval`, `bench`, `serve`, `diff` and `replay` load the artifact itself"
        )
    )]
    ArtifactAsSource(String),
    /// A command or option whose cargo feature was off when `rpol` was built.
    #[error("{what} is not built into this `rpol`")]
    #[diagnostic(code(E0104))]
    NotBuilt {
        what: &'static str,
        #[help]
        help: String,
    },
}

impl CliError {
    /// `what` (e.g. "`rpol serve`") needs the cargo feature `feature`.
    pub fn not_built(what: &'static str, feature: &str) -> CliError {
        CliError::NotBuilt {
            what,
            help: format!(
                "it was built without the `{feature}` feature; install with default features (`cargo install --path crates/rpol-cli --locked`) or add `--features {feature}`"
            ),
        }
    }
}

/// A file the loader refused or could not read: a refusal keeps its code
/// (E0101 over a limit, E0102 outside the workspace or not a regular file),
/// which miette's derive cannot take from a value.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct FileError {
    code: &'static str,
    message: String,
    help: Option<&'static str>,
}

impl Diagnostic for FileError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
}

impl From<rpol_check::load::LoadError> for CliError {
    fn from(e: rpol_check::load::LoadError) -> CliError {
        CliError::File(FileError {
            code: e.code().unwrap_or("rpol::io"),
            message: e.to_string(),
            help: e.help(),
        })
    }
}
