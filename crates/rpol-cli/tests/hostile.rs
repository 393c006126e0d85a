//! Hostile policies in the human renderer (issue 16 item 5): at most 200
//! diagnostics are printed (JSON keeps every one), and a label over a long
//! block shows its first and last lines, not the whole block.

mod common;

use common::{rpol, workspace};

/// Writes `text` as the only file of a fresh policy folder next to the
/// fixtures' registries and returns its path relative to the workspace.
fn policy_dir(name: &str, text: &str) -> String {
    let rel = format!("target/tmp-hostile-{}-{name}", std::process::id());
    let dir = workspace().join(&rel);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.rpol"), text).unwrap();
    rel
}

fn base() -> String {
    std::fs::read_to_string(workspace().join("tests/check/ok.rpol"))
        .unwrap()
        .replace(
            "registries/base.yaml",
            "../../tests/check/registries/base.yaml",
        )
}

#[test]
fn human_output_is_capped_json_is_not() {
    let mut text = base();
    for i in 0..300 {
        text.push_str(&format!("source s_{i} {{ requires: [nope_{i}] }}\n"));
    }
    let dir = policy_dir("cap", &text);
    let (code, human, _) = rpol(&["check", &dir]);
    assert_eq!(code, 1);
    assert_eq!(human.matches("unknown capability").count(), 200, "{human}");
    assert!(
        human.contains("… and 100 more diagnostics not shown (`--format json` lists every one)"),
        "{human}"
    );
    assert!(human.ends_with("check: 300 errors\n"), "{human}");
    let (_, json, _) = rpol(&["check", &dir, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 300);
    std::fs::remove_dir_all(workspace().join(dir)).ok();
}

#[test]
fn a_long_span_shows_its_first_and_last_lines() {
    let mut arms = String::new();
    for i in 0..40 {
        arms.push_str(&format!("  when tenant == \"t{i}\" => basic\n"));
    }
    let text = base().replace(
        "resolve mode {\n  when consent.personalization == granted => personalized\n  else => basic\n}",
        &format!("resolve mode {{\n{arms}}}"),
    );
    let dir = policy_dir("span", &text);
    let (code, human, _) = rpol(&["check", &dir]);
    assert_eq!(code, 1);
    assert!(
        human.contains("`resolve mode` has no `else` arm"),
        "{human}"
    );
    assert!(human.contains("resolve mode {"), "{human}");
    assert!(human.contains("tenant == \"t0\""), "{human}");
    assert!(!human.contains("tenant == \"t20\""), "{human}");
    assert!(human.contains("tenant == \"t39\""), "{human}");
    insta::assert_snapshot!(human.replace(&dir, "DIR"));
    std::fs::remove_dir_all(workspace().join(dir)).ok();
}
