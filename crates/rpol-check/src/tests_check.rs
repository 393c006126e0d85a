//! Type-checks `test` blocks (docs/testing.md): `given` becomes a request (docs/reference.md, Requests (JSON)) as
//! JSON, each `expect` a check with resolved ids.

use rpol_diag::{Diagnostic, FileId, Span};
use rpol_engine::model::ContextType;
use rpol_syntax::ast::{self, ExpectKind, ExprKind, ItemKind, Outcome, Value};
use serde_json::{Map, Value as Json};

use crate::context::Cx;
use crate::fields::{as_expr, bare_name};
use crate::names::unknown_name;

#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    pub file: FileId,
    /// The whole `test` item.
    pub span: Span,
    /// The `given` block as a request (docs/reference.md, Requests (JSON)).
    pub request: Json,
    pub expects: Vec<TestExpect>,
}

#[derive(Debug, Clone)]
pub struct TestExpect {
    pub file: FileId,
    /// The whole `expect` statement.
    pub span: Span,
    /// The element this check is about when the `expect` names a list
    /// (`expect source [a, b] allowed` is one check per element).
    pub item: Option<Span>,
    pub check: ExpectCheck,
}

/// A component of a decision's `cache_scope` that a test can state.
pub const CACHE_SCOPE_PARTS: &[&str] = &["tenant", "surface", "mode", "subject", "consent_version"];

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectCheck {
    Mode(String),
    /// `None` is `route == none`.
    Route(Option<String>),
    Source {
        name: String,
        allowed: bool,
        code: Option<String>,
    },
    Feature {
        name: String,
        allowed: bool,
        code: Option<String>,
    },
    ReasonShows {
        code: String,
        reason: String,
    },
    ReasonSuppressed {
        code: String,
        suppression: Option<String>,
    },
    /// `expect retention KIND DURATION`: the declared retention, in seconds.
    Retention {
        kind: String,
        seconds: i64,
    },
    /// `expect debug ROLE sees|hides FEATURE`
    Debug {
        role: String,
        feature: String,
        sees: bool,
    },
    /// `expect cache_scope { … }`: (component, value) in the order written,
    /// components from [`CACHE_SCOPE_PARTS`].
    CacheScope(Vec<(String, String)>),
}

const SOURCE_CODES: &[&str] = &["capability_missing", "condition_false", "forbidden"];
const FEATURE_CODES: &[&str] = &[
    "unknown_feature",
    "purpose_prohibited",
    "purpose_not_allowed",
    "mode_not_allowed",
    "capability_missing",
    "consent_required",
    "forbidden",
    "invalid_request",
];
const SUPPRESSION_CODES: &[&str] = &[
    "no_reason_for_code",
    "capability_missing",
    "feature_denied",
    "forbidden",
];

pub(crate) fn run(cx: &mut Cx<'_>, asts: &[(FileId, ast::File)]) -> Vec<TestCase> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, FileId, Span)> = Vec::new();
    for (file, a) in asts {
        for item in &a.items {
            let ItemKind::Test(t) = &item.kind else {
                continue;
            };
            if let Some((_, f0, s0)) = seen.iter().find(|(n, _, _)| *n == t.name.value) {
                cx.diags.push(
                    Diagnostic::error(
                        "E0202",
                        *file,
                        t.name.span,
                        format!("test `{}` is declared twice", t.name.value),
                    )
                    .with_secondary(
                        rpol_diag::Label::new(*f0, *s0).with_message("first declared here"),
                    )
                    .with_help("give every test a distinct name"),
                );
            } else {
                seen.push((t.name.value.clone(), *file, t.name.span));
            }
            if let Some(tc) = check_test(cx, *file, item, t) {
                out.push(tc);
            }
        }
    }
    out
}

