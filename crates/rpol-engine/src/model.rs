//! The policy model the checker hands to the engine: every name resolved to an
//! index, every expression typed. Plain data (serde), so it is also the body of a
//! compiled artifact. [`crate::Compiled::build`] validates it and derives the
//! serve-time tables.
//!
//! Ids are indexes into the vectors of [`PolicyModel`]:
//! purposes, consent topics, capabilities, roles, surfaces, context fields,
//! modes, classes, sources, features (registry order), feature sets, reasons.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyModel {
    pub name: String,
    pub version: String,
    /// SHA-256 lower-case hex over the policy files (sorted path order) and then
    /// the registry bytes (spec 12).
    pub digest: String,
    pub purposes: Vec<String>,
    pub consent_topics: Vec<String>,
    pub capabilities: Vec<String>,
    pub roles: Vec<String>,
    pub surfaces: Vec<String>,
    pub context: Vec<ContextField>,
    pub modes: Vec<Mode>,
    /// `when` arms in order; the `else` arm is [`PolicyModel::fallback`].
    pub resolve: Vec<Arm>,
    pub fallback: Arm,
    pub classes: Vec<Class>,
    /// Declaration order (file order, then position).
    pub sources: Vec<Source>,
    /// Registry order.
    pub features: Vec<Feature>,
    pub feature_sets: Vec<FeatureSet>,
    pub reasons: Vec<Reason>,
    /// Declaration order.
    pub forbids: Vec<Forbid>,
    /// Retention kinds in declaration order, in seconds.
    pub retention: Vec<(String, i64)>,
    /// Debug clearance per role id.
    pub debug: Vec<(u32, Clearance)>,
}

impl PolicyModel {
    /// Every condition of the policy: resolve arms, then source `when`s, then
    /// forbid `when`s.
    pub fn conditions(&self) -> impl Iterator<Item = &Expr> {
        self.resolve
            .iter()
            .filter_map(|a| a.condition.as_ref())
            .chain(self.sources.iter().filter_map(|s| s.when.as_ref()))
            .chain(self.forbids.iter().filter_map(|f| f.when.as_ref()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextField {
    pub name: String,
    pub ty: ContextType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ContextType {
    String,
    Int,
    Bool,
    Duration,
    /// The declared variants; a value is the variant's index.
    Enum(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mode {
    pub name: String,
    /// Capability ids.
    pub grants: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    /// `None` for the `else` arm.
    pub condition: Option<Expr>,
    pub mode: u32,
    /// `FILE:LINE` of the arm's `when`/`else` keyword (spec 12).
    pub rule: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visibility {
    Open,
    Restricted,
    Hidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clearance {
    Open,
    Restricted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Class {
    pub name: String,
    pub requires: Vec<u32>,
    pub personal: bool,
    pub sensitive: bool,
    pub debug: Visibility,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    pub requires: Vec<u32>,
    pub when: Option<Expr>,
}

/// Longest registry `retention_days` (100 years of 365 days): longer is no
/// retention at all, and the checker refuses it (E0304) so that the seconds
/// always fit in 64 bits and a `feature.retention` rule always sees a value.
pub const MAX_RETENTION_DAYS: i64 = 36_500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    pub entity: String,
    pub class: u32,
    pub allowed_modes: Vec<u32>,
    pub allowed_purposes: Vec<u32>,
    // Absent fields are left out of artifacts (a 20,000-feature registry stays small).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prohibited_purposes: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i64>,
    /// Consent topic id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_consent: Option<u32>,
    /// Registry `debug_visibility`, else the class's `debug`.
    pub visibility: Visibility,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSet {
    pub name: String,
    pub modes: Vec<u32>,
    /// `None`: every surface.
    pub surfaces: Option<Vec<u32>>,
    pub features: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub name: String,
    pub text: String,
    /// Patterns with at most one `*`.
    pub codes: Vec<String>,
    pub requires: Vec<u32>,
    /// Feature ids.
    pub from: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForbidKind {
    Feature,
    Source,
    Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forbid {
    pub kind: ForbidKind,
    /// Ids of features, sources or reasons by `kind`; `None` matches every one.
    pub targets: Option<Vec<u32>>,
    pub when: Option<Expr>,
    pub because: Option<String>,
    /// `FILE:LINE` of the `forbid` keyword (spec 12).
    pub rule: String,
}

/// A typed condition. Evaluation is three-valued (Kleene): reading an absent
/// optional value makes a comparison or call `unknown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Bool(bool),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `==`, `!=` on equal types; ordering only on ints and durations.
    Compare {
        op: CmpOp,
        lhs: Operand,
        rhs: Operand,
    },
    /// `lhs in [items]` = `lhs == i1 or lhs == i2 …` (Kleene); `negated` is `not in`.
    InList {
        lhs: Operand,
        items: Vec<Operand>,
        negated: bool,
    },
    /// `role in roles` (role id); `negated` is `not in`.
    HasRole {
        role: u32,
        negated: bool,
    },
    /// `exists(path)`: true or false, never unknown.
    Exists(Path),
    /// `starts_with(a, b)` on strings.
    StartsWith(Operand, Operand),
    /// A bool path used as a condition.
    Truthy(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    Path(Path),
    Lit(Literal),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Seconds.
    Duration(i64),
    /// A variant of the other operand's type: a surface, purpose, mode, feature
    /// or class id, a context enum variant index, or a consent state
    /// (0 granted, 1 denied, 2 unknown).
    Sym(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Path {
    /// string, always present
    Tenant,
    /// surface, always present (absent only in a fallback decision with an invalid surface)
    Surface,
    /// purpose, always present
    Purpose,
    UserId,
    AnonymousId,
    /// consent state of a topic id, always present (missing means unknown)
    Consent(u32),
    ConsentVersion,
    /// context field id, optional
    Context(u32),
    /// the resolved mode; never inside `resolve`
    Mode,
    /// feature id; only in `forbid feature`
    FeatureName,
    /// class id
    FeatureClass,
    /// string
    FeatureEntity,
    FeaturePersonal,
    FeatureSensitive,
    /// duration (registry `retention_days`), optional
    FeatureRetention,
}

impl Path {
    /// Whether this is a `feature.*` path (only in `forbid feature`).
    pub fn is_feature(self) -> bool {
        matches!(
            self,
            Path::FeatureName
                | Path::FeatureClass
                | Path::FeatureEntity
                | Path::FeaturePersonal
                | Path::FeatureSensitive
                | Path::FeatureRetention
        )
    }
}

impl Expr {
    /// Whether the condition reads `feature.*` anywhere.
    pub fn reads_feature(&self) -> bool {
        let op = |o: &Operand| matches!(o, Operand::Path(p) if p.is_feature());
        match self {
            Expr::Bool(_) | Expr::HasRole { .. } => false,
            Expr::Not(x) => x.reads_feature(),
            Expr::And(xs) | Expr::Or(xs) => xs.iter().any(Expr::reads_feature),
            Expr::Compare { lhs, rhs, .. } | Expr::StartsWith(lhs, rhs) => op(lhs) || op(rhs),
            Expr::InList { lhs, items, .. } => op(lhs) || items.iter().any(op),
            Expr::Exists(p) | Expr::Truthy(p) => p.is_feature(),
        }
    }
}

pub const CONSENT_GRANTED: u32 = 0;
pub const CONSENT_DENIED: u32 = 1;
pub const CONSENT_UNKNOWN: u32 = 2;
