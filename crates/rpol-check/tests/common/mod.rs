//! Helpers shared by the checker's integration tests and benchmarks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rpol_check::{Checked, SourceInput};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example policy's files, named as `rpol check policies/home` names them.
pub fn example_files() -> Vec<SourceInput> {
    let dir = workspace().join("policies/home");
    ["home.rpol", "tests.rpol"]
        .iter()
        .map(|f| SourceInput {
            name: format!("policies/home/{f}"),
            text: std::fs::read_to_string(dir.join(f)).expect("example file"),
        })
        .collect()
}

pub fn example_registry() -> String {
    std::fs::read_to_string(workspace().join("policies/features.yaml")).expect("example registry")
}

/// Checks `files` with an in-memory registry.
pub fn check_with_registry(files: Vec<SourceInput>, registry: &str) -> Checked {
    let reg = registry.to_string();
    rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| {
        Ok(reg.clone())
    })
}
