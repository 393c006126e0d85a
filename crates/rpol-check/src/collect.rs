//! The check run: parse, declare every name, load the registry, then lower and
//! cross-check. Errors are collected, never thrown, so one run reports them all.

use std::cell::OnceCell;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rpol_diag::{Diagnostic, FileId, Label, SourceMap, Span};
use rpol_engine::model::{self, ContextType, PolicyModel};
use rpol_registry::Registry;
use rpol_syntax::ast::{self, BlockKind, Item, ItemKind, TableKind, VocabKind};

use crate::fields::{bare_name, positive_duration};
use crate::scope::Scope;
use crate::{Checked, CheckedPolicy, ModelSpans, ReadFile, SourceInput};

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
    pub registry: Option<Registry>,
    pub registry_file: Option<FileId>,
    /// The registry's features as model features, built once by
    /// [`crate::registry_check::model_features`] (the rules and the model both
    /// need them).
    pub model_features: OnceCell<Option<Vec<Option<model::Feature>>>>,
}

impl Cx<'_> {
    /// `FILE:LINE` of a byte offset (spec 12).
    pub fn rule(&self, file: FileId, span: Span) -> String {
        let f = self.sm.get(file);
        format!("{}:{}", f.name, f.line_col(span.start).line)
    }
}

pub(crate) fn run(
    files: Vec<SourceInput>,
    registry_override: Option<&Path>,
    read: ReadFile<'_>,
    cache: Option<&crate::RegistryCache>,
) -> Checked {
    let mut sm = SourceMap::new();
    let mut diags = Vec::new();
    let mut asts = Vec::new();
    for f in files {
        let id = sm.add(f.name, f.text);
        match rpol_syntax::parse(id, &sm.get(id).text.clone()) {
            Ok(a) => asts.push((id, a)),
            Err(d) => diags.push(d),
        }
    }
    let mut checked = Checked {
        sources: sm,
        diagnostics: diags,
        asts,
        registry_file: None,
        registry: None,
        scope: Scope::default(),
        policy: None,
    };
    // A syntax error leaves names undeclared; checking on would only add noise.
    if checked.errors() > 0 {
        return checked;
    }
    let mut sm = std::mem::take(&mut checked.sources);
    let asts = std::mem::take(&mut checked.asts);

    // The registry is read before the rest so that its file id exists for labels.
    let header = find_policy_block(&asts, &mut checked.diagnostics);
    let registry_text = header.and_then(|(file, fields)| {
        load_registry_text(
            &mut sm,
            file,
            fields,
            registry_override,
            read,
            &mut checked.diagnostics,
        )
    });

    let mut cx = Cx {
        sm: &sm,
        diags: std::mem::take(&mut checked.diagnostics),
        scope: Scope::default(),
        registry: None,
        registry_file: None,
        model_features: OnceCell::new(),
    };
    if let Some((rfile, text)) = &registry_text {
        cx.registry_file = Some(*rfile);
        let loaded = match cache {
            Some(c) => c.load(*rfile, text),
            None => rpol_registry::load(*rfile, text),
        };
        match loaded {
            Ok(r) => cx.registry = Some(r),
            Err(ds) => cx.diags.extend(ds),
        }
    }
    let decl = declare(&mut cx, &asts);
    check_set_limits(&mut cx);
    let lowered = crate::items::lower(&mut cx, &asts, &decl, header);
    crate::registry_check::run(&mut cx, &lowered);
    crate::rules::run(&mut cx, &lowered, &decl);
    let tests = crate::tests_check::run(&mut cx, &asts);

    let errors = cx.diags.iter().any(|d| d.is_error());
    let policy = if errors {
        None
    } else {
        registry_text.as_ref().and_then(|(_, rtext)| {
            let texts: Vec<&str> = asts.iter().map(|(f, _)| &*cx.sm.get(*f).text).collect();
            let digest = crate::digest(texts, rtext);
            lowered
                .into_model(&mut cx, digest)
                .map(|(model, spans)| CheckedPolicy {
                    model,
                    spans,
                    tests,
                })
        })
    };
    let mut diagnostics = cx.diags;
    if cx.registry.is_none() {
        // Without a registry every feature name is unresolved; those errors
        // would only repeat the registry's own.
        diagnostics.retain(|d| !(d.code == "E0201" && d.message.starts_with("unknown feature `")));
    }
    let scope = cx.scope;
    let registry = cx.registry.take();
    let registry_file = cx.registry_file;
    sort_diagnostics(&mut diagnostics);
    Checked {
        sources: sm,
        diagnostics,
        asts,
        registry_file,
        registry,
        scope,
        policy,
    }
}

