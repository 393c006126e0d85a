//! The names a check run resolved: every declaration and every use it tied to
//! one, as byte spans. The checker records these at the places it already
//! resolves names (declaration pass, lowering, conditions, tests, registry
//! cross-checks), so the language server's go-to-definition, references and
//! rename see exactly the names the checker sees, never a second reading.

use rpol_diag::{FileId, Span};

/// What a name names. Every kind is its own namespace: a purpose and a
/// consent topic may share a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    Policy,
    Purpose,
    Consent,
    Capability,
    Role,
    Surface,
    ContextField,
    /// A variant of an enum context field; its parent is the field.
    Variant,
    Mode,
    Class,
    Source,
    FeatureSet,
    Reason,
    Retention,
    /// A registry feature (declared in the YAML).
    Feature,
}

impl NameKind {
    /// The word used in messages and hovers.
    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Policy => "policy",
            NameKind::Purpose => "purpose",
            NameKind::Consent => "consent topic",
            NameKind::Capability => "capability",
            NameKind::Role => "role",
            NameKind::Surface => "surface",
            NameKind::ContextField => "context field",
            NameKind::Variant => "variant",
            NameKind::Mode => "mode",
            NameKind::Class => "class",
            NameKind::Source => "source",
            NameKind::FeatureSet => "feature set",
            NameKind::Reason => "reason",
            NameKind::Retention => "retention kind",
            NameKind::Feature => "feature",
        }
    }
}

/// A resolved name: its kind, its id among the names of that kind (the
/// index in [`crate::names::Names`]; for a variant, its index in the field's
/// list), and for a variant the id of its context field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NameRef {
    pub kind: NameKind,
    pub id: u32,
    pub parent: Option<u32>,
}

/// Where a name is declared, with what a hover shows about it.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub name: NameRef,
    pub text: String,
    pub file: FileId,
    /// The declaring name.
    pub span: Span,
    /// The whole declaring construct (item, field or registry entry).
    pub item: Span,
    /// The doc comment of the declaring item (a registry entry's
    /// `description`).
    pub doc: Option<String>,
}

/// One place that names a declared name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Use {
    pub name: NameRef,
    pub file: FileId,
    pub span: Span,
}

/// Every declaration (first declarations and repeated ones, E0202, which
/// name the first) and every resolved use, in the order the checker met
/// them. Names the checker could not resolve are absent: it reported them.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub declarations: Vec<Declaration>,
    pub uses: Vec<Use>,
}

impl Resolution {
    pub(crate) fn declare(&mut self, d: Declaration) {
        self.declarations.push(d);
    }

    pub(crate) fn refer(&mut self, kind: NameKind, id: u32, file: FileId, span: Span) {
        self.uses.push(Use {
            name: NameRef {
                kind,
                id,
                parent: None,
            },
            file,
            span,
        });
    }

    pub(crate) fn refer_variant(&mut self, field: u32, id: u32, file: FileId, span: Span) {
        self.uses.push(Use {
            name: NameRef {
                kind: NameKind::Variant,
                id,
                parent: Some(field),
            },
            file,
            span,
        });
    }
}
