//! Loading and checking one policy path, shared by every command.

use std::path::{Path, PathBuf};

use rpol_analysis::{AnalysisError, Origin as SiteOrigin, Site};
use rpol_check::{Checked, ConditionSpans, ModelSpans, SourceInput, load};
use rpol_diag::{SourceMap, Span};
use rpol_engine::model::PolicyModel;
use rpol_engine::{ArtifactError, Compiled};

use crate::cli_error::CliError;
use crate::policy_folders::{self, Layout};
use crate::render;

/// Reads and checks the policy at `path`; I/O problems are exit-2 errors.
pub fn check_path(path: &Path, registry: Option<&Path>) -> Result<Checked, CliError> {
    let files = read_source(path)?;
    Ok(rpol_check::check(files, registry, &load::read_registry))
}

/// Checks the policy at `path`, or each policy of a folder of several
/// (`crate::policy_folders`): with the policy folder when there are several.
pub fn check_policies(
    path: &Path,
    registry: Option<&Path>,
) -> Result<Vec<(Option<PathBuf>, Checked)>, CliError> {
    let files = read_source(path)?;
    let check = |files| rpol_check::check(files, registry, &load::read_registry);
    Ok(match policy_folders::split(files) {
        Layout::One(files) => vec![(None, check(files))],
        Layout::Several(groups) => groups
            .into_iter()
            .map(|(dir, files)| (Some(dir), check(files)))
            .collect(),
    })
}

/// The `.rpol` files at `path`; an artifact of `rpol compile` is refused
/// (E0105) rather than parsed as source.
pub fn read_source(path: &Path) -> Result<Vec<SourceInput>, CliError> {
    if is_artifact(path) {
        return Err(CliError::ArtifactAsSource(load::display(path).to_string()));
    }
    Ok(load::read_policy(path)?)
}

pub use load::MAX_ARTIFACT_BYTES;

/// Whether `path` is a compiled artifact written by `rpol compile`.
fn is_artifact(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 13];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && &head == b"rpol-compiled"
}

/// Checks the policy and builds the engine's policy from it (or loads and
/// verifies a compiled artifact); on check errors prints them on stderr and
/// returns `None`. (docs/dev/architecture.md, Words: "compile" is only the
/// command that writes an artifact.)
pub fn load_policy(path: &Path, registry: Option<&Path>) -> Result<Option<Compiled>, CliError> {
    Ok(load_with_origin(path, registry)?.map(|l| l.compiled))
}

/// A loaded policy and what its diagnostics point into.
pub struct Loaded {
    pub compiled: Compiled,
    pub origin: Origin,
}

/// Where a loaded policy came from: checked sources with the spans of its
/// model, or a compiled artifact (no source, only its path).
pub enum Origin {
    Source {
        sources: SourceMap,
        spans: ModelSpans,
    },
    Artifact(String),
}

/// [`load_policy`] that keeps the policy's sources, for the analysis's
/// diagnostics ([`analysis_error`]).
pub fn load_with_origin(path: &Path, registry: Option<&Path>) -> Result<Option<Loaded>, CliError> {
    if is_artifact(path) {
        let bytes = load::read_bounded(path, MAX_ARTIFACT_BYTES)?;
        return Compiled::from_artifact(&bytes)
            .map(|compiled| {
                Some(Loaded {
                    compiled,
                    origin: Origin::Artifact(load::display(path).to_string()),
                })
            })
            .map_err(|e| {
            let help = match e {
                ArtifactError::NotCanonical | ArtifactError::Refused(_) => {
                    "it was edited after `rpol compile`: recompile it from its source, and sign artifacts (`rpol compile --sign`) that others can write to"
                }
                _ => "recompile it with `rpol compile`",
            };
            CliError::Load(
                format!("`{}`: {e}", load::display(path)),
                Some(help.into()),
            )
        });
    }
    let checked = check_path(path, registry)?;
    let Some(policy) = checked.policy else {
        print_check_errors(&checked, path);
        return Ok(None);
    };
    Ok(Some(Loaded {
        compiled: build(policy.model)?,
        origin: Origin::Source {
            sources: checked.sources,
            spans: policy.spans,
        },
    }))
}

