#![no_main]
//! `rpol verify --query` text against the bundled example: never a panic;
//! a query that checks is answered, and its witness (if any) is a valid
//! request.
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

struct Home {
    checked: rpol_check::Checked,
    compiled: rpol_engine::Compiled,
}

fn home() -> &'static Home {
    static HOME: OnceLock<Home> = OnceLock::new();
    HOME.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/home");
        let files = rpol_check::load::read_policy(&root).expect("policies/home");
        let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
        let model = checked.policy.as_ref().expect("checks").model.clone();
        let compiled = rpol_engine::Compiled::build(model).expect("compiles");
        Home { checked, compiled }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let h = home();
    let mut sources = rpol_diag::SourceMap::new();
    let file = sources.add("<query>", text.to_string());
    let Ok(q) = rpol_analysis::query::check(text, file, &h.checked.scope, h.compiled.model()) else {
        return;
    };
    if let Ok(r) = rpol_analysis::verify::query(&h.compiled, &q, 100_000)
        && let Some(w) = r.witness
    {
        assert!(h.compiled.parse_request(&w.to_string()).is_ok(), "witness {w} is invalid");
    }
});
