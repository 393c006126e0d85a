//! Type-checks `test` blocks (spec 8): `given` becomes a request (spec 7.1) as
//! JSON, each `expect` a check with resolved ids.

use rpol_diag::{Diagnostic, FileId, Span};
use rpol_engine::model::ContextType;
use rpol_syntax::ast::{self, ExpectKind, ExprKind, ItemKind, Outcome, Value};
use serde_json::{Map, Value as Json};

use crate::collect::Cx;
use crate::fields::{as_expr, bare_name};
use crate::names::unknown_name;

#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    pub file: FileId,
    /// The whole `test` item.
    pub span: Span,
    /// The `given` block as a request (spec 7.1).
    pub request: Json,
    pub expects: Vec<TestExpect>,
}

#[derive(Debug, Clone)]
pub struct TestExpect {
    pub file: FileId,
    pub span: Span,
    pub check: ExpectCheck,
}

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
            Some(checks) => expects.extend(checks.into_iter().map(|check| TestExpect {
                file,
                span: e.span,
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

fn expect(cx: &mut Cx<'_>, file: FileId, e: &ast::Expect) -> Option<Vec<ExpectCheck>> {
    let s = &cx.scope;
    let mut diags = Vec::new();
    let r = match &e.kind {
        ExpectKind::Mode(m) => s
            .modes
            .resolve(&m.name, file, m.span, &mut diags)
            .map(|_| vec![ExpectCheck::Mode(m.name.clone())]),
        ExpectKind::Route(None) => Some(vec![ExpectCheck::Route(None)]),
        ExpectKind::Route(Some(r)) => s
            .feature_sets
            .resolve(&r.name, file, r.span, &mut diags)
            .map(|_| vec![ExpectCheck::Route(Some(r.name.clone()))]),
        ExpectKind::Source {
            targets,
            outcome,
            code: c,
            ..
        } => {
            let names: Option<Vec<String>> = targets
                .names()
                .iter()
                .map(|n| {
                    s.sources
                        .resolve(&n.name, file, n.span, &mut diags)
                        .map(|_| n.name.clone())
                })
                .collect();
            cx.diags.append(&mut diags);
            let c = code(cx, file, c, SOURCE_CODES, "source deny code").ok()?;
            let allowed = *outcome == Outcome::Allowed;
            names.map(|n| {
                n.into_iter()
                    .map(|name| ExpectCheck::Source {
                        name,
                        allowed,
                        code: c.clone(),
                    })
                    .collect()
            })
        }
        ExpectKind::Feature {
            targets,
            outcome,
            code: c,
            ..
        } => {
            let names: Option<Vec<String>> = targets
                .names()
                .iter()
                .map(|n| {
                    s.features
                        .resolve(&n.name, file, n.span, &mut diags)
                        .map(|_| n.name.clone())
                })
                .collect();
            cx.diags.append(&mut diags);
            let c = code(cx, file, c, FEATURE_CODES, "feature deny code").ok()?;
            let allowed = *outcome == Outcome::Allowed;
            names.map(|n| {
                n.into_iter()
                    .map(|name| ExpectCheck::Feature {
                        name,
                        allowed,
                        code: c.clone(),
                    })
                    .collect()
            })
        }
        ExpectKind::ReasonShows { code: c, reason } => s
            .reasons
            .resolve(&reason.name, file, reason.span, &mut diags)
            .map(|_| {
                vec![ExpectCheck::ReasonShows {
                    code: c.value.clone(),
                    reason: reason.name.clone(),
                }]
            }),
        ExpectKind::ReasonSuppressed { code: c, deny } => {
            let d = code(cx, file, deny, SUPPRESSION_CODES, "suppression code").ok()?;
            Some(vec![ExpectCheck::ReasonSuppressed {
                code: c.value.clone(),
                suppression: d,
            }])
        }
    };
    cx.diags.append(&mut diags);
    r
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
                if !["user_id", "anonymous_id"].contains(&field.name.name.as_str()) {
                    cx.diags.push(Diagnostic {
                        code: "E0302",
                        ..unknown_name(
                            "field of `subject`",
                            &field.name.name,
                            file,
                            field.name.span,
                            ["user_id", "anonymous_id"],
                        )
                    });
                    return None;
                }
                string_value(cx, file, field)
            }),
            "consent" => object(cx, file, f, |cx, field| {
                cx.scope
                    .consent
                    .resolve(&field.name.name, file, field.name.span, &mut cx.diags)?;
                let states = ["granted", "denied", "unknown"];
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
                            states,
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
                let id = cx.scope.context.resolve(
                    &field.name.name,
                    file,
                    field.name.span,
                    &mut cx.diags,
                )?;
                context_value(cx, file, field, id)
            }),
            "roles" => list_of(cx, file, f, |cx, id| {
                cx.scope
                    .roles
                    .resolve(&id.name, file, id.span, &mut cx.diags)
                    .map(|_| ())
            }),
            "features" => list_of(cx, file, f, |_, _| Some(())),
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
            .resolve(&id.name, file, id.span, &mut cx.diags)
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
            if vs.contains(&n.name) {
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
