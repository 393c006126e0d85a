#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = rpol_engine::Compiled::from_artifact(data) {
        let _ = c.decide_json(r#"{"tenant":"t","surface":"s","purpose":"p"}"#, &["x"]);
    }
});
