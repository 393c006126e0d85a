//! Lowering of each item into the model, with its field checks.

use rpol_diag::{Diagnostic, FileId, Label};
use rpol_engine::model::{self, Clearance, Visibility};
use rpol_syntax::ast::{self, BlockKind, ForbidKind, ItemKind};

use crate::ConditionSpans;
use crate::context::{Cx, Declared, Decls, Lowered};
use crate::expr::{ExprChecker, Site};
use crate::fields::FieldReader;
use crate::names::Names;
use crate::scope::Scope;

pub(crate) fn lower(
    cx: &mut Cx<'_>,
    asts: &[(FileId, ast::File)],
    d: &Decls<'_>,
    header: Option<(FileId, &ast::Fields)>,
) -> Lowered {
    let mut out = Lowered {
        header: None,
        modes: vec![None; cx.scope.modes.len()],
        classes: vec![None; cx.scope.classes.len()],
        class_max_retention: vec![None; cx.scope.classes.len()],
        sources: vec![None; cx.scope.sources.len()],
        feature_sets: vec![None; cx.scope.feature_sets.len()],
        reasons: vec![None; cx.scope.reasons.len()],
        forbids: vec![],
        resolve: None,
        retention: d.retention.clone(),
        debug: vec![],
        spans: Default::default(),
        source_whens: vec![None; cx.scope.sources.len()],
        forbid_whens: vec![],
        arm_conditions: vec![],
    };
    out.header = lower_header(cx, asts, header).map(|(name, version, at)| {
        out.spans.policy = at;
        (name, version)
    });
    for decl in &d.modes {
        let Some((name, r)) = block_reader(cx, decl, "mode", crate::vocab::MODE_FIELDS) else {
            continue;
        };
        let grants = match r.get("grants") {
            Some(f) => names_of(cx, &r, f, "capabilities", Which::Capabilities),
            None => Some(vec![]),
        };
        out.modes[decl.id as usize] = grants.map(|grants| model::Mode {
            name: name.name.clone(),
            grants,
        });
    }
    for decl in &d.classes {
        let Some((name, r)) = block_reader(cx, decl, "class", crate::vocab::CLASS_FIELDS) else {
            continue;
        };
        let mut ok = true;
        let requires = r.get("requires").map_or(Some(vec![]), |f| {
            names_of(cx, &r, f, "capabilities", Which::Capabilities)
        });
        let personal = r
            .get("personal")
            .map_or(Some(false), |f| r.bool(f, &mut cx.diags));
        let sensitive = r
            .get("sensitive")
            .map_or(Some(false), |f| r.bool(f, &mut cx.diags));
        if let Some(f) = r.get("max_retention") {
            match r.duration(f, &mut cx.diags) {
                Some(secs) => {
                    out.class_max_retention[decl.id as usize] =
                        Some((secs, decl.file, f.value.span()))
                }
                None => ok = false,
            }
        }
        let debug = match r.get("debug") {
            None => Some(Visibility::Open),
            Some(f) => r
                .ident(f, "`open`, `restricted` or `hidden`", &mut cx.diags)
                .and_then(|id| match id.name.as_str() {
                    "open" => Some(Visibility::Open),
                    "restricted" => Some(Visibility::Restricted),
                    "hidden" => Some(Visibility::Hidden),
                    other => {
                        let d = crate::names::unknown_name(
                            "debug visibility",
                            other,
                            decl.file,
                            id.span,
                            crate::vocab::VISIBILITIES.iter().copied(),
                        );
                        cx.diags.push(Diagnostic { code: "E0301", ..d });
                        None
                    }
                }),
        };
        if let Some(f) = r.get("min_group")
            && let Some(n) = r.int(f, &mut cx.diags)
            && n <= 0
        {
            cx.diags.push(
                Diagnostic::error(
                    "E0304",
                    decl.file,
                    f.value.span(),
                    format!("`min_group` must be positive, found `{n}`"),
                )
                .with_help("give the smallest group size that may be shown, such as `50`"),
            );
            ok = false;
        }
        if let (Some(requires), Some(personal), Some(sensitive), Some(debug), true) =
            (requires, personal, sensitive, debug, ok)
        {
            out.classes[decl.id as usize] = Some(model::Class {
                name: name.name.clone(),
                requires,
                personal,
                sensitive,
                debug,
            });
        }
    }
    for decl in &d.sources {
        let Some((name, r)) = block_reader(cx, decl, "source", crate::vocab::SOURCE_FIELDS) else {
            continue;
        };
        let requires = r.get("requires").map_or(Some(vec![]), |f| {
            names_of(cx, &r, f, "capabilities", Which::Capabilities)
        });
        let when = match r.get("when") {
            None => Some(None),
            Some(f) => r
                .expr(f, &mut cx.diags)
                .and_then(|e| condition(cx, decl.file, Site::Request, e))
                .map(|(when, at)| {
                    out.source_whens[decl.id as usize] = Some(at);
                    Some(when)
                }),
        };
        out.spans.sources.push((decl.file, decl.item.span));
        if let (Some(requires), Some(when)) = (requires, when) {
            out.sources[decl.id as usize] = Some(model::Source {
                name: name.name.clone(),
                requires,
                when,
            });
        }
    }
    for decl in &d.feature_sets {
        let Some((name, r)) =
            block_reader(cx, decl, "feature_set", crate::vocab::FEATURE_SET_FIELDS)
        else {
            continue;
        };
        let modes = r
            .require("modes", name.span, "[mode, …]", &mut cx.diags)
            .and_then(|f| names_of(cx, &r, f, "modes", Which::Modes));
        let surfaces = match r.get("surfaces") {
            None => Some(None),
            Some(f) => names_of(cx, &r, f, "surfaces", Which::Surfaces).map(Some),
        };
        let features = r
            .require("features", name.span, "[feature, …]", &mut cx.diags)
            .and_then(|f| {
                let v = names_of(cx, &r, f, "features", Which::Features)?;
                if v.is_empty() {
                    cx.diags.push(
                        Diagnostic::error(
                            "E0304",
                            decl.file,
                            f.value.span(),
                            format!("feature_set `{}` has an empty `features` list", name.name),
                        )
                        .with_help("list the features this route may fetch"),
                    );
                    return None;
                }
                Some(v)
            });
        out.spans.feature_sets.push((decl.file, decl.item.span));
        if let (Some(modes), Some(surfaces), Some(features)) = (modes, surfaces, features) {
            out.feature_sets[decl.id as usize] = Some(model::FeatureSet {
                name: name.name.clone(),
                modes,
                surfaces,
                features,
            });
        }
    }
    for decl in &d.reasons {
        let Some((name, r)) = block_reader(cx, decl, "reason", crate::vocab::REASON_FIELDS) else {
            continue;
        };
        let text = r
            .require("text", name.span, "\"…\"", &mut cx.diags)
            .and_then(|f| r.string(f, &mut cx.diags));
        let codes = r.require("codes", name.span, "[\"code_*\"]", &mut cx.diags).and_then(|f| r.string_list(f, &mut cx.diags)).and_then(|codes| {
            let mut ok = true;
            for c in &codes {
                if c.value.matches('*').count() > 1 {
                    cx.diags.push(
                        Diagnostic::error("E0304", decl.file, c.span, format!("pattern `{}` has more than one `*`", c.value))
                            .with_help("a pattern may hold at most one `*`; split it into several patterns"),
                    );
                    ok = false;
                }
            }
            ok.then(|| codes.into_iter().map(|c| c.value).collect::<Vec<_>>())
        });
        let requires = r.get("requires").map_or(Some(vec![]), |f| {
            names_of(cx, &r, f, "capabilities", Which::Capabilities)
        });
        let from = r.get("from").map_or(Some(vec![]), |f| {
            names_of(cx, &r, f, "features", Which::Features)
        });
        out.spans.reasons.push((decl.file, decl.item.span));
        if let (Some(text), Some(codes), Some(requires), Some(from)) = (text, codes, requires, from)
        {
            out.reasons[decl.id as usize] = Some(model::Reason {
                name: name.name.clone(),
                text: text.value,
                codes,
                requires,
                from,
            });
        }
    }
    for (file, item, f) in &d.forbids {
        if let Some((m, at)) = lower_forbid(cx, *file, item, f) {
            out.forbids.push(m);
            out.forbid_whens.push(at);
            out.spans.forbids.push((*file, item.span));
        }
    }
    out.resolve = lower_resolve(cx, asts, d, &mut out.spans, &mut out.arm_conditions);
    if let Some((file, fields)) = d.debug {
        for f in &fields.fields {
            let Some(role) = cx.resolve(|s| &s.roles, file, &f.name) else {
                continue;
            };
            let clearance = match crate::fields::bare_name(match &f.value {
                ast::Value::Expr(e) => e,
                ast::Value::Object(_) => {
                    cx.diags.push(Diagnostic::error(
                        "E0301",
                        file,
                        f.value.span(),
                        format!(
                            "debug clearance of `{}` must be `open` or `restricted`",
                            f.name.name
                        ),
                    ));
                    continue;
                }
            }) {
                Some(id) if id.name == "open" => Clearance::Open,
                Some(id) if id.name == "restricted" => Clearance::Restricted,
                _ => {
                    cx.diags.push(
                        Diagnostic::error("E0301", file, f.value.span(), format!("debug clearance of `{}` must be `open` or `restricted`", f.name.name))
                            .with_help("no role can be cleared for `hidden` features; leave a role out to show it nothing"),
                    );
                    continue;
                }
            };
            if out.debug.iter().any(|(r, _)| *r == role) {
                cx.diags.push(Diagnostic::error(
                    "E0202",
                    file,
                    f.name.span,
                    format!("role `{}` is given twice in `debug`", f.name.name),
                ));
                continue;
            }
            out.debug.push((role, clearance));
        }
    }
    out
}

