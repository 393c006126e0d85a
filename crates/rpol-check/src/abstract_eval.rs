//! Three-valued evaluation of a condition over *all* requests at once: the
//! result is the set of truth values some request can produce. Fields with a
//! finite domain (surface, purpose, mode, consent state, enum context) are
//! enumerated; others range over everything. Correlations between atoms are
//! dropped, so the set may be larger than the truth, never smaller: "can be
//! true" is sound, and so are "always true" (set = {true}) and "never true".

use rpol_engine::model::{CmpOp, ContextType, Expr, Literal, Operand, Path, PolicyModel};

pub const T: u8 = 1;
pub const F: u8 = 2;
pub const U: u8 = 4;
const ALL: u8 = T | F | U;

/// How consent topics vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Any state.
    Free,
    /// Every topic `unknown` (the fail-safe question of L003).
    AllUnknown,
}

pub struct Abstract<'m> {
    pub model: &'m PolicyModel,
    pub consent: Consent,
}

/// The possible values of a path: `None` for "too many to enumerate".
enum Domain {
    Finite { values: Vec<u32>, optional: bool },
    Open { optional: bool },
}

impl Abstract<'_> {
    fn domain(&self, p: Path) -> Domain {
        let m = self.model;
        let range = |n: usize| (0..n as u32).collect::<Vec<_>>();
        match p {
            Path::Surface => Domain::Finite {
                values: range(m.surfaces.len()),
                optional: false,
            },
            Path::Purpose => Domain::Finite {
                values: range(m.purposes.len()),
                optional: false,
            },
            Path::Mode => Domain::Finite {
                values: range(m.modes.len()),
                optional: false,
            },
            Path::FeatureName => Domain::Finite {
                values: range(m.features.len()),
                optional: false,
            },
            Path::FeatureClass => Domain::Finite {
                values: range(m.classes.len()),
                optional: false,
            },
            Path::Consent(_) => match self.consent {
                Consent::Free => Domain::Finite {
                    values: vec![0, 1, 2],
                    optional: false,
                },
                Consent::AllUnknown => Domain::Finite {
                    values: vec![2],
                    optional: false,
                },
            },
            Path::Context(f) => match m.context.get(f as usize).map(|c| &c.ty) {
                Some(ContextType::Enum(v)) => Domain::Finite {
                    values: range(v.len()),
                    optional: true,
                },
                _ => Domain::Open { optional: true },
            },
            Path::UserId | Path::AnonymousId | Path::ConsentVersion | Path::FeatureRetention => {
                Domain::Open { optional: true }
            }
            Path::Tenant | Path::FeatureEntity | Path::FeaturePersonal | Path::FeatureSensitive => {
                Domain::Open { optional: false }
            }
        }
    }

    fn optional(&self, o: &Operand) -> bool {
        match o {
            Operand::Lit(_) => false,
            Operand::Path(p) => match self.domain(*p) {
                Domain::Finite { optional, .. } | Domain::Open { optional } => optional,
            },
        }
    }

    /// The set of truth values `e` can take.
    pub fn eval(&self, e: &Expr) -> u8 {
        match e {
            Expr::Bool(true) => T,
            Expr::Bool(false) => F,
            Expr::Not(x) => {
                let s = self.eval(x);
                map(s, |v| match v {
                    T => F,
                    F => T,
                    _ => U,
                })
            }
            Expr::And(xs) => xs.iter().fold(T, |acc, x| combine(acc, self.eval(x), and3)),
            Expr::Or(xs) => xs.iter().fold(F, |acc, x| combine(acc, self.eval(x), or3)),
            Expr::Compare { op, lhs, rhs } => self.compare(*op, lhs, rhs),
            Expr::InList {
                lhs: Operand::Path(p),
                items,
                negated,
            } if items
                .iter()
                .all(|i| matches!(i, Operand::Lit(Literal::Sym(_)))) =>
            {
                // A finite domain against names: enumerate the domain once, so
                // `purpose in [every purpose]` is seen to be always true.
                let s = match self.domain(*p) {
                    Domain::Finite { values, optional } => {
                        let mut out = if optional && !items.is_empty() { U } else { 0 };
                        if optional && items.is_empty() {
                            out |= F;
                        }
                        for v in values {
                            out |=
                                bool3(items.iter().any(
                                    |i| matches!(i, Operand::Lit(Literal::Sym(s)) if *s == v),
                                ));
                        }
                        out
                    }
                    Domain::Open { optional } => T | F | if optional { U } else { 0 },
                };
                if *negated { negate(s) } else { s }
            }
            Expr::InList {
                lhs,
                items,
                negated,
            } => {
                let s = if items.is_empty() {
                    F
                } else {
                    items.iter().fold(F, |acc, it| {
                        combine(acc, self.compare(CmpOp::Eq, lhs, it), or3)
                    })
                };
                if *negated { negate(s) } else { s }
            }
            Expr::HasRole { .. } => T | F,
            Expr::Exists(p) => match self.domain(*p) {
                Domain::Finite { optional: true, .. } | Domain::Open { optional: true } => T | F,
                _ => T,
            },
            Expr::StartsWith(a, b) => {
                T | F
                    | if self.optional(a) || self.optional(b) {
                        U
                    } else {
                        0
                    }
            }
            Expr::Truthy(p) => match self.domain(*p) {
                Domain::Finite { optional, .. } | Domain::Open { optional } => {
                    T | F | if optional { U } else { 0 }
                }
            },
        }
    }

    fn compare(&self, op: CmpOp, lhs: &Operand, rhs: &Operand) -> u8 {
        match (lhs, rhs) {
            (Operand::Lit(a), Operand::Lit(b)) => lit_cmp(op, a, b),
            (Operand::Path(p), Operand::Lit(l)) | (Operand::Lit(l), Operand::Path(p)) => {
                let flipped = matches!(lhs, Operand::Lit(_));
                match (self.domain(*p), l) {
                    (Domain::Finite { values, optional }, Literal::Sym(s)) => {
                        let mut out = if optional { U } else { 0 };
                        for v in values {
                            let (a, b) = if flipped { (*s, v) } else { (v, *s) };
                            out |= bool3(match op {
                                CmpOp::Eq => a == b,
                                CmpOp::Ne => a != b,
                                _ => return ALL,
                            });
                        }
                        out
                    }
                    (Domain::Finite { optional, .. } | Domain::Open { optional }, _) => {
                        T | F | if optional { U } else { 0 }
                    }
                }
            }
            (a, b) => {
                T | F
                    | if self.optional(a) || self.optional(b) {
                        U
                    } else {
                        0
                    }
            }
        }
    }
}

