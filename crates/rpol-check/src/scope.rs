//! The declared names of a policy, per kind, and the registry's feature names.

use std::collections::HashMap;

use rpol_engine::model::{self, ContextType};

use crate::names::Names;
use crate::resolution::NameKind;
use crate::ty::Ty;

#[derive(Debug, Clone)]
pub struct Scope {
    pub purposes: Names,
    pub consent: Names,
    pub capabilities: Names,
    pub roles: Names,
    pub surfaces: Names,
    pub context: Names,
    pub context_types: Vec<ContextType>,
    /// Per context field, its enum variants by name (empty for other types):
    /// resolving a variant by scanning the list was quadratic for a list of
    /// many variants against an enum of many.
    pub context_variant_ids: Vec<HashMap<String, u32>>,
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
            purposes: Names::new(NameKind::Purpose),
            consent: Names::new(NameKind::Consent),
            capabilities: Names::new(NameKind::Capability),
            roles: Names::new(NameKind::Role),
            surfaces: Names::new(NameKind::Surface),
            context: Names::new(NameKind::ContextField),
            context_types: Vec::new(),
            context_variant_ids: Vec::new(),
            modes: Names::new(NameKind::Mode),
            classes: Names::new(NameKind::Class),
            sources: Names::new(NameKind::Source),
            feature_sets: Names::new(NameKind::FeatureSet),
            reasons: Names::new(NameKind::Reason),
            retention: Names::new(NameKind::Retention),
            features: Names::new(NameKind::Feature),
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

    /// Declares a context field's type (after its name, same index).
    pub fn push_context_type(&mut self, ty: ContextType) {
        let ids = match &ty {
            ContextType::Enum(v) => v
                .iter()
                .enumerate()
                .rev()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect(),
            _ => HashMap::new(),
        };
        self.context_types.push(ty);
        self.context_variant_ids.push(ids);
    }

    /// The id of variant `name` of enum field `field`.
    pub fn context_variant_id(&self, field: u32, name: &str) -> Option<u32> {
        self.context_variant_ids
            .get(field as usize)?
            .get(name)
            .copied()
    }

    /// The capabilities class `cls` requires that `mode` does not grant, by name.
    pub fn missing_capabilities(&self, cls: &model::Class, mode: &model::Mode) -> Vec<&str> {
        cls.requires
            .iter()
            .filter(|c| !mode.grants.contains(c))
            .map(|c| self.capabilities.name(*c))
            .collect()
    }

    pub fn context_variants(&self, field: u32) -> &[String] {
        match self.context_types.get(field as usize) {
            Some(ContextType::Enum(v)) => v,
            _ => &[],
        }
    }
}
