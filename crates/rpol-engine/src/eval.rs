//! Compiled conditions and their three-valued (Kleene) evaluation (spec 4).

use crate::model::{self, CmpOp, Literal, Operand, Path};
use crate::request::{CtxVal, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    T,
    F,
    U,
}

impl Tri {
    pub fn not(self) -> Tri {
        match self {
            Tri::T => Tri::F,
            Tri::F => Tri::T,
            Tri::U => Tri::U,
        }
    }
    fn of(b: bool) -> Tri {
        if b { Tri::T } else { Tri::F }
    }

    /// Kleene `and` of lazily computed values: a false one decides (and stops
    /// the evaluation), else any unknown makes the result unknown.
    #[inline]
    pub fn all(values: impl IntoIterator<Item = Tri>) -> Tri {
        let mut acc = Tri::T;
        for v in values {
            match v {
                Tri::F => return Tri::F,
                Tri::U => acc = Tri::U,
                Tri::T => {}
            }
        }
        acc
    }

    /// Kleene `or`: the dual of [`Tri::all`].
    #[inline]
    pub fn any(values: impl IntoIterator<Item = Tri>) -> Tri {
        Tri::all(values.into_iter().map(Tri::not)).not()
    }
}

/// A literal resolved for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(Box<str>),
    Num(i64),
    Bool(bool),
    Sym(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Path(Path),
    Lit(Lit),
}

/// A condition ready to evaluate. Feature paths may have been folded away.
#[derive(Debug, Clone, PartialEq)]
pub enum CExpr {
    Const(Tri),
    Not(Box<CExpr>),
    And(Box<[CExpr]>),
    Or(Box<[CExpr]>),
    Cmp {
        op: CmpOp,
        lhs: Op,
        rhs: Op,
    },
    In {
        lhs: Op,
        items: Box<[Op]>,
        negated: bool,
    },
    HasRole {
        role: u32,
        negated: bool,
    },
    Exists(Path),
    StartsWith(Op, Op),
    Truthy(Path),
}

/// A value read from the request (or the feature being decided).
#[derive(Debug, Clone, Copy, PartialEq)]
enum V<'a> {
    Str(&'a str),
    Num(i64),
    Bool(bool),
    Sym(u32),
}

/// The feature a `forbid feature` condition is bound to.
#[derive(Debug, Clone, Copy)]
pub struct FeatureCtx<'a> {
    pub id: u32,
    pub class: u32,
    pub entity: &'a str,
    pub personal: bool,
    pub sensitive: bool,
    pub retention_secs: Option<i64>,
}

/// What evaluation reads: the request, the decided mode, and maybe a feature.
pub struct Env<'a> {
    pub req: &'a Request,
    pub mode: Option<u32>,
    pub feature: Option<FeatureCtx<'a>>,
}

impl CExpr {
    pub fn from_model(e: &model::Expr) -> CExpr {
        let op = |o: &Operand| match o {
            Operand::Path(p) => Op::Path(*p),
            Operand::Lit(l) => Op::Lit(match l {
                Literal::Str(s) => Lit::Str(s.as_str().into()),
                Literal::Int(i) | Literal::Duration(i) => Lit::Num(*i),
                Literal::Bool(b) => Lit::Bool(*b),
                Literal::Sym(s) => Lit::Sym(*s),
            }),
        };
        match e {
            model::Expr::Bool(b) => CExpr::Const(Tri::of(*b)),
            model::Expr::Not(x) => CExpr::Not(Box::new(CExpr::from_model(x))),
            model::Expr::And(xs) => CExpr::And(xs.iter().map(CExpr::from_model).collect()),
            model::Expr::Or(xs) => CExpr::Or(xs.iter().map(CExpr::from_model).collect()),
            model::Expr::Compare { op: o, lhs, rhs } => CExpr::Cmp {
                op: *o,
                lhs: op(lhs),
                rhs: op(rhs),
            },
            model::Expr::InList {
                lhs,
                items,
                negated,
            } => CExpr::In {
                lhs: op(lhs),
                items: items.iter().map(op).collect(),
                negated: *negated,
            },
            model::Expr::HasRole { role, negated } => CExpr::HasRole {
                role: *role,
                negated: *negated,
            },
            model::Expr::Exists(p) => CExpr::Exists(*p),
            model::Expr::StartsWith(a, b) => CExpr::StartsWith(op(a), op(b)),
            model::Expr::Truthy(p) => CExpr::Truthy(*p),
        }
    }

    pub fn reads_feature(&self) -> bool {
        let op = |o: &Op| matches!(o, Op::Path(p) if is_feature_path(*p));
        match self {
            CExpr::Const(_) | CExpr::HasRole { .. } => false,
            CExpr::Not(x) => x.reads_feature(),
            CExpr::And(xs) | CExpr::Or(xs) => xs.iter().any(CExpr::reads_feature),
            CExpr::Cmp { lhs, rhs, .. } => op(lhs) || op(rhs),
            CExpr::In { lhs, items, .. } => op(lhs) || items.iter().any(op),
            CExpr::Exists(p) | CExpr::Truthy(p) => is_feature_path(*p),
            CExpr::StartsWith(a, b) => op(a) || op(b),
        }
    }