fn check_test(cx: &mut Cx<'_>, file: FileId, item: &ast::Item, t: &ast::Test) -> Option<TestCase> {
    let given = match t.given.as_slice() {
        [g] => given(cx, file, g),
        [] => {
            cx.diags.push(
                Diagnostic::error(
                    "E0601",
                    file,
                    t.name.span,
                    format!("test `{}` has no `given` block", t.name.value),
                )
                .with_help("add `given { tenant: \"acme\" surface: … purpose: … }`"),
            );
            None
        }
        [_, extra, ..] => {
            cx.diags.push(
                Diagnostic::error(
                    "E0601",
                    file,
                    extra.span,
                    format!("test `{}` has more than one `given` block", t.name.value),
                )
                .with_help("merge them into one"),
            );
            None
        }
    };
    let mut expects = Vec::new();
    let mut ok = true;
    for e in &t.expects {
        match expect(cx, file, e) {
            Some(checks) => expects.extend(checks.into_iter().map(|(check, item)| TestExpect {
                file,
                span: e.span,
                item,
                check,
            })),
            None => ok = false,
        }
    }
    let request = given?;
    ok.then(|| TestCase {
        name: t.name.value.clone(),
        file,
        span: item.span,
        request,
        expects,
    })
}

fn code(
    cx: &mut Cx<'_>,
    file: FileId,
    c: &Option<ast::Ident>,
    known: &[&str],
    what: &str,
) -> Result<Option<String>, ()> {
    match c {
        None => Ok(None),
        Some(id) if known.contains(&id.name.as_str()) => Ok(Some(id.name.clone())),
        Some(id) => {
            cx.diags.push(unknown_name(
                what,
                &id.name,
                file,
                id.span,
                known.iter().copied(),
            ));
            Err(())
        }
    }
}

/// One check per element of a list (with the element's span), or one check.
type Checks = Vec<(ExpectCheck, Option<Span>)>;

fn per_item<T>(
    items: &[T],
    is_list: bool,
    span: impl Fn(&T) -> Span,
    check: impl Fn(&T) -> ExpectCheck,
) -> Checks {
    items
        .iter()
        .map(|x| (check(x), is_list.then(|| span(x))))
        .collect()
}

fn expect(cx: &mut Cx<'_>, file: FileId, e: &ast::Expect) -> Option<Checks> {
    let s = &cx.scope;
    let mut diags = Vec::new();
    let one = |c: ExpectCheck| vec![(c, None)];
    let r = match &e.kind {
        ExpectKind::Mode(m) => s
            .modes
            .resolve_use(&m.name, file, m.span, &mut diags, &mut cx.resolution)
            .map(|_| one(ExpectCheck::Mode(m.name.clone()))),
        ExpectKind::Route(None) => Some(one(ExpectCheck::Route(None))),
        ExpectKind::Route(Some(r)) => s
            .feature_sets
            .resolve_use(&r.name, file, r.span, &mut diags, &mut cx.resolution)
            .map(|_| one(ExpectCheck::Route(Some(r.name.clone())))),
        ExpectKind::Source {
            targets,
            outcome,
            code: c,
            ..
        }
        | ExpectKind::Feature {
            targets,
            outcome,
            code: c,
            ..
        } => {
            let is_source = matches!(e.kind, ExpectKind::Source { .. });
            let names = if is_source { &s.sources } else { &s.features };
            let resolved = targets
                .names()
                .iter()
                .map(|n| names.resolve_use(&n.name, file, n.span, &mut diags, &mut cx.resolution))
                .collect::<Vec<_>>();
            cx.diags.append(&mut diags);
            let (known, what) = if is_source {
                (SOURCE_CODES, "source deny code")
            } else {
                (FEATURE_CODES, "feature deny code")
            };
            let c = code(cx, file, c, known, what).ok()?;
            let allowed = *outcome == Outcome::Allowed;
            resolved.iter().all(Option::is_some).then(|| {
                per_item(
                    targets.names(),
                    matches!(targets, ast::Targets::List(..)),
                    |n| n.span,
                    |n| {
                        let name = n.name.clone();
                        let code = c.clone();
                        if is_source {
                            ExpectCheck::Source {
                                name,
                                allowed,
                                code,
                            }
                        } else {
                            ExpectCheck::Feature {
                                name,
                                allowed,
                                code,
                            }
                        }
                    },
                )
            })
        }
        ExpectKind::ReasonShows { codes, reason } => {
            let known = s.reasons.resolve_use(
                &reason.name,
                file,
                reason.span,
                &mut diags,
                &mut cx.resolution,
            );
            cx.diags.append(&mut diags);
            let listed = reason_codes(cx, file, codes)?;
            known.map(|_| {
                per_item(
                    listed,
                    matches!(codes, ast::ReasonCodes::List(..)),
                    |c| c.span,
                    |c| ExpectCheck::ReasonShows {
                        code: c.value.clone(),
                        reason: reason.name.clone(),
                    },
                )
            })
        }
        ExpectKind::ReasonSuppressed { codes, deny } => {
            let d = code(cx, file, deny, SUPPRESSION_CODES, "suppression code");
            let listed = reason_codes(cx, file, codes)?;
            let d = d.ok()?;
            Some(per_item(
                listed,
                matches!(codes, ast::ReasonCodes::List(..)),
                |c| c.span,
                |c| ExpectCheck::ReasonSuppressed {
                    code: c.value.clone(),
                    suppression: d.clone(),
                },
            ))
        }
        ExpectKind::Retention { kind, duration } => {
            let known = s.retention.resolve_use(
                &kind.name,
                file,
                kind.span,
                &mut diags,
                &mut cx.resolution,
            );
            cx.diags.append(&mut diags);
            let secs = crate::fields::positive_duration(
                file,
                duration,
                &format!("retention {}", kind.name),
                &mut cx.diags,
            );
            known.and(secs).map(|seconds| {
                one(ExpectCheck::Retention {
                    kind: kind.name.clone(),
                    seconds,
                })
            })
        }
        ExpectKind::Debug {
            role,
            sees,
            targets,
            ..
        } => {
            let r =
                s.roles
                    .resolve_use(&role.name, file, role.span, &mut diags, &mut cx.resolution);
            let resolved = targets
                .names()
                .iter()
                .map(|n| {
                    s.features
                        .resolve_use(&n.name, file, n.span, &mut diags, &mut cx.resolution)
                })
                .collect::<Vec<_>>();
            (r.is_some() && resolved.iter().all(Option::is_some)).then(|| {
                per_item(
                    targets.names(),
                    matches!(targets, ast::Targets::List(..)),
                    |n| n.span,
                    |n| ExpectCheck::Debug {
                        role: role.name.clone(),
                        feature: n.name.clone(),
                        sees: *sees,
                    },
                )
            })
        }
        ExpectKind::CacheScope(fields) => cache_scope(cx, file, fields).map(one),
    };
    cx.diags.append(&mut diags);
    r
}