fn lit_cmp(op: CmpOp, a: &Literal, b: &Literal) -> u8 {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Literal::Int(x), Literal::Int(y)) | (Literal::Duration(x), Literal::Duration(y)) => {
            x.cmp(y)
        }
        _ => {
            return match op {
                CmpOp::Eq => bool3(a == b),
                CmpOp::Ne => bool3(a != b),
                _ => ALL,
            };
        }
    };
    bool3(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    })
}

fn bool3(b: bool) -> u8 {
    if b { T } else { F }
}

fn negate(s: u8) -> u8 {
    map(s, |v| match v {
        T => F,
        F => T,
        _ => U,
    })
}

fn map(s: u8, f: impl Fn(u8) -> u8) -> u8 {
    [T, F, U]
        .into_iter()
        .filter(|v| s & v != 0)
        .fold(0, |acc, v| acc | f(v))
}

fn combine(a: u8, b: u8, f: fn(u8, u8) -> u8) -> u8 {
    let mut out = 0;
    for x in [T, F, U] {
        for y in [T, F, U] {
            if a & x != 0 && b & y != 0 {
                out |= f(x, y);
            }
        }
    }
    out
}

fn and3(a: u8, b: u8) -> u8 {
    if a == F || b == F {
        F
    } else if a == T && b == T {
        T
    } else {
        U
    }
}

fn or3(a: u8, b: u8) -> u8 {
    if a == T || b == T {
        T
    } else if a == F && b == F {
        F
    } else {
        U
    }
}
