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
    characters(file, text)?;
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

/// E0103: characters that make an editor show something other than what rpol
/// reads. A lone CR ends a line in every editor but not in rpol (so
/// `# reviewed\rforbid …` would be a comment that looks like a rule); control
/// characters and the Unicode line and paragraph separators likewise. Tabs,
/// line feeds and CRLF line ends are fine.
fn characters(file: FileId, text: &str) -> Result<(), Diagnostic> {
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        // Only these bytes can start a refused character; the rest is skipped
        // without decoding.
        if c >= 0x20 && c != 0x7f && c != 0xc2 && c != 0xe2 {
            continue;
        }
        let Some(ch) = text.get(i..).and_then(|t| t.chars().next()) else {
            continue;
        };
        if let Some((what, help)) = refused(ch, b.get(i + 1).copied()) {
            return Err(
                Diagnostic::error("E0103", file, Span::new(i, i + ch.len_utf8()), what)
                    .with_help(help),
            );
        }
    }
    Ok(())
}

/// Why `ch` (followed by the byte `next`) may not appear in a policy file.
pub(crate) fn refused(ch: char, next: Option<u8>) -> Option<(String, String)> {
    match ch {
        '\t' | '\n' => None,
        '\r' if next == Some(b'\n') => None,
        '\r' => Some((
            "a carriage return (`\\r`) without a line feed: editors show a line break that rpol does not read".into(),
            "use LF or CRLF line ends; a lone CR can make a comment look like code".into(),
        )),
        '\u{2028}' | '\u{2029}' => Some((
            format!("`U+{:04X}` ({}) is not allowed: editors may show a line break that rpol does not read", ch as u32, if ch == '\u{2028}' { "line separator" } else { "paragraph separator" }),
            "use a line feed to end a line".into(),
        )),
        c if c.is_control() => Some((
            format!("control character `U+{:04X}` is not allowed in a policy file", c as u32),
            "remove it; in a string, write `\\n` or `\\t` for a line break or a tab".into(),
        )),
        _ => None,
    }
}
