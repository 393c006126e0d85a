//! `verify` proves the bundled policies' properties and refutes seeded
//! violations with witnesses that reproduce through the engine.

mod common;

use common::{checked, compile, edited_home, replace, root};
use rpol_analysis::regions::DEFAULT_MAX_REGIONS;
use rpol_analysis::verify::{query, verify};
use rpol_engine::Compiled;
use serde_json::Value;

fn eval(c: &Compiled, w: &Value) -> Value {
    let d = c
        .decide_json(&w.to_string(), &[])
        .unwrap_or_else(|_| panic!("witness {w} is valid"));
    serde_json::from_str(&d.to_json(c)).expect("decision JSON")
}

fn allowed_in(decision: &Value, kind: &str, name: &str) -> bool {
    decision[kind]["allowed"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == name))
}

#[test]
fn the_home_policy_verifies() {
    let c = compile(&root().join("policies/home"));
    let r = verify(&c, DEFAULT_MAX_REGIONS).expect("verify");
    let names: Vec<(&str, bool)> = r.properties.iter().map(|p| (p.name, p.holds)).collect();
    assert_eq!(
        names,
        [
            ("consent_monotonicity", true),
            ("fail_safe", true),
            ("mode_monotonicity", true),
            ("live_forbids", true),
        ]
    );
    assert!(r.holds());
}

/// The enterprise policy allows L003 on purpose; `fail_safe` is refuted with
/// a witness (the CLI marks it accepted), everything else holds.
#[test]
fn the_enterprise_policy_verifies_but_for_its_allowed_l003() {
    let c = compile(&root().join("policies/enterprise"));
    let mut r = verify(&c, DEFAULT_MAX_REGIONS).expect("verify");
    for p in &r.properties {
        assert_eq!(p.holds, p.name != "fail_safe", "{}: {}", p.name, p.summary);
    }
    let fs = r
        .properties
        .iter()
        .find(|p| p.name == "fail_safe")
        .expect("fail_safe");
    let w = fs.witness.clone().expect("witness");
    assert!(w.get("consent").is_none(), "every topic unknown: {w}");
    assert_eq!(eval(&c, &w)["mode"], "directory_only");
    assert!(!r.holds());
    r.accept("fail_safe", "allowed");
    assert!(r.holds());
}

/// A source that runs only when consent is *not* given breaks consent
/// monotonicity; the witness is the lowered request, and raising its consent
/// back to granted denies the source.
#[test]
fn a_seeded_consent_violation_is_caught() {
    let dir = edited_home(
        "consent",
        replace(
            "home.rpol",
            "when: consent.session == granted",
            "when: consent.session != granted",
        ),
    );
    let c = compile(&dir);
    let r = verify(&c, DEFAULT_MAX_REGIONS).expect("verify");
    let p = &r.properties[0];
    assert_eq!(p.name, "consent_monotonicity");
    assert!(!p.holds);
    assert!(
        p.summary.starts_with(
            "lowering `consent.session` from granted to denied allows source `session_intent` (denied `condition_false` when granted)"
        ),
        "{}",
        p.summary
    );
    let lowered = p.witness.clone().expect("witness");
    assert!(allowed_in(&eval(&c, &lowered), "sources", "session_intent"));
    let mut granted = lowered.clone();
    granted["consent"]["session"] = "granted".into();
    assert!(!allowed_in(
        &eval(&c, &granted),
        "sources",
        "session_intent"
    ));
    assert!(r.properties[1..].iter().all(|p| p.holds));
}

#[test]
fn a_forbid_that_denies_nothing_is_dead() {
    // `user_embedding` is never allowed for ads, so this rule never fires on it.
    let dir = edited_home(
        "dead",
        replace(
            "home.rpol",
            "# ── Retention",
            "forbid feature user_embedding when purpose == ads_targeting\n  because \"belt and braces\"\n\n# ── Retention",
        ),
    );
    let c = compile(&dir);
    let r = verify(&c, DEFAULT_MAX_REGIONS).expect("verify");
    let p = r
        .properties
        .iter()
        .find(|p| p.name == "live_forbids")
        .expect("live_forbids");
    assert!(!p.holds);
    assert!(
        p.summary.starts_with("the forbid rule at "),
        "{}",
        p.summary
    );
    assert!(p.summary.contains("home.rpol:"), "{}", p.summary);
    assert!(
        p.summary
            .ends_with("denies nothing in any of the 4860 regions"),
        "{}",
        p.summary
    );
}

fn ask(path: &str, text: &str) -> rpol_analysis::verify::QueryReport {
    let (c, q) = common::with_query(&root().join(path), text);
    let r = query(&c, &q, DEFAULT_MAX_REGIONS).expect("query");
    if let Some(w) = &r.witness {
        // The witness makes the query true through the engine too.
        let d = eval(&c, w);
        assert!(d.is_object(), "{w}");
    }
    r
}

#[test]
fn nobody_reaches_user_embedding_without_consent() {
    let r = ask(
        "policies/home",
        "allowed(feature user_embedding) and consent.personalization != granted",
    );
    assert_eq!(r.satisfying, 0);
    assert!(r.witness.is_none());
    assert_eq!(r.regions, 4_860);
}

#[test]
fn a_satisfiable_query_has_a_witness() {
    let r = ask(
        "policies/home",
        "allowed(source user_cf) and tenant == \"bank_a\" and mode == personalized",
    );
    let w = r.witness.expect("witness");
    assert_eq!(w["tenant"], "bank_a");
    let c = compile(&root().join("policies/home"));
    let d = eval(&c, &w);
    assert_eq!(d["mode"], "personalized");
    assert!(allowed_in(&d, "sources", "user_cf"));
    // A feature query puts the feature in the witness's `features`.
    let r = ask(
        "policies/home",
        "allowed(feature user_embedding) and purpose == training",
    );
    let w = r.witness.expect("witness");
    assert_eq!(w["features"], serde_json::json!(["user_embedding"]));
    assert!(allowed_in(&eval(&c, &w), "features", "user_embedding"));
}

#[test]
fn a_bad_query_is_a_diagnostic() {
    let mut ch = checked(&root().join("policies/home"));
    let policy = ch.policy.take().expect("checks");
    for (text, code, msg) in [
        ("allowed(feature user_embeding)", "E0201", "user_embeding"),
        (
            "allowed(user_embedding)",
            "E0301",
            "`allowed` takes `feature NAME` or `source NAME`",
        ),
        (
            "consent.personalisation == granted",
            "E0201",
            "personalisation",
        ),
        ("allowed(source user_cf) and", "E0100", ""),
    ] {
        let file = ch.sources.add("<query>", text.to_string());
        let diags =
            rpol_analysis::query::check(text, file, &ch.scope, &policy.model).expect_err(text);
        assert_eq!(diags[0].code, code, "{text}: {}", diags[0].message);
        assert!(
            diags[0].message.contains(msg),
            "{text}: {}",
            diags[0].message
        );
    }
}