fn lower_header(
    cx: &mut Cx<'_>,
    asts: &[(FileId, ast::File)],
    header: Option<(FileId, &ast::Fields)>,
) -> Option<(String, String, (FileId, rpol_diag::Span))> {
    let (file, fields) = header?;
    let name = asts
        .iter()
        .flat_map(|(_, a)| &a.items)
        .find_map(|i| match &i.kind {
            ItemKind::Block {
                kind: BlockKind::Policy,
                name,
                fields: f,
            } if std::ptr::eq(f, fields) => Some((name.name.clone(), name.span)),
            _ => None,
        })?;
    let (name, name_span) = name;
    let r = FieldReader::new(
        file,
        format!("policy `{name}`"),
        fields,
        crate::vocab::POLICY_FIELDS,
        &mut cx.diags,
    );
    let version = r
        .require("version", fields.span, "\"1\"", &mut cx.diags)
        .and_then(|f| r.string(f, &mut cx.diags));
    if let Some(f) = r.get("registry") {
        r.string(f, &mut cx.diags);
    }
    if let Some(f) = r.get("description") {
        r.string(f, &mut cx.diags);
    }
    Some((name, version?.value, (file, name_span)))
}

fn lower_forbid(
    cx: &mut Cx<'_>,
    file: FileId,
    item: &ast::Item,
    f: &ast::Forbid,
) -> Option<(model::Forbid, Option<ConditionSpans>)> {
    let (which, site, kind) = match f.kind {
        ForbidKind::Feature => (
            Which::Features,
            Site::ForbidFeature,
            model::ForbidKind::Feature,
        ),
        ForbidKind::Source => (Which::Sources, Site::Request, model::ForbidKind::Source),
        ForbidKind::Reason => (Which::Reasons, Site::Request, model::ForbidKind::Reason),
    };
    let targets = match &f.targets {
        None => Some(None),
        Some(t) => {
            let mut ids = Vec::new();
            let mut ok = true;
            for n in t.names() {
                let names = which.names(&cx.scope);
                match names.get_use(&n.name, file, n.span, &mut cx.resolution) {
                    Some(id) => ids.push(id),
                    None => {
                        let d = names.unknown(&n.name, file, n.span);
                        cx.diags.push(d);
                        ok = false;
                    }
                }
            }
            ok.then_some(Some(ids))
        }
    };
    let (when, at) = match &f.condition {
        None => (None, None),
        Some(e) => {
            let (when, at) = condition(cx, file, site, e)?;
            (Some(when), Some(at))
        }
    };
    let forbid = model::Forbid {
        kind,
        targets: targets?,
        when,
        because: f.because.as_ref().map(|b| b.value.clone()),
        rule: cx.rule(file, item.keyword),
    };
    Some((forbid, at))
}

