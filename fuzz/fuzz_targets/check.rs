#![no_main]
//! A policy and a registry from one input, split at the first NUL.
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (policy, registry) = text.split_once('\0').unwrap_or((text, ""));
    let registry = registry.to_string();
    let files = vec![rpol_check::SourceInput { name: "fuzz.rpol".into(), text: policy.into() }];
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| Ok(registry.clone()));
    let _ = rpol_check::lint::lint(&checked);
    if let Some(p) = checked.policy {
        // A policy that checks must compile.
        rpol_engine::Compiled::build(p.model).expect("a checked policy compiles");
    }
});
