//! Random byte mutations of the example never panic the checker.

mod common;

use common::{check_with_registry, example_files, example_registry};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_policy_never_panics(pos in 0usize..4000, byte in any::<u8>(), cut in proptest::option::of(0usize..4000)) {
        let mut files = example_files();
        let mut bytes = files[0].text.clone().into_bytes();
        let p = pos % bytes.len();
        bytes[p] = byte;
        if let Some(c) = cut { bytes.truncate(c % bytes.len()); }
        // Non-UTF-8 input is refused by the loader before the checker; keep the rest.
        if let Ok(text) = String::from_utf8(bytes) {
            files[0].text = text;
            let _ = check_with_registry(files, &example_registry());
        }
    }

    #[test]
    fn mutated_registry_never_panics(pos in 0usize..4000, byte in 0x20u8..0x7f, cut in proptest::option::of(0usize..4000)) {
        let mut bytes = example_registry().into_bytes();
        let p = pos % bytes.len();
        bytes[p] = byte;
        if let Some(c) = cut { bytes.truncate(c % bytes.len()); }
        let text = String::from_utf8(bytes).unwrap();
        let _ = check_with_registry(example_files(), &text);
    }
}
