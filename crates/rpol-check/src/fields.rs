//! Reading the `{ name: value }` fields of a block against a schema:
//! unknown fields (E0302), missing required ones (E0303), wrong kinds (E0301).

use rpol_diag::{Diagnostic, FileId, Label, Span, did_you_mean};
use rpol_syntax::ast::{Expr, ExprKind, Field, Fields, Ident, StrLit, Value};

pub struct FieldReader<'a> {
    pub file: FileId,
    what: String,
    fields: &'a Fields,
}

impl<'a> FieldReader<'a> {
    /// Checks names against `known` and reports duplicates; `what` names the
    /// block in messages (e.g. "class `contextual`").
    pub fn new(
        file: FileId,
        what: impl Into<String>,
        fields: &'a Fields,
        known: &[&str],
        diags: &mut Vec<Diagnostic>,
    ) -> Self {
        let what = what.into();
        for (i, f) in fields.fields.iter().enumerate() {
            let name = f.name.name.as_str();
            if !known.contains(&name) {
                let mut d = Diagnostic::error(
                    "E0302",
                    file,
                    f.name.span,
                    format!("unknown field `{name}` in {what}"),
                )
                .with_label("unknown field");
                d = match did_you_mean(name, known.iter().copied()) {
                    Some(s) => d
                        .with_help(format!("did you mean `{s}`?"))
                        .with_suggestion(s),
                    None => d.with_help(format!(
                        "known fields: {}",
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                diags.push(d);
            } else if let Some(first) = fields.fields[..i].iter().find(|p| p.name.name == name) {
                diags.push(
                    Diagnostic::error(
                        "E0202",
                        file,
                        f.name.span,
                        format!("field `{name}` is given twice in {what}"),
                    )
                    .with_secondary(
                        Label::new(file, first.name.span).with_message("first given here"),
                    )
                    .with_help("remove one of them"),
                );
            }
        }
        FieldReader { file, what, fields }
    }

    pub fn get(&self, name: &str) -> Option<&'a Field> {
        self.fields.fields.iter().find(|f| f.name.name == name)
    }

    /// Reports E0303 when a required field is absent.
    pub fn require(
        &self,
        name: &str,
        at: Span,
        example: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<&'a Field> {
        let f = self.get(name);
        if f.is_none() {
            diags.push(
                Diagnostic::error(
                    "E0303",
                    self.file,
                    at,
                    format!("missing required field `{name}` in {}", self.what),
                )
                .with_help(format!("add `{name}: {example}`")),
            );
        }
        f
    }

    pub fn wrong_kind(&self, field: &Field, expected: &str) -> Diagnostic {
        Diagnostic::error(
            "E0301",
            self.file,
            field.value.span(),
            format!(
                "field `{}` of {} expects {expected}",
                field.name.name, self.what
            ),
        )
        .with_label(format!("expected {expected}"))
    }

    pub fn string(&self, field: &'a Field, diags: &mut Vec<Diagnostic>) -> Option<StrLit> {
        match as_expr(&field.value).map(|e| (&e.kind, e.span)) {
            Some((ExprKind::Str(s), span)) => Some(StrLit {
                value: s.clone(),
                span,
            }),
            _ => {
                diags.push(self.wrong_kind(field, "a string"));
                None
            }
        }
    }

    pub fn bool(&self, field: &'a Field, diags: &mut Vec<Diagnostic>) -> Option<bool> {
        match as_expr(&field.value).map(|e| &e.kind) {
            Some(ExprKind::Bool(b)) => Some(*b),
            _ => {
                diags.push(self.wrong_kind(field, "`true` or `false`"));
                None
            }
        }
    }

    pub fn int(&self, field: &'a Field, diags: &mut Vec<Diagnostic>) -> Option<i64> {
        match as_expr(&field.value).map(|e| &e.kind) {
            Some(ExprKind::Int(i)) => Some(*i),
            _ => {
                diags.push(self.wrong_kind(field, "an integer"));
                None
            }
        }
    }

    /// A positive duration in seconds (E0304 for zero or overflow).
    pub fn duration(&self, field: &'a Field, diags: &mut Vec<Diagnostic>) -> Option<i64> {
        match as_expr(&field.value) {
            Some(
                e @ Expr {
                    kind: ExprKind::Duration { .. },
                    ..
                },
            ) => positive_duration(self.file, e, &field.name.name, diags),
            _ => {
                diags.push(
                    self.wrong_kind(field, "a duration such as `90d`")
                        .with_help("write a number followed by a unit: `s`, `m`, `h`, `d` or `w`"),
                );
                None
            }
        }
    }

    /// A bare name such as `open`.
    pub fn ident(
        &self,
        field: &'a Field,
        expected: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Ident> {
        match as_expr(&field.value).and_then(bare_name) {
            Some(id) => Some(id.clone()),
            None => {
                diags.push(self.wrong_kind(field, expected));
                None
            }
        }
    }

    /// A list of bare names `[a, b]`.
    pub fn name_list(
        &self,
        field: &'a Field,
        expected: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<Ident>> {
        let Some(Expr {
            kind: ExprKind::List(items),
            ..
        }) = as_expr(&field.value)
        else {
            diags.push(
                self.wrong_kind(field, &format!("a list of {expected}"))
                    .with_help(format!("write `{}: [name, …]`", field.name.name)),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match bare_name(item) {
                Some(id) => out.push(id.clone()),
                None => diags.push(
                    Diagnostic::error(
                        "E0301",
                        self.file,
                        item.span,
                        format!(
                            "`{}` expects {expected}, found an expression",
                            field.name.name
                        ),
                    )
                    .with_label(format!("expected one of the {expected}")),
                ),
            }
        }
        Some(out)
    }

    /// A list of string literals.
    pub fn string_list(
        &self,
        field: &'a Field,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<StrLit>> {
        let Some(Expr {
            kind: ExprKind::List(items),
            ..
        }) = as_expr(&field.value)
        else {
            diags.push(self.wrong_kind(field, "a list of strings"));
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match &item.kind {
                ExprKind::Str(s) => out.push(StrLit {
                    value: s.clone(),
                    span: item.span,
                }),
                _ => diags.push(
                    Diagnostic::error(
                        "E0301",
                        self.file,
                        item.span,
                        format!("`{}` expects strings", field.name.name),
                    )
                    .with_label("expected a string"),
                ),
            }
        }
        Some(out)
    }

    pub fn expr(&self, field: &'a Field, diags: &mut Vec<Diagnostic>) -> Option<&'a Expr> {
        match &field.value {
            Value::Expr(e) => Some(e),
            Value::Object(_) => {
                diags.push(self.wrong_kind(field, "an expression"));
                None
            }
        }
    }
}

pub fn as_expr(v: &Value) -> Option<&Expr> {
    match v {
        Value::Expr(e) => Some(strip_parens(e)),
        Value::Object(_) => None,
    }
}

pub fn strip_parens(mut e: &Expr) -> &Expr {
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    e
}

/// A path of one segment, i.e. a bare name (keywords allowed as names).
pub fn bare_name(e: &Expr) -> Option<&Ident> {
    match &strip_parens(e).kind {
        ExprKind::Path(segs) if segs.len() == 1 => Some(&segs[0]),
        _ => None,
    }
}

/// Seconds of a duration literal; E0304 when zero or too large.
pub fn positive_duration(
    file: FileId,
    e: &Expr,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<i64> {
    let ExprKind::Duration { value, unit } = e.kind else {
        return None;
    };
    match value.checked_mul(unit.seconds()) {
        Some(0) => {
            diags.push(
                Diagnostic::error(
                    "E0304",
                    file,
                    e.span,
                    format!(
                        "`{what}` must be a positive duration, found `0{}`",
                        unit.suffix()
                    ),
                )
                .with_help(
                    "a retention of zero cannot be enforced; give a positive duration such as `1d`",
                ),
            );
            None
        }
        Some(secs) => Some(secs),
        None => {
            diags.push(
                Diagnostic::error(
                    "E0304",
                    file,
                    e.span,
                    format!("duration `{value}{}` is too large", unit.suffix()),
                )
                .with_help("durations must fit in 64-bit seconds"),
            );
            None
        }
    }
}
