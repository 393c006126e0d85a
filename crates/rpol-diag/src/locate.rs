//! The one conversion from a byte-span diagnostic to positions, shared by the
//! JSON and SARIF renderers and the language server.

use serde::Serialize;

use crate::{Diagnostic, SourceMap, Span};

/// A span as 1-based lines and character columns, plus 0-based UTF-16
/// positions for the language server protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    #[serde(skip)]
    pub utf16_start: (u32, u32),
    #[serde(skip)]
    pub utf16_end: (u32, u32),
}

impl SourceMap {
    pub fn range(&self, file: crate::FileId, span: Span) -> Range {
        let f = self.get(file);
        let (s, e) = (f.line_col(span.start), f.line_col(span.end));
        Range {
            line: s.line,
            column: s.column,
            end_line: e.line,
            end_column: e.column,
            utf16_start: f.utf16_position(span.start),
            utf16_end: f.utf16_position(span.end),
        }
    }
}

/// A diagnostic with positions, in the JSON shape `rpol check --format json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    #[serde(flatten)]
    pub range: Range,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn locate(&self, sm: &SourceMap) -> Located {
        Located {
            code: self.code,
            severity: self.severity.as_str(),
            message: self.message.clone(),
            file: sm.get(self.primary.file).name.clone(),
            range: sm.range(self.primary.file, self.primary.span),
            help: self.help.clone(),
        }
    }
}
