//! One fixture per error code under `tests/check/`: `rpol check` on each,
//! the code named by the file name required among the diagnostics of its JSON
//! output. The diagnostics themselves are snapshotted by rpol-check's own
//! tests (`crates/rpol-check/tests/codes.rs`); here a few fixtures keep the
//! human (no colour) and JSON rendering snapshotted.

mod common;

use common::{fixtures, rpol};

/// The fixtures whose rendering is snapshotted: a syntax error, a
/// suggestion, labels in the registry YAML, a grouped diagnostic with
/// several labels, an escaped control character, and a clean run.
const RENDERED: &[&str] = &[
    "E0100_syntax",
    "E0103_control_in_string",
    "E0201_unknown_name",
    "E0402_undeclared_in_registry",
    "E0503_grouped",
    "ok",
];

#[test]
fn every_error_code_fixture() {
    let names = fixtures("tests/check");
    assert!(
        names.len() >= 27,
        "expected one fixture per code, found {}",
        names.len()
    );
    for name in names {
        let path = format!("tests/check/{name}");
        let stem = name.trim_end_matches(".rpol");
        let (code, human, _) = rpol(&["check", &path]);
        let (jcode, json, _) = rpol(&["check", &path, "--format", "json"]);
        assert_eq!(code, jcode, "{name}: exit codes of human and json differ");
        let doc: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: bad json {e}: {json}"));
        let codes: Vec<&str> = doc["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        if stem.starts_with("ok") {
            assert_eq!(code, 0, "{name} should check clean:\n{human}");
            assert!(codes.is_empty());
        } else {
            let expected = &stem[..5];
            assert_eq!(code, 1, "{name}: exit code");
            assert!(
                codes.contains(&expected),
                "{name}: expected {expected} among {codes:?}\n{human}"
            );
            for d in doc["diagnostics"].as_array().unwrap() {
                assert!(
                    d["line"].as_u64().unwrap_or(0) >= 1,
                    "{name}: diagnostic without a line: {d}"
                );
                assert!(d["file"].as_str().is_some_and(|f| !f.is_empty()));
            }
        }
        if RENDERED.contains(&stem) {
            insta::assert_snapshot!(format!("{stem}.human"), human);
            insta::assert_snapshot!(format!("{stem}.json"), json);
        }
    }
}

/// One run reports every independent error (an E0402 on one registry entry
/// used to hide the E0502 on another feature), each once, without
/// follow-on errors from the broken entry.
#[test]
fn every_error_in_one_run() {
    let (code, json, _) = rpol(&[
        "check",
        "tests/check/E0402_every_error_in_one_run.rpol",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut codes: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        ["E0201", "E0402", "E0402", "E0502", "E0505"],
        "{json}"
    );
}
