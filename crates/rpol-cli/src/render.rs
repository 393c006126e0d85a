//! Rendering diagnostics: human (miette, with snippets; colour only on a
//! terminal without `NO_COLOR`) and JSON.

use std::fmt;
use std::io::IsTerminal;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use rpol_diag::{Diagnostic, Label, Located, Severity, SourceFile, SourceMap, Span};
use serde::Serialize;

/// Whether stdout/stderr output may use colour.
pub fn use_colour(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn stdout_colour() -> bool {
    use_colour(std::io::stdout().is_terminal())
}

pub fn stderr_colour() -> bool {
    use_colour(std::io::stderr().is_terminal())
}

fn handler(colour: bool) -> GraphicalReportHandler {
    let theme = if colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
}

/// A borrowed diagnostic as miette sees it: labels in the primary file are
/// drawn in its snippet; labels in other files become related notes.
struct View<'a> {
    message: String,
    code: Option<&'static str>,
    severity: miette::Severity,
    help: Option<&'a str>,
    src: Src<'a>,
    labels: Vec<(Option<String>, usize, usize, bool)>,
    related: Vec<View<'a>>,
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().map(|(m, s, l, primary)| {
            let span = SourceSpan::from((*s, *l));
            if *primary {
                LabeledSpan::new_primary_with_span(m.clone(), span)
            } else {
                LabeledSpan::new_with_span(m.clone(), span)
            }
        })))
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// A file as miette reads it, through the source map's line index: a snippet
/// costs the lines it shows, not a scan from the start of the file (which made
/// rendering many diagnostics of a large file quadratic).
struct Src<'a>(&'a SourceFile);

impl SourceCode for Src<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let f = self.0;
        let (start, len) = (span.offset(), span.len());
        if start > f.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = f.line_index(start);
        let last = f.line_index((start + len).saturating_sub(1).max(start));
        // The lines miette shows, plus one so that it stops where it would
        // in the whole file; miette's own reader then cuts them out.
        let win_line = first.saturating_sub(before);
        let win_start = f.line_start(win_line);
        let win_end = f.line_start(last + after + 2).max(win_start);
        // The printable text: a snippet must not carry terminal controls.
        let window = &f.printable()[win_start..win_end];
        let inner =
            SourceSpan::from((start - win_start, len.min(window.len() + win_start - start)));
        let c = window.read_span(&inner, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            f.name.clone(),
            c.data(),
            SourceSpan::from((c.span().offset() + win_start, c.span().len())),
            c.line() + win_line,
            c.column(),
            // Lines of this snippet: miette merges two snippets when they touch.
            c.line_count(),
        )))
    }
}

/// A label spanning more lines than this is drawn as its first and last lines.
const MAX_LABEL_LINES: usize = 6;

/// The labels drawn for `span`: itself, or its first and last lines when it is
/// long (a whole block), so that a snippet never prints a large part of the file.
fn label_spans(f: &SourceFile, span: Span) -> (Span, Option<Span>) {
    let first = f.line_index(span.start);
    let last = f.line_index(span.end.saturating_sub(1).max(span.start));
    if last - first < MAX_LABEL_LINES {
        return (span, None);
    }
    let line_end = |i: usize| {
        let end = f.line_start(i + 1);
        let line = f.slice(Span::new(f.line_start(i), end));
        f.line_start(i) + line.trim_end_matches(['\n', '\r']).len()
    };
    let last_start = f.line_start(last);
    let indent = f.slice(Span::new(last_start, span.end)).len()
        - f.slice(Span::new(last_start, span.end)).trim_start().len();
    (
        Span::new(span.start, line_end(first).max(span.start)),
        Some(Span::new(last_start + indent, span.end)),
    )
}

fn push_label(
    labels: &mut Vec<(Option<String>, usize, usize, bool)>,
    f: &SourceFile,
    l: &Label,
    primary: bool,
) {
    let (head, tail) = label_spans(f, l.span);
    labels.push((l.message.clone(), head.start, head.len(), primary));
    if let Some(t) = tail {
        labels.push((None, t.start, t.len(), false));
    }
}

fn view<'a>(d: &'a Diagnostic, sm: &'a SourceMap) -> View<'a> {
    let file = sm.get(d.primary.file);
    let mut labels = Vec::new();
    push_label(&mut labels, file, &d.primary, true);
    let mut related = Vec::new();
    for l in &d.secondary {
        if l.file == d.primary.file {
            push_label(&mut labels, file, l, false);
        } else {
            let other = sm.get(l.file);
            let mut own = Vec::new();
            push_label(&mut own, other, &Label::new(l.file, l.span), true);
            related.push(View {
                message: l.message.clone().unwrap_or_else(|| "related".into()),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                src: Src(other),
                labels: own,
                related: vec![],
            });
        }
    }
    View {
        message: d.message.clone(),
        code: Some(d.code),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: d.help.as_deref(),
        src: Src(file),
        labels,
        related,
    }
}

/// Human rendering of one diagnostic with its source snippet.
pub fn human(d: &Diagnostic, sm: &SourceMap, colour: bool) -> String {
    let mut out = String::new();
    if handler(colour)
        .render_report(&mut out, &view(d, sm))
        .is_err()
    {
        let l = d.locate(sm);
        out = format!(
            "{}[{}]: {} at {}:{}:{}\n",
            l.severity, l.code, l.message, l.file, l.range.line, l.range.column
        );
    }
    out
}

/// At most this many diagnostics are rendered in human form per run: a
/// hostile policy can have tens of thousands, and a terminal is no place for
/// them. JSON and SARIF keep every one.
pub const MAX_HUMAN_DIAGNOSTICS: usize = 200;

/// Human rendering of a run's diagnostics with the cap of
/// [`MAX_HUMAN_DIAGNOSTICS`]: `shown` counts across calls (several policies),
/// `blank_line` separates the diagnostics, and the return value is how many
/// were left out.
pub fn human_capped<'a>(
    diags: impl IntoIterator<Item = &'a Diagnostic>,
    sm: &SourceMap,
    colour: bool,
    blank_line: bool,
    shown: &mut usize,
    out: &mut String,
) -> usize {
    let mut omitted = 0;
    for d in diags {
        if *shown >= MAX_HUMAN_DIAGNOSTICS {
            omitted += 1;
            continue;
        }
        *shown += 1;
        out.push_str(&human(d, sm, colour));
        if blank_line {
            out.push('\n');
        }
    }
    omitted
}

/// The line that replaces the diagnostics left out by [`human_capped`].
pub fn omitted_line(omitted: usize, how: &str) -> String {
    let noun = if omitted == 1 {
        "diagnostic"
    } else {
        "diagnostics"
    };
    format!("… and {omitted} more {noun} not shown ({how})")
}

/// The `--format json` document of `check` and `lint`.
#[derive(Serialize)]
pub struct JsonReport {
    pub diagnostics: Vec<Located>,
    pub errors: usize,
    pub warnings: usize,
}

impl JsonReport {
    pub fn new() -> Self {
        JsonReport {
            diagnostics: vec![],
            errors: 0,
            warnings: 0,
        }
    }
    pub fn add(&mut self, d: &Diagnostic, sm: &SourceMap) {
        match d.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        self.diagnostics.push(d.locate(sm));
    }
}

pub use rpol_diag::plural;
