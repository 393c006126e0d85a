//! A linear scan over the source: collects comments (outside strings) and
//! enforces the limits of [`crate::limits`] before pest sees the text.

use rpol_diag::{Diagnostic, FileId, Span};

use crate::ast::Comment;
use crate::limits::*;

fn limit(file: FileId, span: Span, msg: String, help: String) -> Diagnostic {
    Diagnostic::error("E0101", file, span, msg).with_help(help)
}

pub fn scan(file: FileId, text: &str) -> Result<Vec<Comment>, Diagnostic> {
    if text.len() > MAX_SOURCE_BYTES {
        return Err(limit(
            file,
            Span::new(0, 0),
            format!(
                "file is {} bytes, over the limit of {MAX_SOURCE_BYTES} bytes",
                text.len()
            ),
            "split the policy into several files".into(),
        ));
    }
    let b = text.as_bytes();
    let mut comments = Vec::new();
    let mut depth = 0usize;
    let mut nots = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                let raw = &text[start..i];
                let doc = raw.starts_with("##");
                let body = if doc { &raw[2..] } else { &raw[1..] };
                comments.push(Comment {
                    span: Span::new(start, i),
                    text: body.trim_end_matches('\r').to_string(),
                    doc,
                });
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i - start > MAX_STRING_BYTES {
                    return Err(limit(
                        file,
                        Span::new(start, start + 1),
                        format!(
                            "string literal is {} bytes, over the limit of {MAX_STRING_BYTES} bytes",
                            i - start
                        ),
                        "policies hold names and short texts; keep large data out of them".into(),
                    ));
                }
                i += 1;
                nots = 0;
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(limit(
                        file,
                        Span::new(i, i + 1),
                        format!("brackets nest deeper than {MAX_NESTING} levels"),
                        format!(
                            "the nesting limit is {MAX_NESTING}; split the condition into simpler parts"
                        ),
                    ));
                }
                nots = 0;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                nots = 0;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if &text[start..i] == "not" {
                    nots += 1;
                    if nots > MAX_NOT_RUN {
                        return Err(limit(
                            file,
                            Span::new(start, i),
                            format!("more than {MAX_NOT_RUN} `not` in a row"),
                            "`not not x` is `x`; simplify the condition".into(),
                        ));
                    }
                } else {
                    nots = 0;
                }
                continue;
            }
            c if c.is_ascii_whitespace() => {}
            _ => nots = 0,
        }
        i += 1;
    }
    Ok(comments)
}
