//! Errors of batch enforcement: each finding has a stable code, and a place
//! in the mapping text when it is about the mapping.

use std::fmt;

/// Where a finding stands in a mapping text (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Byte offsets into the mapping text.
    pub span: (usize, usize),
}

/// One problem, with its code (`E0901`…), a lowercase message naming the
/// offending thing in backticks, and a help line when a fix is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub place: Option<Place>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code, self.message)?;
        if let Some(p) = &self.place {
            write!(f, " at {}:{}:{}", p.file, p.line, p.column)?;
        }
        if let Some(h) = &self.help {
            write!(f, " (help: {h})")?;
        }
        Ok(())
    }
}

/// Why a mapping, a table or a file could not be enforced. Nothing has been
/// written for the batch that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.lines())]
pub struct BatchError {
    /// Every finding, in the order found (at least one).
    pub findings: Vec<Finding>,
}

impl BatchError {
    pub(crate) fn one(code: &'static str, message: String, help: Option<&str>) -> BatchError {
        BatchError {
            findings: vec![Finding {
                code,
                message,
                help: help.map(str::to_string),
                place: None,
            }],
        }
    }

    /// The code of the first finding.
    pub fn code(&self) -> &'static str {
        self.findings.first().map_or("E0907", |f| f.code)
    }

    /// One line per finding, as printed on stderr.
    pub fn lines(&self) -> String {
        self.findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl From<arrow::error::ArrowError> for BatchError {
    fn from(e: arrow::error::ArrowError) -> BatchError {
        BatchError::one("E0907", format!("arrow: {e}"), None)
    }
}

impl miette::Diagnostic for BatchError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code()))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let h = self.findings.first()?.help.as_ref()?;
        Some(Box::new(h))
    }
}