/// Diagnostics in file order, then position, so output is stable.
fn sort_diagnostics(d: &mut [Diagnostic]) {
    d.sort_by_key(|d| (d.primary.file, d.primary.span.start, d.code));
}

/// The one `policy` block (E0203 otherwise).
fn find_policy_block<'a>(
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

/// Reads the registry; I/O problems become E0401 at the `registry:` field.
fn load_registry_text(
    sm: &mut SourceMap,
    file: FileId,
    fields: &ast::Fields,
    registry_override: Option<&Path>,
    read: ReadFile<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(FileId, Arc<str>)> {
    let field = fields.fields.iter().find(|f| f.name.name == "registry");
    let (path, at) = match (registry_override, field) {
        (Some(p), _) => (p.to_path_buf(), fields.span),
        (None, Some(f)) => match crate::fields::as_expr(&f.value).map(|e| &e.kind) {
            Some(ast::ExprKind::Str(s)) => {
                let base = Path::new(&sm.get(file).name)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                (normalize(&base.join(s)), f.value.span())
            }
            _ => return None, // E0301 is reported when the header is lowered
        },
        (None, None) => {
            diags.push(
                Diagnostic::error("E0401", file, fields.span, "no registry: the `policy` block has no `registry` field and no `--registry` was given")
                    .with_help("add `registry: \"features.yaml\"` to the `policy` block or pass `--registry FILE`"),
            );
            return None;
        }
    };
    let name = crate::load::display(&path);
    // A policy may not make the tools read files outside its workspace;
    // `--registry` is the user's own choice and is trusted.
    if registry_override.is_none() {
        let base = Path::new(&sm.get(file).name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if let Err(why) = confine(&base, &path) {
            diags.push(
                Diagnostic::error("E0102", file, at, format!("registry `{name}` {why}; it was not read"))
                .with_help("the workspace is the nearest directory above the policy that holds `.git` (else the current directory; see docs/limits.md); move the registry inside it (a symlink counts where it points), or pass it with `--registry FILE`"),
            );
            return None;
        }
    }
    match read(&path) {
        Ok(text) => {
            // Shared with the source map: a large registry is not copied again.
            let text: Arc<str> = text.into();
            let id = sm.add(name, Arc::clone(&text));
            Some((id, text))
        }
        Err(e) => {
            // A refusal by the bounded reader keeps its own code.
            if let Some(le) = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<crate::load::LoadError>())
                && let Some(code) = le.code()
            {
                let why = match le {
                    crate::load::LoadError::NotRegular(_, what) => {
                        format!("registry `{name}` is {what}, not a regular file; it was not read")
                    }
                    crate::load::LoadError::TooLarge(_, limit) => {
                        format!("registry `{name}` is over the {limit}-byte limit")
                    }
                    other => format!("registry `{name}`: {other}"),
                };
                let mut d = Diagnostic::error(code, file, at, why);
                if let Some(h) = le.help() {
                    d = d.with_help(h);
                }
                diags.push(d);
                return None;
            }
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "does not exist".to_string(),
                std::io::ErrorKind::InvalidData => "is not valid UTF-8".to_string(),
                _ => format!("cannot be read: {e}"),
            };
            let d = Diagnostic::error("E0401", file, at, format!("registry `{name}` {why}"));
            let d = if registry_override.is_some() {
                d.with_help("check the path given to `--registry`")
            } else {
                d.with_help("the path is relative to the file holding the `policy` block")
            };
            diags.push(d);
            None
        }
    }
}

