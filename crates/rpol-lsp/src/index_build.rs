//! Builds the [`Index`] from a check run: declarations first (so that uses can
//! resolve whatever the order of items and files), then every use, following
//! the checker's rules for which kind of name each place takes (spec 3, 4, 8)
//! — including the registry YAML, whose classes, modes, purposes and consent
//! topics refer to the policy's names.

use rpol_check::Checked;
use rpol_diag::{FileId, SourceMap, Span};
use rpol_syntax::ast::{
    self, BlockKind, ExpectKind, Expr, ExprKind, ForbidKind, Ident, Item, ItemKind, TableKind,
    Value, VocabKind,
};

use crate::index::{Index, Kind, Loc, SymbolId};

pub fn build(checked: &Checked) -> Index {
    let mut b = Builder {
        index: Index::default(),
    };
    for (file, a) in &checked.asts {
        for item in &a.items {
            b.declare_item(*file, item);
        }
    }
    if let (Some(reg), Some(rfile)) = (&checked.registry, checked.registry_file) {
        for f in &reg.features {
            let at = Loc {
                file: rfile,
                span: name_span(&checked.sources, rfile, f.name.span, &f.name.value),
            };
            let item = Loc {
                file: rfile,
                span: f.span,
            };
            b.index.declare(
                Kind::Feature,
                None,
                &f.name.value,
                at,
                item,
                f.description.clone(),
            );
        }
    }
    for (file, a) in &checked.asts {
        for item in &a.items {
            b.use_item(*file, item);
        }
    }
    if let (Some(reg), Some(rfile)) = (&checked.registry, checked.registry_file) {
        let sm = &checked.sources;
        let mut refer = |kind: Kind, name: &str, span: Span| {
            let span = name_span(sm, rfile, span, name);
            b.index.refer(kind, None, name, Loc { file: rfile, span });
        };
        for f in &reg.features {
            refer(Kind::Class, &f.privacy_class.value, f.privacy_class.span);
            for m in &f.allowed_privacy_modes.value {
                refer(Kind::Mode, &m.value, m.span);
            }
            for p in f
                .allowed_purposes
                .value
                .iter()
                .chain(f.prohibited_purposes.iter().flat_map(|p| &p.value))
            {
                refer(Kind::Purpose, &p.value, p.span);
            }
            if let Some(c) = &f.requires_consent {
                refer(Kind::Consent, &c.value, c.span);
            }
        }
    }
    b.index.finish();
    b.index
}

/// The span of just the name inside a YAML scalar's span (which includes
/// quotes when the scalar is quoted), so that a rename edits the name only.
fn name_span(sm: &SourceMap, file: FileId, span: Span, name: &str) -> Span {
    if file.0 as usize >= sm.len() {
        return span;
    }
    let text = sm.get(file).slice(span);
    match text.find(name) {
        Some(i) if !name.is_empty() => Span::new(span.start + i, span.start + i + name.len()),
        _ => span,
    }
}

struct Builder {
    index: Index,
}

/// The names of a `[a, b]` list value (or of a single bare name).
fn names(v: &Value) -> Vec<&Ident> {
    match v {
        Value::Expr(e) => match &strip(e).kind {
            ExprKind::List(items) => items.iter().filter_map(bare).collect(),
            _ => bare(e).into_iter().collect(),
        },
        Value::Object(_) => Vec::new(),
    }
}

fn strip(mut e: &Expr) -> &Expr {
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    e
}

fn bare(e: &Expr) -> Option<&Ident> {
    match &strip(e).kind {
        ExprKind::Path(segs) if segs.len() == 1 => segs.first(),
        _ => None,
    }
}

/// What a value operand in a condition is, for typing the bare names beside it.
enum Operand<'a> {
    /// A bare name: its kind comes from the other side.
    Bare(&'a Ident),
    /// A path or literal; `Some` when names compared with it are symbols.
    Typed(Option<Target>),
}

