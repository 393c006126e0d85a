//! Loading a policy to decide with (`rpol serve`, `rpol enforce`, the Python
//! package): a policy path checked, linted (L003 must pass) and compiled
//! in-process, or an artifact of `rpol compile`. The same check and compile
//! as `rpol eval`, so decisions are identical. Every refusal is a list of
//! structured findings; each caller renders them its own way (stderr lines,
//! Python diagnostics) from the same codes.

use std::path::{Path, PathBuf};

use crate::load;
use rpol_engine::Compiled;

/// A policy path that could not be read as a policy (missing, no `.rpol`
/// files, an I/O error) when the reader has no more precise code.
pub const UNREADABLE: &str = "E0920";
/// A compiled artifact that does not load (corrupt, edited, other format).
pub const BAD_ARTIFACT: &str = "E0921";

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The path could not be read as a policy.
    Unreadable,
    /// An artifact of `rpol compile` that does not load.
    BadArtifact,
    /// The policy's sources have errors (check errors, or L003).
    Check,
}

/// One reason a policy was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The catalogue code: the precise one where the reader knows it
    /// (`E0102` for a FIFO), else [`UNREADABLE`] or [`BAD_ARTIFACT`].
    pub code: &'static str,
    pub cause: Cause,
    /// `error`, or `warning` for a lint made an error.
    pub severity: &'static str,
    pub message: String,
    /// The file the finding is about (for a check finding, the source file).
    pub file: Option<String>,
    /// 1-based line and column, for findings in a source file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub help: Option<String>,
}

impl Finding {
    fn about(
        code: &'static str,
        cause: Cause,
        path: Option<&Path>,
        message: String,
        help: Option<&str>,
    ) -> Finding {
        Finding {
            code,
            cause,
            severity: "error",
            message,
            file: path.map(load::display),
            line: None,
            column: None,
            help: help.map(str::to_string),
        }
    }

    fn unreadable(path: &Path, e: &load::LoadError) -> Finding {
        Finding::about(
            e.code().unwrap_or(UNREADABLE),
            Cause::Unreadable,
            Some(path),
            e.to_string(),
            e.help(),
        )
    }

    /// The finding as one stderr line: `error[E0201]: … at file:line:col
    /// (help: …)`. A finding without a position already names its file in
    /// its message.
    pub fn line(&self) -> String {
        let mut out = format!("{}[{}]: {}", self.severity, self.code, self.message);
        if let (Some(file), Some(line), Some(column)) = (&self.file, self.line, self.column) {
            out.push_str(&format!(" at {file}:{line}:{column}"));
        }
        if let Some(h) = &self.help {
            out.push_str(&format!(" (help: {h})"));
        }
        out
    }
}

/// Why a policy was not loaded: its findings, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub findings: Vec<Finding>,
}

impl Refused {
    fn one(f: Finding) -> Refused {
        Refused { findings: vec![f] }
    }

    /// One line per finding, ready for stderr.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.findings.iter().map(Finding::line)
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.lines().collect();
        f.write_str(&lines.join("\n"))
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
            .map_err(|e| Refused::one(Finding::unreadable(path, &e)))?;
        if bytes.starts_with(ARTIFACT_MAGIC) {
            return from_artifact(&bytes, Some(path)).map(|c| (c, None));
        }
    }
    let files = load::read_policy(path).map_err(|e| Refused::one(Finding::unreadable(path, &e)))?;
    let checked = crate::check(files, registry, &load::read_registry);
    // Errors, then L003 (an error unless allowed): a policy that could serve
    // personal data with consent unknown is never put in service.
    let findings: Vec<Finding> = crate::lint::reported(&checked, true)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let l = d.locate(&checked.sources);
            Finding {
                code: l.code,
                cause: Cause::Check,
                severity: l.severity,
                message: l.message,
                file: Some(l.file),
                line: Some(l.range.line),
                column: Some(l.range.column),
                help: l.help,
            }
        })
        .collect();
    if !findings.is_empty() {
        return Err(Refused { findings });
    }
    let registry_file = checked
        .registry_file
        .map(|id| PathBuf::from(checked.sources.get(id).name.clone()));
    let Some(policy) = checked.policy else {
        return Err(Refused::one(Finding::about(
            UNREADABLE,
            Cause::Check,
            Some(path),
            format!("`{}` has check errors", load::display(path)),
            None,
        )));
    };
    Compiled::build(policy.model)
        .map(|c| (c, registry_file))
        .map_err(|e| {
            Refused::one(Finding::about(
                BAD_ARTIFACT,
                Cause::BadArtifact,
                Some(path),
                format!("internal error: the checked policy does not compile: {e}"),
                None,
            ))
        })
}

/// Loads the bytes of an artifact of `rpol compile` (`path` names where
/// they came from, when they came from a file).
pub fn from_artifact(bytes: &[u8], path: Option<&Path>) -> Result<Compiled, Refused> {
    Compiled::from_artifact(bytes).map_err(|e| {
        let name = path.map_or_else(|| "<bytes>".to_string(), load::display);
        Refused::one(Finding::about(
            BAD_ARTIFACT,
            Cause::BadArtifact,
            path,
            format!("`{name}`: {e}"),
            Some("recompile it with `rpol compile`"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("rpol-policy-load-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    #[test]
    fn a_missing_path_is_unreadable_e0920() {
        let d = temp("missing");
        let e = load_policy(&d.join("nope.rpol"), None).expect_err("refused");
        let f = &e.findings[0];
        assert_eq!((f.code, f.cause), (UNREADABLE, Cause::Unreadable));
        assert!(f.line.is_none());
        assert!(e.to_string().starts_with("error[E0920]: "), "{e}");
    }

    #[test]
    fn a_corrupt_artifact_is_e0921_with_its_file() {
        let d = temp("artifact");
        let p = d.join("cut.rpolc");
        std::fs::write(&p, b"rpol-compiled\0garbage").expect("write");
        let e = load_policy(&p, None).expect_err("refused");
        let f = &e.findings[0];
        assert_eq!((f.code, f.cause), (BAD_ARTIFACT, Cause::BadArtifact));
        assert_eq!(f.file.as_deref(), Some(load::display(&p).as_str()));
        assert!(
            e.to_string()
                .ends_with("(help: recompile it with `rpol compile`)"),
            "{e}"
        );
    }

    #[test]
    fn check_findings_carry_their_position_and_render_it() {
        let d = temp("check");
        let p = d.join("bad.rpol");
        std::fs::write(&p, "policy bad {\n  nonsense\n}\n").expect("write");
        let e = load_policy(&p, None).expect_err("refused");
        assert!(e.findings.iter().all(|f| f.cause == Cause::Check));
        let f = &e.findings[0];
        let (line, column) = (f.line.expect("line"), f.column.expect("column"));
        let file = f.file.as_deref().expect("file");
        assert!(file.ends_with("bad.rpol"), "{file}");
        assert_eq!(
            e.lines().next().expect("a line"),
            f.line(),
            "the stderr line is rendered from the finding"
        );
        assert!(
            f.line().contains(&format!(" at {file}:{line}:{column}")),
            "{}",
            f.line()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_with_its_precise_code() {
        let d = temp("fifo");
        let p = d.join("policy.rpol");
        let made = std::process::Command::new("mkfifo").arg(&p).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
        let e = load_policy(&p, None).expect_err("refused");
        assert_eq!(e.findings[0].code, "E0102", "{e}");
        assert_eq!(e.findings[0].cause, Cause::Unreadable);
    }
}
