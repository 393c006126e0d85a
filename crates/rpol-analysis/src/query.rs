//! `rpol verify --query "EXPR"`: a condition over the request and `mode`, plus
//! `allowed(feature NAME)` and `allowed(source NAME)`, typed like a source's
//! `when` by the checker.

use rpol_check::expr::{ExprChecker, Site};
use rpol_check::{ConditionSpans, Scope};
use rpol_diag::{Diagnostic, FileId};
use rpol_engine::Request;
use rpol_engine::condition::{self, Condition};
use rpol_engine::model::{self, PolicyModel};
use rpol_syntax::ast::{Expr, ExprKind};

use crate::sweep::Outcome;

/// A typed query.
#[derive(Debug, Clone)]
pub enum Query {
    /// A plain condition and its typed expression's place in
    /// [`CheckedQuery::conditions`].
    Cond(Condition, usize),
    Feature(u32),
    Source(u32),
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
}

/// A checked (parsed and typed) query with the plain conditions it contains (they split the
/// request space like the policy's own).
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    pub query: Query,
    pub conditions: Vec<model::Expr>,
    /// Where each of `conditions` sits in the query's text.
    pub spans: Vec<ConditionSpans>,
    /// Features named in `allowed(feature …)`, for the witness's `features`.
    pub features: Vec<u32>,
}

impl CheckedQuery {
    /// The query's plain conditions, for [`crate::literals::collect`]: they
    /// split the request space like the policy's own.
    pub fn conds<'a>(&'a self, model: &'a PolicyModel) -> Vec<crate::literals::Cond<'a>> {
        self.conditions
            .iter()
            .map(|expr| crate::literals::Cond { model, expr })
            .collect()
    }
}

impl Query {
    /// Three-valued, like a condition: `None` is unknown.
    pub fn eval(&self, req: &Request, o: &Outcome) -> Option<bool> {
        match self {
            Query::Cond(c, _) => c.eval(req, Some(o.mode)),
            Query::Feature(f) => Some(o.features.get(*f as usize).is_some_and(|v| v.is_allowed())),
            Query::Source(s) => Some(o.sources.get(*s as usize).is_some_and(|v| v.is_allowed())),
            Query::Not(q) => q.eval(req, o).map(|b| !b),
            Query::And(qs) => condition::all(qs.iter().map(|q| q.eval(req, o))),
            Query::Or(qs) => condition::any(qs.iter().map(|q| q.eval(req, o))),
        }
    }
}

/// `allowed(feature x)` is not an expression of the policy language; the
/// space between the kind and the name becomes a comma, so the one grammar
/// parses it as a call with two arguments and every span stays in place.
fn rewrite_allowed(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let mut in_str = false;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        let starts_word = i == 0 || !ident(b[i - 1]);
        if starts_word && b[i..].starts_with(b"allowed") {
            let j = skip_ws(i + 7);
            if j < b.len() && b[j] == b'(' {
                let k = skip_ws(j + 1);
                for kw in [&b"feature"[..], &b"source"[..]] {
                    let end = k + kw.len();
                    if b[k..].starts_with(kw) && end < b.len() && b[end].is_ascii_whitespace() {
                        let name = skip_ws(end);
                        if name < b.len() && (b[name].is_ascii_alphabetic() || b[name] == b'_') {
                            out[end] = b',';
                        }
                    }
                }
            }
        }
        i += 1;
    }
    // Only ASCII whitespace was replaced by an ASCII comma.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

struct Lower<'a> {
    scope: &'a Scope,
    file: FileId,
    diags: Vec<Diagnostic>,
    conditions: Vec<model::Expr>,
    spans: Vec<ConditionSpans>,
    features: Vec<u32>,
}

impl Lower<'_> {
    fn lower(&mut self, e: &Expr) -> Option<Query> {
        match &e.kind {
            ExprKind::Paren(x) => self.lower(x),
            ExprKind::Not(x) => self.lower(x).map(|q| Query::Not(Box::new(q))),
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                let qs: Vec<Option<Query>> = xs.iter().map(|x| self.lower(x)).collect();
                let qs: Vec<Query> = qs.into_iter().collect::<Option<_>>()?;
                Some(if matches!(e.kind, ExprKind::And(_)) {
                    Query::And(qs)
                } else {
                    Query::Or(qs)
                })
            }
            ExprKind::Call { name, args } if name.name == "allowed" => self.allowed(args, e),
            _ => {
                let mut ec = ExprChecker::new(self.scope, self.file, Site::Request);
                let typed = ec.condition(e);
                self.diags.append(&mut ec.diags);
                let typed = typed?;
                let q = Query::Cond(Condition::new(&typed), self.conditions.len());
                self.conditions.push(typed);
                self.spans.push(ConditionSpans {
                    file: self.file,
                    span: e.span,
                    comparisons: ec.comparisons,
                });
                Some(q)
            }
        }
    }

    fn allowed(&mut self, args: &[Expr], e: &Expr) -> Option<Query> {
        let single = |x: &Expr| match &x.kind {
            ExprKind::Path(segs) if segs.len() == 1 => Some(segs[0].clone()),
            _ => None,
        };
        let (kind, name) = match args {
            [k, n] => (single(k), single(n)),
            _ => (None, None),
        };
        let (Some(kind), Some(name)) = (kind, name) else {
            self.diags.push(
                Diagnostic::error(
                    "E0301",
                    self.file,
                    e.span,
                    "`allowed` takes `feature NAME` or `source NAME`",
                )
                .with_help("write `allowed(feature user_embedding)` or `allowed(source user_cf)`"),
            );
            return None;
        };
        let names = match kind.name.as_str() {
            "feature" => &self.scope.features,
            "source" => &self.scope.sources,
            other => {
                self.diags.push(
                    Diagnostic::error(
                        "E0301",
                        self.file,
                        kind.span,
                        format!("`allowed` takes `feature` or `source`, found `{other}`"),
                    )
                    .with_help("write `allowed(feature NAME)` or `allowed(source NAME)`"),
                );
                return None;
            }
        };
        match names.get(&name.name) {
            Some(id) if kind.name == "feature" => {
                self.features.push(id);
                Some(Query::Feature(id))
            }
            Some(id) => Some(Query::Source(id)),
            None => {
                self.diags
                    .push(names.unknown(&name.name, self.file, name.span));
                None
            }
        }
    }
}

/// Parses and types a query against a checked policy's names.
pub fn check(
    text: &str,
    file: FileId,
    scope: &Scope,
    model: &PolicyModel,
) -> Result<CheckedQuery, Vec<Diagnostic>> {
    let rewritten = rewrite_allowed(text);
    let ast = rpol_syntax::parse_expr(file, &rewritten).map_err(|d| vec![d])?;
    let mut l = Lower {
        scope,
        file,
        diags: Vec::new(),
        conditions: Vec::new(),
        spans: Vec::new(),
        features: Vec::new(),
    };
    let q = l.lower(&ast);
    match q {
        Some(query) if l.diags.is_empty() => {
            // Ids come from the checker's scope, which lowers to the same model.
            debug_assert!(
                l.features
                    .iter()
                    .all(|&f| (f as usize) < model.features.len())
            );
            Ok(CheckedQuery {
                query,
                conditions: l.conditions,
                spans: l.spans,
                features: l.features,
            })
        }
        _ => Err(l.diags),
    }
}
