//! Pass 1: declares every name of every file (so that uses resolve whatever
//! the order of items and files), finds the `policy` header, and checks the
//! engine's set limits. Duplicate declarations are E0202.

use std::collections::HashMap;

use rpol_diag::{Diagnostic, FileId, Label, SourceMap, Span};
use rpol_engine::model::ContextType;
use rpol_syntax::ast::{self, BlockKind, Item, ItemKind, TableKind, VocabKind};

use crate::context::{Cx, Declared, Decls};
use crate::fields::{bare_name, positive_duration};
use crate::names::Names;
use crate::resolution::{Declaration, NameKind, NameRef};

/// The one `policy` block (E0203 otherwise).
pub(crate) fn find_policy_block<'a>(
    asts: &'a [(FileId, ast::File)],
    diags: &mut Vec<Diagnostic>,
) -> Option<(FileId, &'a ast::Fields)> {
    let blocks: Vec<(FileId, &Item, &ast::Fields)> = asts
        .iter()
        .flat_map(|(f, a)| a.items.iter().map(move |i| (*f, i)))
        .filter_map(|(f, i)| match &i.kind {
            ItemKind::Block {
                kind: BlockKind::Policy,
                fields,
                ..
            } => Some((f, i, fields)),
            _ => None,
        })
        .collect();
    match blocks.as_slice() {
        [] => {
            let file = asts.first().map(|(f, _)| *f).unwrap_or_default();
            diags.push(
                Diagnostic::error("E0203", file, Span::new(0, 0), "no `policy` block in this policy")
                    .with_help("add a header such as `policy home_feed { version: \"1\" registry: \"features.yaml\" }`"),
            );
            None
        }
        [(f, _, fields)] => Some((*f, *fields)),
        [(f0, i0, fields), rest @ ..] => {
            for (f, i, _) in rest {
                diags.push(
                    Diagnostic::error("E0203", *f, i.keyword, "more than one `policy` block in this policy")
                        .with_label("second `policy` block")
                        .with_secondary(Label::new(*f0, i0.keyword).with_message("first `policy` block"))
                        .with_help("a policy has exactly one header; split the files into separate policy directories or remove one block"),
                );
            }
            Some((*f0, *fields))
        }
    }
}