/// The codes of an `expect reason`; an empty list is E0304 (it would test
/// nothing).
fn reason_codes<'a>(
    cx: &mut Cx<'_>,
    file: FileId,
    codes: &'a ast::ReasonCodes,
) -> Option<&'a [ast::StrLit]> {
    let listed = codes.codes();
    if listed.is_empty() {
        cx.diags.push(
            Diagnostic::error(
                "E0304",
                file,
                codes.span(),
                "`expect reason` has an empty list of codes",
            )
            .with_help("list the reason codes to check, such as `[\"similar_1\", \"similar_2\"]`"),
        );
        return None;
    }
    Some(listed)
}

/// `expect cache_scope { … }`: the components a user can state, each checked
/// like the same key of `given` (names resolve, strings are strings).
fn cache_scope(cx: &mut Cx<'_>, file: FileId, fields: &ast::Fields) -> Option<ExpectCheck> {
    let before = cx.diags.len();
    crate::fields::FieldReader::new(
        file,
        "`expect cache_scope`",
        fields,
        CACHE_SCOPE_PARTS,
        &mut cx.diags,
    );
    if fields.fields.is_empty() {
        cx.diags.push(
            Diagnostic::error("E0304", file, fields.span, "`expect cache_scope` states no component")
                .with_help("state the components to check, such as `{ subject: \"*\", mode: basic }`; `subject: \"*\"` is a scope shared by every user"),
        );
    }
    let mut parts = Vec::new();
    for f in &fields.fields {
        let v = match f.name.name.as_str() {
            "surface" => name_of(cx, file, f, |s| &s.surfaces),
            "mode" => name_of(cx, file, f, |s| &s.modes),
            "tenant" | "subject" | "consent_version" => string_value(cx, file, f),
            _ => None,
        };
        if let Some(Json::String(v)) = v {
            parts.push((f.name.name.clone(), v));
        }
    }
    (cx.diags.len() == before).then_some(ExpectCheck::CacheScope(parts))
}

