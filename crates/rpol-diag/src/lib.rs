//! Diagnostics shared by every rpol tool.
//!
//! Spans are byte offsets into one source file; line/column (and UTF-16 for the
//! language server) are computed only at the edges, from a [`SourceMap`].

pub mod codes;
mod locate;
mod source_map;

pub use locate::{Located, Range};

pub use source_map::{LineCol, SourceFile, SourceMap};

/// A half-open byte range `[start, end)` inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
    pub fn len(self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct FileId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in a file, with an optional note shown next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: Option<String>,
}

impl Label {
    pub fn new(file: FileId, span: Span) -> Self {
        Label {
            file,
            span,
            message: None,
        }
    }
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// A suggested edit: replace `span` in `file` with `replacement` (quick fixes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub file: FileId,
    pub span: Span,
    pub replacement: String,
}

/// One finding. `message` is lowercase without a final period and names the
/// offending thing in backticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub suggestion: Option<Suggestion>,
}

impl Diagnostic {
    pub fn error(code: &'static str, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: Label::new(file, span),
            secondary: Vec::new(),
            help: None,
            suggestion: None,
        }
    }
    pub fn warning(
        code: &'static str,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = Some(message.into());
        self
    }
    pub fn with_secondary(mut self, label: Label) -> Self {
        self.secondary.push(label);
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn with_suggestion(mut self, replacement: impl Into<String>) -> Self {
        self.suggestion = Some(Suggestion {
            file: self.primary.file,
            span: self.primary.span,
            replacement: replacement.into(),
        });
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `1 rule`, `2 rules`, `0 classes`: a count and its noun, in every message
/// that counts something (nouns ending in `s` take `es`).
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, word: &str) -> String {
    if n == N::from(1) {
        format!("{n} {word}")
    } else if word.ends_with('s') {
        format!("{n} {word}es")
    } else {
        format!("{n} {word}s")
    }
}

/// The closest candidate by edit distance, for did-you-mean help lines.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = name.chars().count();
    let limit = (len / 3).max(1) + 1;
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        // The distance is at least the difference in length: skipping those
        // keeps a lookup among 80,000 names cheap.
        if cand.len().abs_diff(name.len()) > 4 * limit || cand.chars().count().abs_diff(len) > limit
        {
            continue;
        }
        let d = edit_distance(name, cand);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn plural_agrees_with_the_count() {
        use super::plural;
        assert_eq!(plural(1usize, "forbid rule"), "1 forbid rule");
        assert_eq!(plural(0u32, "forbid rule"), "0 forbid rules");
        assert_eq!(plural(2u64, "class"), "2 classes");
        assert_eq!(plural(1u64, "class"), "1 class");
    }

    use super::*;

    #[test]
    fn did_you_mean_finds_close_names() {
        let names = ["personalized", "contextual_only", "non_personalized"];
        assert_eq!(did_you_mean("personalised", names), Some("personalized"));
        assert_eq!(
            did_you_mean("contextual_onl", names),
            Some("contextual_only")
        );
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
