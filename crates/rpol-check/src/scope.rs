//! The declared names of a policy, per kind, and the registry's feature names.

use rpol_engine::model::ContextType;

use crate::expr::Ty;
use crate::names::Names;

#[derive(Debug, Clone)]
pub struct Scope {
    pub purposes: Names,
    pub consent: Names,
    pub capabilities: Names,
    pub roles: Names,
    pub surfaces: Names,
    pub context: Names,
    pub context_types: Vec<ContextType>,
    pub modes: Names,
    pub classes: Names,
    pub sources: Names,
    pub feature_sets: Names,
    pub reasons: Names,
    pub retention: Names,
    /// Registry features in registry order (first occurrence of a name).
    pub features: Names,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            purposes: Names::new("purpose"),
            consent: Names::new("consent topic"),
            capabilities: Names::new("capability"),
            roles: Names::new("role"),
            surfaces: Names::new("surface"),
            context: Names::new("context field"),
            context_types: Vec::new(),
            modes: Names::new("mode"),
            classes: Names::new("class"),
            sources: Names::new("source"),
            feature_sets: Names::new("feature set"),
            reasons: Names::new("reason"),
            retention: Names::new("retention kind"),
            features: Names::new("feature"),
        }
    }
}

impl Scope {
    pub fn context_ty(&self, field: u32) -> Ty {
        match self.context_types.get(field as usize) {
            Some(ContextType::String) | None => Ty::Str,
            Some(ContextType::Int) => Ty::Int,
            Some(ContextType::Bool) => Ty::Bool,
            Some(ContextType::Duration) => Ty::Duration,
            Some(ContextType::Enum(_)) => Ty::Enum(field),
        }
    }

    pub fn context_variants(&self, field: u32) -> &[String] {
        match self.context_types.get(field as usize) {
            Some(ContextType::Enum(v)) => v,
            _ => &[],
        }
    }
}