/// Whether the policy in `policy_dir` may read `registry`: its real path
/// (every symlink resolved) must lie inside the policy's workspace
/// ([`crate::load::Workspace`]). A registry that does not exist is left to
/// the reader (it reports it missing; an editor may hold it unsaved). A
/// policy that is not on disk (an editor buffer, an in-memory check) may
/// only name paths lexically below its own directory, which cannot exist on
/// disk either. Anything in doubt is refused.
fn confine(policy_dir: &Path, registry: &Path) -> Result<(), String> {
    let dir = if policy_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        policy_dir
    };
    let ws = match crate::load::Workspace::around(dir) {
        Ok(ws) => ws,
        Err(_)
            if registry.starts_with(dir)
                && dir != Path::new(".")
                && registry.is_relative() == dir.is_relative() =>
        {
            return Ok(());
        }
        Err(_) => {
            return Err(
                "is outside the policy's workspace (the policy's directory does not resolve)"
                    .into(),
            );
        }
    };
    match ws.confine(registry) {
        Ok(()) | Err(crate::load::LoadError::NotFound(_)) => Ok(()),
        // The root is left out of the message: it is a path of this machine.
        Err(crate::load::LoadError::OutsideWorkspace(..)) => {
            Err("resolves outside the policy's workspace".into())
        }
        Err(e) => Err(format!("cannot be resolved ({e})")),
    }
}

/// Removes `.` and `name/..` lexically, so paths in messages stay readable.
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
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

