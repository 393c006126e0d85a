//! Building the sheet of a policy on disk, as `rpol doc` does.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rpol_doc::{Input, Sheet};
use rpol_engine::Compiled;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sheet and the compiled policy of `path`, with `verify` results for
/// the home policy only (the others are here for their cells).
pub fn sheet(path: &Path, label: &str) -> (Sheet, Compiled) {
    let files = rpol_check::load::read_policy(path).expect("policy files");
    let mut checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    let policy = checked
        .policy
        .take()
        .unwrap_or_else(|| panic!("{} has errors: {errors:?}", path.display()));
    let compiled = Compiled::build(policy.model).expect("compiles");
    let verify = label
        .ends_with("home")
        .then(|| rpol_analysis::verify::verify(&compiled, MAX_REGIONS).expect("verify"));
    let sheet = Sheet::build(Input {
        path: label,
        checked: &checked,
        spans: &policy.spans,
        compiled: &compiled,
        verify,
        max_regions: MAX_REGIONS,
    })
    .expect("sheet");
    (sheet, compiled)
}

const MAX_REGIONS: u64 = 5_000_000;

/// The bundled home policy and a test policy with 17 forbid rules (2.2
/// million regions). `policies/enterprise` (4.5 million) adds little to
/// these and CI runs `rpol doc` on it.
pub const POLICIES: [&str; 2] = ["policies/home", "tests/rego/forbids"];
