//! Compiled policies from `policies/`, built through the real checker.
#![allow(dead_code)]

use std::path::Path;

use rpol_check::{CheckedPolicy, load};
use rpol_engine::Compiled;

pub fn checked(dir: &str) -> CheckedPolicy {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = load::read_policy(&root.join(dir)).expect("policy files");
    let c = rpol_check::check(files, None, &load::read_registry);
    c.policy
        .unwrap_or_else(|| panic!("{dir} has errors: {:#?}", c.diagnostics))
}

pub fn compiled(dir: &str) -> Compiled {
    Compiled::build(checked(dir).model).expect("compiles")
}
