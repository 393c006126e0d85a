//! The symbolic engine against the enumeration engine (the oracle): on every
//! bundled policy, on edited copies with seeded changes and violations, and
//! on generated wide policies, both give identical reports (groups, counts,
//! witnesses, words). Past what enumeration can cover, the generated target
//! policy's diff finds exactly the one dropped forbid rule, and its witness
//! re-run through the engine shows the change.

mod common;

use std::path::PathBuf;

use common::{compile, edited_home, replace, root};
use proptest::prelude::*;
use rpol_analysis::diff::diff;
use rpol_analysis::regions::DEFAULT_MAX_REGIONS;
use rpol_analysis::symbolic;
use rpol_analysis::verify::{query, verify};
use rpol_analysis::wide::{Shape, forbidden_source, generate};
use rpol_engine::Compiled;

fn same_verify(c: &Compiled) {
    let e = verify(c, DEFAULT_MAX_REGIONS).expect("enumerate");
    let s = symbolic::verify(c).expect("symbolic");
    assert_eq!(e, s);
}

fn same_diff(a: &Compiled, b: &Compiled) {
    let e = diff(a, b, DEFAULT_MAX_REGIONS).expect("enumerate");
    let s = symbolic::diff(a, b).expect("symbolic");
    assert_eq!(e, s);
}

/// Both engines answer `text` alike on the policy at `path`; returns
/// whether it is satisfiable. A witness makes the query true under the
/// engine too.
fn same_query(path: &std::path::Path, text: &str) -> bool {
    let (c, q) = common::with_query(path, text);
    let e = query(&c, &q, DEFAULT_MAX_REGIONS).expect("enumerate");
    let s = symbolic::query::query(&c, &q).expect("symbolic");
    assert_eq!(e, s, "{text}");
    if let Some(w) = &s.witness {
        let req = c
            .parse_request(&w.to_string())
            .unwrap_or_else(|e| panic!("{text}: witness {w} is not a request: {e:?}"));
        let mut outcome = rpol_analysis::sweep::Outcome::default();
        outcome.fill(&c, &req, None, &[]);
        assert_eq!(q.query.eval(&req, &outcome), Some(true), "{text}: {w}");
    }
    e.satisfying > 0
}

/// Queries over the home policy's names: modes, consent, optional fields
/// (unknown when missing), enums, `allowed(…)`, and their combinations.
const HOME_QUERIES: &[&str] = &[
    "mode == personalized",
    "mode != personalized and consent.personalization == granted",
    "allowed(feature user_embedding) and consent.personalization != granted",
    "allowed(source user_cf) and tenant == \"bank_a\" and mode == personalized",
    "allowed(source user_two_tower) and tenant in [\"bank_a\", \"clinic_b\"]",
    "allowed(feature user_embedding) and purpose == training",
    "not allowed(source session_intent) and consent.session == granted",
    "context.region == \"eu\" or context.device == tv",
    "not (context.region == \"eu\")",
    "not (context.authorized) and mode == contextual_only",
    "exists(subject.user_id) and mode == non_personalized",
    "not exists(subject.user_id) and allowed(source user_cf)",
    "allowed(feature user_embedding) or allowed(source item_to_item)",
    "not (allowed(source item_to_item) or mode == personalized)",
    "purpose == ads_targeting and allowed(feature inferred_health_interest)",
    "surface == home and not allowed(feature user_embedding) and mode == personalized",
];

/// Edits of policies/home: each seeds a difference or a violation.
fn edits() -> Vec<(&'static str, PathBuf)> {
    vec![
        (
            "mode",
            edited_home(
                "sym-mode",
                replace(
                    "home.rpol",
                    "when consent.personalization == denied  => non_personalized",
                    "when consent.personalization == denied  => contextual_only",
                ),
            ),
        ),
        (
            "forbid",
            edited_home(
                "sym-forbid",
                replace(
                    "home.rpol",
                    "forbid source user_two_tower when tenant in [\"bank_a\", \"clinic_b\"]\n  because \"these tenants' contracts exclude cross-user embeddings\"\n",
                    "",
                ),
            ),
        ),
        (
            "consent",
            edited_home(
                "sym-consent",
                replace(
                    "home.rpol",
                    "when: consent.session == granted",
                    "when: consent.session != granted",
                ),
            ),
        ),
        (
            "dead",
            edited_home(
                "sym-dead",
                replace(
                    "home.rpol",
                    "# ── Retention",
                    "forbid feature user_embedding when purpose == ads_targeting\n  because \"belt and braces\"\n\n# ── Retention",
                ),
            ),
        ),
        (
            "registry",
            edited_home(
                "sym-registry",
                replace(
                    "features.yaml",
                    "    allowed_purposes: [personalization, training]\n    retention_days: 90\n    requires_consent: personalization\n  - name: recent_click_count",
                    "    allowed_purposes: [personalization, training, quality_monitoring]\n    retention_days: 90\n    requires_consent: personalization\n  - name: recent_click_count",
                ),
            ),
        ),
        (
            "surfaces",
            edited_home("sym-surfaces", |name, text| match name {
                "home.rpol" => text.replace("surfaces [home, pdp]", "surfaces [home]"),
                "tests.rpol" | "coverage.rpol" => text.replace("surface: pdp", "surface: home"),
                _ => text.to_string(),
            }),
        ),
    ]
}