    /// Partial evaluation with the feature known and the request not:
    /// feature paths become literals (or unknown), constants fold.
    pub fn fold_feature(&self, f: &FeatureCtx<'_>) -> CExpr {
        let op = |o: &Op| -> Option<Op> {
            match o {
                Op::Path(p) if is_feature_path(*p) => feature_value(*p, f).map(Op::Lit),
                other => Some(other.clone()),
            }
        };
        let folded = match self {
            CExpr::Const(t) => CExpr::Const(*t),
            CExpr::HasRole { .. } => self.clone(),
            CExpr::Not(x) => match x.fold_feature(f) {
                CExpr::Const(t) => CExpr::Const(t.not()),
                y => CExpr::Not(Box::new(y)),
            },
            CExpr::And(xs) | CExpr::Or(xs) => {
                let is_and = matches!(self, CExpr::And(_));
                let (absorb, neutral) = if is_and {
                    (Tri::F, Tri::T)
                } else {
                    (Tri::T, Tri::F)
                };
                let mut rest = Vec::new();
                let mut unknown = false;
                for x in xs.iter() {
                    match x.fold_feature(f) {
                        CExpr::Const(t) if t == absorb => return CExpr::Const(absorb),
                        CExpr::Const(t) if t == neutral => {}
                        CExpr::Const(_) => unknown = true,
                        y => rest.push(y),
                    }
                }
                if unknown {
                    rest.push(CExpr::Const(Tri::U));
                }
                match rest.len() {
                    0 => CExpr::Const(neutral),
                    1 => rest.pop().unwrap_or(CExpr::Const(neutral)),
                    _ => {
                        if is_and {
                            CExpr::And(rest.into())
                        } else {
                            CExpr::Or(rest.into())
                        }
                    }
                }
            }
            CExpr::Cmp { op: o, lhs, rhs } => match (op(lhs), op(rhs)) {
                (Some(l), Some(r)) => CExpr::Cmp {
                    op: *o,
                    lhs: l,
                    rhs: r,
                },
                _ => CExpr::Const(Tri::U),
            },
            CExpr::In {
                lhs,
                items,
                negated,
            } => match op(lhs) {
                None if !items.is_empty() => CExpr::Const(Tri::U),
                None => CExpr::Const(Tri::of(*negated)),
                Some(l) => {
                    let items: Vec<Op> = items
                        .iter()
                        .map(|i| op(i).unwrap_or(Op::Path(Path::FeatureRetention)))
                        .collect();
                    CExpr::In {
                        lhs: l,
                        items: items.into(),
                        negated: *negated,
                    }
                }
            },
            CExpr::Exists(p) if is_feature_path(*p) => {
                CExpr::Const(Tri::of(feature_value(*p, f).is_some()))
            }
            CExpr::Exists(_) => self.clone(),
            CExpr::StartsWith(a, b) => match (op(a), op(b)) {
                (Some(a), Some(b)) => CExpr::StartsWith(a, b),
                _ => CExpr::Const(Tri::U),
            },
            CExpr::Truthy(p) if is_feature_path(*p) => match feature_value(*p, f) {
                Some(Lit::Bool(b)) => CExpr::Const(Tri::of(b)),
                _ => CExpr::Const(Tri::U),
            },
            CExpr::Truthy(_) => self.clone(),
        };
        // Anything that now reads no path at all is a constant.
        if !matches!(folded, CExpr::Const(_)) && folded.is_closed() {
            let empty = Request::empty();
            return CExpr::Const(folded.eval(&Env {
                req: &empty,
                mode: None,
                feature: None,
            }));
        }
        folded
    }

    fn is_closed(&self) -> bool {
        let op = |o: &Op| matches!(o, Op::Lit(_));
        match self {
            CExpr::Const(_) => true,
            CExpr::HasRole { .. } | CExpr::Exists(_) | CExpr::Truthy(_) => false,
            CExpr::Not(x) => x.is_closed(),
            CExpr::And(xs) | CExpr::Or(xs) => xs.iter().all(CExpr::is_closed),
            CExpr::Cmp { lhs, rhs, .. } => op(lhs) && op(rhs),
            CExpr::In { lhs, items, .. } => op(lhs) && items.iter().all(op),
            CExpr::StartsWith(a, b) => op(a) && op(b),
        }
    }