#[derive(Clone, Copy)]
enum Target {
    Kind(Kind),
    Variant(SymbolId),
}

impl Builder {
    fn loc(file: FileId, span: Span) -> Loc {
        Loc { file, span }
    }

    fn declare_item(&mut self, file: FileId, item: &Item) {
        let at = Self::loc;
        match &item.kind {
            ItemKind::Block { kind, name, .. } => {
                let k = match kind {
                    BlockKind::Policy => Kind::Policy,
                    BlockKind::Mode => Kind::Mode,
                    BlockKind::Class => Kind::Class,
                    BlockKind::Source => Kind::Source,
                    BlockKind::FeatureSet => Kind::FeatureSet,
                    BlockKind::Reason => Kind::Reason,
                };
                self.index.declare(
                    k,
                    None,
                    &name.name,
                    at(file, name.span),
                    at(file, item.span),
                    item.doc.clone(),
                );
            }
            ItemKind::Vocab { kind, names, .. } => {
                let k = vocab_kind(*kind);
                for n in names {
                    self.index.declare(
                        k,
                        None,
                        &n.name,
                        at(file, n.span),
                        at(file, item.span),
                        item.doc.clone(),
                    );
                }
            }
            ItemKind::Table { kind, fields } => match kind {
                TableKind::Context => {
                    for f in &fields.fields {
                        let id = self.index.declare(
                            Kind::ContextField,
                            None,
                            &f.name.name,
                            at(file, f.name.span),
                            at(file, f.span),
                            item.doc.clone(),
                        );
                        if let Value::Expr(e) = &f.value
                            && let ExprKind::List(_) = strip(e).kind
                        {
                            for v in names(&f.value) {
                                self.index.declare(
                                    Kind::Variant,
                                    Some(id),
                                    &v.name,
                                    at(file, v.span),
                                    at(file, f.span),
                                    None,
                                );
                            }
                        }
                    }
                }
                TableKind::Retention => {
                    for f in &fields.fields {
                        self.index.declare(
                            Kind::Retention,
                            None,
                            &f.name.name,
                            at(file, f.name.span),
                            at(file, f.span),
                            item.doc.clone(),
                        );
                    }
                }
                TableKind::Debug => {}
            },
            ItemKind::Resolve { .. } | ItemKind::Forbid(_) | ItemKind::Test(_) => {}
        }
    }

    fn refer_all(&mut self, kind: Kind, file: FileId, ids: &[&Ident]) {
        for id in ids {
            self.index
                .refer(kind, None, &id.name, Self::loc(file, id.span));
        }
    }

    fn use_item(&mut self, file: FileId, item: &Item) {
        match &item.kind {
            ItemKind::Block { kind, fields, .. } => {
                for f in &fields.fields {
                    let k = match (kind, f.name.name.as_str()) {
                        (BlockKind::Mode, "grants")
                        | (BlockKind::Class | BlockKind::Source | BlockKind::Reason, "requires") => {
                            Some(Kind::Capability)
                        }
                        (BlockKind::FeatureSet, "modes") => Some(Kind::Mode),
                        (BlockKind::FeatureSet, "surfaces") => Some(Kind::Surface),
                        (BlockKind::FeatureSet, "features") | (BlockKind::Reason, "from") => {
                            Some(Kind::Feature)
                        }
                        (BlockKind::Source, "when") => {
                            if let Value::Expr(e) = &f.value {
                                self.condition(file, e);
                            }
                            None
                        }
                        _ => None,
                    };
                    if let Some(k) = k {
                        self.refer_all(k, file, &names(&f.value));
                    }
                }
            }
            ItemKind::Table {
                kind: TableKind::Debug,
                fields,
            } => {
                for f in &fields.fields {
                    self.refer_all(Kind::Role, file, &[&f.name]);
                }
            }
            ItemKind::Resolve { arms, .. } => {
                for arm in arms {
                    if let Some(c) = &arm.condition {
                        self.condition(file, c);
                    }
                    self.refer_all(Kind::Mode, file, &[&arm.mode]);
                }
            }
            ItemKind::Forbid(f) => {
                let k = match f.kind {
                    ForbidKind::Feature => Kind::Feature,
                    ForbidKind::Source => Kind::Source,
                    ForbidKind::Reason => Kind::Reason,
                };
                if let Some(t) = &f.targets {
                    let ids: Vec<&Ident> = t.names().iter().collect();
                    self.refer_all(k, file, &ids);
                }
                if let Some(c) = &f.condition {
                    self.condition(file, c);
                }
            }
            ItemKind::Test(t) => self.test(file, t),
            ItemKind::Vocab { .. } | ItemKind::Table { .. } => {}
        }
    }

