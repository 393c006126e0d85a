//! Loading a policy for Python: the shared loader of `rpol serve` and
//! `rpol enforce` (`rpol_check::policy_load`), its findings turned into
//! `rpol.Diagnostic`s with the same codes those commands print.

use std::path::Path;

use rpol_check::policy_load::{self, Finding, Refused};
use rpol_engine::Compiled;

/// One reason a policy or mapping was not loaded (`rpol.Diagnostic` in
/// Python).
#[derive(Debug, Clone)]
pub struct Diag {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub help: Option<String>,
}

impl From<Finding> for Diag {
    fn from(f: Finding) -> Diag {
        Diag {
            code: f.code.to_string(),
            severity: f.severity,
            message: f.message,
            file: f.file,
            line: f.line,
            column: f.column,
            help: f.help,
        }
    }
}

fn diags(r: Refused) -> Vec<Diag> {
    r.findings.into_iter().map(Diag::from).collect()
}

/// Loads the policy at `path` (with `registry` instead of the one the policy
/// names, when given).
pub fn load_policy(path: &Path, registry: Option<&Path>) -> Result<Compiled, Vec<Diag>> {
    policy_load::load_policy(path, registry)
        .map(|(c, _)| c)
        .map_err(diags)
}

/// Loads the bytes of a compiled artifact.
pub fn from_artifact(bytes: &[u8]) -> Result<Compiled, Vec<Diag>> {
    policy_load::from_artifact(bytes, None).map_err(diags)
}