/// The `given` block as request JSON, type-checked like the rest of the policy.
fn given(cx: &mut Cx<'_>, file: FileId, g: &ast::Fields) -> Option<Json> {
    let known = crate::vocab::GIVEN_FIELDS;
    let before = cx.diags.len();
    let r = crate::fields::FieldReader::new(file, "`given`", g, known, &mut cx.diags);
    let mut out = Map::new();
    for req in ["tenant", "surface", "purpose"] {
        r.require(
            req,
            g.span,
            if req == "tenant" { "\"acme\"" } else { "name" },
            &mut cx.diags,
        );
    }
    for f in &g.fields {
        let name = f.name.name.as_str();
        let v = match name {
            "tenant" | "consent_version" => {
                r.string(f, &mut cx.diags).map(|s| Json::String(s.value))
            }
            "surface" => name_of(cx, file, f, |s| &s.surfaces),
            "purpose" => name_of(cx, file, f, |s| &s.purposes),
            "subject" => object(cx, file, f, |cx, field| {
                let subject = crate::vocab::SUBJECT_FIELDS;
                if !subject.contains(&field.name.name.as_str()) {
                    cx.diags.push(Diagnostic {
                        code: "E0302",
                        ..unknown_name(
                            "field of `subject`",
                            &field.name.name,
                            file,
                            field.name.span,
                            subject.iter().copied(),
                        )
                    });
                    return None;
                }
                string_value(cx, file, field)
            }),
            "consent" => object(cx, file, f, |cx, field| {
                cx.resolve(|s| &s.consent, file, &field.name)?;
                let states = crate::vocab::CONSENT_STATES;
                match as_expr(&field.value).and_then(bare_name) {
                    Some(id) if states.contains(&id.name.as_str()) => {
                        Some(Json::String(id.name.clone()))
                    }
                    Some(id) => {
                        cx.diags.push(unknown_name(
                            "consent state",
                            &id.name,
                            file,
                            id.span,
                            states.iter().copied(),
                        ));
                        None
                    }
                    None => {
                        cx.diags.push(Diagnostic::error(
                            "E0301",
                            file,
                            field.value.span(),
                            "a consent state is `granted`, `denied` or `unknown`",
                        ));
                        None
                    }
                }
            }),
            "context" => object(cx, file, f, |cx, field| {
                let id = cx.resolve(|s| &s.context, file, &field.name)?;
                context_value(cx, file, field, id)
            }),
            "roles" => list_of(cx, file, f, |cx, id| {
                cx.scope
                    .roles
                    .resolve_use(&id.name, file, id.span, &mut cx.diags, &mut cx.resolution)
                    .map(|_| ())
            }),
            // A test may name a feature the registry lacks (the engine
            // denies it); only known ones are resolved.
            "features" => list_of(cx, file, f, |cx, id| {
                cx.scope
                    .features
                    .get_use(&id.name, file, id.span, &mut cx.resolution);
                Some(())
            }),
            _ => None,
        };
        if let Some(v) = v {
            out.insert(name.to_string(), v);
        }
    }
    (cx.diags.len() == before).then_some(Json::Object(out))
}

fn name_of(
    cx: &mut Cx<'_>,
    file: FileId,
    f: &ast::Field,
    names: impl Fn(&crate::Scope) -> &crate::names::Names,
) -> Option<Json> {
    match as_expr(&f.value).and_then(bare_name) {
        Some(id) => names(&cx.scope)
            .resolve_use(&id.name, file, id.span, &mut cx.diags, &mut cx.resolution)
            .map(|_| Json::String(id.name.clone())),
        None => {
            let what = names(&cx.scope).kind;
            cx.diags.push(
                Diagnostic::error(
                    "E0301",
                    file,
                    f.value.span(),
                    format!("`{}` expects a {what} name", f.name.name),
                )
                .with_help("names are written without quotes"),
            );
            None
        }
    }
}

