//! Hostile 1 MiB requests (issue 16) get the right verdicts; their speed is
//! measured by `benches/hostile.rs`, never asserted here.

mod common;

use rpol_engine::{Compiled, DenyCode, Verdict};
use rpol_testing::hostile;

fn policy() -> Compiled {
    Compiled::build(hostile::widen(common::checked("policies/home").model)).unwrap()
}

fn shape(name: &str) -> String {
    hostile::shapes()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"))
        .json
}

#[test]
fn every_shape_fits_the_limit_and_decides() {
    let c = policy();
    for s in hostile::shapes() {
        assert!(s.json.len() <= rpol_engine::MAX_REQUEST_BYTES, "{}", s.name);
        // Valid or not, a decision comes back and renders.
        let d = match c.decide_json(&s.json, &[]) {
            Ok(d) => d,
            Err((errors, fallback)) => {
                assert!(!errors.is_empty(), "{}", s.name);
                fallback
            }
        };
        assert!(d.to_json(&c).starts_with('{'), "{}", s.name);
    }
}

#[test]
fn distinct_features_are_each_decided_in_registry_order() {
    let c = policy();
    let d = c
        .decide_json(&shape("features_distinct"), &[])
        .expect("valid");
    assert_eq!(d.features.len(), hostile::EXTRA_FEATURES);
    assert!(d.unknown_features.is_empty());
    assert!(
        d.features.windows(2).all(|w| w[0].0 < w[1].0),
        "registry order"
    );
    let p = {
        let req = c.parse_request(&shape("features_distinct")).unwrap();
        // The decision and the single checks agree on every feature.
        let p = c.prepare(&req);
        for &(i, v) in &d.features {
            assert_eq!(v, c.check_feature(&p, c.feature_at(i).unwrap()));
        }
        p.mode
    };
    assert_eq!(c.model().modes[p as usize].name, "personalized");
    // Even copies of `item_quality_score` are allowed, odd copies of
    // `user_embedding` too (consent granted, personalized).
    assert!(d.features.iter().all(|(_, v)| v.is_allowed()));
}

