//! The RPOL grammar (`src/rpol.pest`) and its lowering into an AST with
//! byte spans. No pest type leaves this crate.

pub mod ast;
mod escape;
pub mod limits;
mod parser;
mod scan;

use rpol_diag::{Diagnostic, FileId};

/// The roots of paths in expressions (docs/reference.md, Lexical structure).
pub const PATH_ROOTS: &[&str] = &[
    "tenant",
    "surface",
    "purpose",
    "subject",
    "consent",
    "consent_version",
    "context",
    "roles",
    "mode",
    "feature",
];

/// Keywords that start an item (docs/reference.md, Items).
pub const ITEM_KEYWORDS: &[&str] = &[
    "policy",
    "purposes",
    "consent",
    "capabilities",
    "roles",
    "surfaces",
    "context",
    "mode",
    "class",
    "source",
    "feature_set",
    "reason",
    "resolve",
    "forbid",
    "retention",
    "debug",
    "test",
];

/// The other keywords.
const KEYWORDS: &[&str] = &[
    "when",
    "else",
    "because",
    "given",
    "expect",
    "allowed",
    "denied",
    "shows",
    "suppressed",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
];

pub fn is_keyword(s: &str) -> bool {
    ITEM_KEYWORDS.contains(&s) || KEYWORDS.contains(&s)
}

/// Parses one condition on its own, as `rpol verify --query` takes it.
pub fn parse_expr(file: FileId, text: &str) -> Result<ast::Expr, Diagnostic> {
    // The scanner enforces the nesting and size limits (E0101) and finds comments.
    let comments = scan::scan(file, text)?;
    if let Some(c) = comments.first() {
        return Err(Diagnostic::error(
            "E0100",
            file,
            c.span,
            "a comment is not allowed in a query",
        ));
    }
    parser::parse_expr(file, text)
}

/// Parses one file. A syntax error is one E0100 (E0101 for a limit).
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Diagnostic> {
    let comments = scan::scan(file, text)?;
    let mut items = parser::parse_items(file, text, &comments)?;
    attach_docs(text, &comments, &mut items);
    Ok(ast::File { items, comments })
}

/// The run of `##` lines directly before an item is its doc comment.
fn attach_docs(text: &str, comments: &[ast::Comment], items: &mut [ast::Item]) {
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_of = |off: usize| newlines.partition_point(|&n| n < off);
    let first_on_line = |off: usize| {
        let start = text[..off].rfind('\n').map_or(0, |i| i + 1);
        text[start..off].trim().is_empty()
    };
    for item in items {
        // Only the first item on a line can have the lines above as its doc
        // (`forbid source forbid feature` is two items; fuzzing found this).
        if !first_on_line(item.span.start) {
            continue;
        }
        let mut line = line_of(item.span.start);
        let mut idx = comments.partition_point(|c| c.span.start < item.span.start);
        let mut lines = Vec::new();
        while idx > 0 {
            let c = &comments[idx - 1];
            if !c.doc || !first_on_line(c.span.start) || line_of(c.span.start) + 1 != line {
                break;
            }
            // Trailing spaces are not part of a doc comment (editors and `rpol fmt` drop them).
            lines.push(
                c.text
                    .strip_prefix(' ')
                    .unwrap_or(&c.text)
                    .trim_end()
                    .to_string(),
            );
            line -= 1;
            idx -= 1;
        }
        if !lines.is_empty() {
            lines.reverse();
            item.doc = Some(lines.join("\n"));
        }
    }
}
