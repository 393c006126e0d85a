use std::sync::{Arc, OnceLock};

use crate::{FileId, Span};

/// A 1-based line and column; `column` counts Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as reached from the path given on the command line, `/`-separated.
    pub name: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
    /// [`SourceFile::printable`], made on first use.
    printable: OnceLock<Option<Box<str>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        // Lines end at LF, CRLF or a lone CR, as in editors and the language
        // server protocol. rpol refuses a lone CR in a policy (E0103), but the
        // error must point where the editor shows it, and YAML allows it.
        let b = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            b.iter()
                .enumerate()
                .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| i + 1),
        );
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            printable: OnceLock::new(),
        }
    }

    /// The text as it may be printed on a terminal: control characters (but
    /// tab and line ends), the line and paragraph separators and
    /// bidirectional controls replaced by a placeholder of the same length in
    /// bytes (`?`, `¿` or `�`), so that every span still applies, and a lone
    /// CR by a line feed (it ends a line, see [`SourceFile::new`]). A snippet
    /// must never move the cursor, clear the screen or reorder what is shown.
    pub fn printable(&self) -> &str {
        self.printable
            .get_or_init(|| {
                let t = &*self.text;
                let unsafe_at = |i: usize, c: char| match c {
                    '\t' | '\n' => false,
                    '\r' => t.as_bytes().get(i + 1) != Some(&b'\n'),
                    '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => true,
                    '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
                    c => c.is_control(),
                };
                if !t.char_indices().any(|(i, c)| unsafe_at(i, c)) {
                    return None;
                }
                let mut out = String::with_capacity(t.len());
                for (i, c) in t.char_indices() {
                    if !unsafe_at(i, c) {
                        out.push(c);
                        continue;
                    }
                    out.push(match c.len_utf8() {
                        _ if c == '\r' => '\n',
                        1 => '?',
                        2 => '¿',
                        _ => '\u{FFFD}',
                    });
                }
                Some(out.into_boxed_str())
            })
            .as_deref()
            .unwrap_or(&self.text)
    }

    fn clamp(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        let offset = self.clamp(offset);
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    pub fn line_start(&self, line_index: usize) -> usize {
        self.line_starts
            .get(line_index)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.clamp(offset);
        let line = self.line_index(offset);
        let column = self.text[self.line_starts[line]..offset].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// 0-based line and UTF-16 column, as the language server protocol counts.
    pub fn utf16_position(&self, offset: usize) -> (u32, u32) {
        let offset = self.clamp(offset);
        let line = self.line_index(offset);
        let col: usize = self.text[self.line_starts[line]..offset]
            .chars()
            .map(char::len_utf16)
            .sum();
        (line as u32, col as u32)
    }

    /// The byte offset of a 0-based line and UTF-16 column (clamped to the line).
    pub fn offset_of_utf16(&self, line: u32, col: u32) -> usize {
        let Some(&start) = self.line_starts.get(line as usize) else {
            return self.text.len();
        };
        let end = self
            .line_starts
            .get(line as usize + 1)
            .copied()
            .unwrap_or(self.text.len());
        let mut units = 0u32;
        for (i, ch) in self.text[start..end].char_indices() {
            if units >= col || ch == '\n' || ch == '\r' {
                return start + i;
            }
            units += ch.len_utf16() as u32;
        }
        end
    }

    pub fn slice(&self, span: Span) -> &str {
        let (s, e) = (self.clamp(span.start), self.clamp(span.end));
        &self.text[s..e.max(s)]
    }
}

/// Every file a run has read (policy files, then the registry).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap::default()
    }
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(SourceFile::new(name, text));
        FileId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_utf16() {
        let f = SourceFile::new("a.rpol", "ab\n→x\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 2 });
        assert_eq!(f.utf16_position(6), (1, 1));
        assert_eq!(f.offset_of_utf16(1, 1), 6);
    }

    #[test]
    fn a_lone_cr_ends_a_line_as_in_editors() {
        let f = SourceFile::new("a.rpol", "# ok\rforbid\r\nx");
        assert_eq!(f.line_col(5), LineCol { line: 2, column: 1 });
        assert_eq!(f.line_col(13), LineCol { line: 3, column: 1 });
        assert_eq!(f.utf16_position(5), (1, 0));
        assert_eq!(f.offset_of_utf16(0, 99), 4);
        assert_eq!(f.offset_of_utf16(1, 99), 11);
    }

    #[test]
    fn printable_keeps_lengths() {
        let t = "a\r\nb\rc\u{1b}[2J\u{85}\u{202e}d\te";
        let f = SourceFile::new("a.rpol", t);
        assert_eq!(f.printable(), "a\r\nb\nc?[2J¿\u{FFFD}d\te");
        assert_eq!(f.printable().len(), t.len());
        let plain = SourceFile::new("b.rpol", "x\r\ny\n");
        assert_eq!(plain.printable(), "x\r\ny\n");
    }
}
