//! What the policies compare each request field with: the raw material of the
//! region split. Walks every condition (resolve arms, source `when`s, forbid
//! rules, queries) and the registry tables that read the request (purposes,
//! consent topics, feature-set surfaces).

use std::collections::{BTreeMap, BTreeSet};

use rpol_engine::model::{CmpOp, Expr, Literal, Operand, Path, PolicyModel};

use crate::error::{AnalysisError, Origin, Site};

/// A request field, by name, so that two policies' fields line up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Tenant,
    Surface,
    Purpose,
    UserId,
    AnonymousId,
    Consent(String),
    ConsentVersion,
    Context(String),
    Roles,
}

impl Field {
    /// The field as a policy writes it: `consent.session`, `subject.user_id`.
    pub fn display(&self) -> String {
        match self {
            Field::Tenant => "tenant".into(),
            Field::Surface => "surface".into(),
            Field::Purpose => "purpose".into(),
            Field::UserId => "subject.user_id".into(),
            Field::AnonymousId => "subject.anonymous_id".into(),
            Field::Consent(t) => format!("consent.{t}"),
            Field::ConsentVersion => "consent_version".into(),
            Field::Context(f) => format!("context.{f}"),
            Field::Roles => "roles".into(),
        }
    }
}

/// Everything one field is compared with, over all policies analysed.
#[derive(Debug, Clone, Default)]
pub struct Uses {
    /// Strings it is compared with for equality.
    pub strs: BTreeSet<String>,
    /// Strings it is tested to start with.
    pub prefixes: BTreeSet<String>,
    /// Integer or duration (seconds) cuts: a cut `b` separates the values
    /// below `b` from those at or above it. `x < t` cuts at `t`, `x <= t` at
    /// `t + 1`, `x == t` at both, so the classes are exactly the intervals
    /// the comparisons can tell apart.
    pub cuts: BTreeSet<i64>,
    /// Enum variants (surfaces, purposes, context variants) or roles named.
    pub syms: BTreeSet<String>,
}

/// Per field, its uses; a field missing from the map is read by nothing.
pub type Reads = BTreeMap<Field, Uses>;

/// One condition and the policy whose ids it uses.
pub struct Cond<'a> {
    pub model: &'a PolicyModel,
    pub expr: &'a Expr,
}

