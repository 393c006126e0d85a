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
    let (code, _, _) = rpol(&[
        "test",
        "tests/runner/passing.rpol",
        "--filter",
        "nothing matches",
    ]);
    assert_eq!(code, 0);
}