#[test]
fn the_home_policy_verifies_alike() {
    same_verify(&compile(&root().join("policies/home")));
}

/// The enterprise policy's enumeration takes over a minute in a debug build:
/// `cargo test -p rpol-analysis --test symbolic -- --ignored`.
#[test]
#[ignore]
fn the_enterprise_policy_verifies_alike() {
    let e = compile(&root().join("policies/enterprise"));
    same_verify(&e);
    same_diff(&e, &e);
}

#[test]
fn edited_policies_verify_and_diff_alike() {
    let home = compile(&root().join("policies/home"));
    same_diff(&home, &home);
    for (tag, dir) in edits() {
        let c = compile(&dir);
        same_verify(&c);
        same_diff(&home, &c);
        same_diff(&c, &home);
        // Something is seeded in each: the engines agree on a real answer.
        let r = symbolic::diff(&home, &c).expect("diff");
        let v = symbolic::verify(&c).expect("verify");
        assert!(!r.equal() || !v.holds(), "{tag} changes nothing");
    }
}

#[test]
fn queries_answer_alike() {
    let home = root().join("policies/home");
    let mut satisfiable = 0;
    for text in HOME_QUERIES {
        satisfiable += usize::from(same_query(&home, text));
    }
    // Both kinds of answer are covered.
    assert!(satisfiable > 0 && satisfiable < HOME_QUERIES.len());
    for (_, dir) in edits() {
        for text in HOME_QUERIES {
            same_query(&dir, text);
        }
    }
}

fn compile_wide(shape: &Shape, drop: Option<usize>, tag: &str) -> Compiled {
    let dir = std::env::temp_dir().join(format!("rpol-sym-{}-{tag}", std::process::id()));
    generate(shape, drop).write(&dir).expect("write");
    let c = compile(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Generated policies small enough to enumerate: identical reports.
    #[test]
    fn generated_policies_agree(
        topics in 2usize..4,
        tenants in 1usize..4,
        sources in 1usize..6,
        features in 1usize..14,
        surfaces in 1usize..3,
        thresholds in 0usize..3,
        drop in 0usize..4,
    ) {
        let shape = Shape { topics, tenants, sources, features, surfaces, thresholds };
        let tag = format!("{topics}-{tenants}-{sources}-{features}-{surfaces}-{thresholds}-{drop}");
        let a = compile_wide(&shape, None, &format!("{tag}-a"));
        let b = compile_wide(&shape, Some(drop), &format!("{tag}-b"));
        same_verify(&a);
        same_verify(&b);
        same_diff(&a, &b);
    }
}

/// Beyond enumeration (10^18 regions): the diff finds exactly the dropped
/// rule, with a witness the engine decides differently under the two.
#[test]
fn a_wide_policy_diff_finds_the_dropped_rule() {
    let shape = Shape {
        features: 400,
        ..Shape::TARGET
    };
    let old = compile_wide(&shape, None, "wide-old");
    let new = compile_wide(&shape, Some(7), "wide-new");
    assert!(verify(&old, DEFAULT_MAX_REGIONS).is_err(), "enumerable");
    let r = symbolic::diff(&old, &new).expect("diff");
    assert_eq!(r.differences.len(), 1, "{:?}", r.differences);
    let d = &r.differences[0];
    let src = format!("src_{}", forbidden_source(7, &shape));
    assert_eq!(
        d.change,
        rpol_analysis::diff::Change::Source {
            name: src.clone(),
            allowed_now: true
        }
    );
    let allowed = |c: &Compiled| {
        let dec = c
            .decide_json(&d.witness.to_string(), &[])
            .expect("valid witness");
        let i = c
            .model()
            .sources
            .iter()
            .position(|s| s.name == src)
            .expect("source");
        dec.sources[i].is_allowed()
    };
    assert!(!allowed(&old) && allowed(&new));
    let v = symbolic::verify(&old).expect("verify");
    assert!(v.holds(), "{:?}", v.properties);
}

/// An atom of a generated query over a generated policy's names.
const WIDE_ATOMS: &[&str] = &[
    "mode == personalized",
    "mode != non_personalized",
    "consent.training == granted",
    "consent.personalization != denied",
    "tenant == \"tenant_0\"",
    "context.age < 14",
    "context.age >= 20",
    "context.region == \"eu\"",
    "context.device == tv",
    "purpose == training",
    "exists(subject.user_id)",
    "allowed(source src_0)",
    "allowed(feature f_0)",
];

fn wide_query() -> impl Strategy<Value = String> {
    let atom = (0..WIDE_ATOMS.len()).prop_map(|i| WIDE_ATOMS[i].to_string());
    atom.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|q| format!("not ({q})")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" and "))),
            prop::collection::vec(inner, 2..4).prop_map(|v| format!("({})", v.join(" or "))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Generated queries on generated policies: identical answers.
    #[test]
    fn generated_queries_agree(
        topics in 2usize..4,
        tenants in 1usize..3,
        sources in 1usize..4,
        features in 1usize..8,
        thresholds in 0usize..3,
        text in wide_query(),
    ) {
        let shape = Shape { topics, tenants, sources, features, surfaces: 1, thresholds };
        let dir = std::env::temp_dir().join(format!(
            "rpol-sym-q-{}-{topics}-{tenants}-{sources}-{features}-{thresholds}",
            std::process::id()
        ));
        generate(&shape, None).write(&dir).expect("write");
        same_query(&dir, &text);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