/// Collects the uses of every request field in the policies and extra conditions.
pub fn collect(models: &[&PolicyModel], extra: &[Cond<'_>]) -> Result<Reads, AnalysisError> {
    let mut reads = Reads::new();
    // The site of a refused comparison: `seen` counts the comparisons walked,
    // the refused one last (the walk stops at it).
    let site = |origin, condition, seen: usize| Site {
        origin,
        condition,
        comparison: seen.saturating_sub(1),
    };
    for (p, m) in models.iter().enumerate() {
        for (i, e) in m.conditions().enumerate() {
            let mut seen = 0;
            walk(m, e, &mut reads, &mut seen)
                .map_err(|err| err.at(site(Origin::Policy(p), i, seen)))?;
        }
        for f in &m.features {
            for &p in f.allowed_purposes.iter().chain(&f.prohibited_purposes) {
                if let Some(name) = m.purposes.get(p as usize) {
                    uses(&mut reads, Field::Purpose).syms.insert(name.clone());
                }
            }
            if let Some(t) = f
                .requires_consent
                .and_then(|t| m.consent_topics.get(t as usize))
            {
                uses(&mut reads, Field::Consent(t.clone()));
            }
        }
        for fs in &m.feature_sets {
            for &s in fs.surfaces.iter().flatten() {
                if let Some(name) = m.surfaces.get(s as usize) {
                    uses(&mut reads, Field::Surface).syms.insert(name.clone());
                }
            }
        }
    }
    for (i, c) in extra.iter().enumerate() {
        let mut seen = 0;
        walk(c.model, c.expr, &mut reads, &mut seen)
            .map_err(|err| err.at(site(Origin::Extra, i, seen)))?;
    }
    Ok(reads)
}

/// The request fields one condition reads (its part of a cone of influence).
pub fn fields_of(m: &PolicyModel, e: &Expr) -> BTreeSet<Field> {
    let mut reads = Reads::new();
    // A relational comparison was refused when the space was built.
    let _ = walk(m, e, &mut reads, &mut 0);
    reads.into_keys().collect()
}

fn uses(reads: &mut Reads, f: Field) -> &mut Uses {
    reads.entry(f).or_default()
}

/// The request field a path reads; `None` for `mode` and `feature.*`.
fn field_of(m: &PolicyModel, p: Path) -> Option<Field> {
    Some(match p {
        Path::Tenant => Field::Tenant,
        Path::Surface => Field::Surface,
        Path::Purpose => Field::Purpose,
        Path::UserId => Field::UserId,
        Path::AnonymousId => Field::AnonymousId,
        Path::Consent(t) => Field::Consent(m.consent_topics.get(t as usize)?.clone()),
        Path::ConsentVersion => Field::ConsentVersion,
        Path::Context(f) => Field::Context(m.context.get(f as usize)?.name.clone()),
        _ => return None,
    })
}

/// `seen` counts the comparisons (`Compare`, `InList`, `StartsWith`) in
/// pre-order, as the checker's `ConditionSpans::comparisons` lists them.
fn walk(
    m: &PolicyModel,
    e: &Expr,
    reads: &mut Reads,
    seen: &mut usize,
) -> Result<(), AnalysisError> {
    if matches!(
        e,
        Expr::Compare { .. } | Expr::InList { .. } | Expr::StartsWith(..)
    ) {
        *seen += 1;
    }
    match e {
        Expr::Bool(_) => Ok(()),
        Expr::Not(x) => walk(m, x, reads, seen),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().try_for_each(|x| walk(m, x, reads, seen)),
        Expr::Compare { op, lhs, rhs } => pair(m, *op, lhs, rhs, reads),
        Expr::InList { lhs, items, .. } => {
            if items.is_empty() {
                mark(m, lhs, reads);
            }
            items
                .iter()
                .try_for_each(|i| pair(m, CmpOp::Eq, lhs, i, reads))
        }
        Expr::HasRole { role, .. } => {
            if let Some(r) = m.roles.get(*role as usize) {
                uses(reads, Field::Roles).syms.insert(r.clone());
            }
            Ok(())
        }
        Expr::Exists(p) | Expr::Truthy(p) => {
            mark(m, &Operand::Path(*p), reads);
            Ok(())
        }
        Expr::StartsWith(a, b) => starts_with(m, a, b, reads),
    }
}

/// Notes that a field is read, even if compared with nothing.
fn mark(m: &PolicyModel, o: &Operand, reads: &mut Reads) {
    if let Operand::Path(p) = o
        && let Some(f) = field_of(m, *p)
    {
        uses(reads, f);
    }
}

/// The values a `feature.*` path takes over the registry.
fn feature_values(m: &PolicyModel, p: Path) -> Vec<Literal> {
    m.features
        .iter()
        .filter_map(|f| match p {
            Path::FeatureEntity => Some(Literal::Str(f.entity.clone())),
            Path::FeatureRetention => f.retention_days.map(|d| Literal::Duration(d * 86_400)),
            _ => None,
        })
        .collect()
}

/// `t op x` as `x op' t`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        eq => eq,
    }
}

/// Records that the field behind `path` is compared with `lit` by `path op lit`.
fn add_literal(m: &PolicyModel, path: Path, op: CmpOp, lit: &Literal, reads: &mut Reads) {
    let Some(field) = field_of(m, path) else {
        return;
    };
    let sym_name = |id: u32| -> Option<String> {
        match path {
            Path::Surface => m.surfaces.get(id as usize).cloned(),
            Path::Purpose => m.purposes.get(id as usize).cloned(),
            Path::Context(f) => match &m.context.get(f as usize)?.ty {
                rpol_engine::model::ContextType::Enum(v) => v.get(id as usize).cloned(),
                _ => None,
            },
            // Consent states are all enumerated anyway.
            _ => None,
        }
    };
    let u = uses(reads, field);
    match lit {
        Literal::Str(s) => {
            u.strs.insert(s.clone());
        }
        Literal::Int(n) | Literal::Duration(n) => {
            let n = *n;
            match op {
                CmpOp::Lt | CmpOp::Ge => {
                    u.cuts.insert(n);
                }
                CmpOp::Le | CmpOp::Gt => {
                    u.cuts.extend(n.checked_add(1));
                }
                CmpOp::Eq | CmpOp::Ne => {
                    u.cuts.insert(n);
                    u.cuts.extend(n.checked_add(1));
                }
            }
        }
        Literal::Bool(_) => {}
        Literal::Sym(id) => {
            if let Some(n) = sym_name(*id) {
                u.syms.insert(n);
            }
        }
    }
}

