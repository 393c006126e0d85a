//! `# rpol: allow(…)` comments: where they apply, and L011/L012 (an allow
//! that names nothing, or silences nothing).

use std::collections::HashSet;

use rpol_diag::{Diagnostic, FileId, Span, did_you_mean};

use crate::Checked;

/// The `rpol verify` properties an allow comment may name (docs/analysis.md).
pub const PROPERTIES: &[&str] = &[
    "consent_monotonicity",
    "fail_safe",
    "mode_monotonicity",
    "live_forbids",
];

/// One name in a `# rpol: allow(…)` comment.
#[derive(Debug, Clone)]
pub struct AllowName {
    pub file: FileId,
    /// The name as written, and where.
    pub name: String,
    pub span: Span,
    /// The start of the item the comment covers: the item on the first line
    /// after the comment lines that hold it; `None` when no item starts there.
    pub item: Option<usize>,
}

/// Every name of every `# rpol: allow(…)` comment of the policy's files.
pub fn allow_names(checked: &Checked) -> Vec<AllowName> {
    let mut out = Vec::new();
    for (file_id, ast) in &checked.asts {
        let file = checked.sources.get(*file_id);
        for c in &ast.comments {
            let text = file.slice(c.span);
            let Some(open) = text.find("rpol: allow(") else {
                continue;
            };
            let inner_start = open + "rpol: allow(".len();
            let inner = &text[inner_start..];
            let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
            // The first line below the comment block.
            let mut line = file.line_index(c.span.start) + 1;
            loop {
                let next = file
                    .slice(Span::new(file.line_start(line), file.line_start(line + 1)))
                    .trim();
                if next.starts_with('#') && file.line_start(line) < file.text.len() {
                    line += 1;
                } else {
                    break;
                }
            }
            let item = ast
                .items
                .iter()
                .map(|i| i.span.start)
                .find(|&s| file.line_index(s) == line && s >= file.line_start(line));
            let mut at = c.span.start + inner_start;
            for part in inner.split(',') {
                let lead = part.len() - part.trim_start().len();
                let name = part.trim();
                if !name.is_empty() {
                    out.push(AllowName {
                        file: *file_id,
                        name: name.to_string(),
                        span: Span::new(at + lead, at + lead + name.len()),
                        item,
                    });
                }
                at += part.len() + 1;
            }
        }
    }
    out
}

/// L011 (an allow naming no lint or property) and L012 (an allow of a lint
/// that the item below does not raise, or above no item). `used` holds the
/// (file, item start, code) of every allow that silenced a lint.
pub(super) fn unneeded_allows(
    checked: &Checked,
    used: &HashSet<(FileId, usize, &str)>,
) -> Vec<Diagnostic> {
    let lints: Vec<&str> = rpol_diag::codes::CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| c.starts_with('L'))
        .collect();
    let mut out = Vec::new();
    for a in allow_names(checked) {
        let is_lint = lints.contains(&a.name.as_str());
        if !is_lint && !PROPERTIES.contains(&a.name.as_str()) {
            let known = lints.iter().chain(PROPERTIES).copied();
            let mut d = Diagnostic::warning(
                "L011",
                a.file,
                a.span,
                format!(
                    "`{}` in `# rpol: allow(…)` is neither a lint code nor a `verify` property",
                    a.name
                ),
            )
            .with_label("allows nothing");
            d = match did_you_mean(&a.name, known) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")).with_suggestion(s),
                None => d.with_help("name a lint code such as `L005`, or a property: `consent_monotonicity`, `fail_safe`, `mode_monotonicity`, `live_forbids`"),
            };
            out.push(d);
            continue;
        }
        // Properties are judged by `rpol verify`; L011 and L012 would judge themselves.
        if !is_lint || a.name == "L011" || a.name == "L012" {
            continue;
        }
        let message = match a.item {
            None => format!(
                "`# rpol: allow({})` is above no item, so it suppresses nothing",
                a.name
            ),
            Some(start) if !used.contains(&(a.file, start, a.name.as_str())) => format!(
                "`# rpol: allow({})` suppresses nothing: the item below does not raise {}",
                a.name, a.name
            ),
            Some(_) => continue,
        };
        out.push(
            Diagnostic::warning("L012", a.file, a.span, message)
                .with_label("nothing to allow")
                .with_help("remove the allow, so that a reader does not take the item for an accepted exception"),
        );
    }
    out
}

/// `# rpol: allow(L00N)` in the comment lines directly above the item holding
/// the diagnostic (policy files), or above the registry entry (YAML).
/// Whether a `# rpol: allow(CODE)` comment covers the item at `span`
/// (`rpol verify` honours an allowed L003 on the `resolve` block).
pub fn is_allowed(checked: &Checked, code: &'static str, file: FileId, span: Span) -> bool {
    allowed_at(checked, code, file, allow_anchor(checked, file, span))
}

/// Where the allow comments for a finding at `span` sit above: the start of
/// the item holding it (policy files), or the span itself (the registry).
pub fn allow_anchor(checked: &Checked, file: FileId, span: Span) -> usize {
    let at = span.start;
    if Some(file) == checked.registry_file {
        return at;
    }
    let Some((_, ast)) = checked.asts.iter().find(|(f, _)| *f == file) else {
        return at;
    };
    // Items are in source order: the last one starting at or before `at`.
    let i = ast.items.partition_point(|i| i.span.start <= at);
    match i.checked_sub(1).map(|i| &ast.items[i]) {
        Some(item) if at < item.span.end.max(item.span.start + 1) => item.span.start,
        _ => at,
    }
}

pub(super) fn allowed_at(checked: &Checked, code: &str, file_id: FileId, start: usize) -> bool {
    let file = checked.sources.get(file_id);
    let mut line = file.line_index(start);
    while line > 0 {
        line -= 1;
        let text = file
            .slice(Span::new(file.line_start(line), file.line_start(line + 1)))
            .trim();
        if !text.starts_with('#') {
            return false;
        }
        if let Some(rest) = text.split("rpol: allow(").nth(1)
            && rest
                .split(')')
                .next()
                .is_some_and(|codes| codes.split(',').any(|c| c.trim() == code))
        {
            return true;
        }
    }
    false
}
