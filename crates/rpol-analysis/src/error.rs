//! Why an analysis could not give an exact answer, and the diagnostic it
//! becomes: every code leaves the tools as an [`rpol_diag::Diagnostic`].

use rpol_diag::{Diagnostic, FileId, Span};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnalysisError {
    #[error("the request space has {count} regions, over the bound of {bound}")]
    TooManyRegions {
        /// `None` when the count itself overflows 64 bits.
        count: RegionCount,
        bound: u64,
        /// The largest factors, e.g. "`roles` (4096 classes), `context.region` (41)".
        fields: String,
    },
    #[error("a condition compares `{lhs}` with `{rhs}`, two request fields")]
    Relational {
        lhs: String,
        rhs: String,
        /// The comparison, filled in by [`crate::literals::collect`].
        site: Option<Site>,
    },
    #[error(
        "a decision reads {count} combinations of the classes of {fields}, over the bound of {bound}"
    )]
    ConeTooBig {
        fields: String,
        count: RegionCount,
        bound: u64,
    },
    #[error("the decision diagrams need more than {bound} nodes")]
    DiagramTooBig { bound: u64 },
    #[error("the request space has more than 18446744073709551615 regions")]
    CountOverflow,
    #[error("internal error: a policy variant does not compile: {0}")]
    Model(String),
}

/// Where an offending comparison sits in what was analysed. The engine's
/// model carries no spans; the checker's `ModelSpans::conditions` (and a
/// query's own spans) turn a site back into a place in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    pub origin: Origin,
    /// The condition: an index into `PolicyModel::conditions()` for a
    /// policy, into the extra conditions (a query's) otherwise.
    pub condition: usize,
    /// The comparison in the condition: the pre-order index of its
    /// `Compare`, `InList` and `StartsWith` nodes.
    pub comparison: usize,
}

/// Whose condition a [`Site`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A policy, by its index among those analysed (in a diff 0 is OLD, 1 is NEW).
    Policy(usize),
    /// An extra condition, such as a query's.
    Extra,
}

impl AnalysisError {
    /// The stable code (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            AnalysisError::TooManyRegions { .. } => "E0701",
            AnalysisError::Relational { .. } => "E0702",
            AnalysisError::ConeTooBig { .. } => "E0703",
            AnalysisError::DiagramTooBig { .. } => "E0704",
            AnalysisError::CountOverflow => "E0705",
            AnalysisError::Model(_) => "rpol::internal",
        }
    }

    /// The help line: what to change.
    pub fn help(&self) -> String {
        match self {
            AnalysisError::TooManyRegions { fields, .. } => format!(
                "the fields that split it most: {fields}; raise the bound with `--max-regions`"
            ),
            AnalysisError::Relational { .. } => "region analysis splits each field by the literals it is compared with; compare each field with literals instead".into(),
            AnalysisError::ConeTooBig { .. } => "the symbolic engine builds each decision from the fields it reads; split the condition that reads all of these fields, or use `--engine enumerate` with `--max-regions`".into(),
            AnalysisError::DiagramTooBig { .. } => "this is the memory bound of the symbolic engine (about 1 GiB); use `--engine enumerate` with `--max-regions` on a smaller policy".into(),
            AnalysisError::CountOverflow => "region counts are reported in 64 bits; fewer consent topics or literals split the space less".into(),
            AnalysisError::Model(_) => "please report this with the policy".into(),
        }
    }

    /// Where the offending comparison is (E0702); the other errors are
    /// about the policy as a whole.
    pub fn site(&self) -> Option<Site> {
        match self {
            AnalysisError::Relational { site, .. } => *site,
            _ => None,
        }
    }

    /// The error as a diagnostic at `span` of `file`: the comparison of
    /// [`AnalysisError::site`] when there is one, else the policy's name.
    pub fn diagnostic(&self, file: FileId, span: Span) -> Diagnostic {
        let d = Diagnostic::error(self.code(), file, span, self.to_string()).with_help(self.help());
        match self {
            AnalysisError::Relational { .. } if self.site().is_some() => {
                d.with_label("two request fields compared")
            }
            _ => d,
        }
    }

    /// `self` with the site of its comparison filled in.
    pub(crate) fn at(self, at: Site) -> AnalysisError {
        match self {
            AnalysisError::Relational {
                lhs,
                rhs,
                site: None,
            } => AnalysisError::Relational {
                lhs,
                rhs,
                site: Some(at),
            },
            other => other,
        }
    }
}

/// A region count that may exceed `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionCount(pub Option<u64>);

impl std::fmt::Display for RegionCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("more than 18446744073709551615"),
        }
    }
}
