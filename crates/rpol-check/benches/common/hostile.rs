//! Generators of hostile policies (issue 16, item 5): shapes that made
//! checking, linting or rendering quadratic. Shared by the `hostile` bench
//! and the `hostile` example, which writes them to disk for `rpol check`.

/// The header and vocabulary every shape starts from; `features.yaml` is
/// [`registry`]'s output.
const HEAD: &str = "policy hostile {
  version: \"1\"
  registry: \"features.yaml\"
}

purposes [personalization, ads]
consent [personalization]
capabilities [behavior, coarse]
roles [sre]
surfaces [home, pdp]

mode personalized { grants: [behavior, coarse] }
mode basic        { grants: [coarse] }

class behavioral { requires: [behavior], personal: true, max_retention: 90d, debug: restricted }
class public     { }
";

const RESOLVE: &str = "
resolve mode {
  when consent.personalization == granted => personalized
  else => basic
}
";

const CONTEXT: &str = "
context {
  device: [mobile, tv]
}
";

/// A registry of `extra` generated features plus the two the shapes name.
pub fn registry(extra: usize) -> String {
    let mut s = String::from(
        "features:\n  - name: user_embedding\n    entity: user\n    privacy_class: behavioral\n    allowed_privacy_modes: [personalized]\n    allowed_purposes: [personalization]\n    retention_days: 30\n    requires_consent: personalization\n  - name: item_score\n    entity: item\n    privacy_class: public\n    allowed_privacy_modes: [personalized, basic]\n    allowed_purposes: [personalization, ads]\n",
    );
    for i in 0..extra {
        s.push_str(&format!(
            "  - name: feature_{i}\n    entity: item\n    privacy_class: public\n    allowed_privacy_modes: [personalized, basic]\n    allowed_purposes: [personalization, ads]\n"
        ));
    }
    s
}

/// A registry of `n` features that no mode can allow (one L007 each).
pub fn dead_registry(n: usize) -> String {
    let mut s = registry(0);
    for i in 0..n {
        s.push_str(&format!(
            "  - name: dead_{i}\n    entity: item\n    privacy_class: public\n    allowed_privacy_modes: []\n    allowed_purposes: [personalization]\n"
        ));
    }
    s
}

fn policy(body: &str, with_resolve: bool, with_context: bool) -> String {
    let mut s = String::from(HEAD);
    if with_context {
        s.push_str(CONTEXT);
    }
    if with_resolve {
        s.push_str(RESOLVE);
    }
    s.push_str(body);
    s
}

/// `n` feature sets that all route mode `basic` on every surface.
pub fn overlapping_sets(n: usize) -> String {
    let mut b = String::new();
    for i in 0..n {
        b.push_str(&format!(
            "feature_set set_{i} {{\n  modes: [basic]\n  features: [item_score]\n}}\n"
        ));
    }
    policy(&b, true, true)
}

/// `n` reasons with the same code pattern.
pub fn identical_patterns(n: usize) -> String {
    let mut b = String::new();
    for i in 0..n {
        b.push_str(&format!(
            "reason same_{i} {{\n  text: \"Same\"\n  codes: [\"same_*\"]\n}}\n"
        ));
    }
    policy(&b, true, true)
}

/// `n` reasons with distinct, disjoint patterns (a valid policy).
pub fn many_reasons(n: usize) -> String {
    let mut b = String::new();
    for i in 0..n {
        b.push_str(&format!(
            "reason r_{i} {{\n  text: \"Reason {i}\"\n  codes: [\"r{i}_*\", \"x_{i}\"]\n}}\n"
        ));
    }
    policy(&b, true, true)
}

/// One context enum with `n` variants.
pub fn enum_variants(n: usize) -> String {
    let mut b = String::from("context {\n  e: [");
    for i in 0..n {
        b.push_str(&format!("v{i}, "));
    }
    b.push_str("]\n}\n");
    policy(&b, true, false)
}

/// An enum of `n` variants and a condition listing every one of them.
pub fn enum_list(n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
    let list = names.join(", ");
    let b = format!("context {{\n  e: [{list}]\n}}\nsource s {{ when: context.e in [{list}] }}\n");
    policy(&b, true, false)
}

/// `resolve` with `n` distinct arms.
pub fn resolve_arms(n: usize) -> String {
    let mut b = String::from("resolve mode {\n");
    for i in 0..n {
        b.push_str(&format!(
            "  when tenant == \"t{i}\" and consent.personalization == granted => personalized\n"
        ));
    }
    b.push_str("  else => basic\n}\n");
    policy(&b, false, true)
}

/// A valid policy of about `lines` lines mixing every item kind.
pub fn big_policy(lines: usize) -> String {
    let mut s = policy("", false, true);
    s.push_str("resolve mode {\n");
    let arms = lines / 10;
    for i in 0..arms {
        s.push_str(&format!(
            "  when tenant == \"t{i}\" and consent.personalization == granted => personalized\n"
        ));
    }
    s.push_str("  else => basic\n}\n");
    s.push_str(
        "feature_set home_all {\n  modes: [personalized, basic]\n  features: [item_score]\n}\n",
    );
    let mut i = 0;
    while s.lines().count() < lines {
        s.push_str(&format!(
            "source src_{i} {{ requires: [coarse], when: context.device == mobile and tenant != \"t{i}\" }}\n\
             forbid source src_{i} when tenant == \"bank_{i}\"\n  because \"bank {i} opted out\"\n\
             reason reason_{i} {{\n  text: \"Reason {i}\"\n  codes: [\"code_{i}_*\"]\n}}\n\
             ## Generated.\nfeature_set fs_{i} {{\n  modes: []\n  features: [item_score]\n}}\n"
        ));
        i += 1;
    }
    s
}

/// Every shape: (name, policy text, registry text), at the sizes the issue
/// reported.
pub fn shapes() -> Vec<(&'static str, String, String)> {
    vec![
        ("sets_1000", overlapping_sets(1_000), registry(0)),
        (
            "identical_patterns_400",
            identical_patterns(400),
            registry(0),
        ),
        ("reasons_50000", many_reasons(50_000), registry(0)),
        ("enum_80000", enum_variants(80_000), registry(0)),
        ("enum_list_50000", enum_list(50_000), registry(0)),
        ("arms_10000", resolve_arms(10_000), registry(0)),
        ("registry_10000", policy("", true, true), registry(10_000)),
        (
            "dead_registry_10000",
            policy("", true, true),
            dead_registry(10_000),
        ),
        ("big_50000_lines", big_policy(50_000), registry(10_000)),
    ]
}