fn declare<'a>(cx: &mut Cx<'_>, asts: &'a [(FileId, ast::File)]) -> Decls<'a> {
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
    let mut seen_vocab: Vec<(VocabKind, FileId, Span)> = Vec::new();
    let mut seen_table: Vec<(TableKind, FileId, Span)> = Vec::new();
    for (file, ast) in asts {
        let file = *file;
        for item in &ast.items {
            match &item.kind {
                ItemKind::Block {
                    kind: BlockKind::Policy,
                    ..
                } => {}
                ItemKind::Block { kind, name, .. } => {
                    let (names, list) = match kind {
                        BlockKind::Mode => (&mut cx.scope.modes, &mut d.modes),
                        BlockKind::Class => (&mut cx.scope.classes, &mut d.classes),
                        BlockKind::Source => (&mut cx.scope.sources, &mut d.sources),
                        BlockKind::FeatureSet => (&mut cx.scope.feature_sets, &mut d.feature_sets),
                        BlockKind::Reason => (&mut cx.scope.reasons, &mut d.reasons),
                        BlockKind::Policy => unreachable!("handled above"),
                    };
                    if let Some(id) = names.declare(&name.name, file, name.span, &mut cx.diags) {
                        list.push(Declared { file, item, id });
                    }
                }
                ItemKind::Vocab { kind, names, .. } => {
                    if let Some((_, f0, s0)) = seen_vocab.iter().find(|(k, _, _)| k == kind) {
                        cx.diags.push(declared_twice(
                            file,
                            item.keyword,
                            kind.keyword(),
                            (*f0, *s0),
                            "list every name in one `{}` item",
                        ));
                        continue;
                    }
                    seen_vocab.push((*kind, file, item.keyword));
                    d.vocab_items.push((file, item));
                    let table = match kind {
                        VocabKind::Purposes => &mut cx.scope.purposes,
                        VocabKind::Consent => &mut cx.scope.consent,
                        VocabKind::Capabilities => &mut cx.scope.capabilities,
                        VocabKind::Roles => &mut cx.scope.roles,
                        VocabKind::Surfaces => &mut cx.scope.surfaces,
                    };
                    for n in names {
                        table.declare(&n.name, file, n.span, &mut cx.diags);
                    }
                }
                ItemKind::Table { kind, fields } => {
                    if let Some((_, f0, s0)) = seen_table.iter().find(|(k, _, _)| k == kind) {
                        cx.diags.push(declared_twice(
                            file,
                            item.keyword,
                            kind.keyword(),
                            (*f0, *s0),
                            "put every entry in one `{}` block",
                        ));
                        continue;
                    }
                    seen_table.push((*kind, file, item.keyword));
                    match kind {
                        TableKind::Context => declare_context(cx, file, fields),
                        TableKind::Retention => {
                            for f in &fields.fields {
                                let Some(_) = cx.scope.retention.declare(
                                    &f.name.name,
                                    file,
                                    f.name.span,
                                    &mut cx.diags,
                                ) else {
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
        for f in &reg.features {
            let _ = cx.scope.features.declare(
                &f.name.value,
                cx.registry_file.unwrap_or_default(),
                f.name.span,
                &mut Vec::new(),
            );
        }
    }
    d
}

fn declare_context(cx: &mut Cx<'_>, file: FileId, fields: &ast::Fields) {
    for f in &fields.fields {
        let ty = match crate::fields::as_expr(&f.value).map(|e| &e.kind) {
            Some(ast::ExprKind::List(items)) => {
                let mut variants: Vec<String> = Vec::new();
                // A set beside the list: 80,000 variants took 16 s with `contains`.
                let mut seen: HashSet<&str> = HashSet::new();
                for it in items {
                    match bare_name(it) {
                        Some(id) if !seen.insert(id.name.as_str()) => cx.diags.push(
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
                        Some(id) => variants.push(id.name.clone()),
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
                        ["string", "int", "bool", "duration"],
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
            && cx
                .scope
                .context
                .declare(&f.name.name, file, f.name.span, &mut cx.diags)
                .is_some()
        {
            cx.scope.push_context_type(ty);
        }
    }
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
}

impl Lowered {
    pub fn into_model(self, cx: &mut Cx<'_>, digest: String) -> Option<(PolicyModel, ModelSpans)> {
        let features = match cx.model_features.take() {
            Some(built) => built?,
            None => crate::registry_check::model_features(cx, &self)?.clone(),
        };
        let features = features.into_iter().collect::<Option<Vec<_>>>()?;
        let (name, version) = self.header?;
        let (resolve, fallback) = self.resolve?;
        let s = &cx.scope;
        let strings = |n: &crate::names::Names| n.names().map(str::to_string).collect::<Vec<_>>();
        let model = PolicyModel {
            name,
            version,
            digest,
            purposes: strings(&s.purposes),
            consent_topics: strings(&s.consent),
            capabilities: strings(&s.capabilities),
            roles: strings(&s.roles),
            surfaces: strings(&s.surfaces),
            context: s
                .context
                .names()
                .zip(&s.context_types)
                .map(|(n, t)| model::ContextField {
                    name: n.to_string(),
                    ty: t.clone(),
                })
                .collect(),
            modes: self.modes.into_iter().collect::<Option<_>>()?,
            resolve,
            fallback,
            classes: self.classes.into_iter().collect::<Option<_>>()?,
            sources: self.sources.into_iter().collect::<Option<_>>()?,
            features,
            feature_sets: self.feature_sets.into_iter().collect::<Option<_>>()?,
            reasons: self.reasons.into_iter().collect::<Option<_>>()?,
            forbids: self.forbids,
            retention: self.retention,
            debug: self.debug,
        };
        Some((model, self.spans))
    }
}

/// The engine keeps these sets as 64-bit masks (docs/limits.md).
fn check_set_limits(cx: &mut Cx<'_>) {
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