    pub fn eval(&self, env: &Env<'_>) -> Tri {
        match self {
            CExpr::Const(t) => *t,
            CExpr::Not(x) => x.eval(env).not(),
            CExpr::And(xs) => Tri::all(xs.iter().map(|x| x.eval(env))),
            CExpr::Or(xs) => Tri::any(xs.iter().map(|x| x.eval(env))),
            CExpr::Cmp { op, lhs, rhs } => compare(*op, read(lhs, env), read(rhs, env)),
            CExpr::In {
                lhs,
                items,
                negated,
            } => {
                let l = read(lhs, env);
                let acc = Tri::any(items.iter().map(|it| compare(CmpOp::Eq, l, read(it, env))));
                if *negated { acc.not() } else { acc }
            }
            CExpr::HasRole { role, negated } => {
                let has = *role < 64 && env.req.roles & (1u64 << role) != 0;
                Tri::of(has != *negated)
            }
            CExpr::Exists(p) => Tri::of(read(&Op::Path(*p), env).is_some()),
            CExpr::StartsWith(a, b) => match (read(a, env), read(b, env)) {
                (Some(V::Str(a)), Some(V::Str(b))) => Tri::of(a.starts_with(b)),
                _ => Tri::U,
            },
            CExpr::Truthy(p) => match read(&Op::Path(*p), env) {
                Some(V::Bool(b)) => Tri::of(b),
                _ => Tri::U,
            },
        }
    }
}

pub fn is_feature_path(p: Path) -> bool {
    p.is_feature()
}

fn feature_value(p: Path, f: &FeatureCtx<'_>) -> Option<Lit> {
    match p {
        Path::FeatureName => Some(Lit::Sym(f.id)),
        Path::FeatureClass => Some(Lit::Sym(f.class)),
        Path::FeatureEntity => Some(Lit::Str(f.entity.into())),
        Path::FeaturePersonal => Some(Lit::Bool(f.personal)),
        Path::FeatureSensitive => Some(Lit::Bool(f.sensitive)),
        Path::FeatureRetention => f.retention_secs.map(Lit::Num),
        _ => None,
    }
}

fn compare(op: CmpOp, l: Option<V<'_>>, r: Option<V<'_>>) -> Tri {
    let (Some(l), Some(r)) = (l, r) else {
        return Tri::U;
    };
    // Equality needs no ordering (a length check rejects most strings at once).
    match op {
        CmpOp::Eq => return Tri::of(l == r),
        CmpOp::Ne => return Tri::of(l != r),
        _ => {}
    }
    let ord = match (l, r) {
        (V::Num(a), V::Num(b)) => a.cmp(&b),
        (V::Str(a), V::Str(b)) => a.cmp(b),
        _ => {
            // Types are checked before serving; equality is all that is left.
            return match op {
                CmpOp::Eq => Tri::of(l == r),
                CmpOp::Ne => Tri::of(l != r),
                _ => Tri::U,
            };
        }
    };
    use std::cmp::Ordering::*;
    match op {
        CmpOp::Eq => Tri::of(ord == Equal),
        CmpOp::Ne => Tri::of(ord != Equal),
        // Ordering is only typed for ints and durations.
        _ if matches!(l, V::Str(_)) => Tri::U,
        CmpOp::Lt => Tri::of(ord == Less),
        CmpOp::Le => Tri::of(ord != Greater),
        CmpOp::Gt => Tri::of(ord == Greater),
        CmpOp::Ge => Tri::of(ord != Less),
    }
}

fn read<'a>(o: &'a Op, env: &Env<'a>) -> Option<V<'a>> {
    match o {
        Op::Lit(Lit::Str(s)) => Some(V::Str(s)),
        Op::Lit(Lit::Num(n)) => Some(V::Num(*n)),
        Op::Lit(Lit::Bool(b)) => Some(V::Bool(*b)),
        Op::Lit(Lit::Sym(s)) => Some(V::Sym(*s)),
        Op::Path(p) => {
            let r = env.req;
            match p {
                Path::Tenant => r.tenant.as_deref().map(V::Str),
                Path::Surface => r.surface.map(V::Sym),
                Path::Purpose => r.purpose.map(V::Sym),
                Path::UserId => r.user_id.as_deref().map(V::Str),
                Path::AnonymousId => r.anonymous_id.as_deref().map(V::Str),
                Path::Consent(t) => Some(V::Sym(
                    r.consent
                        .get(*t as usize)
                        .copied()
                        .unwrap_or(model::CONSENT_UNKNOWN as u8) as u32,
                )),
                Path::ConsentVersion => r.consent_version.as_deref().map(V::Str),
                Path::Context(f) => r
                    .context
                    .get(*f as usize)
                    .and_then(|v| v.as_ref())
                    .map(|v| match v {
                        CtxVal::Str(s) => V::Str(s),
                        CtxVal::Int(i) | CtxVal::Dur(i) => V::Num(*i),
                        CtxVal::Bool(b) => V::Bool(*b),
                        CtxVal::Enum(e) => V::Sym(*e),
                    }),
                Path::Mode => env.mode.map(V::Sym),
                p => env
                    .feature
                    .as_ref()
                    .and_then(|f| feature_value(*p, f))
                    .map(|l| match l {
                        Lit::Str(_) => V::Str(env.feature.map_or("", |f| f.entity)),
                        Lit::Num(n) => V::Num(n),
                        Lit::Bool(b) => V::Bool(b),
                        Lit::Sym(s) => V::Sym(s),
                    }),
            }
        }
    }
}
