//! Building the sheet of a policy on disk, as `rpol doc` does.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rpol_doc::{Input, Sheet};
use rpol_engine::Compiled;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sheet (with `verify`) and the compiled policy of `path`.
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
    let verify = rpol_analysis::verify::verify(&compiled, 1_000_000).expect("verify");
    let sheet = Sheet::build(Input {
        path: label,
        checked: &checked,
        spans: &policy.spans,
        compiled: &compiled,
        verify: Some(verify),
        max_regions: 1_000_000,
    })
    .expect("sheet");
    (sheet, compiled)
}

/// The bundled policies and a test policy with many forbid rules.
pub const POLICIES: [&str; 3] = ["policies/home", "policies/enterprise", "tests/rego/forbids"];