    fn test(&mut self, file: FileId, t: &ast::Test) {
        for g in &t.given {
            for f in &g.fields {
                match (f.name.name.as_str(), &f.value) {
                    ("surface", v) => self.refer_all(Kind::Surface, file, &names(v)),
                    ("purpose", v) => self.refer_all(Kind::Purpose, file, &names(v)),
                    ("roles", v) => self.refer_all(Kind::Role, file, &names(v)),
                    ("features", v) => self.refer_all(Kind::Feature, file, &names(v)),
                    ("consent", Value::Object(o)) => {
                        for c in &o.fields {
                            self.refer_all(Kind::Consent, file, &[&c.name]);
                        }
                    }
                    ("context", Value::Object(o)) => {
                        for c in &o.fields {
                            let Some(field) = self.index.refer(
                                Kind::ContextField,
                                None,
                                &c.name.name,
                                Self::loc(file, c.name.span),
                            ) else {
                                continue;
                            };
                            for v in names(&c.value) {
                                self.index.refer(
                                    Kind::Variant,
                                    Some(field),
                                    &v.name,
                                    Self::loc(file, v.span),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        for e in &t.expects {
            match &e.kind {
                ExpectKind::Mode(m) => self.refer_all(Kind::Mode, file, &[m]),
                ExpectKind::Route(Some(r)) => self.refer_all(Kind::FeatureSet, file, &[r]),
                ExpectKind::Route(None) => {}
                ExpectKind::Source { targets, .. } => {
                    let ids: Vec<&Ident> = targets.names().iter().collect();
                    self.refer_all(Kind::Source, file, &ids);
                }
                ExpectKind::Feature { targets, .. } => {
                    let ids: Vec<&Ident> = targets.names().iter().collect();
                    self.refer_all(Kind::Feature, file, &ids);
                }
                ExpectKind::ReasonShows { reason, .. } => {
                    self.refer_all(Kind::Reason, file, &[reason])
                }
                ExpectKind::ReasonSuppressed { .. } | ExpectKind::CacheScope(_) => {}
                ExpectKind::Retention { kind, .. } => {
                    self.refer_all(Kind::Retention, file, &[kind])
                }
                ExpectKind::Debug { role, targets, .. } => {
                    self.refer_all(Kind::Role, file, &[role]);
                    let ids: Vec<&Ident> = targets.names().iter().collect();
                    self.refer_all(Kind::Feature, file, &ids);
                }
            }
        }
    }

    /// Records the names a condition uses (spec 4): path segments, and bare
    /// names typed by the operand they are compared with.
    fn condition(&mut self, file: FileId, e: &Expr) {
        match &e.kind {
            ExprKind::Paren(x) | ExprKind::Not(x) => self.condition(file, x),
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                for x in xs {
                    self.condition(file, x);
                }
            }
            ExprKind::Compare { lhs, rhs, .. } => {
                let l = self.operand(file, lhs);
                let r = self.operand(file, rhs);
                self.pair(file, &l, &r);
                self.pair(file, &r, &l);
            }
            ExprKind::In { lhs, rhs, .. } => {
                let rhs = strip(rhs);
                match &rhs.kind {
                    ExprKind::Path(segs) if segs.len() == 1 && segs[0].name == "roles" => {
                        if let Some(id) = bare(lhs) {
                            self.refer_all(Kind::Role, file, &[id]);
                        } else {
                            self.operand(file, lhs);
                        }
                    }
                    ExprKind::List(items) => {
                        let l = self.operand(file, lhs);
                        let ops: Vec<Operand<'_>> =
                            items.iter().map(|i| self.operand(file, i)).collect();
                        // The list's type is the left side's, else the first typed item's.
                        let target = std::iter::once(&l).chain(&ops).find_map(|o| match o {
                            Operand::Typed(t) => Some(*t),
                            Operand::Bare(_) => None,
                        });
                        if let Some(Some(t)) = target {
                            for o in std::iter::once(&l).chain(&ops) {
                                if let Operand::Bare(id) = o {
                                    self.refer_target(file, t, id);
                                }
                            }
                        }
                    }
                    _ => {
                        self.operand(file, lhs);
                        self.operand(file, rhs);
                    }
                }
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.operand(file, a);
                }
            }
            ExprKind::Path(_) => {
                self.operand(file, e);
            }
            ExprKind::Str(_)
            | ExprKind::Int(_)
            | ExprKind::Duration { .. }
            | ExprKind::Bool(_)
            | ExprKind::List(_) => {}
        }
    }

    fn pair(&mut self, file: FileId, name: &Operand<'_>, other: &Operand<'_>) {
        if let (Operand::Bare(id), Operand::Typed(Some(t))) = (name, other) {
            self.refer_target(file, *t, id);
        }
    }

    fn refer_target(&mut self, file: FileId, t: Target, id: &Ident) {
        let at = Self::loc(file, id.span);
        match t {
            Target::Kind(k) => self.index.refer(k, None, &id.name, at),
            Target::Variant(field) => self.index.refer(Kind::Variant, Some(field), &id.name, at),
        };
    }

    /// Records the names in a path and says what names compared with it are.
    fn operand<'e>(&mut self, file: FileId, e: &'e Expr) -> Operand<'e> {
        let e = strip(e);
        let ExprKind::Path(segs) = &e.kind else {
            if !matches!(
                e.kind,
                ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Duration { .. }
            ) {
                // A nested condition where a value was expected (E0301): still
                // collect its names.
                self.condition(file, e);
            }
            return Operand::Typed(None);
        };
        let (Some(root), rest) = (segs.first(), segs.get(1..).unwrap_or(&[])) else {
            return Operand::Typed(None);
        };
        let target = match (root.name.as_str(), rest) {
            ("surface", []) => Some(Target::Kind(Kind::Surface)),
            ("purpose", []) => Some(Target::Kind(Kind::Purpose)),
            ("mode", []) => Some(Target::Kind(Kind::Mode)),
            ("consent", [t]) => {
                self.refer_all(Kind::Consent, file, &[t]);
                None
            }
            ("context", [f]) => {
                let id =
                    self.index
                        .refer(Kind::ContextField, None, &f.name, Self::loc(file, f.span));
                // Only enum fields have variants to refer to.
                id.filter(|&id| self.index.variants(id).next().is_some())
                    .map(Target::Variant)
            }
            ("feature", [f]) if f.name == "name" => Some(Target::Kind(Kind::Feature)),
            ("feature", [f]) if f.name == "class" => Some(Target::Kind(Kind::Class)),
            (name, []) if !rpol_syntax::PATH_ROOTS.contains(&name) => {
                return Operand::Bare(root);
            }
            _ => None,
        };
        Operand::Typed(target)
    }
}

fn vocab_kind(k: VocabKind) -> Kind {
    match k {
        VocabKind::Purposes => Kind::Purpose,
        VocabKind::Consent => Kind::Consent,
        VocabKind::Capabilities => Kind::Capability,
        VocabKind::Roles => Kind::Role,
        VocabKind::Surfaces => Kind::Surface,
    }
}