pub(crate) fn declare<'a>(cx: &mut Cx<'_>, asts: &'a [(FileId, ast::File)]) -> Decls<'a> {
    let mut d = Decls {
        modes: vec![],
        classes: vec![],
        sources: vec![],
        feature_sets: vec![],
        reasons: vec![],
        resolves: vec![],
        forbids: vec![],
        debug: None,
        retention: vec![],
        vocab_items: vec![],
    };
    let mut policies = Names::new(NameKind::Policy);
    let mut seen_vocab: Vec<(VocabKind, FileId, Span)> = Vec::new();
    let mut seen_table: Vec<(TableKind, FileId, Span)> = Vec::new();
    for (file, ast) in asts {
        let file = *file;
        for item in &ast.items {
            match &item.kind {
                ItemKind::Block {
                    kind: BlockKind::Policy,
                    name,
                    ..
                } => {
                    // Only for the resolution: two headers are E0203, found
                    // by `find_policy_block`.
                    policies.declare_at(
                        &name.name,
                        file,
                        name.span,
                        item.span,
                        item.doc.as_ref(),
                        &mut Vec::new(),
                        &mut cx.resolution,
                    );
                }
                ItemKind::Block { kind, name, .. } => {
                    let (names, list) = match kind {
                        BlockKind::Mode => (&mut cx.scope.modes, &mut d.modes),
                        BlockKind::Class => (&mut cx.scope.classes, &mut d.classes),
                        BlockKind::Source => (&mut cx.scope.sources, &mut d.sources),
                        BlockKind::FeatureSet => (&mut cx.scope.feature_sets, &mut d.feature_sets),
                        BlockKind::Reason => (&mut cx.scope.reasons, &mut d.reasons),
                        BlockKind::Policy => unreachable!("handled above"),
                    };
                    if let Some(id) = names.declare_at(
                        &name.name,
                        file,
                        name.span,
                        item.span,
                        item.doc.as_ref(),
                        &mut cx.diags,
                        &mut cx.resolution,
                    ) {
                        list.push(Declared { file, item, id });
                    }
                }
                ItemKind::Vocab { kind, names, .. } => {
                    if let Some(d) = once(
                        &mut seen_vocab,
                        *kind,
                        kind.keyword(),
                        file,
                        item,
                        "list every name in one `{}` item",
                    ) {
                        cx.diags.push(d);
                        continue;
                    }
                    d.vocab_items.push((file, item));
                    let table = match kind {
                        VocabKind::Purposes => &mut cx.scope.purposes,
                        VocabKind::Consent => &mut cx.scope.consent,
                        VocabKind::Capabilities => &mut cx.scope.capabilities,
                        VocabKind::Roles => &mut cx.scope.roles,
                        VocabKind::Surfaces => &mut cx.scope.surfaces,
                    };
                    for n in names {
                        table.declare_at(
                            &n.name,
                            file,
                            n.span,
                            item.span,
                            item.doc.as_ref(),
                            &mut cx.diags,
                            &mut cx.resolution,
                        );
                    }
                }
                ItemKind::Table { kind, fields } => {
                    if let Some(d) = once(
                        &mut seen_table,
                        *kind,
                        kind.keyword(),
                        file,
                        item,
                        "put every entry in one `{}` block",
                    ) {
                        cx.diags.push(d);
                        continue;
                    }
                    match kind {
                        TableKind::Context => declare_context(cx, file, item, fields),
                        TableKind::Retention => {
                            for f in &fields.fields {
                                let Some(_) = cx.declare_field(|s| &mut s.retention, file, item, f)
                                else {
                                    continue;
                                };
                                match crate::fields::as_expr(&f.value) {
                                    Some(e @ ast::Expr { kind: ast::ExprKind::Duration { .. }, .. }) => {
                                        if let Some(secs) = positive_duration(file, e, &f.name.name, &mut cx.diags) {
                                            d.retention.push((f.name.name.clone(), secs));
                                        }
                                    }
                                    _ => cx.diags.push(
                                        Diagnostic::error("E0301", file, f.value.span(), format!("retention `{}` expects a duration such as `90d`", f.name.name))
                                            .with_help("write a number followed by a unit: `s`, `m`, `h`, `d` or `w`"),
                                    ),
                                }
                            }
                        }
                        TableKind::Debug => d.debug = Some((file, fields)),
                    }
                }
                ItemKind::Resolve { .. } => d.resolves.push((file, item)),
                ItemKind::Forbid(f) => d.forbids.push((file, item, f)),
                ItemKind::Test(_) => {}
            }
        }
    }
    if let Some(reg) = &cx.registry {
        let rfile = cx.registry_file.unwrap_or_default();
        for f in &reg.features {
            let new = cx
                .scope
                .features
                .declare(&f.name.value, rfile, f.name.span, &mut Vec::new());
            // Repeated entries are E0406, reported by the registry pass.
            if let Some(id) = new.or_else(|| cx.scope.features.get(&f.name.value)) {
                cx.resolution.declare(Declaration {
                    name: NameRef {
                        kind: NameKind::Feature,
                        id,
                        parent: None,
                    },
                    text: f.name.value.clone(),
                    file: rfile,
                    span: yaml_name_span(cx.sm, rfile, f.name.span, &f.name.value),
                    item: f.span,
                    doc: f.description.clone(),
                });
            }
        }
    }
    d
}

