//! A forgiving tokenizer for the text before the cursor. Completion must work
//! in half-written code that the parser rejects, so it reads tokens, not a tree.

use rpol_diag::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok<'a> {
    Ident(&'a str),
    /// Punctuation and operators: `[ ] { } ( ) : , . => == != < <= > >=`.
    Punct(&'a str),
    Str,
    /// An integer or a duration.
    Num,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    pub span: Span,
}

impl<'a> Token<'a> {
    pub fn is_punct(&self, p: &str) -> bool {
        self.tok == Tok::Punct(p)
    }
    pub fn ident(&self) -> Option<&'a str> {
        match self.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_ident(&self, s: &str) -> bool {
        self.tok == Tok::Ident(s)
    }
}

/// How the text ends: inside a comment or a string, nothing may be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    Code,
    Comment,
    Str,
}

pub fn lex(text: &str) -> (Vec<Token<'_>>, Tail) {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b'#' => match text[i..].find('\n') {
                Some(n) => i += n,
                None => return (out, Tail::Comment),
            },
            b'"' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return (out, Tail::Str),
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        // A string does not span lines; an unclosed one ends here.
                        Some(b'\n') => break,
                        Some(_) => i += 1,
                    }
                }
                out.push(Token {
                    tok: Tok::Str,
                    span: Span::new(start, i.min(bytes.len())),
                });
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(&text[start..i]),
                    span: Span::new(start, i),
                });
            }
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Num,
                    span: Span::new(start, i),
                });
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                let two = text.get(i..i + 2).unwrap_or("");
                let p = match two {
                    "=>" | "==" | "!=" | "<=" | ">=" => two,
                    _ => match c {
                        b'[' => "[",
                        b']' => "]",
                        b'{' => "{",
                        b'}' => "}",
                        b'(' => "(",
                        b')' => ")",
                        b':' => ":",
                        b',' => ",",
                        b'.' => ".",
                        b'<' => "<",
                        b'>' => ">",
                        _ => "",
                    },
                };
                // Anything else (a stray byte, a non-ASCII character) is skipped
                // whole, so that slicing stays on character boundaries.
                i += p
                    .len()
                    .max(text[i..].chars().next().map_or(1, char::len_utf8));
                if !p.is_empty() {
                    out.push(Token {
                        tok: Tok::Punct(p),
                        span: Span::new(start, start + p.len()),
                    });
                }
            }
        }
    }
    (out, Tail::Code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_tails() {
        let (t, tail) = lex("mode a { grants: [x, y] } # c\nwhen a.b == \"s\" => 90d");
        let kinds: Vec<Tok> = t.iter().map(|t| t.tok).collect();
        assert_eq!(kinds[0], Tok::Ident("mode"));
        assert!(kinds.contains(&Tok::Punct("=>")));
        assert!(kinds.contains(&Tok::Str));
        assert_eq!(kinds.last(), Some(&Tok::Num));
        assert_eq!(tail, Tail::Code);
        assert_eq!(lex("a # open").1, Tail::Comment);
        assert_eq!(lex("a \"open").1, Tail::Str);
        assert_eq!(lex("→ x").0.len(), 1);
    }
}
