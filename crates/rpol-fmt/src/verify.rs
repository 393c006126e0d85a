//! The formatter's self-check: reparse its output and compare.

use rpol_diag::FileId;
use rpol_syntax::ast::File;

use crate::FormatError;

pub fn same_meaning(before: &File, out: &str) -> Result<(), FormatError> {
    let after = rpol_syntax::parse(FileId(0), out).map_err(|d| {
        FormatError::Internal(format!("output does not parse: {} {}", d.code, d.message))
    })?;
    if strip_spans(&format!("{:?}", before.items)) != strip_spans(&format!("{:?}", after.items)) {
        return Err(FormatError::Internal(
            "output parses to a different syntax tree".into(),
        ));
    }
    let texts = |f: &File| {
        f.comments
            .iter()
            .map(|c| (c.doc, c.text.trim_end().to_string()))
            .collect::<Vec<_>>()
    };
    if texts(before) != texts(&after) {
        return Err(FormatError::Internal(format!(
            "comments changed ({} before, {} after)",
            before.comments.len(),
            after.comments.len()
        )));
    }
    Ok(())
}

/// The `Debug` form with every `Span { start: …, end: … }` blanked, so two
/// trees compare equal when they differ only in positions.
fn strip_spans(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("Span { start: ") {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        match rest[i..].find('}') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strip_spans_blanks_positions() {
        assert_eq!(
            super::strip_spans("Ident { name: \"a\", span: Span { start: 1, end: 2 } }"),
            "Ident { name: \"a\", span: Span }"
        );
    }
}
