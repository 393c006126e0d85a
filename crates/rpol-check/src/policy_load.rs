//! Loading a policy to decide with (`rpol serve`, `rpol enforce`, bindings): a policy path checked, linted (L003
//! must pass) and compiled in-process, or an artifact of `rpol compile`.
//! The same check and compile as `rpol eval`, so decisions are identical.

use std::path::{Path, PathBuf};

use crate::load;
use rpol_engine::Compiled;

/// Why a policy was not loaded: one line per finding, each with its code
/// (`error[E0201]: … at file:line:col`), ready for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub lines: Vec<String>,
}

impl Refused {
    fn one(code: &str, message: String, help: Option<&str>) -> Refused {
        let mut line = format!("error[{code}]: {message}");
        if let Some(h) = help {
            line.push_str(&format!(" (help: {h})"));
        }
        Refused { lines: vec![line] }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

/// The prefix every artifact of `rpol compile` starts with.
const ARTIFACT_MAGIC: &[u8] = b"rpol-compiled";

/// Loads the policy at `path` (with `--registry` when given); also returns
/// the registry file it read, if any (`--watch` watches it too).
pub fn load_policy(
    path: &Path,
    registry: Option<&Path>,
) -> Result<(Compiled, Option<PathBuf>), Refused> {
    if path.is_file() {
        let bytes = load::read_bounded(path, load::MAX_ARTIFACT_BYTES)
            .map_err(|e| Refused::one(e.code().unwrap_or("rpol::io"), e.to_string(), e.help()))?;
        if bytes.starts_with(ARTIFACT_MAGIC) {
            return Compiled::from_artifact(&bytes)
                .map(|c| (c, None))
                .map_err(|e| {
                    Refused::one(
                        "rpol::io",
                        format!("`{}`: {e}", load::display(path)),
                        Some("recompile it with `rpol compile`"),
                    )
                });
        }
    }
    let files =
        load::read_policy(path).map_err(|e| Refused::one("rpol::io", e.to_string(), e.help()))?;
    let checked = crate::check(files, registry, &load::read_registry);
    // Errors, then L003 (an error unless allowed): a policy that could serve
    // personal data with consent unknown is never put in service.
    let errors: Vec<String> = crate::lint::reported(&checked, true)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let l = d.locate(&checked.sources);
            let mut line = format!(
                "{}[{}]: {} at {}:{}:{}",
                l.severity, l.code, l.message, l.file, l.range.line, l.range.column
            );
            if let Some(h) = &l.help {
                line.push_str(&format!(" (help: {h})"));
            }
            line
        })
        .collect();
    if !errors.is_empty() {
        return Err(Refused { lines: errors });
    }
    let registry_file = checked
        .registry_file
        .map(|id| PathBuf::from(checked.sources.get(id).name.clone()));
    let Some(policy) = checked.policy else {
        return Err(Refused::one(
            "rpol::io",
            format!("`{}` has check errors", load::display(path)),
            None,
        ));
    };
    Compiled::build(policy.model)
        .map(|c| (c, registry_file))
        .map_err(|e| {
            Refused::one(
                "rpol::io",
                format!("internal error: the checked policy does not compile: {e}"),
                None,
            )
        })
}
