//! Typing of conditions (docs/reference.md, Expressions) into the engine's typed [`model::Expr`].

use rpol_diag::{Diagnostic, FileId, Span};
use rpol_engine::model::{self, CmpOp, Literal, Operand, Path};
use rpol_syntax::ast::{self, Expr, ExprKind, Ident};

use crate::fields::strip_parens;
use crate::names::unknown_name;
use crate::resolution::Resolution;
use crate::scope::Scope;
pub use crate::ty::Ty;

/// Where a condition appears: decides which path roots it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A `resolve` arm: `mode` is not available (E0306).
    Resolve,
    /// A source `when`, a `forbid source` or `forbid reason` rule.
    Request,
    /// A `forbid feature` rule: `feature.*` is bound.
    ForbidFeature,
}

/// An operand before the enum literal on one side is resolved against the other.
enum Typed {
    Path {
        path: Path,
        ty: Ty,
        optional: bool,
        text: String,
    },
    Lit(Literal, Ty),
    /// A bare name: an enum literal whose type comes from the other operand.
    Name(Ident),
    /// `roles`, the request's set of roles: it has no operand in the model,
    /// only `ROLE in roles` reads it (an error anywhere else).
    Roles {
        text: String,
    },
}

pub struct ExprChecker<'s> {
    pub scope: &'s Scope,
    pub file: FileId,
    pub site: Site,
    pub diags: Vec<Diagnostic>,
    /// The names the condition used, resolved.
    pub resolved: Resolution,
    /// Spans of the comparisons typed so far, as in
    /// [`crate::ConditionSpans::comparisons`].
    pub comparisons: Vec<Span>,
}

use crate::vocab::CONSENT_STATES;

impl<'s> ExprChecker<'s> {
    pub fn new(scope: &'s Scope, file: FileId, site: Site) -> Self {
        ExprChecker {
            scope,
            file,
            site,
            diags: Vec::new(),
            resolved: Resolution::default(),
            comparisons: Vec::new(),
        }
    }

    fn err(&mut self, code: &'static str, span: Span, msg: String, help: Option<String>) {
        let mut d = Diagnostic::error(code, self.file, span, msg);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.diags.push(d);
    }

    /// Types a condition; `None` after reporting errors.
    pub fn condition(&mut self, e: &Expr) -> Option<model::Expr> {
        match &e.kind {
            ExprKind::Paren(inner) => self.condition(inner),
            ExprKind::Bool(b) => Some(model::Expr::Bool(*b)),
            ExprKind::Not(inner) => self.condition(inner).map(|x| model::Expr::Not(Box::new(x))),
            ExprKind::And(items) | ExprKind::Or(items) => {
                let typed: Vec<Option<model::Expr>> =
                    items.iter().map(|i| self.condition(i)).collect();
                let typed: Option<Vec<model::Expr>> = typed.into_iter().collect();
                let typed = typed?;
                Some(if matches!(e.kind, ExprKind::And(_)) {
                    model::Expr::And(typed)
                } else {
                    model::Expr::Or(typed)
                })
            }
            ExprKind::Compare { op, lhs, rhs } => {
                self.comparisons.push(e.span);
                self.compare(*op, lhs, rhs, e.span)
            }
            ExprKind::In { negated, lhs, rhs } => {
                // `x in [...]` types to `InList`; `role in roles` to `HasRole`,
                // which is not a comparison.
                if matches!(strip_parens(rhs).kind, ExprKind::List(_)) {
                    self.comparisons.push(e.span);
                }
                self.in_expr(*negated, lhs, rhs)
            }
            ExprKind::Call { name, args } => {
                if name.name == "starts_with" {
                    self.comparisons.push(e.span);
                }
                self.call(name, args, e.span)
            }
            ExprKind::Path(_) => match self.operand(e)? {
                Typed::Path {
                    path, ty: Ty::Bool, ..
                } => Some(model::Expr::Truthy(path)),
                Typed::Path { ty, text, .. } => self.not_a_condition(e.span, ty, &text),
                Typed::Roles { text } => self.not_a_condition(e.span, Ty::RoleSet, &text),
                Typed::Name(id) => {
                    self.err(
                        "E0301",
                        id.span,
                        format!("`{}` is a name, not a condition", id.name),
                        Some("a condition is a comparison, a bool path, `exists(…)` or `starts_with(…)`".into()),
                    );
                    None
                }
                Typed::Lit(..) => None,
            },
            ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Duration { .. } | ExprKind::List(_) => {
                self.err(
                    "E0301",
                    e.span,
                    "a literal is not a condition".into(),
                    Some(
                        "a condition is a comparison, a bool path, `exists(…)` or `starts_with(…)`"
                            .into(),
                    ),
                );
                None
            }
        }
    }