fn lower_resolve(
    cx: &mut Cx<'_>,
    asts: &[(FileId, ast::File)],
    d: &Decls<'_>,
    spans: &mut crate::ModelSpans,
    conditions: &mut Vec<ConditionSpans>,
) -> Option<(Vec<model::Arm>, model::Arm)> {
    let Some(&(file, item)) = d.resolves.first() else {
        let file = asts.first().map(|(f, _)| *f).unwrap_or_default();
        cx.diags.push(
            Diagnostic::error(
                "E0501",
                file,
                rpol_diag::Span::new(0, 0),
                "no `resolve mode` block in this policy",
            )
            .with_help("add `resolve mode { when … => mode_a  else => fallback_mode }`"),
        );
        return None;
    };
    for (f, extra) in &d.resolves[1..] {
        cx.diags.push(
            Diagnostic::error(
                "E0501",
                *f,
                extra.keyword,
                "more than one `resolve mode` block",
            )
            .with_secondary(Label::new(file, item.keyword).with_message("first `resolve` here"))
            .with_help("merge the arms into one `resolve mode` block; the first true arm wins"),
        );
        record_extra_resolve(cx, *f, extra);
    }
    let ItemKind::Resolve {
        target,
        arms,
        body_span,
    } = &item.kind
    else {
        return None;
    };
    if target.name != "mode" {
        let d = crate::names::unknown_name(
            "resolve target",
            &target.name,
            file,
            target.span,
            crate::vocab::RESOLVE_TARGETS.iter().copied(),
        );
        cx.diags.push(d);
        return None;
    }
    let mut ok = true;
    let mut out = Vec::new();
    let mut fallback = None;
    for (i, arm) in arms.iter().enumerate() {
        let mode = cx.resolve(|s| &s.modes, file, &arm.mode);
        let rule = cx.rule(file, arm.keyword);
        match &arm.condition {
            Some(c) => {
                let cond = condition(cx, file, Site::Resolve, c);
                if fallback.is_some() {
                    cx.diags.push(
                        Diagnostic::error(
                            "E0501",
                            file,
                            arm.keyword,
                            "`else` must be the last arm of `resolve mode`",
                        )
                        .with_help("move the `else` arm to the end"),
                    );
                    ok = false;
                }
                match (cond, mode) {
                    (Some((cond, at)), Some(mode)) => {
                        out.push(model::Arm {
                            condition: Some(cond),
                            mode,
                            rule,
                        });
                        spans.arms.push((file, arm.span));
                        conditions.push(at);
                    }
                    _ => ok = false,
                }
            }
            None => {
                if fallback.is_some() {
                    cx.diags.push(
                        Diagnostic::error(
                            "E0501",
                            file,
                            arm.keyword,
                            "`resolve mode` has more than one `else` arm",
                        )
                        .with_help("keep one `else` arm, last"),
                    );
                    ok = false;
                    continue;
                }
                let _ = i;
                match mode {
                    Some(mode) => {
                        fallback = Some(model::Arm {
                            condition: None,
                            mode,
                            rule,
                        });
                        spans.fallback = (file, arm.span);
                    }
                    None => ok = false,
                }
            }
        }
    }
    if fallback.is_none() && arms.iter().all(|a| a.condition.is_some()) {
        cx.diags.push(
            Diagnostic::error("E0501", file, *body_span, "`resolve mode` has no `else` arm")
                .with_help("add `else => <mode>` as the last arm; it is the fallback mode for invalid requests"),
        );
        return None;
    }
    if !ok {
        return None;
    }
    Some((out, fallback?))
}

