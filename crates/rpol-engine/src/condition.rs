//! A typed condition evaluated on its own, outside any policy rule: what
//! analysis tools (`rpol verify --query`) need to ask "is this true for that
//! request?" with exactly the engine's three-valued semantics.

use crate::eval::{CExpr, Env, Tri};
use crate::model;
use crate::request::Request;

/// A compiled condition over the request and the resolved mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition(CExpr);

impl Condition {
    /// Compiles a typed condition. `feature.*` paths read nothing here (they
    /// are `unknown`), as outside a `forbid feature` rule.
    pub fn new(e: &model::Expr) -> Condition {
        Condition(CExpr::from_model(e))
    }

    /// `Some(true)`, `Some(false)`, or `None` for `unknown` (spec 4).
    pub fn eval(&self, req: &Request, mode: Option<u32>) -> Option<bool> {
        to_option(self.0.eval(&Env {
            req,
            mode,
            feature: None,
        }))
    }
}

/// The engine's Kleene `and` over values computed outside it (`None` is
/// unknown), so that tools combining conditions agree with the evaluator.
pub fn all(values: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    to_option(Tri::all(values.into_iter().map(of_option)))
}

/// The engine's Kleene `or`; see [`all`].
pub fn any(values: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    to_option(Tri::any(values.into_iter().map(of_option)))
}

fn to_option(t: Tri) -> Option<bool> {
    match t {
        Tri::T => Some(true),
        Tri::F => Some(false),
        Tri::U => None,
    }
}

fn of_option(b: Option<bool>) -> Tri {
    match b {
        Some(true) => Tri::T,
        Some(false) => Tri::F,
        None => Tri::U,
    }
}
