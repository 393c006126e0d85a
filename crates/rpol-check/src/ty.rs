//! The types of values in conditions, as the checker infers them.

use crate::scope::Scope;

/// The type of a path, a literal or a name in a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    Int,
    Bool,
    Duration,
    Surface,
    Purpose,
    Consent,
    Mode,
    Role,
    Feature,
    Class,
    /// A context enum field (by field id).
    Enum(u32),
    RoleSet,
}

impl Ty {
    pub fn describe(self, scope: &Scope) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Int => "an integer".into(),
            Ty::Bool => "a bool".into(),
            Ty::Duration => "a duration".into(),
            Ty::Surface => "a surface".into(),
            Ty::Purpose => "a purpose".into(),
            Ty::Consent => "a consent state".into(),
            Ty::Mode => "a mode".into(),
            Ty::Role => "a role".into(),
            Ty::Feature => "a feature".into(),
            Ty::Class => "a class".into(),
            Ty::Enum(f) => format!("a variant of `context.{}`", scope.context.name(f)),
            Ty::RoleSet => "the set of roles".into(),
        }
    }
}
