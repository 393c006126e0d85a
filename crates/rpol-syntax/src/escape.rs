//! String literal escapes: `\" \\ \n \t \u{XXXX}` (docs/reference.md, Lexical structure).

/// Unescapes the inside of a string literal; `Err((offset, code, message))`
/// points at the bad escape relative to the start of `raw`.
pub fn unescape(raw: &str) -> Result<String, (usize, &'static str, String)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'u')) => {
                if chars.next().map(|(_, c)| c) != Some('{') {
                    return Err((i, "E0100", "expected `{` after `\\u`".into()));
                }
                let mut hex = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, h)) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                        _ => {
                            return Err((
                                i,
                                "E0100",
                                "expected 1 to 6 hex digits and `}` in `\\u{…}`".into(),
                            ));
                        }
                    }
                }
                let v = u32::from_str_radix(&hex, 16)
                    .map_err(|_| (i, "E0100", "expected hex digits in `\\u{…}`".to_string()))?;
                match char::from_u32(v) {
                    // Strings reach users (reason texts, `because`): an
                    // escaped control character is refused like a raw one.
                    Some(ch)
                        if !hex.is_empty() && crate::scan::refused(ch, Some(b'\n')).is_some() =>
                    {
                        return Err((
                            i,
                            "E0103",
                            format!(
                                "`\\u{{{hex}}}` is control character `U+{:04X}`, not allowed in a string; write `\\n` or `\\t` for a line break or a tab",
                                ch as u32
                            ),
                        ));
                    }
                    Some(ch) if !hex.is_empty() => out.push(ch),
                    _ => {
                        return Err((
                            i,
                            "E0100",
                            format!("`\\u{{{hex}}}` is not a Unicode scalar value"),
                        ));
                    }
                }
            }
            Some((_, other)) => {
                return Err((
                    i,
                    "E0100",
                    format!(
                        "unknown escape `\\{other}`; use `\\\"`, `\\\\`, `\\n`, `\\t` or `\\u{{…}}`"
                    ),
                ));
            }
            None => {
                return Err((
                    i,
                    "E0100",
                    "unfinished escape at the end of the string".into(),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn escapes() {
        assert_eq!(
            unescape(r#"a\"b\\c\nd\te\u{41}"#).unwrap(),
            "a\"b\\c\nd\teA"
        );
        assert!(unescape(r"\q").is_err());
        assert!(unescape(r"\u{110000}").is_err());
        assert!(unescape(r"\u{}").is_err());
        // Control characters reach users through reason texts: refused.
        assert_eq!(unescape(r"a\u{0}").unwrap_err().1, "E0103");
        assert_eq!(unescape(r"\u{1b}[2J").unwrap_err().1, "E0103");
        assert_eq!(unescape(r"\u{a}\u{9}").unwrap(), "\n\t");
    }
}
