//! Rendering diagnostics: human (miette, with snippets; colour only on a
//! terminal without `NO_COLOR`) and JSON.

use std::fmt;
use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use rpol_diag::{Diagnostic, Label, Located, Severity, SourceMap};
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
    src: NamedSource<String>,
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

fn source(sm: &SourceMap, l: &Label) -> NamedSource<String> {
    let f = sm.get(l.file);
    NamedSource::new(f.name.clone(), f.text.to_string())
}

fn view<'a>(d: &'a Diagnostic, sm: &SourceMap) -> View<'a> {
    let mut labels = vec![(
        d.primary.message.clone(),
        d.primary.span.start,
        d.primary.span.len(),
        true,
    )];
    let mut related = Vec::new();
    for l in &d.secondary {
        if l.file == d.primary.file {
            labels.push((l.message.clone(), l.span.start, l.span.len(), false));
        } else {
            related.push(View {
                message: l.message.clone().unwrap_or_else(|| "related".into()),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                src: source(sm, l),
                labels: vec![(None, l.span.start, l.span.len(), true)],
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
        src: source(sm, &d.primary),
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

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