fn declare_context(cx: &mut Cx<'_>, file: FileId, item: &Item, fields: &ast::Fields) {
    for f in &fields.fields {
        // Each variant's id (a repeated one: the first's) and name, for the resolution.
        let mut variant_names: Vec<(u32, &ast::Ident)> = Vec::new();
        let ty = match crate::fields::as_expr(&f.value).map(|e| &e.kind) {
            Some(ast::ExprKind::List(items)) => {
                let mut variants: Vec<String> = Vec::new();
                // A set beside the list: 80,000 variants took 16 s with `contains`.
                let mut seen: HashMap<&str, u32> = HashMap::new();
                for it in items {
                    let first = bare_name(it).and_then(|id| seen.get(id.name.as_str()).copied());
                    if let (Some(id), Some(v)) = (bare_name(it), first) {
                        variant_names.push((v, id));
                    }
                    match bare_name(it) {
                        Some(id) if first.is_some() => cx.diags.push(
                            Diagnostic::error(
                                "E0202",
                                file,
                                id.span,
                                format!(
                                    "variant `{}` of `context.{}` is declared twice",
                                    id.name, f.name.name
                                ),
                            )
                            .with_help("remove the repeated variant"),
                        ),
                        Some(id) => {
                            seen.insert(id.name.as_str(), variants.len() as u32);
                            variant_names.push((variants.len() as u32, id));
                            variants.push(id.name.clone());
                        }
                        None => cx.diags.push(Diagnostic::error(
                            "E0301",
                            file,
                            it.span,
                            format!("variants of `context.{}` must be names", f.name.name),
                        )),
                    }
                }
                Some(ContextType::Enum(variants))
            }
            Some(ast::ExprKind::Path(segs)) if segs.len() == 1 => match segs[0].name.as_str() {
                "string" => Some(ContextType::String),
                "int" => Some(ContextType::Int),
                "bool" => Some(ContextType::Bool),
                "duration" => Some(ContextType::Duration),
                other => {
                    let d = crate::names::unknown_name(
                        "type",
                        other,
                        file,
                        segs[0].span,
                        crate::vocab::CONTEXT_TYPES.iter().copied(),
                    );
                    cx.diags.push(Diagnostic { code: "E0301", ..d });
                    None
                }
            },
            _ => {
                cx.diags.push(
                    Diagnostic::error("E0301", file, f.value.span(), format!("context field `{}` needs a type", f.name.name))
                        .with_help("use `string`, `int`, `bool`, `duration` or a list of variants such as `[mobile, desktop]`"),
                );
                None
            }
        };
        if let Some(ty) = ty
            && let Some(field) = cx.declare_field(|s| &mut s.context, file, item, f)
        {
            cx.scope.push_context_type(ty);
            for (v, id) in variant_names {
                cx.resolution.declare(Declaration {
                    name: NameRef {
                        kind: NameKind::Variant,
                        id: v,
                        parent: Some(field),
                    },
                    text: id.name.clone(),
                    file,
                    span: id.span,
                    item: f.span,
                    doc: None,
                });
            }
        }
    }
}

/// The engine keeps these sets as 64-bit masks (docs/limits.md).
pub(crate) fn check_set_limits(cx: &mut Cx<'_>) {
    let s = &cx.scope;
    let mut over = Vec::new();
    for names in [
        &s.capabilities,
        &s.modes,
        &s.purposes,
        &s.surfaces,
        &s.roles,
        &s.consent,
    ] {
        if names.len() > rpol_engine::MAX_SET {
            let d = &names.decls[rpol_engine::MAX_SET];
            over.push(
                Diagnostic::error("E0101", d.file, d.span, format!("more than {} {}s are declared", rpol_engine::MAX_SET, names.kind))
                    .with_help(format!("a policy may declare at most {} of each: capabilities, modes, purposes, surfaces, roles and consent topics", rpol_engine::MAX_SET)),
            );
        }
    }
    cx.diags.extend(over);
}

/// Notes the first vocabulary or table item of each kind; a second one is
/// E0202 (returned) naming the first.
fn once<K: PartialEq>(
    seen: &mut Vec<(K, FileId, Span)>,
    kind: K,
    keyword: &str,
    file: FileId,
    item: &Item,
    help: &str,
) -> Option<Diagnostic> {
    if let Some((_, f0, s0)) = seen.iter().find(|(k, _, _)| *k == kind) {
        return Some(declared_twice(
            file,
            item.keyword,
            keyword,
            (*f0, *s0),
            help,
        ));
    }
    seen.push((kind, file, item.keyword));
    None
}

/// E0202 for a vocabulary or table block that appears a second time.
fn declared_twice(
    file: FileId,
    at: Span,
    keyword: &str,
    first: (FileId, Span),
    help: &str,
) -> Diagnostic {
    Diagnostic::error("E0202", file, at, format!("`{keyword}` is declared twice"))
        .with_secondary(Label::new(first.0, first.1).with_message("first declared here"))
        .with_help(help.replace("{}", keyword))
}

/// The span of just the name inside a YAML scalar's span (which includes
/// quotes when the scalar is quoted), so that a rename edits the name only.
pub(crate) fn yaml_name_span(sm: &SourceMap, file: FileId, span: Span, name: &str) -> Span {
    if file.0 as usize >= sm.len() {
        return span;
    }
    let text = sm.get(file).slice(span);
    match text.find(name) {
        Some(i) if !name.is_empty() => Span::new(span.start + i, span.start + i + name.len()),
        _ => span,
    }
}
