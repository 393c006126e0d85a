//! Per-kind name tables. Every kind is its own namespace: the example declares
//! both a purpose and a consent topic called `personalization`.

use std::collections::HashMap;

use rpol_diag::{Diagnostic, FileId, Label, Span, did_you_mean};

use crate::resolution::{Declaration, NameKind, NameRef, Resolution};

#[derive(Debug, Clone)]
pub struct Decl {
    pub name: String,
    pub file: FileId,
    pub span: Span,
}

/// Declared names of one kind, in declaration order; the index is the id.
#[derive(Debug, Clone)]
pub struct Names {
    /// The kind's word in messages ([`NameKind::describe`]).
    pub kind: &'static str,
    pub name_kind: NameKind,
    pub decls: Vec<Decl>,
    by_name: HashMap<String, u32>,
}

impl Names {
    pub fn new(kind: NameKind) -> Self {
        Names {
            kind: kind.describe(),
            name_kind: kind,
            decls: Vec::new(),
            by_name: HashMap::new(),
        }
    }

    /// Declares a name; a second declaration is E0202 with the first as a label.
    pub fn declare(
        &mut self,
        name: &str,
        file: FileId,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<u32> {
        if let Some(&id) = self.by_name.get(name) {
            let first = &self.decls[id as usize];
            diags.push(
                Diagnostic::error(
                    "E0202",
                    file,
                    span,
                    format!("{} `{name}` is declared twice", self.kind),
                )
                .with_label("declared again here")
                .with_secondary(
                    Label::new(first.file, first.span).with_message("first declared here"),
                )
                .with_help(format!(
                    "remove one declaration or rename it; each {} name is declared once per policy",
                    self.kind
                )),
            );
            return None;
        }
        let id = self.decls.len() as u32;
        self.decls.push(Decl {
            name: name.to_string(),
            file,
            span,
        });
        self.by_name.insert(name.to_string(), id);
        Some(id)
    }

    /// [`Names::declare`] that records the declaration (`item` is the whole
    /// declaring construct); a repeated declaration is recorded naming the
    /// first, so that a rename renames both.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn declare_at(
        &mut self,
        name: &str,
        file: FileId,
        span: Span,
        item: Span,
        doc: Option<&String>,
        diags: &mut Vec<Diagnostic>,
        res: &mut Resolution,
    ) -> Option<u32> {
        let new = self.declare(name, file, span, diags);
        if let Some(id) = new.or_else(|| self.get(name)) {
            res.declare(Declaration {
                name: NameRef {
                    kind: self.name_kind,
                    id,
                    parent: None,
                },
                text: name.to_string(),
                file,
                span,
                item,
                doc: doc.cloned(),
            });
        }
        new
    }

    /// [`Names::resolve`] that records the use.
    pub(crate) fn resolve_use(
        &self,
        name: &str,
        file: FileId,
        span: Span,
        diags: &mut Vec<Diagnostic>,
        res: &mut Resolution,
    ) -> Option<u32> {
        let id = self.resolve(name, file, span, diags)?;
        self.record(id, file, span, res);
        Some(id)
    }

    /// [`Names::get`] that records the use.
    pub(crate) fn get_use(
        &self,
        name: &str,
        file: FileId,
        span: Span,
        res: &mut Resolution,
    ) -> Option<u32> {
        let id = self.get(name)?;
        self.record(id, file, span, res);
        Some(id)
    }

    pub(crate) fn record(&self, id: u32, file: FileId, span: Span, res: &mut Resolution) {
        res.refer(self.name_kind, id, file, span);
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        &self.decls[id as usize].name
    }

    pub fn len(&self) -> usize {
        self.decls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.decls.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.decls.iter().map(|d| d.name.as_str())
    }

    /// Resolves a name or reports E0201 with a did-you-mean.
    pub fn resolve(
        &self,
        name: &str,
        file: FileId,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<u32> {
        if let Some(id) = self.get(name) {
            return Some(id);
        }
        diags.push(self.unknown(name, file, span));
        None
    }

    pub fn unknown(&self, name: &str, file: FileId, span: Span) -> Diagnostic {
        unknown_name(self.kind, name, file, span, self.names())
    }
}

/// E0201 for `name` of `kind`, with a did-you-mean from `candidates`.
pub fn unknown_name<'a>(
    kind: &str,
    name: &str,
    file: FileId,
    span: Span,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let d = Diagnostic::error("E0201", file, span, format!("unknown {kind} `{name}`"))
        .with_label(format!("no {kind} of this name"));
    match did_you_mean(name, candidates.iter().copied()) {
        Some(s) => d
            .with_help(format!("did you mean `{s}`?"))
            .with_suggestion(s),
        None if candidates.is_empty() => d.with_help(format!("no {kind} is declared")),
        None => {
            let mut list: Vec<String> = candidates
                .iter()
                .take(8)
                .map(|c| format!("`{c}`"))
                .collect();
            if candidates.len() > 8 {
                list.push("…".into());
            }
            d.with_help(format!("declared {kind}s: {}", list.join(", ")))
        }
    }
}
