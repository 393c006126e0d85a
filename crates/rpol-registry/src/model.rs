use rpol_diag::Span;

/// A value with its byte span in the YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugVisibility {
    Open,
    Restricted,
    Hidden,
}

/// One `features:` entry. Names are checked against the policy by the checker.
#[derive(Debug, Clone, PartialEq)]
pub struct RegFeature {
    pub name: Sp<String>,
    pub entity: Sp<String>,
    pub privacy_class: Sp<String>,
    pub allowed_privacy_modes: Sp<Vec<Sp<String>>>,
    pub allowed_purposes: Sp<Vec<Sp<String>>>,
    pub prohibited_purposes: Option<Sp<Vec<Sp<String>>>>,
    pub retention_days: Option<Sp<i64>>,
    pub requires_consent: Option<Sp<String>>,
    pub debug_visibility: Option<Sp<DebugVisibility>>,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// The whole entry.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Registry {
    pub features: Vec<RegFeature>,
}
