//! `rpol fmt`: one canonical layout for RPOL files (docs/style.md).
//!
//! The output is checked before it is returned: it must parse to the same
//! syntax tree (spans aside) with the same comments, otherwise nothing is
//! written and an internal error is reported.

mod printer;
mod verify;

use rpol_diag::{Diagnostic, FileId};

pub use printer::MAX_WIDTH;

#[derive(Debug)]
pub enum FormatError {
    /// The input does not parse (E0100/E0101); the file is left untouched.
    Syntax(Diagnostic),
    /// The formatter's output would change the meaning or drop a comment.
    Internal(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax(d) => write!(f, "{}: {}", d.code, d.message),
            FormatError::Internal(m) => write!(f, "internal formatter error: {m}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats one file's text.
pub fn format(text: &str) -> Result<String, FormatError> {
    let file = rpol_syntax::parse(FileId(0), text).map_err(FormatError::Syntax)?;
    let out = printer::print(text, &file);
    verify::same_meaning(&file, &out)?;
    Ok(out)
}