/// An analysis error as a diagnostic in the policy it is about: E0702 at
/// the comparison it refuses (in `policies[i]`, or in the query of
/// `query`), the others at the name of the last policy (NEW in a diff).
/// A policy loaded from an artifact has no source: the diagnostic then
/// names its file only.
pub fn analysis_error(
    e: AnalysisError,
    policies: &[&Origin],
    query: Option<&[ConditionSpans]>,
) -> CliError {
    let site = e.site();
    let (origin, at) = match site {
        Some(Site {
            origin: SiteOrigin::Policy(i),
            condition,
            comparison,
        }) => {
            let origin = policies.get(i).copied();
            let at = origin.and_then(|o| match o {
                Origin::Source { spans, .. } => spans.conditions.get(condition),
                Origin::Artifact(_) => None,
            });
            (origin, at.map(|c| (c, comparison)))
        }
        Some(Site {
            origin: SiteOrigin::Extra,
            condition,
            comparison,
        }) => (
            policies.last().copied(),
            query
                .and_then(|q| q.get(condition))
                .map(|c| (c, comparison)),
        ),
        None => (policies.last().copied(), None),
    };
    let (sources, file, span) = match origin {
        Some(Origin::Source { sources, spans }) => {
            let (file, span) = match at {
                Some((c, i)) => (c.file, c.comparisons.get(i).copied().unwrap_or(c.span)),
                None => spans.policy,
            };
            (sources.clone(), file, span)
        }
        Some(Origin::Artifact(name)) => {
            let mut sources = SourceMap::default();
            let file = sources.add(name.clone(), String::new());
            (sources, file, Span::default())
        }
        None => {
            let mut sources = SourceMap::default();
            let file = sources.add("<policy>", String::new());
            (sources, file, Span::default())
        }
    };
    let whole = site.is_none() && matches!(origin, Some(Origin::Source { .. }));
    let d = e.diagnostic(file, span);
    let d = if whole {
        d.with_label("in this policy")
    } else {
        d
    };
    CliError::Located(Box::new((d, sources)))
}

/// [`load_policy`], or with `verify_key` (`--verify-key PUBFILE`) only a
/// compiled artifact signed with the matching secret key.
pub fn load_policy_verified(
    path: &Path,
    registry: Option<&Path>,
    verify_key: Option<&Path>,
) -> Result<Option<Compiled>, CliError> {
    let Some(key_file) = verify_key else {
        return load_policy(path, registry);
    };
    let key = crate::cmd_keygen::read_public_key(key_file)?;
    if !is_artifact(path) {
        return Err(CliError::Usage(
            format!(
                "`{}` is not a compiled artifact; `--verify-key` only loads signed artifacts",
                load::display(path)
            ),
            Some("compile and sign it first: `rpol compile PATH -o OUT --sign KEYFILE`".into()),
        ));
    }
    let bytes = load::read_bounded(path, MAX_ARTIFACT_BYTES)?;
    Compiled::from_signed_artifact(&bytes, &key)
        .map(Some)
        .map_err(|e| {
            CliError::Load(
                format!("`{}`: {e}", load::display(path)),
                Some(format!(
                    "sign it with `rpol compile PATH -o OUT --sign KEYFILE`, where `{}` is `KEYFILE.pub`",
                    key_file.display()
                )),
            )
        })
}

/// Prints a policy's check errors on stderr, then that it has them.
pub fn print_check_errors(checked: &Checked, path: &Path) {
    print_errors(checked);
    eprintln!("error: `{}` has check errors", load::display(path));
}

/// A policy's check errors on stderr, at most [`render::MAX_HUMAN_DIAGNOSTICS`].
pub fn print_errors(checked: &Checked) {
    let mut out = String::new();
    let errors = checked.diagnostics.iter().filter(|d| d.is_error());
    let omitted = render::human_capped(
        errors,
        &checked.sources,
        render::stderr_colour(),
        false,
        &mut 0,
        &mut out,
    );
    eprint!("{out}");
    if omitted > 0 {
        eprintln!(
            "{}",
            render::omitted_line(omitted, "`rpol check --format json` lists every one")
        );
    }
}

/// Builds the engine's policy from a checked model; failing is a bug, not a
/// user error.
pub fn build(model: PolicyModel) -> Result<Compiled, CliError> {
    Compiled::build(model).map_err(|e| {
        CliError::Load(
            format!("internal error: the checked policy does not compile: {e}"),
            None,
        )
    })
}
