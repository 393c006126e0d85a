//! The state every pass of a check run shares: the context ([`Cx`]: the
//! sources, the diagnostics so far, the names declared, the registry), what
//! the declaration pass found ([`Decls`]) and what lowering produced
//! ([`Lowered`]). Passes take these; this module imports no pass.

use std::cell::OnceCell;

use rpol_diag::{Diagnostic, FileId, SourceMap, Span};
use rpol_engine::model;
use rpol_registry::Registry;
use rpol_syntax::ast::{self, Item};

use crate::ModelSpans;
use crate::names::Names;
use crate::resolution::Resolution;
use crate::scope::Scope;

/// Items of one kind in declaration order, with the id they were given.
pub(crate) struct Declared<'a> {
    pub file: FileId,
    pub item: &'a Item,
    pub id: u32,
}

pub(crate) struct Cx<'a> {
    pub sm: &'a SourceMap,
    pub diags: Vec<Diagnostic>,
    pub scope: Scope,
    /// Every name resolved so far, for the language server.
    pub resolution: Resolution,
    pub registry: Option<Registry>,
    pub registry_file: Option<FileId>,
    /// The registry's features as model features, built once by
    /// [`crate::registry_check::model_features`] (the rules and the model both
    /// need them).
    pub model_features: OnceCell<Option<Vec<Option<model::Feature>>>>,
}

impl Cx<'_> {
    /// Declares the name of field `f` of table `item` among the names
    /// `which` picks (E0202 when repeated), recording the declaration.
    pub fn declare_field(
        &mut self,
        which: fn(&mut Scope) -> &mut Names,
        file: FileId,
        item: &Item,
        f: &ast::Field,
    ) -> Option<u32> {
        which(&mut self.scope).declare_at(
            &f.name.name,
            file,
            f.name.span,
            f.span,
            item.doc.as_ref(),
            &mut self.diags,
            &mut self.resolution,
        )
    }

    /// Resolves `name` among the names `which` picks from the scope: E0201
    /// when it is not declared, else the use is recorded in the resolution.
    pub fn resolve(
        &mut self,
        which: impl Fn(&Scope) -> &Names,
        file: FileId,
        name: &ast::Ident,
    ) -> Option<u32> {
        which(&self.scope).resolve_use(
            &name.name,
            file,
            name.span,
            &mut self.diags,
            &mut self.resolution,
        )
    }

    /// `FILE:LINE` of a byte offset (docs/reference.md, Files and policies).
    pub fn rule(&self, file: FileId, span: Span) -> String {
        let f = self.sm.get(file);
        format!("{}:{}", f.name, f.line_col(span.start).line)
    }
}

/// What pass 1 found, in declaration order.
pub(crate) struct Decls<'a> {
    pub modes: Vec<Declared<'a>>,
    pub classes: Vec<Declared<'a>>,
    pub sources: Vec<Declared<'a>>,
    pub feature_sets: Vec<Declared<'a>>,
    pub reasons: Vec<Declared<'a>>,
    pub resolves: Vec<(FileId, &'a Item)>,
    pub forbids: Vec<(FileId, &'a Item, &'a ast::Forbid)>,
    pub debug: Option<(FileId, &'a ast::Fields)>,
    pub retention: Vec<(String, i64)>,
    /// Where each vocabulary name is declared, for lints and the language server.
    pub vocab_items: Vec<(FileId, &'a Item)>,
}

/// Everything lowered from the items, by id; `None` where an item had errors.
pub(crate) struct Lowered {
    pub header: Option<(String, String)>,
    pub modes: Vec<Option<model::Mode>>,
    pub classes: Vec<Option<model::Class>>,
    pub class_max_retention: Vec<Option<(i64, FileId, Span)>>,
    pub sources: Vec<Option<model::Source>>,
    pub feature_sets: Vec<Option<model::FeatureSet>>,
    pub reasons: Vec<Option<model::Reason>>,
    pub forbids: Vec<model::Forbid>,
    pub resolve: Option<(Vec<model::Arm>, model::Arm)>,
    pub retention: Vec<(String, i64)>,
    pub debug: Vec<(u32, model::Clearance)>,
    pub spans: ModelSpans,
    /// Where each source's `when` sits, by source id.
    pub source_whens: Vec<Option<crate::ConditionSpans>>,
    /// Where each forbid rule's condition sits, beside `forbids`.
    pub forbid_whens: Vec<Option<crate::ConditionSpans>>,
    /// Where each conditional `resolve` arm's condition sits.
    pub arm_conditions: Vec<crate::ConditionSpans>,
}
