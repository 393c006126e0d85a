#![no_main]
//! A policy and a registry from one input, split at the first NUL; when it
//! checks, region analysis must not panic, and a policy diffed with itself
//! must be equal.
use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (policy, registry) = text.split_once('\0').unwrap_or((text, ""));
    let registry = registry.to_string();
    let files = vec![rpol_check::SourceInput { name: "fuzz.rpol".into(), text: policy.into() }];
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| Ok(registry.clone()));
    let Some(p) = checked.policy else { return };
    let c = rpol_engine::Compiled::build(p.model).expect("a checked policy compiles");
    // Small bound: the fuzzer explores shapes, not sizes.
    const BOUND: u64 = 20_000;
    if let Ok(r) = rpol_analysis::diff::diff(&c, &c, BOUND) {
        assert!(r.equal(), "self-diff differs: {:?}", r.differences.first().map(|d| &d.summary));
    }
    let _ = rpol_analysis::verify::verify(&c, BOUND);
});
