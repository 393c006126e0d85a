//! The bundled example checks clean and lowers as docs/reference.md describes.

mod common;

use common::{check_with_registry, example_files, example_registry};

#[test]
fn example_checks_clean() {
    let checked = check_with_registry(example_files(), &example_registry());
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let p = checked.policy.expect("a checked policy");
    let m = &p.model;
    assert_eq!(m.name, "home_feed");
    assert_eq!(m.version, "2026.11.1");
    assert_eq!(
        m.sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        [
            "user_cf",
            "user_two_tower",
            "session_intent",
            "item_to_item",
            "trending_region",
            "editorial",
            "enterprise_actions"
        ]
    );
    assert_eq!(m.features.len(), 8);
    assert_eq!(m.resolve.len(), 3);
    assert_eq!(m.resolve[1].rule, "policies/home/home.rpol:30");
    assert_eq!(m.fallback.rule, "policies/home/home.rpol:32");
    assert_eq!(m.modes[m.fallback.mode as usize].name, "contextual_only");
    assert_eq!(m.forbids.len(), 3);
    assert_eq!(m.forbids[0].rule, "policies/home/home.rpol:87");
    assert_eq!(p.tests.len(), 5);
    assert_eq!(m.digest.len(), 64);
}

#[test]
fn digest_changes_with_any_input() {
    let a = check_with_registry(example_files(), &example_registry())
        .policy
        .unwrap()
        .model
        .digest;
    let b = check_with_registry(example_files(), &example_registry())
        .policy
        .unwrap()
        .model
        .digest;
    assert_eq!(a, b, "digest is stable");
    let mut files = example_files();
    files[1].text.push_str("\n# a comment\n");
    let c = check_with_registry(files, &example_registry())
        .policy
        .unwrap()
        .model
        .digest;
    assert_ne!(a, c);
    let d = check_with_registry(example_files(), &format!("{}\n", example_registry()))
        .policy
        .unwrap()
        .model
        .digest;
    assert_ne!(a, d);
}