/// The names a repeated `resolve mode` block uses, for the resolution only:
/// its E0501 is the one error it gets.
fn record_extra_resolve(cx: &mut Cx<'_>, file: FileId, item: &ast::Item) {
    let ItemKind::Resolve { arms, .. } = &item.kind else {
        return;
    };
    for arm in arms {
        if let Some(c) = &arm.condition {
            let mut ec = ExprChecker::new(&cx.scope, file, Site::Resolve);
            ec.condition(c);
            cx.resolution.uses.extend(ec.resolved.uses);
        }
        cx.scope
            .modes
            .get_use(&arm.mode.name, file, arm.mode.span, &mut cx.resolution);
    }
}

/// A declared block's name and a reader of its fields against `known`
/// (unknown and repeated fields reported); `keyword` names it in messages.
fn block_reader<'d>(
    cx: &mut Cx<'_>,
    decl: &Declared<'d>,
    keyword: &str,
    known: &[&str],
) -> Option<(&'d ast::Ident, FieldReader<'d>)> {
    let ItemKind::Block { name, fields, .. } = &decl.item.kind else {
        return None;
    };
    let what = format!("{keyword} `{}`", name.name);
    Some((
        name,
        FieldReader::new(decl.file, what, fields, known, &mut cx.diags),
    ))
}

