#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = rpol_engine::Compiled::from_artifact(data) {
        let _ = c.decide_json(r#"{"tenant":"t","surface":"s","purpose":"p"}"#, &["x"]);
        // What loads re-encodes to itself: the loader takes canonical bodies only.
        let again = rpol_engine::Compiled::from_artifact(&c.to_artifact());
        assert!(again.is_ok_and(|a| a.model() == c.model()));
    }
    // The signature path: header parsing and verification never panic, and
    // arbitrary bytes never carry a valid signature of a fixed key.
    let key = rpol_engine::SecretKey::from_seed([7; 32]).public_key();
    assert!(rpol_engine::Compiled::from_signed_artifact(data, &key).is_err());
});
