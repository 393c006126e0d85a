//! Answering from the last analysis that parsed while the current text has a
//! syntax error: cursors in the current text are mapped into the older
//! analysis, and the places it finds are mapped back (docs/editors.md lists hover,
//! completion and navigation to keep working while the user types).

use rpol_diag::{FileId, Range, Span};

use crate::analysis::Analysis;
use crate::index::Loc;
use crate::text_map::TextMap;

/// The current analysis and the one whose index answers (the same one when
/// the current text parsed).
pub struct View<'a> {
    pub cur: &'a Analysis,
    pub base: &'a Analysis,
}

/// A place to show the user: the file's name (path) and its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub name: String,
    pub range: Range,
}

impl<'a> View<'a> {
    pub fn new(cur: &'a Analysis, good: Option<&'a Analysis>) -> Self {
        let base = match good {
            Some(g) if !cur.parsed => g,
            _ => cur,
        };
        View { cur, base }
    }

    fn same(&self) -> bool {
        std::ptr::eq(self.cur, self.base)
    }

    fn map_between(&self, name: &str) -> Option<(FileId, FileId, TextMap)> {
        let b = self.base.file_named(name)?;
        let c = self.cur.file_named(name)?;
        let map = TextMap::new(self.base.text(b)?, self.cur.text(c)?);
        Some((b, c, map))
    }

    /// A cursor in the current text of `file` as a place in the base analysis.
    pub fn to_base(&self, file: FileId, offset: usize) -> Option<Loc> {
        if self.same() {
            return Some(Loc {
                file,
                span: Span::new(offset, offset),
            });
        }
        let name = self.cur.file_name(file)?;
        let (b, _, map) = self.map_between(name)?;
        let o = map.to_old(offset)?;
        Some(Loc {
            file: b,
            span: Span::new(o, o),
        })
    }

    /// A span of the base analysis in the current text, as a range.
    pub fn place(&self, loc: Loc) -> Option<Place> {
        let name = self.base.file_name(loc.file)?.to_string();
        if self.same() {
            let range = self.cur.checked.sources.range(loc.file, loc.span);
            return Some(Place { name, range });
        }
        match self.map_between(&name) {
            Some((_, c, map)) => {
                let span = map.span_to_new(loc.span)?;
                let range = self.cur.checked.sources.range(c, span);
                Some(Place { name, range })
            }
            // The current run never read this file (a syntax error stops the
            // checker before it reads the registry): the old text is the best
            // knowledge there is.
            None if self.cur.file_named(&name).is_none() => {
                let range = self.base.checked.sources.range(loc.file, loc.span);
                Some(Place { name, range })
            }
            None => None,
        }
    }
}
