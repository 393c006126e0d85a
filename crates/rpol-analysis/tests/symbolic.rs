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
use rpol_analysis::verify::verify;
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
