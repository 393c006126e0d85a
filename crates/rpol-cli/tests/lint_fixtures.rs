//! A fixture per lint that fires and one that does not (fixed or allowed),
//! under `tests/lint/`; SARIF output checked against the shape code scanning needs.

mod common;

use common::{fixtures, rpol};

#[test]
fn every_lint_fires_and_is_quiet_when_fixed_or_allowed() {
    let names = fixtures("tests/lint");
    assert!(names.len() >= 19);
    for name in names {
        let path = format!("tests/lint/{name}");
        let stem = name.trim_end_matches(".rpol");
        let (code, json, _) = rpol(&["lint", &path, "--format", "json"]);
        let doc: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"));
        let codes: Vec<&str> = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert!(
            !codes.iter().any(|c| c.starts_with('E')),
            "{name}: check errors {codes:?}"
        );
        if stem == "clean" {
            assert!(codes.is_empty(), "{name}: {codes:?}");
            assert_eq!(code, 0);
        } else {
            let lint = &stem[..4];
            if stem.ends_with("_fires") {
                assert!(
                    codes.contains(&lint),
                    "{name}: expected {lint} in {codes:?}"
                );
                assert_eq!(
                    code,
                    if lint == "L003" { 1 } else { 0 },
                    "{name}: exit code (only L003 is an error)"
                );
            } else {
                assert!(
                    !codes.contains(&lint),
                    "{name}: {lint} should be quiet, got {codes:?}"
                );
            }
        }
        let (_, human, _) = rpol(&["lint", &path]);
        insta::assert_snapshot!(format!("lint_{stem}"), human);
    }
}

#[test]
fn deny_warnings_fails_on_a_warning() {
    let (code, _, _) = rpol(&["lint", "tests/lint/L005_fires.rpol", "--deny-warnings"]);
    assert_eq!(code, 1);
    let (code, _, _) = rpol(&["lint", "tests/lint/L005_fires.rpol"]);
    assert_eq!(code, 0);
}

#[test]
fn sarif_has_the_shape_code_scanning_requires() {
    let (_, out, _) = rpol(&["lint", "tests/lint/L005_fires.rpol", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("sarif is json");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(!rules.is_empty());
    for r in rules {
        assert!(r["id"].as_str().is_some());
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        assert!(r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let results = run["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for res in results {
        let id = res["ruleId"].as_str().expect("ruleId");
        assert!(rules.iter().any(|r| r["id"] == id));
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
        assert!(res["message"]["text"].as_str().is_some());
        let loc = &res["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].as_str().is_some());
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
}