/// Two request fields compared with each other split the space along a
/// diagonal, not field by field; only finite, fully enumerated fields
/// (consent states, booleans) can be compared that way.
fn fully_enumerated(m: &PolicyModel, p: Path) -> bool {
    match p {
        Path::Consent(_) => true,
        Path::Context(f) => matches!(
            m.context.get(f as usize).map(|c| &c.ty),
            Some(rpol_engine::model::ContextType::Bool)
        ),
        _ => false,
    }
}

fn pair(
    m: &PolicyModel,
    op: CmpOp,
    a: &Operand,
    b: &Operand,
    reads: &mut Reads,
) -> Result<(), AnalysisError> {
    match (a, b) {
        (Operand::Path(p), Operand::Lit(l)) => {
            add_literal(m, *p, op, l, reads);
            mark(m, a, reads);
        }
        (Operand::Lit(l), Operand::Path(p)) => {
            add_literal(m, *p, flip(op), l, reads);
            mark(m, b, reads);
        }
        (Operand::Path(p), Operand::Path(q)) => {
            let (pf, qf) = (p.is_feature(), q.is_feature());
            match (pf, qf) {
                (false, true) | (true, false) => {
                    let (req, feat, op) = if pf { (*q, *p, flip(op)) } else { (*p, *q, op) };
                    for l in feature_values(m, feat) {
                        add_literal(m, req, op, &l, reads);
                    }
                    mark(m, &Operand::Path(req), reads);
                }
                (true, true) => {}
                (false, false) => {
                    // `mode` is derived, not split; the same field twice, or
                    // two fully enumerated fields, need no diagonal.
                    if *p == Path::Mode
                        || *q == Path::Mode
                        || p == q
                        || (fully_enumerated(m, *p) && fully_enumerated(m, *q))
                    {
                        mark(m, a, reads);
                        mark(m, b, reads);
                    } else {
                        return Err(AnalysisError::Relational {
                            lhs: field_of(m, *p).map_or_else(|| "?".into(), |f| f.display()),
                            rhs: field_of(m, *q).map_or_else(|| "?".into(), |f| f.display()),
                            site: None,
                        });
                    }
                }
            }
        }
        (Operand::Lit(_), Operand::Lit(_)) => {}
    }
    Ok(())
}

/// Every prefix of `s` at a character boundary, `""` and `s` included.
fn prefixes_of(s: &str) -> impl Iterator<Item = &str> {
    s.char_indices()
        .map(|(i, _)| &s[..i])
        .chain(std::iter::once(s))
}

fn starts_with(
    m: &PolicyModel,
    a: &Operand,
    b: &Operand,
    reads: &mut Reads,
) -> Result<(), AnalysisError> {
    // The values each side can take when it is a constant or a feature path.
    let constants = |o: &Operand| -> Option<Vec<String>> {
        match o {
            Operand::Lit(Literal::Str(s)) => Some(vec![s.clone()]),
            Operand::Path(p) if p.is_feature() => Some(
                feature_values(m, *p)
                    .into_iter()
                    .filter_map(|l| match l {
                        Literal::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            Operand::Lit(_) => Some(Vec::new()),
            Operand::Path(_) => None,
        }
    };
    let field = |o: &Operand| match o {
        Operand::Path(p) => field_of(m, *p),
        Operand::Lit(_) => None,
    };
    match (field(a), field(b)) {
        (Some(fa), None) => {
            let u = uses(reads, fa);
            u.prefixes.extend(constants(b).unwrap_or_default());
        }
        (None, Some(fb)) => {
            // `starts_with("abc", x)` holds exactly when x is a prefix of "abc".
            let u = uses(reads, fb);
            for s in constants(a).unwrap_or_default() {
                u.strs.extend(prefixes_of(&s).map(str::to_string));
            }
        }
        (Some(fa), Some(fb)) if fa == fb => {
            uses(reads, fa);
        }
        (Some(fa), Some(fb)) => {
            return Err(AnalysisError::Relational {
                lhs: fa.display(),
                rhs: fb.display(),
                site: None,
            });
        }
        (None, None) => {}
    }
    Ok(())
}