/// A typed condition and where it and its comparisons sit.
pub(crate) fn condition(
    cx: &mut Cx<'_>,
    file: FileId,
    site: Site,
    e: &ast::Expr,
) -> Option<(model::Expr, ConditionSpans)> {
    let mut ec = ExprChecker::new(&cx.scope, file, site);
    let r = ec.condition(e);
    let errs = std::mem::take(&mut ec.diags);
    let uses = std::mem::take(&mut ec.resolved.uses);
    cx.resolution.uses.extend(uses);
    let failed = !errs.is_empty();
    cx.diags.extend(errs);
    let at = ConditionSpans {
        file,
        span: e.span,
        comparisons: ec.comparisons,
    };
    if failed { None } else { r.map(|r| (r, at)) }
}

#[derive(Clone, Copy)]
pub(crate) enum Which {
    Capabilities,
    Modes,
    Surfaces,
    Features,
    Sources,
    Reasons,
}

impl Which {
    pub fn names(self, s: &Scope) -> &Names {
        match self {
            Which::Capabilities => &s.capabilities,
            Which::Modes => &s.modes,
            Which::Surfaces => &s.surfaces,
            Which::Features => &s.features,
            Which::Sources => &s.sources,
            Which::Reasons => &s.reasons,
        }
    }
}

/// A list of declared names of one kind, resolved to ids (duplicates kept once).
fn names_of(
    cx: &mut Cx<'_>,
    r: &FieldReader<'_>,
    f: &ast::Field,
    what: &str,
    which: Which,
) -> Option<Vec<u32>> {
    let list = r.name_list(f, what, &mut cx.diags)?;
    let mut ids = Vec::new();
    let mut ok = true;
    for n in &list {
        let names = which.names(&cx.scope);
        match names.get_use(&n.name, r.file, n.span, &mut cx.resolution) {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => {
                let d = names.unknown(&n.name, r.file, n.span);
                cx.diags.push(d);
                ok = false;
            }
        }
    }
    ok.then_some(ids)
}
