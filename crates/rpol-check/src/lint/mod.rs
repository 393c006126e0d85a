//! Lints: legal but dangerous or dead policy, one module per family
//! (docs/lints.md lists them). L003 (not fail-safe) is an error unless
//! allowed; `# rpol: allow(…)` comments (the `allow` module) silence the others.

mod allow;
mod dead;
mod reach;
mod style;
mod unused;

pub use allow::{AllowName, PROPERTIES, allow_anchor, allow_names, is_allowed};
pub use style::is_snake_case;

use std::collections::{HashMap, HashSet};

use rpol_diag::{Diagnostic, FileId, Span};
use rpol_engine::model::PolicyModel;

use crate::{Checked, CheckedPolicy};
use allow::{allowed_at, unneeded_allows};

/// Runs every lint on a policy that checked clean; allowed lints are dropped.
pub fn lint(checked: &Checked) -> Vec<Diagnostic> {
    let Some(policy) = &checked.policy else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let l = Linter {
        checked,
        policy,
        model: &policy.model,
    };
    l.unused(&mut out);
    l.resolve_arms(&mut out);
    l.fail_safe(&mut out);
    l.constant_conditions(&mut out);
    l.forbid_without_because(&mut out);
    l.snake_case(&mut out);
    l.dead_features(&mut out);
    l.ungrantable_sources(&mut out);
    l.unused_modes(&mut out);
    l.bidi_controls(&mut out);
    // One answer per (file, item, code): thousands of lints inside one item
    // would otherwise each walk the comment lines above it.
    let mut memo: HashMap<(FileId, usize, &'static str), bool> = HashMap::new();
    out.retain(|d| {
        let at = allow_anchor(checked, d.primary.file, d.primary.span);
        !*memo
            .entry((d.primary.file, at, d.code))
            .or_insert_with(|| allowed_at(checked, d.code, d.primary.file, at))
    });
    // The allows that silenced something, for L012.
    let used: HashSet<(FileId, usize, &str)> = memo
        .into_iter()
        .filter(|(_, allowed)| *allowed)
        .map(|(k, _)| k)
        .collect();
    out.extend(unneeded_allows(checked, &used));
    out.sort_by_key(|d| (d.primary.file, d.primary.span.start, d.code));
    out
}

/// What `rpol check` (`with_lints == false`) or `rpol lint` reports for a
/// checked policy: its errors, then the lints. Shared by the CLI and the
/// language server so that both show the same findings.
pub fn reported(checked: &Checked, with_lints: bool) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if with_lints {
        diags.extend(lint(checked));
    }
    diags
}

struct Linter<'a> {
    checked: &'a Checked,
    policy: &'a CheckedPolicy,
    model: &'a PolicyModel,
}

fn warn(code: &'static str, file: FileId, span: Span, msg: String, help: &str) -> Diagnostic {
    Diagnostic::warning(code, file, span, msg).with_help(help.to_string())
}