    fn compare(
        &mut self,
        op: ast::CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        span: Span,
    ) -> Option<model::Expr> {
        let l = self.operand(lhs);
        let r = self.operand(rhs);
        let (l, r) = (l?, r?);
        let (operands, ty) = self.unify(l, lhs.span, r, rhs.span, span)?;
        let op = match op {
            ast::CmpOp::Eq => CmpOp::Eq,
            ast::CmpOp::Ne => CmpOp::Ne,
            ast::CmpOp::Lt => CmpOp::Lt,
            ast::CmpOp::Le => CmpOp::Le,
            ast::CmpOp::Gt => CmpOp::Gt,
            ast::CmpOp::Ge => CmpOp::Ge,
        };
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !matches!(ty, Ty::Int | Ty::Duration) {
            let d = ty.describe(self.scope);
            self.err(
                "E0301",
                span,
                format!(
                    "`{}` needs two integers or two durations, found {d}",
                    op_str(op)
                ),
                Some("only `==` and `!=` compare other values".into()),
            );
            return None;
        }
        if ty == Ty::RoleSet {
            self.err(
                "E0301",
                span,
                "`roles` is a set and cannot be compared".into(),
                Some("test membership with `role in roles`".into()),
            );
            return None;
        }
        let (l, r) = operands?;
        Some(model::Expr::Compare { op, lhs: l, rhs: r })
    }

