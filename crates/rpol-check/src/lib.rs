//! Name resolution, typing and registry cross-checks for RPOL policies.
//!
//! [`check`] takes the policy files (already read, in sorted path order) and a
//! way to read the registry, reports every error it can find in one run, and,
//! when there is none, lowers the policy into the engine's [`PolicyModel`]
//! with a side table of spans ([`ModelSpans`]) for diagnostics, coverage and
//! the language server.

mod abstract_eval;
mod context;
mod declare;
mod digest;
mod driver;
pub mod expr;
mod fields;
mod items;
pub mod lint;
pub mod load;
mod model_build;
pub mod names;
pub mod patterns;
pub mod policy_load;
mod registry_cache;
mod registry_check;
mod registry_path;
pub mod resolution;
mod rules;
pub mod scope;
mod tests_check;
pub mod ty;
pub mod vocab;

use std::path::Path;

use rpol_diag::{Diagnostic, FileId, SourceMap, Span};
use rpol_engine::model::PolicyModel;
use rpol_syntax::ast;

pub use digest::digest;
pub use registry_cache::RegistryCache;
pub use resolution::Resolution;
pub use scope::Scope;
pub use tests_check::{CACHE_SCOPE_PARTS, ExpectCheck, TestCase, TestExpect};

/// One policy file as read: its display name (path as reached from the
/// command line, `/`-separated) and its text.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub name: String,
    pub text: String,
}

/// Reads a registry file; errors become E0401.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// Where every checked construct sits, indexed like the model's vectors.
#[derive(Debug, Clone, Default)]
pub struct ModelSpans {
    pub arms: Vec<(FileId, Span)>,
    pub fallback: (FileId, Span),
    pub sources: Vec<(FileId, Span)>,
    pub forbids: Vec<(FileId, Span)>,
    pub reasons: Vec<(FileId, Span)>,
    pub feature_sets: Vec<(FileId, Span)>,
    /// The name of the `policy` block: where a finding about the policy as
    /// a whole points (the analysis's region bounds).
    pub policy: (FileId, Span),
    /// Every condition, in [`PolicyModel::conditions`] order.
    pub conditions: Vec<ConditionSpans>,
}

/// Where one condition sits, and each comparison in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionSpans {
    pub file: FileId,
    pub span: Span,
    /// The comparisons (`==` … `>=`, `in [...]`, `starts_with`) in the
    /// pre-order of the typed expression's `Compare`, `InList` and
    /// `StartsWith` nodes: the analysis names an offending comparison by
    /// this index (E0702), since the engine's model carries no spans.
    pub comparisons: Vec<Span>,
}

/// A policy that passed every check.
#[derive(Debug, Clone)]
pub struct CheckedPolicy {
    pub model: PolicyModel,
    pub spans: ModelSpans,
    pub tests: Vec<TestCase>,
}

/// The outcome of a check run.
#[derive(Debug, Clone)]
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// Parsed files (those without syntax errors), by file id.
    pub asts: Vec<(FileId, ast::File)>,
    pub registry_file: Option<FileId>,
    pub registry: Option<rpol_registry::Registry>,
    /// The resolved names (partial when there were errors).
    pub scope: Scope,
    /// Where each name is declared and used (partial when there were errors;
    /// empty after a syntax error).
    pub resolution: Resolution,
    /// `Some` exactly when there is no error.
    pub policy: Option<CheckedPolicy>,
}

impl Checked {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Checks one policy. `registry_override` is `--registry`; otherwise the
/// policy block's `registry:` is read relative to the file that holds it.
pub fn check(
    files: Vec<SourceInput>,
    registry_override: Option<&Path>,
    read: ReadFile<'_>,
) -> Checked {
    driver::run(files, registry_override, read, None)
}

/// [`check`] that reuses the registry parsed by the previous run with the
/// same `cache` when the registry's text has not changed. A language server
/// re-checks on every keystroke while the registry rarely changes, and
/// parsing a large registry costs more than checking the policy.
pub fn check_cached(
    files: Vec<SourceInput>,
    registry_override: Option<&Path>,
    read: ReadFile<'_>,
    cache: &RegistryCache,
) -> Checked {
    driver::run(files, registry_override, read, Some(cache))
}
