//! Finding and reading the registry a policy names: the `registry:` path is
//! relative to the file holding the `policy` block, must stay inside the
//! policy's workspace, and is read through the caller's reader. Problems are
//! diagnostics at the `registry:` field (E0401, E0102, or the bounded
//! reader's own code).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rpol_diag::{Diagnostic, FileId, SourceMap};
use rpol_syntax::ast;

use crate::ReadFile;

/// Reads the registry; I/O problems become E0401 at the `registry:` field.
pub(crate) fn load_registry_text(
    sm: &mut SourceMap,
    file: FileId,
    fields: &ast::Fields,
    registry_override: Option<&Path>,
    read: ReadFile<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(FileId, Arc<str>)> {
    let field = fields.fields.iter().find(|f| f.name.name == "registry");
    let (path, at) = match (registry_override, field) {
        (Some(p), _) => (p.to_path_buf(), fields.span),
        (None, Some(f)) => match crate::fields::as_expr(&f.value).map(|e| &e.kind) {
            Some(ast::ExprKind::Str(s)) => {
                let base = Path::new(&sm.get(file).name)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                (normalize(&base.join(s)), f.value.span())
            }
            _ => return None, // E0301 is reported when the header is lowered
        },
        (None, None) => {
            diags.push(
                Diagnostic::error("E0401", file, fields.span, "no registry: the `policy` block has no `registry` field and no `--registry` was given")
                    .with_help("add `registry: \"features.yaml\"` to the `policy` block or pass `--registry FILE`"),
            );
            return None;
        }
    };
    let name = crate::load::display(&path);
    // A policy may not make the tools read files outside its workspace;
    // `--registry` is the user's own choice and is trusted.
    if registry_override.is_none() {
        let base = Path::new(&sm.get(file).name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if let Err(why) = confine(&base, &path) {
            diags.push(
                Diagnostic::error("E0102", file, at, format!("registry `{name}` {why}; it was not read"))
                .with_help("the workspace is the nearest directory above the policy that holds `.git` (else the current directory; see docs/limits.md); move the registry inside it (a symlink counts where it points), or pass it with `--registry FILE`"),
            );
            return None;
        }
    }
    match read(&path) {
        Ok(text) => {
            // Shared with the source map: a large registry is not copied again.
            let text: Arc<str> = text.into();
            let id = sm.add(name, Arc::clone(&text));
            Some((id, text))
        }
        Err(e) => {
            // A refusal by the bounded reader keeps its own code.
            if let Some(le) = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<crate::load::LoadError>())
                && let Some(code) = le.code()
            {
                let why = match le {
                    crate::load::LoadError::NotRegular(_, what) => {
                        format!("registry `{name}` is {what}, not a regular file; it was not read")
                    }
                    crate::load::LoadError::TooLarge(_, limit) => {
                        format!("registry `{name}` is over the {limit}-byte limit")
                    }
                    other => format!("registry `{name}`: {other}"),
                };
                let mut d = Diagnostic::error(code, file, at, why);
                if let Some(h) = le.help() {
                    d = d.with_help(h);
                }
                diags.push(d);
                return None;
            }
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "does not exist".to_string(),
                std::io::ErrorKind::InvalidData => "is not valid UTF-8".to_string(),
                _ => format!("cannot be read: {e}"),
            };
            let d = Diagnostic::error("E0401", file, at, format!("registry `{name}` {why}"));
            let d = if registry_override.is_some() {
                d.with_help("check the path given to `--registry`")
            } else {
                d.with_help("the path is relative to the file holding the `policy` block")
            };
            diags.push(d);
            None
        }
    }
}

/// Whether the policy in `policy_dir` may read `registry`: its real path
/// (every symlink resolved) must lie inside the policy's workspace
/// ([`crate::load::Workspace`]). A registry that does not exist is left to
/// the reader (it reports it missing; an editor may hold it unsaved). A
/// policy that is not on disk (an editor buffer, an in-memory check) may
/// only name paths lexically below its own directory, which cannot exist on
/// disk either. Anything in doubt is refused.
fn confine(policy_dir: &Path, registry: &Path) -> Result<(), String> {
    let dir = if policy_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        policy_dir
    };
    let ws = match crate::load::Workspace::around(dir) {
        Ok(ws) => ws,
        Err(_)
            if registry.starts_with(dir)
                && dir != Path::new(".")
                && registry.is_relative() == dir.is_relative() =>
        {
            return Ok(());
        }
        Err(_) => {
            return Err(
                "is outside the policy's workspace (the policy's directory does not resolve)"
                    .into(),
            );
        }
    };
    match ws.confine(registry) {
        Ok(()) | Err(crate::load::LoadError::NotFound(_)) => Ok(()),
        // The root is left out of the message: it is a path of this machine.
        Err(crate::load::LoadError::OutsideWorkspace(..)) => {
            Err("resolves outside the policy's workspace".into())
        }
        Err(e) => Err(format!("cannot be resolved ({e})")),
    }
}

/// Removes `.` and `name/..` lexically, so paths in messages stay readable.
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}
