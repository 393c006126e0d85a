//! Why an analysis could not give an exact answer.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum AnalysisError {
    #[error("the request space has {count} regions, over the bound of {bound}")]
    #[diagnostic(
        code(E0701),
        help("the fields that split it most: {fields}; raise the bound with `--max-regions`")
    )]
    TooManyRegions {
        /// `None` when the count itself overflows 64 bits.
        count: RegionCount,
        bound: u64,
        /// The largest factors, e.g. "`roles` (4096 classes), `context.region` (41)".
        fields: String,
    },
    #[error("a condition compares `{lhs}` with `{rhs}`, two request fields")]
    #[diagnostic(
        code(E0702),
        help(
            "region analysis splits each field by the literals it is compared with; compare each field with literals instead"
        )
    )]
    Relational { lhs: String, rhs: String },
    #[error(
        "a decision reads {count} combinations of the classes of {fields}, over the bound of {bound}"
    )]
    #[diagnostic(
        code(E0703),
        help(
            "the symbolic engine builds each decision from the fields it reads; split the condition that reads all of these fields, or use `--engine enumerate` with `--max-regions`"
        )
    )]
    ConeTooBig {
        fields: String,
        count: RegionCount,
        bound: u64,
    },
    #[error("the decision diagrams need more than {bound} nodes")]
    #[diagnostic(
        code(E0704),
        help(
            "this is the memory bound of the symbolic engine (about 1 GiB); use `--engine enumerate` with `--max-regions` on a smaller policy"
        )
    )]
    DiagramTooBig { bound: u64 },
    #[error("the request space has more than 18446744073709551615 regions")]
    #[diagnostic(
        code(E0705),
        help(
            "region counts are reported in 64 bits; fewer consent topics or literals split the space less"
        )
    )]
    CountOverflow,
    #[error("internal error: a policy variant does not compile: {0}")]
    #[diagnostic(code(rpol::internal), help("please report this with the policy"))]
    Model(String),
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