    fn in_expr(&mut self, negated: bool, lhs: &Expr, rhs: &Expr) -> Option<model::Expr> {
        let rhs_s = strip_parens(rhs);
        match &rhs_s.kind {
            ExprKind::Path(segs) if segs.len() == 1 && segs[0].name == "roles" => {
                match self.operand(lhs)? {
                    Typed::Name(id) => {
                        let role = self.scope.roles.get_use(
                            &id.name,
                            self.file,
                            id.span,
                            &mut self.resolved,
                        );
                        match role {
                            Some(role) => Some(model::Expr::HasRole { role, negated }),
                            None => {
                                self.diags
                                    .push(self.scope.roles.unknown(&id.name, self.file, id.span));
                                None
                            }
                        }
                    }
                    other => {
                        let d = self.describe_typed(&other);
                        self.err(
                            "E0301",
                            lhs.span,
                            format!("`in roles` needs a role name on the left, found {d}"),
                            Some("write e.g. `sre in roles`".into()),
                        );
                        None
                    }
                }
            }
            ExprKind::List(items) => {
                let l = self.operand(lhs)?;
                let mut typed_items = Vec::new();
                let mut lhs_op = None;
                let mut ok = true;
                // The left side's type comes from itself, else from the first typed item.
                let anchor_ty = typed_ty(&l);
                let mut item_ops = Vec::new();
                for item in items {
                    match self.list_item(item) {
                        Some(t) => item_ops.push((t, item.span)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                let ty = anchor_ty.or_else(|| item_ops.iter().find_map(|(t, _)| typed_ty(t)));
                let Some(ty) = ty else {
                    self.err(
                        "E0301",
                        lhs.span,
                        "cannot tell the type of this `in`: both sides are bare names".into(),
                        Some("compare a path such as `context.device` with names".into()),
                    );
                    return None;
                };
                if ty == Ty::RoleSet {
                    ok &= self.roles_side(l, ty, lhs.span);
                    for (t, sp) in item_ops {
                        ok &= self.roles_side(t, ty, sp);
                    }
                } else {
                    match self.coerce(l, ty, lhs.span) {
                        Some(op) => lhs_op = Some(op),
                        None => ok = false,
                    }
                    for (t, sp) in item_ops {
                        match self.coerce(t, ty, sp) {
                            Some(op) => typed_items.push(op),
                            None => ok = false,
                        }
                    }
                }
                if !ok {
                    return None;
                }
                if ty == Ty::RoleSet {
                    self.err(
                        "E0301",
                        lhs.span,
                        "`roles` cannot be a list item".into(),
                        None,
                    );
                    return None;
                }
                Some(model::Expr::InList {
                    lhs: lhs_op?,
                    items: typed_items,
                    negated,
                })
            }
            _ => {
                self.err(
                    "E0301",
                    rhs.span,
                    "`in` needs a list `[…]` or `roles` on the right".into(),
                    Some("write e.g. `context.device in [mobile, tv]`".into()),
                );
                None
            }
        }
    }

    fn list_item(&mut self, e: &Expr) -> Option<Typed> {
        let s = strip_parens(e);
        match s.kind {
            ExprKind::Path(_)
            | ExprKind::Str(_)
            | ExprKind::Int(_)
            | ExprKind::Bool(_)
            | ExprKind::Duration { .. } => self.operand(s),
            _ => {
                self.err(
                    "E0301",
                    e.span,
                    "list items in `in` must be literals, names or paths".into(),
                    None,
                );
                None
            }
        }
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Option<model::Expr> {
        match name.name.as_str() {
            "exists" => {
                if args.len() != 1 {
                    self.err(
                        "E0301",
                        span,
                        format!("`exists` takes 1 argument, found {}", args.len()),
                        Some("write `exists(subject.user_id)`".into()),
                    );
                    return None;
                }
                match self.operand(&args[0])? {
                    Typed::Path {
                        path,
                        optional: true,
                        ..
                    } => Some(model::Expr::Exists(path)),
                    Typed::Path { text, .. } | Typed::Roles { text, .. } => {
                        self.err(
                            "E0305",
                            args[0].span,
                            format!(
                                "`{text}` is always present, so `exists({text})` is always true"
                            ),
                            Some("remove the `exists` test".into()),
                        );
                        None
                    }
                    _ => {
                        self.err(
                            "E0301",
                            args[0].span,
                            "`exists` takes a path".into(),
                            Some("write `exists(subject.user_id)`".into()),
                        );
                        None
                    }
                }
            }
            "starts_with" => {
                if args.len() != 2 {
                    self.err(
                        "E0301",
                        span,
                        format!("`starts_with` takes 2 arguments, found {}", args.len()),
                        Some("write `starts_with(tenant, \"bank_\")`".into()),
                    );
                    return None;
                }
                let a = self.operand(&args[0]);
                let b = self.operand(&args[1]);
                let a = self.coerce(a?, Ty::Str, args[0].span);
                let b = self.coerce(b?, Ty::Str, args[1].span);
                Some(model::Expr::StartsWith(a?, b?))
            }
            other => {
                let d = unknown_name(
                    "function",
                    other,
                    self.file,
                    name.span,
                    crate::vocab::FUNCTIONS.iter().copied(),
                );
                let d = Diagnostic { code: "E0301", ..d };
                self.diags.push(d);
                None
            }
        }
    }

    /// Unifies two operands for `==`-like comparison: their type, and their
    /// model operands (`None` for `roles`, which has none; comparing it is
    /// an error the caller reports).
    fn unify(
        &mut self,
        l: Typed,
        ls: Span,
        r: Typed,
        rs: Span,
        span: Span,
    ) -> Option<(Option<(Operand, Operand)>, Ty)> {
        let lt = typed_ty(&l);
        let rt = typed_ty(&r);
        let ty = match (lt, rt) {
            (Some(a), Some(b)) if a == b => a,
            (Some(a), Some(b)) => {
                let (da, db) = (a.describe(self.scope), b.describe(self.scope));
                let help = if matches!(
                    (a, b),
                    (
                        Ty::Surface | Ty::Purpose | Ty::Mode | Ty::Enum(_) | Ty::Consent,
                        Ty::Str
                    )
                ) {
                    Some("names are written without quotes, e.g. `surface == home`".to_string())
                } else {
                    None
                };
                self.err(
                    "E0301",
                    span,
                    format!("type mismatch: {da} compared with {db}"),
                    help,
                );
                return None;
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                self.err(
                    "E0301",
                    span,
                    "cannot compare two bare names".into(),
                    Some("one side must be a path such as `purpose` or `context.device`".into()),
                );
                return None;
            }
        };
        if ty == Ty::RoleSet {
            let l = self.roles_side(l, ty, ls);
            let r = self.roles_side(r, ty, rs);
            return (l && r).then_some((None, ty));
        }
        let l = self.coerce(l, ty, ls);
        let r = self.coerce(r, ty, rs);
        Some((Some((l?, r?)), ty))
    }

    /// Where the type is the set of roles: whether `t` is `roles` (anything
    /// else is reported as a mismatch by [`Self::coerce`]).
    fn roles_side(&mut self, t: Typed, ty: Ty, span: Span) -> bool {
        if matches!(t, Typed::Roles { .. }) {
            return true;
        }
        self.coerce(t, ty, span);
        false
    }

    /// Converts an operand to `ty`, resolving a bare name as a variant of `ty`.
    fn coerce(&mut self, t: Typed, ty: Ty, span: Span) -> Option<Operand> {
        match t {
            // `roles` converts to nothing: even as the set of roles it has
            // no operand (callers check for it first, see `roles_side`).
            Typed::Roles { text } => {
                let (a, b) = (Ty::RoleSet.describe(self.scope), ty.describe(self.scope));
                self.err(
                    "E0301",
                    span,
                    format!("type mismatch: `{text}` is {a}, expected {b}"),
                    None,
                );
                None
            }
            Typed::Path {
                path,
                ty: pty,
                text,
                ..
            } => {
                if pty != ty {
                    let (a, b) = (pty.describe(self.scope), ty.describe(self.scope));
                    self.err(
                        "E0301",
                        span,
                        format!("type mismatch: `{text}` is {a}, expected {b}"),
                        None,
                    );
                    return None;
                }
                Some(Operand::Path(path))
            }
            Typed::Lit(lit, lty) => {
                if lty != ty {
                    let (a, b) = (lty.describe(self.scope), ty.describe(self.scope));
                    let help = matches!(lty, Ty::Str)
                        .then(|| "names are written without quotes".to_string());
                    self.err(
                        "E0301",
                        span,
                        format!("type mismatch: found {a}, expected {b}"),
                        help,
                    );
                    return None;
                }
                Some(Operand::Lit(lit))
            }
            Typed::Name(id) => self.variant(&id, ty).map(|v| Operand::Lit(Literal::Sym(v))),
        }
    }

    fn variant(&mut self, id: &Ident, ty: Ty) -> Option<u32> {
        let s = self.scope;
        let found = match ty {
            Ty::Surface => s
                .surfaces
                .get(&id.name)
                .ok_or_else(|| s.surfaces.unknown(&id.name, self.file, id.span)),
            Ty::Purpose => s
                .purposes
                .get(&id.name)
                .ok_or_else(|| s.purposes.unknown(&id.name, self.file, id.span)),
            Ty::Mode => s
                .modes
                .get(&id.name)
                .ok_or_else(|| s.modes.unknown(&id.name, self.file, id.span)),
            Ty::Role => s
                .roles
                .get(&id.name)
                .ok_or_else(|| s.roles.unknown(&id.name, self.file, id.span)),
            Ty::Class => s
                .classes
                .get(&id.name)
                .ok_or_else(|| s.classes.unknown(&id.name, self.file, id.span)),
            Ty::Feature => s
                .features
                .get(&id.name)
                .ok_or_else(|| s.features.unknown(&id.name, self.file, id.span)),
            Ty::Consent => CONSENT_STATES
                .iter()
                .position(|c| *c == id.name)
                .map(|p| p as u32)
                .ok_or_else(|| {
                    unknown_name(
                        "consent state",
                        &id.name,
                        self.file,
                        id.span,
                        CONSENT_STATES.iter().copied(),
                    )
                }),
            Ty::Enum(f) => {
                let variants = s.context_variants(f);
                s.context_variant_id(f, &id.name).ok_or_else(|| {
                    unknown_name(
                        &format!("variant of `context.{}`", s.context.name(f)),
                        &id.name,
                        self.file,
                        id.span,
                        variants.iter().map(String::as_str),
                    )
                })
            }
            Ty::Str | Ty::Int | Ty::Bool | Ty::Duration | Ty::RoleSet => {
                let d = ty.describe(s);
                let help = if ty == Ty::Str {
                    Some(format!("write a string literal: `\"{}\"`", id.name))
                } else {
                    None
                };
                Err({
                    let mut d = Diagnostic::error(
                        "E0301",
                        self.file,
                        id.span,
                        format!("type mismatch: `{}` is a name, expected {d}", id.name),
                    );
                    if let Some(h) = help {
                        d = d.with_help(h);
                    }
                    d
                })
            }
        };
        match found {
            Ok(v) => {
                self.record(ty, v, id.span);
                Some(v)
            }
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    /// E0301 for a value of type `ty` used where a condition is expected.
    fn not_a_condition(&mut self, span: Span, ty: Ty, text: &str) -> Option<model::Expr> {
        let d = ty.describe(self.scope);
        self.err(
            "E0301",
            span,
            format!("`{text}` is {d}, not a condition"),
            Some(format!("compare it, e.g. `{text} == …`")),
        );
        None
    }

    /// Records a bare name resolved as a value of `ty`.
    fn record(&mut self, ty: Ty, v: u32, span: Span) {
        let s = self.scope;
        let names = match ty {
            Ty::Surface => &s.surfaces,
            Ty::Purpose => &s.purposes,
            Ty::Mode => &s.modes,
            Ty::Role => &s.roles,
            Ty::Class => &s.classes,
            Ty::Feature => &s.features,
            Ty::Enum(f) => return self.resolved.refer_variant(f, v, self.file, span),
            // Consent states and scalars are not declared names.
            Ty::Consent | Ty::Str | Ty::Int | Ty::Bool | Ty::Duration | Ty::RoleSet => return,
        };
        names.record(v, self.file, span, &mut self.resolved);
    }

    fn describe_typed(&self, t: &Typed) -> String {
        match t {
            Typed::Path { .. } | Typed::Lit(..) | Typed::Roles { .. } => {
                typed_ty(t).map_or_else(String::new, |ty| ty.describe(self.scope))
            }
            Typed::Name(id) => format!("the name `{}`", id.name),
        }
    }

    /// Types a value operand: a literal, a path or a bare name.
    fn operand(&mut self, e: &Expr) -> Option<Typed> {
        let e = strip_parens(e);
        match &e.kind {
            ExprKind::Str(s) => Some(Typed::Lit(Literal::Str(s.clone()), Ty::Str)),
            ExprKind::Int(i) => Some(Typed::Lit(Literal::Int(*i), Ty::Int)),
            ExprKind::Bool(b) => Some(Typed::Lit(Literal::Bool(*b), Ty::Bool)),
            ExprKind::Duration { value, unit } => match value.checked_mul(unit.seconds()) {
                Some(secs) => Some(Typed::Lit(Literal::Duration(secs), Ty::Duration)),
                None => {
                    self.err(
                        "E0304",
                        e.span,
                        format!("duration `{value}{}` is too large", unit.suffix()),
                        Some("durations must fit in 64-bit seconds".into()),
                    );
                    None
                }
            },
            ExprKind::Path(segs) => self.path(segs, e.span),
            _ => {
                self.err(
                    "E0301",
                    e.span,
                    "expected a value (a path or a literal), found a condition".into(),
                    Some("comparisons take paths and literals on both sides".into()),
                );
                None
            }
        }
    }

    fn path(&mut self, segs: &[Ident], span: Span) -> Option<Typed> {
        let root = &segs[0];
        let text = segs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let rest = &segs[1..];
        let leaf = |this: &mut Self, path: Path, ty: Ty, optional: bool| -> Option<Typed> {
            if !rest.is_empty() {
                this.err(
                    "E0201",
                    rest[0].span,
                    format!("`{}` has no field `{}`", root.name, rest[0].name),
                    None,
                );
                return None;
            }
            Some(Typed::Path {
                path,
                ty,
                optional,
                text: text.clone(),
            })
        };
        match root.name.as_str() {
            "tenant" => leaf(self, Path::Tenant, Ty::Str, false),
            "surface" => leaf(self, Path::Surface, Ty::Surface, false),
            "purpose" => leaf(self, Path::Purpose, Ty::Purpose, false),
            "consent_version" => leaf(self, Path::ConsentVersion, Ty::Str, true),
            "roles" => match rest.first() {
                None => Some(Typed::Roles { text }),
                Some(f) => {
                    self.err(
                        "E0201",
                        f.span,
                        format!("`{}` has no field `{}`", root.name, f.name),
                        None,
                    );
                    None
                }
            },
            "mode" => {
                if self.site == Site::Resolve {
                    self.err("E0306", span, "`mode` cannot be used inside `resolve mode`".into(), Some("`resolve` decides the mode; conditions there may read the request only".into()));
                    return None;
                }
                leaf(self, Path::Mode, Ty::Mode, false)
            }
            "subject" => match rest {
                [f] if f.name == "user_id" => Some(Typed::Path {
                    path: Path::UserId,
                    ty: Ty::Str,
                    optional: true,
                    text,
                }),
                [f] if f.name == "anonymous_id" => Some(Typed::Path {
                    path: Path::AnonymousId,
                    ty: Ty::Str,
                    optional: true,
                    text,
                }),
                [f, ..] => {
                    self.diags.push(unknown_name(
                        "field of `subject`",
                        &f.name,
                        self.file,
                        f.span,
                        crate::vocab::SUBJECT_FIELDS.iter().copied(),
                    ));
                    None
                }
                [] => {
                    self.err(
                        "E0301",
                        span,
                        "`subject` needs a field: `subject.user_id` or `subject.anonymous_id`"
                            .into(),
                        None,
                    );
                    None
                }
            },
            "consent" => match rest {
                [t] => {
                    let topic = self.scope.consent.resolve_use(
                        &t.name,
                        self.file,
                        t.span,
                        &mut self.diags,
                        &mut self.resolved,
                    )?;
                    Some(Typed::Path {
                        path: Path::Consent(topic),
                        ty: Ty::Consent,
                        optional: false,
                        text,
                    })
                }
                _ => {
                    self.err(
                        "E0301",
                        span,
                        "`consent` needs a topic: `consent.<topic>`".into(),
                        None,
                    );
                    None
                }
            },
            "context" => match rest {
                [f] => {
                    let field = self.scope.context.resolve_use(
                        &f.name,
                        self.file,
                        f.span,
                        &mut self.diags,
                        &mut self.resolved,
                    )?;
                    let ty = self.scope.context_ty(field);
                    Some(Typed::Path {
                        path: Path::Context(field),
                        ty,
                        optional: true,
                        text,
                    })
                }
                _ => {
                    self.err(
                        "E0301",
                        span,
                        "`context` needs a field: `context.<field>`".into(),
                        None,
                    );
                    None
                }
            },
            "feature" => {
                if self.site != Site::ForbidFeature {
                    self.err(
                        "E0201",
                        span,
                        format!("`{text}` is only available in a `forbid feature` condition"),
                        None,
                    );
                    return None;
                }
                let fields = crate::vocab::FEATURE_FIELDS;
                match rest {
                    [f] => {
                        let (path, ty, optional) = match f.name.as_str() {
                            "name" => (Path::FeatureName, Ty::Feature, false),
                            "class" => (Path::FeatureClass, Ty::Class, false),
                            "entity" => (Path::FeatureEntity, Ty::Str, false),
                            "personal" => (Path::FeaturePersonal, Ty::Bool, false),
                            "sensitive" => (Path::FeatureSensitive, Ty::Bool, false),
                            "retention" => (Path::FeatureRetention, Ty::Duration, true),
                            other => {
                                self.diags.push(unknown_name(
                                    "field of `feature`",
                                    other,
                                    self.file,
                                    f.span,
                                    fields.iter().copied(),
                                ));
                                return None;
                            }
                        };
                        Some(Typed::Path {
                            path,
                            ty,
                            optional,
                            text,
                        })
                    }
                    _ => {
                        self.err(
                            "E0301",
                            span,
                            "`feature` needs a field such as `feature.sensitive`".into(),
                            None,
                        );
                        None
                    }
                }
            }
            _ if segs.len() == 1 => Some(Typed::Name(root.clone())),
            other => {
                let roots = rpol_syntax::PATH_ROOTS.iter().copied();
                self.diags.push(unknown_name(
                    "path root",
                    other,
                    self.file,
                    root.span,
                    roots,
                ));
                None
            }
        }
    }
}

fn typed_ty(t: &Typed) -> Option<Ty> {
    match t {
        Typed::Path { ty, .. } | Typed::Lit(_, ty) => Some(*ty),
        Typed::Roles { .. } => Some(Ty::RoleSet),
        Typed::Name(_) => None,
    }
}

fn op_str(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// Whether a condition reads `mode` (for messages) — kept small on purpose.
pub fn mentions_path(e: &model::Expr, p: Path) -> bool {
    let op = |o: &Operand| matches!(o, Operand::Path(q) if *q == p);
    match e {
        model::Expr::Bool(_) | model::Expr::HasRole { .. } => false,
        model::Expr::Not(x) => mentions_path(x, p),
        model::Expr::And(v) | model::Expr::Or(v) => v.iter().any(|x| mentions_path(x, p)),
        model::Expr::Compare { lhs, rhs, .. } => op(lhs) || op(rhs),
        model::Expr::InList { lhs, items, .. } => op(lhs) || items.iter().any(op),
        model::Expr::Exists(q) | model::Expr::Truthy(q) => *q == p,
        model::Expr::StartsWith(a, b) => op(a) || op(b),
    }
}
