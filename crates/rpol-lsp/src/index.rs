//! The symbol index of one policy: every declared name and every place that
//! refers to it, as byte spans. Built from a check run's resolution by
//! `index_build`; hover, definition, references, rename and
//! completion are lookups here. Positions are converted only at the edge.

use std::collections::HashMap;

use rpol_diag::{FileId, Span};

/// What a name names: the checker's kinds, one namespace each.
pub use rpol_check::resolution::NameKind as Kind;

/// Names declared in the policy can be renamed; registry features are
/// renamed in the registry, which other policies may share.
pub fn renamable(kind: Kind) -> bool {
    kind != Kind::Feature
}

pub type SymbolId = u32;

/// A file and a byte span in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Symbol {
    pub kind: Kind,
    pub name: String,
    /// The context field of a variant.
    pub parent: Option<SymbolId>,
    /// The declaring name (the first declaration when there are several).
    pub decl: Loc,
    /// The whole declaring construct (item, field or registry entry), for hovers.
    pub item: Loc,
    /// The doc comment of the declaring item.
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub file: FileId,
    pub span: Span,
    pub symbol: SymbolId,
    /// A declaration rather than a use.
    pub is_decl: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    symbols: Vec<Symbol>,
    keys: HashMap<(Kind, Option<SymbolId>, String), SymbolId>,
    /// Sorted by file, then start.
    occurrences: Vec<Occurrence>,
}

impl Index {
    /// Declares a name; a second declaration of the same key is recorded as
    /// another declaring occurrence of the first symbol (the checker reports
    /// E0202; renaming should still rename both).
    pub(crate) fn declare(
        &mut self,
        kind: Kind,
        parent: Option<SymbolId>,
        name: &str,
        decl: Loc,
        item: Loc,
        doc: Option<String>,
    ) -> SymbolId {
        let key = (kind, parent, name.to_string());
        let id = match self.keys.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.symbols.len() as SymbolId;
                self.symbols.push(Symbol {
                    kind,
                    name: name.to_string(),
                    parent,
                    decl,
                    item,
                    doc,
                });
                self.keys.insert(key, id);
                id
            }
        };
        self.occurrences.push(Occurrence {
            file: decl.file,
            span: decl.span,
            symbol: id,
            is_decl: true,
        });
        id
    }

    /// Records a use of symbol `id`.
    pub(crate) fn refer(&mut self, id: SymbolId, at: Loc) {
        self.occurrences.push(Occurrence {
            file: at.file,
            span: at.span,
            symbol: id,
            is_decl: false,
        });
    }

    pub(crate) fn finish(&mut self) {
        self.occurrences
            .sort_by_key(|o| (o.file, o.span.start, o.span.end));
        self.occurrences.dedup();
    }

    pub fn find(&self, kind: Kind, parent: Option<SymbolId>, name: &str) -> Option<SymbolId> {
        // The key owns its name; a lookup allocates once, which is cheap next
        // to anything that calls it.
        self.keys.get(&(kind, parent, name.to_string())).copied()
    }

    pub fn symbol(&self, id: SymbolId) -> Option<&Symbol> {
        self.symbols.get(id as usize)
    }

    pub fn symbols(&self) -> impl Iterator<Item = (SymbolId, &Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (i as SymbolId, s))
    }

    /// Symbols of one kind in declaration order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = (SymbolId, &Symbol)> {
        self.symbols().filter(move |(_, s)| s.kind == kind)
    }

    /// The variants of an enum context field, in declaration order.
    pub fn variants(&self, field: SymbolId) -> impl Iterator<Item = (SymbolId, &Symbol)> {
        self.symbols()
            .filter(move |(_, s)| s.kind == Kind::Variant && s.parent == Some(field))
    }

    /// The occurrence under a cursor: the cursor may sit on the name or just
    /// after its last character (where editors put it after a word).
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        let i = self
            .occurrences
            .partition_point(|o| (o.file, o.span.start) <= (file, offset));
        // Names never overlap, so only the last one starting at or before the
        // cursor can hold it.
        self.occurrences[..i]
            .last()
            .filter(|o| o.file == file && offset <= o.span.end)
    }

    /// Every occurrence of a symbol, declarations included, in file order.
    pub fn occurrences_of(&self, id: SymbolId) -> impl Iterator<Item = &Occurrence> {
        self.occurrences.iter().filter(move |o| o.symbol == id)
    }

    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }
}