#[test]
fn a_feature_named_100000_times_counts_once() {
    let c = policy();
    let d = c
        .decide_json(&shape("features_duplicate"), &[])
        .expect("valid");
    let f1 = c.feature_id("f1").unwrap().index();
    assert_eq!(d.features, vec![(f1, Verdict::Allowed)]);
    assert!(d.unknown_features.is_empty());
    let json = d.to_json(&c);
    assert!(
        json.contains(r#""features":{"allowed":["f1"],"denied":{}}"#),
        "{json}"
    );
}

#[test]
fn unknown_features_are_denied_once_each_in_request_order() {
    let c = policy();
    let d = c
        .decide_json(&shape("features_unknown"), &[])
        .expect("unknown features do not make a request invalid");
    assert!(d.features.is_empty());
    assert_eq!(d.unknown_features.len(), hostile::EXTRA_FEATURES);
    assert!(
        d.unknown_features
            .iter()
            .enumerate()
            .all(|(i, n)| *n == format!("u{i}"))
    );
    let json = d.to_json(&c);
    assert!(json.contains(r#""allowed":[],"denied":{"u0":{"code":"unknown_feature""#));
    assert_eq!(
        json.matches("unknown_feature").count(),
        hostile::EXTRA_FEATURES
    );
}

#[test]
fn mixed_duplicates_keep_first_positions_and_registry_order() {
    let c = policy();
    let json = format!(
        r#"{},"features":["f3","zz","f1","zz","f3","user_embedding","yy","f1"]}}"#,
        hostile::BASE
    );
    let d = c.decide_json(&json, &[]).expect("valid");
    let id = |n: &str| c.feature_id(n).unwrap().index();
    let ids: Vec<u32> = d.features.iter().map(|(i, _)| *i).collect();
    assert_eq!(ids, vec![id("user_embedding"), id("f1"), id("f3")]);
    assert_eq!(d.unknown_features, vec!["zz", "yy"]);
    let out = d.to_json(&c);
    assert!(
        out.contains(
            r#""allowed":["user_embedding","f1","f3"],"denied":{"zz":{"code":"unknown_feature""#
        ),
        "{out}"
    );
    assert_eq!(
        d.feature_verdict(id("f1")),
        Some(Verdict::Allowed),
        "binary search over registry order"
    );
    assert_eq!(d.feature_verdict(id("f5")), None);
}

#[test]
fn key_floods_are_invalid_with_one_error_per_key() {
    let c = policy();
    let cases = [
        ("top_level_keys", "unknown key `k"),
        ("context_keys", "is not a declared context field"),
        ("consent_keys", "is not a declared consent topic"),
        ("duplicate_keys", "duplicate key `region`"),
        ("features_wrong_type", "a feature name must be a string"),
    ];
    for (name, message) in cases {
        let json = shape(name);
        let Err((errors, fallback)) = c.decide_json(&json, &[]) else {
            panic!("{name} must be invalid")
        };
        // The first 100 are listed, the rest counted in one last error.
        let listed = &errors.0[..rpol_engine::MAX_REQUEST_ERRORS];
        assert!(listed.iter().all(|e| e.message.contains(message)), "{name}");
        assert_eq!(errors.len(), rpol_engine::MAX_REQUEST_ERRORS + 1, "{name}");
        let last = &errors.0[rpol_engine::MAX_REQUEST_ERRORS];
        let more: usize = last
            .message
            .strip_suffix(" more errors not listed (at most 100 are)")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {}", last.message));
        let expected = match name {
            "top_level_keys" | "context_keys" => json.matches("\":0").count(),
            "consent_keys" => json.matches("\":\"granted\"").count(),
            "duplicate_keys" => json.matches("\"region\"").count() - 1,
            _ => hostile::EXTRA_FEATURES,
        };
        assert!(expected > 50_000, "{name}");
        assert_eq!(listed.len() + more, expected, "{name}: one error per key");
        // The fallback: the `else` mode, no consent.
        assert_eq!(fallback.mode, c.model().fallback.mode, "{name}");
    }
}

#[test]
fn nesting_and_long_strings() {
    let c = policy();
    let Err((errors, _)) = c.decide_json(&shape("deep_at_limit"), &[]) else {
        panic!("`x` is not a request key")
    };
    assert_eq!(errors.len(), 1);
    assert!(errors.0[0].message.starts_with("unknown key `x`"));
    let Err((errors, _)) = c.decide_json(&shape("deep_over_limit"), &[]) else {
        panic!("too deep")
    };
    assert_eq!(errors.to_string(), "$: request nests deeper than 32 levels");
    let req = c.parse_request(&shape("long_string")).unwrap();
    assert_eq!(
        req.tenant.as_ref().map(String::len),
        Some(rpol_engine::MAX_REQUEST_BYTES - 64)
    );
    let req = c.parse_request(&shape("escaped_string")).unwrap();
    let id = req.user_id.unwrap();
    assert!(id.len() > 500_000 && id.bytes().all(|b| b == b'\n'));
    let roles = c.parse_request(&shape("roles")).unwrap();
    assert_eq!(roles.roles, 1, "`sre` is role 0");
}

#[test]
fn repeated_reason_codes_count_once() {
    let c = policy();
    let req = c.parse_request(&format!("{}}}", hostile::BASE)).unwrap();
    let codes: Vec<String> = (0..20_000)
        .map(|i| format!("trending_region_{}", i % 7))
        .collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let d = c.decide(&req, &codes);
    let names: Vec<&str> = d.reasons.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        names,
        (0..7)
            .map(|i| format!("trending_region_{i}"))
            .collect::<Vec<_>>()
    );
    assert!(
        d.reasons
            .iter()
            .all(|(_, o)| *o == c.explain(&c.prepare(&req), "trending_region_0"))
    );
    assert!(!matches!(
        d.reasons[0].1,
        rpol_engine::ReasonOutcome::Suppressed(DenyCode::PolicyMismatch)
    ));
}

#[test]
fn escaped_names_numbers_and_unknown_roles() {
    let c = policy();
    // Escaped names are the same registry features as plain ones (fewer
    // fit in the limit).
    let plain = c
        .decide_json(&shape("features_distinct"), &[])
        .expect("valid");
    let escaped = c
        .decide_json(&shape("features_escaped"), &[])
        .expect("valid");
    let n = escaped.features.len();
    assert!(n > 70_000, "{n}");
    assert!(plain.features.starts_with(&escaped.features));
    let Err((errors, _)) = c.decide_json(&shape("numbers"), &[]) else {
        panic!("`x` is not a request key")
    };
    assert!(errors.0[0].message.starts_with("unknown key `x`"));
    let Err((errors, fallback)) = c.decide_json(&shape("roles_unknown"), &[]) else {
        panic!("undeclared roles")
    };
    assert_eq!(errors.len(), rpol_engine::MAX_REQUEST_ERRORS + 1);
    assert!(
        errors.0[0]
            .message
            .starts_with("`r0` is not a declared role")
    );
    assert_eq!(fallback.mode, c.model().fallback.mode);
}
