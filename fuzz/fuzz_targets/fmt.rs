#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match rpol_fmt::format(text) {
        Ok(once) => {
            let twice = rpol_fmt::format(&once).expect("formatted output formats again");
            assert_eq!(once, twice, "formatting is idempotent");
        }
        Err(rpol_fmt::FormatError::Syntax(_)) => {}
        Err(e @ rpol_fmt::FormatError::Internal(_)) => panic!("{e}"),
    }
});
