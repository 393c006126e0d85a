//! Loading a policy for Python: a policy path checked, linted (L003 must
//! pass) and compiled in-process, or an artifact of `rpol compile`, as
//! `rpol serve` loads it; every refusal as a structured diagnostic.

use std::path::Path;

use rpol_check::load;
use rpol_engine::Compiled;

/// One reason a policy was not loaded (`rpol.Diagnostic` in Python).
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

/// A path that could not be read as a policy (a missing file, no `.rpol`
/// files, an I/O error) when the loader has no more precise code.
pub const UNREADABLE: &str = "E0920";
/// A compiled artifact that does not load (corrupt, edited, other format).
pub const BAD_ARTIFACT: &str = "E0921";

/// The prefix every artifact of `rpol compile` starts with.
const ARTIFACT_MAGIC: &[u8] = b"rpol-compiled";

impl Diag {
    fn about_file(code: &str, path: &Path, message: String, help: Option<&str>) -> Diag {
        Diag {
            code: code.to_string(),
            severity: "error",
            message,
            file: Some(load::display(path)),
            line: None,
            column: None,
            help: help.map(str::to_string),
        }
    }
}

fn load_error(path: &Path, e: &load::LoadError) -> Diag {
    Diag::about_file(
        e.code().unwrap_or(UNREADABLE),
        path,
        e.to_string(),
        e.help(),
    )
}

/// Loads the policy at `path` (with `registry` instead of the one the policy
/// names, when given).
pub fn load_policy(path: &Path, registry: Option<&Path>) -> Result<Compiled, Vec<Diag>> {
    if path.is_file() {
        let bytes = load::read_bounded(path, load::MAX_ARTIFACT_BYTES)
            .map_err(|e| vec![load_error(path, &e)])?;
        if bytes.starts_with(ARTIFACT_MAGIC) {
            return from_artifact(&bytes, Some(path));
        }
    }
    let files = load::read_policy(path).map_err(|e| vec![load_error(path, &e)])?;
    let checked = rpol_check::check(files, registry, &load::read_registry);
    // Errors, then L003 (an error unless allowed): a policy that could serve
    // personal data with consent unknown is never loaded.
    let errors: Vec<Diag> = rpol_check::lint::reported(&checked, true)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let l = d.locate(&checked.sources);
            Diag {
                code: l.code.to_string(),
                severity: l.severity,
                message: l.message,
                file: Some(l.file),
                line: Some(l.range.line),
                column: Some(l.range.column),
                help: l.help,
            }
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(policy) = checked.policy else {
        return Err(vec![Diag::about_file(
            UNREADABLE,
            path,
            format!("`{}` has check errors", load::display(path)),
            None,
        )]);
    };
    Compiled::build(policy.model).map_err(|e| {
        vec![Diag::about_file(
            BAD_ARTIFACT,
            path,
            format!("internal error: the checked policy does not compile: {e}"),
            None,
        )]
    })
}

/// Loads the bytes of a compiled artifact (`path` names where they came from).
pub fn from_artifact(bytes: &[u8], path: Option<&Path>) -> Result<Compiled, Vec<Diag>> {
    Compiled::from_artifact(bytes).map_err(|e| {
        let name = path.map_or_else(|| "<bytes>".to_string(), load::display);
        vec![Diag {
            code: BAD_ARTIFACT.to_string(),
            severity: "error",
            message: format!("`{name}`: {e}"),
            file: path.map(load::display),
            line: None,
            column: None,
            help: Some("recompile it with `rpol compile`".to_string()),
        }]
    })
}
