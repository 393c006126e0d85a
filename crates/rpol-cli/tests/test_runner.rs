//! `rpol test` on a passing and a failing fixture: human, JSON and JUnit
//! output snapshotted; JUnit parsed back with an XML parser; coverage gaps.

mod common;

use common::rpol;

/// Per-test times vary; blank them for snapshots.
fn stable(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let mut l = line.to_string();
        for key in ["time=\"", "\"micros\": "] {
            if let Some(i) = l.find(key) {
                let start = i + key.len();
                let end = l[start..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .map_or(l.len(), |e| start + e);
                l.replace_range(start..end, "0");
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn passing_fixture() {
    let (code, human, _) = rpol(&["test", "tests/runner/passing.rpol"]);
    assert_eq!(code, 0, "{human}");
    assert!(human.trim_end().ends_with("1 passed, 0 failed"));
    insta::assert_snapshot!("passing_human", human);
    let (_, json, _) = rpol(&["test", "tests/runner/passing.rpol", "--format", "json"]);
    insta::assert_snapshot!("passing_json", stable(&json));
    let (_, junit, _) = rpol(&["test", "tests/runner/passing.rpol", "--format", "junit"]);
    insta::assert_snapshot!("passing_junit", stable(&junit));
}

#[test]
fn failing_fixture() {
    let (code, human, _) = rpol(&["test", "tests/runner/failing.rpol"]);
    assert_eq!(code, 1);
    assert!(human.trim_end().ends_with("0 passed, 2 failed"), "{human}");
    assert!(
        human.contains("expected: basic") && human.contains("actual:   personalized"),
        "{human}"
    );
    assert!(
        human.contains("denied forbidden (by the rule at tests/runner/failing.rpol:74)"),
        "{human}"
    );
    insta::assert_snapshot!("failing_human", human);
    let (_, json, _) = rpol(&["test", "tests/runner/failing.rpol", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["failed"], 2);
    insta::assert_snapshot!("failing_json", stable(&json));
    let (code, junit, _) = rpol(&["test", "tests/runner/failing.rpol", "--format", "junit"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("failing_junit", stable(&junit));
}

#[test]
fn junit_is_xml_that_ci_reads() {
    let (_, junit, _) = rpol(&[
        "test",
        "tests/runner/failing.rpol",
        "tests/runner/passing.rpol",
        "--format",
        "junit",
    ]);
    let doc = roxmltree::Document::parse(&junit).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("3"));
    assert_eq!(root.attribute("failures"), Some("2"));
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 2, "one testsuite per policy");
    let cases: Vec<_> = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure element");
    assert!(failure.attribute("message").unwrap().contains("expected"));
    assert!(
        cases
            .iter()
            .all(|c| c.attribute("name").is_some() && c.attribute("classname").is_some())
    );
}

#[test]
fn coverage_reports_known_gaps() {
    let (code, out, _) = rpol(&["test", "tests/runner/passing.rpol", "--coverage"]);
    assert_eq!(code, 0);
    for gap in [
        "resolve arm never taken `else => basic`",
        "source never allowed `trending`",
        "source never denied `user_cf`",
        "forbid rule never fired",
        "reason never shown `similar`",
    ] {
        assert!(out.contains(gap), "missing gap {gap} in\n{out}");
    }
    insta::assert_snapshot!("coverage_gaps", out);
    let (code, _, _) = rpol(&["test", "tests/runner/passing.rpol", "--min-coverage", "90"]);
    assert_eq!(code, 1, "below --min-coverage fails");
}

#[test]
fn a_filter_that_matches_no_test_is_an_error() {
    let (code, out, err) = rpol(&[
        "test",
        "tests/runner/passing.rpol",
        "--filter",
        "nothing matches",
    ]);
    assert_eq!(code, 2, "a usage error, not `0 passed`: {out}{err}");
    assert!(
        out.is_empty(),
        "no report for a filter that runs nothing: {out}"
    );
    assert!(err.contains("E0602"), "{err}");
    assert!(
        err.contains("`--filter nothing matches` matches no test: none of the 1 tests"),
        "{err}"
    );
    // A filter that matches runs only the matching tests.
    let (code, out, _) = rpol(&["test", "tests/runner/failing.rpol", "--filter", "ads"]);
    assert_eq!(code, 1);
    assert!(out.trim_end().ends_with("0 passed, 1 failed"), "{out}");
}

#[test]
fn every_expect_form_passes_where_it_holds() {
    let (code, out, err) = rpol(&["test", "tests/runner/expect_forms.rpol", "--coverage"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");
    // `trending` is forbidden on purpose and can never be shown; the test
    // that expects its codes suppressed covers it.
    assert!(!out.contains("reason never shown"), "{out}");
}

#[test]
fn a_failing_list_names_each_failing_element_once() {
    let (code, human, _) = rpol(&["test", "tests/runner/expect_forms_failing.rpol"]);
    assert_eq!(code, 1);
    // `user_cf` is denied capability_missing as expected; only `trending` fails.
    assert_eq!(
        human
            .matches("expected: trending denied capability_missing")
            .count(),
        1,
        "{human}"
    );
    assert!(!human.contains("expected: user_cf"), "{human}");
    assert_eq!(
        human
            .matches("expected: \"similar_1\" shows trending")
            .count(),
        1,
        "{human}"
    );
    assert!(!human.contains("\"trending_ID\" shows"), "{human}");
    assert!(
        human.contains("   = expected: 90d\n   = actual:   30d"),
        "{human}"
    );
    assert!(
        human.contains("expected: item_score hidden from sre"),
        "{human}"
    );
    assert!(
        !human.contains("expected: user_embedding hidden"),
        "{human}"
    );
    assert!(
        human.contains("actual:   subject `*`, mode `basic`"),
        "{human}"
    );
    insta::assert_snapshot!("expect_forms_failing_human", human);
    // JUnit names the same elements, once each.
    let (_, junit, _) = rpol(&[
        "test",
        "tests/runner/expect_forms_failing.rpol",
        "--format",
        "junit",
    ]);
    let doc = roxmltree::Document::parse(&junit).expect("well-formed XML");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    let body = failure.text().unwrap_or_default();
    assert_eq!(body.matches(": expect ").count(), 5, "{body}");
    assert_eq!(
        body.matches("expect source trending denied capability_missing")
            .count(),
        1
    );
    assert!(!body.contains("expect source user_cf"), "{body}");
    assert_eq!(body.matches("expect debug sre hides item_score").count(), 1);
    assert!(
        failure
            .attribute("message")
            .is_some_and(|m| m.starts_with("expect source trending denied capability_missing")),
    );
    // The JSON form points at the element too.
    let (_, json, _) = rpol(&[
        "test",
        "tests/runner/expect_forms_failing.rpol",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let f = &v["policies"][0]["tests"][0]["failures"][0];
    assert_eq!(f["expect"], "source trending denied capability_missing");
    assert_eq!(f["column"], 18);
}
