//! Maps byte offsets between an older text of a file and its current text.
//!
//! While a file has a syntax error the server answers from the last analysis
//! that parsed; its spans point into the text as it was then. An edit usually
//! touches one region, so the texts share a prefix and a suffix: offsets there
//! move by the length difference, and offsets inside the edited region have no
//! counterpart (the answer is "nothing here" rather than a wrong place).

use rpol_diag::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextMap {
    /// Length of the common prefix (on a char boundary in both texts).
    prefix: usize,
    /// Length of the common suffix, not overlapping the prefix in either text.
    suffix: usize,
    old_len: usize,
    new_len: usize,
}

impl TextMap {
    pub fn new(old: &str, new: &str) -> Self {
        let (ob, nb) = (old.as_bytes(), new.as_bytes());
        let mut prefix = ob.iter().zip(nb).take_while(|(a, b)| a == b).count();
        while !(old.is_char_boundary(prefix) && new.is_char_boundary(prefix)) {
            prefix -= 1;
        }
        let max_suffix = (ob.len() - prefix).min(nb.len() - prefix);
        let mut suffix = ob
            .iter()
            .rev()
            .zip(nb.iter().rev())
            .take(max_suffix)
            .take_while(|(a, b)| a == b)
            .count();
        while !(old.is_char_boundary(ob.len() - suffix) && new.is_char_boundary(nb.len() - suffix))
        {
            suffix -= 1;
        }
        TextMap {
            prefix,
            suffix,
            old_len: ob.len(),
            new_len: nb.len(),
        }
    }

    /// The texts are the same.
    pub fn is_identity(&self) -> bool {
        self.old_len == self.new_len && self.prefix == self.old_len
    }

    /// Where an offset of the old text is in the new one. At the edge of an
    /// insertion, the offset is taken to be after it (a span starting there
    /// belongs to the text that follows).
    pub fn to_new(&self, offset: usize) -> Option<usize> {
        let (from, to) = (self.old_len, self.new_len);
        if offset >= from - self.suffix && offset <= from {
            Some(offset + to - from)
        } else {
            self.before_edit(offset)
        }
    }

    /// Where an offset of the new text (a cursor) was in the old one. At the
    /// edge of the edit, the offset is taken to be before it (a cursor just
    /// after a word belongs to that word).
    pub fn to_old(&self, offset: usize) -> Option<usize> {
        let (from, to) = (self.new_len, self.old_len);
        match self.before_edit(offset) {
            Some(o) => Some(o),
            None if offset >= from - self.suffix && offset <= from => Some(offset + to - from),
            None => None,
        }
    }

    fn before_edit(&self, offset: usize) -> Option<usize> {
        (offset <= self.prefix).then_some(offset)
    }

    /// A span of the old text in the new one: it moves with the text around
    /// it, grows when it encloses the edit, and is `None` when one of its ends
    /// lies inside the edited region.
    pub fn span_to_new(&self, span: Span) -> Option<Span> {
        if span.start == span.end {
            let o = self.to_new(span.start)?;
            return Some(Span::new(o, o));
        }
        let start = self.to_new(span.start)?;
        // An end at the edge of the edit stays before it.
        let end = match self.before_edit(span.end) {
            Some(e) => e,
            None => self.to_new(span.end)?,
        };
        (start <= end).then(|| Span::new(start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_around_an_edit_move_by_the_length_difference() {
        let old = "mode a { }\nmode c { }\n";
        let new = "mode a { }\nmode x {\nmode c { }\n";
        let m = TextMap::new(old, new);
        assert_eq!(m.to_new(5), Some(5));
        // `c` of the last line.
        let b_old = old.rfind('c').unwrap();
        let b_new = new.rfind('c').unwrap();
        assert_eq!(m.to_new(b_old), Some(b_new));
        assert_eq!(m.to_old(b_new), Some(b_old));
        assert!(!m.is_identity());
        assert!(TextMap::new(old, old).is_identity());
    }

    #[test]
    fn offsets_inside_the_edit_have_no_counterpart() {
        let m = TextMap::new("abcXdef", "abcYYdef");
        assert_eq!(m.to_old(4), None);
        assert_eq!(m.to_old(3), Some(3));
        assert_eq!(m.to_old(5), Some(4));
        // A span around the edit grows with it.
        assert_eq!(m.span_to_new(Span::new(2, 5)), Some(Span::new(2, 6)));
        assert_eq!(m.span_to_new(Span::new(4, 7)), Some(Span::new(5, 8)));
        assert_eq!(m.span_to_new(Span::new(0, 2)), Some(Span::new(0, 2)));
        let m = TextMap::new("abcXYZdef", "abcQdef");
        assert_eq!(m.span_to_new(Span::new(4, 7)), None);
        assert_eq!(m.span_to_new(Span::new(1, 5)), None);
    }

    #[test]
    fn multibyte_characters_keep_boundaries() {
        let m = TextMap::new("a→b", "a←b");
        assert_eq!(m.to_new(0), Some(0));
        assert_eq!(m.to_new(1), Some(1));
        assert_eq!(m.to_new(4), Some(4));
        assert_eq!(m.to_new(2), None);
    }

    #[test]
    fn repeated_text_does_not_overlap_prefix_and_suffix() {
        let m = TextMap::new("aaa", "aaaa");
        assert_eq!(m.to_new(3), Some(4));
        assert_eq!(m.span_to_new(Span::new(0, 3)), Some(Span::new(0, 3)));
        assert_eq!(m.to_new(0), Some(0));
        let m = TextMap::new("aaaa", "aaa");
        assert_eq!(m.to_new(4), Some(3));
        assert_eq!(m.to_old(3), Some(3));
    }
}
