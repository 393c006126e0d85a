//! Conditions as Rego terms over Kleene values.
//!
//! Rego's undefined is not `unknown`: a rule that reads an absent value simply
//! does not exist, and `not` of it is true, which would turn "unknown" into
//! "true" under negation. So every condition is rendered as a term that is
//! always defined and evaluates to 0 (false), 1 (unknown) or 2 (true); `and`
//! is `min`, `or` is `max`, `not` is `2 - x`. Absent optional values are
//! `null` in the normalized request (`null` can never be a valid request
//! value, docs/reference.md, Files and policies), and the `k_*` helpers map a `null` operand to 1.

use rpol_engine::model::{CmpOp, ContextType, Expr, Literal, Operand, Path, PolicyModel};

use crate::json_str;

const CONSENT_STATES: [&str; 3] = ["granted", "denied", "unknown"];

/// Renders `e` as a Kleene term. `feature` is the name of the bound feature
/// object in `forbid feature` conditions.
pub(crate) fn kleene(m: &PolicyModel, e: &Expr) -> String {
    match e {
        Expr::Bool(b) => if *b { "2" } else { "0" }.to_string(),
        Expr::Not(x) => format!("(2 - {})", kleene(m, x)),
        Expr::And(xs) => fold(m, "min", xs),
        Expr::Or(xs) => fold(m, "max", xs),
        Expr::Compare { op, lhs, rhs } => {
            let (l, r) = (operand(m, lhs, rhs), operand(m, rhs, lhs));
            match op {
                CmpOp::Eq => format!("k_eq({l}, {r})"),
                CmpOp::Ne => format!("(2 - k_eq({l}, {r}))"),
                CmpOp::Lt => format!("k_lt({l}, {r})"),
                CmpOp::Le => format!("(2 - k_lt({r}, {l}))"),
                CmpOp::Gt => format!("k_lt({r}, {l})"),
                CmpOp::Ge => format!("(2 - k_lt({l}, {r}))"),
            }
        }
        Expr::InList {
            lhs,
            items,
            negated,
        } => {
            let l = operand_typed(m, lhs, items.first());
            let any = if items.is_empty() {
                // `x in []` is false even when `x` is absent (an empty `or`).
                "0".to_string()
            } else {
                let parts: Vec<String> = items
                    .iter()
                    .map(|it| format!("k_eq({l}, {})", operand(m, it, lhs)))
                    .collect();
                format!("max([{}])", parts.join(", "))
            };
            if *negated {
                format!("(2 - {any})")
            } else {
                any
            }
        }
        Expr::HasRole { role, negated } => {
            let name = m.roles.get(*role as usize).map_or("", String::as_str);
            let t = format!("k_role({})", json_str(name));
            if *negated { format!("(2 - {t})") } else { t }
        }
        Expr::Exists(p) => format!("k_exists({})", path(m, *p)),
        Expr::StartsWith(a, b) => {
            format!("k_starts({}, {})", operand(m, a, b), operand(m, b, a))
        }
        Expr::Truthy(p) => format!("k_truthy({})", path(m, *p)),
    }
}

fn fold(m: &PolicyModel, f: &str, xs: &[Expr]) -> String {
    match xs {
        // The neutral elements: an empty `and` is true, an empty `or` false.
        [] => if f == "min" { "2" } else { "0" }.to_string(),
        [x] => kleene(m, x),
        _ => {
            let parts: Vec<String> = xs.iter().map(|x| kleene(m, x)).collect();
            format!("{f}([{}])", parts.join(", "))
        }
    }
}

/// An operand; a symbol literal takes its name from the type of `other`.
fn operand(m: &PolicyModel, o: &Operand, other: &Operand) -> String {
    operand_typed(m, o, Some(other))
}

fn operand_typed(m: &PolicyModel, o: &Operand, other: Option<&Operand>) -> String {
    match o {
        Operand::Path(p) => path(m, *p),
        Operand::Lit(l) => match l {
            Literal::Str(s) => json_str(s),
            Literal::Int(i) | Literal::Duration(i) => i.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Sym(s) => match other {
                Some(Operand::Path(p)) => json_str(&symbol(m, *p, *s)),
                // Two literals: compare the ids themselves.
                _ => s.to_string(),
            },
        },
    }
}

/// The name of variant `s` of the type of path `p`.
fn symbol(m: &PolicyModel, p: Path, s: u32) -> String {
    let i = s as usize;
    let name = match p {
        Path::Surface => m.surfaces.get(i).cloned(),
        Path::Purpose => m.purposes.get(i).cloned(),
        Path::Consent(_) => CONSENT_STATES.get(i).map(|x| x.to_string()),
        Path::Context(f) => match m.context.get(f as usize).map(|c| &c.ty) {
            Some(ContextType::Enum(vs)) => vs.get(i).cloned(),
            _ => None,
        },
        Path::Mode => m.modes.get(i).map(|x| x.name.clone()),
        Path::FeatureName => m.features.get(i).map(|x| x.name.clone()),
        Path::FeatureClass => m.classes.get(i).map(|x| x.name.clone()),
        _ => None,
    };
    // A symbol that names nothing can never be equal to a request value; the
    // checker rules this out, and the marker keeps the comparison false.
    name.unwrap_or_else(|| format!("\u{0}invalid-symbol-{s}"))
}

/// A path as a term of the normalized request `req`, the rule `mode`, or the
/// bound feature `f`.
fn path(m: &PolicyModel, p: Path) -> String {
    match p {
        Path::Tenant => "req.tenant".into(),
        Path::Surface => "req.surface".into(),
        Path::Purpose => "req.purpose".into(),
        Path::UserId => "req.user_id".into(),
        Path::AnonymousId => "req.anonymous_id".into(),
        Path::Consent(t) => format!(
            "req.consent[{}]",
            json_str(m.consent_topics.get(t as usize).map_or("", String::as_str))
        ),
        Path::ConsentVersion => "req.consent_version".into(),
        Path::Context(f) => format!(
            "req.context[{}]",
            json_str(m.context.get(f as usize).map_or("", |c| c.name.as_str()))
        ),
        Path::Mode => "mode".into(),
        Path::FeatureName => "f.name".into(),
        Path::FeatureClass => "f.class".into(),
        Path::FeatureEntity => "f.entity".into(),
        Path::FeaturePersonal => "f.personal".into(),
        Path::FeatureSensitive => "f.sensitive".into(),
        Path::FeatureRetention => "f.retention".into(),
    }
}