fn string_value(cx: &mut Cx<'_>, file: FileId, f: &ast::Field) -> Option<Json> {
    match as_expr(&f.value).map(|e| &e.kind) {
        Some(ExprKind::Str(s)) => Some(Json::String(s.clone())),
        _ => {
            cx.diags.push(Diagnostic::error(
                "E0301",
                file,
                f.value.span(),
                format!("`{}` expects a string", f.name.name),
            ));
            None
        }
    }
}

fn object(
    cx: &mut Cx<'_>,
    file: FileId,
    f: &ast::Field,
    mut each: impl FnMut(&mut Cx<'_>, &ast::Field) -> Option<Json>,
) -> Option<Json> {
    let Value::Object(fields) = &f.value else {
        cx.diags.push(Diagnostic::error(
            "E0301",
            file,
            f.value.span(),
            format!("`{}` expects an object `{{ … }}`", f.name.name),
        ));
        return None;
    };
    let mut m = Map::new();
    for field in &fields.fields {
        if m.contains_key(&field.name.name) {
            cx.diags.push(Diagnostic::error(
                "E0202",
                file,
                field.name.span,
                format!("key `{}` is given twice", field.name.name),
            ));
            continue;
        }
        if let Some(v) = each(cx, field) {
            m.insert(field.name.name.clone(), v);
        }
    }
    Some(Json::Object(m))
}

fn list_of(
    cx: &mut Cx<'_>,
    file: FileId,
    f: &ast::Field,
    mut each: impl FnMut(&mut Cx<'_>, &ast::Ident) -> Option<()>,
) -> Option<Json> {
    let Some(ast::Expr {
        kind: ExprKind::List(items),
        ..
    }) = as_expr(&f.value)
    else {
        cx.diags.push(Diagnostic::error(
            "E0301",
            file,
            f.value.span(),
            format!("`{}` expects a list `[…]`", f.name.name),
        ));
        return None;
    };
    let mut out = Vec::new();
    for it in items {
        match (bare_name(it), &it.kind) {
            (Some(id), _) => {
                each(cx, id)?;
                out.push(Json::String(id.name.clone()));
            }
            (None, ExprKind::Str(s)) if f.name.name == "features" => {
                out.push(Json::String(s.clone()))
            }
            _ => {
                cx.diags.push(Diagnostic::error(
                    "E0301",
                    file,
                    it.span,
                    format!("`{}` expects names", f.name.name),
                ));
                return None;
            }
        }
    }
    Some(Json::Array(out))
}

fn context_value(cx: &mut Cx<'_>, file: FileId, f: &ast::Field, id: u32) -> Option<Json> {
    let ty = cx.scope.context_types.get(id as usize).cloned()?;
    let e = as_expr(&f.value);
    let v = match (&ty, e.map(|e| &e.kind)) {
        (ContextType::String, Some(ExprKind::Str(s))) => Some(Json::String(s.clone())),
        (ContextType::Int, Some(ExprKind::Int(i))) => Some(Json::from(*i)),
        (ContextType::Bool, Some(ExprKind::Bool(b))) => Some(Json::Bool(*b)),
        (ContextType::Duration, Some(ExprKind::Duration { value, unit })) => {
            Some(Json::String(format!("{value}{}", unit.suffix())))
        }
        (ContextType::Enum(vs), Some(ExprKind::Path(segs))) if segs.len() == 1 => {
            let n = &segs[0];
            if let Some(v) = cx.scope.context_variant_id(id, &n.name) {
                cx.resolution.refer_variant(id, v, file, n.span);
                Some(Json::String(n.name.clone()))
            } else {
                cx.diags.push(unknown_name(
                    &format!("variant of `context.{}`", f.name.name),
                    &n.name,
                    file,
                    n.span,
                    vs.iter().map(String::as_str),
                ));
                return None;
            }
        }
        _ => None,
    };
    if v.is_none() {
        let expected = match ty {
            ContextType::String => "a string",
            ContextType::Int => "an integer",
            ContextType::Bool => "`true` or `false`",
            ContextType::Duration => "a duration such as `90d`",
            ContextType::Enum(_) => "one of its variants",
        };
        cx.diags.push(Diagnostic::error(
            "E0301",
            file,
            f.value.span(),
            format!("`context.{}` expects {expected}", f.name.name),
        ));
    }
    v
}
