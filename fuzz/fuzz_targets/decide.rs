#![no_main]
//! Arbitrary request bytes against the bundled example policy.
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rpol_engine::Compiled;

fn policy() -> &'static Compiled {
    static P: OnceLock<Compiled> = OnceLock::new();
    P.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let files = rpol_check::load::read_policy(&root.join("policies/home")).unwrap();
        let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
        Compiled::build(checked.policy.unwrap().model).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let c = policy();
    let text = String::from_utf8_lossy(data);
    match c.decide_json(&text, &["user_embedding_nn_1", "editorial", ""]) {
        Ok(d) => {
            let req = c.parse_request(&text).unwrap();
            let p = c.prepare(&req);
            for (i, v) in &d.features {
                assert_eq!(*v, c.check_feature(&p, c.feature_at(*i).expect("a decided feature is in range")));
            }
            for (i, v) in d.sources.iter().enumerate() {
                assert_eq!(*v, c.check_source(&p, c.source_at(i as u32).expect("a decided source is in range")));
            }
            let _ = d.to_json(c);
        }
        Err((errors, fallback)) => {
            assert!(!errors.is_empty());
            assert_eq!(fallback.mode, c.model().fallback.mode);
            let _ = fallback.to_json(c);
        }
    }
});
