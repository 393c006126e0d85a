//! `rpol diff` and `rpol verify` through the real binary: exit codes, human
//! and JSON output, witnesses that reproduce with `rpol eval`.

mod common;

use common::{rpol, workspace};

/// A scratch copy of policies/home with one text replacement in home.rpol.
fn edited_home(tag: &str, from: &str, to: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-cli-analysis-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).expect("scratch");
    let src = workspace().join("policies");
    for f in ["home.rpol", "tests.rpol", "coverage.rpol"] {
        let text = std::fs::read_to_string(src.join("home").join(f)).expect("read");
        let text = if f == "home.rpol" {
            assert!(text.contains(from));
            text.replacen(from, to, 1)
        } else {
            text
        };
        std::fs::write(dir.join("home").join(f), text).expect("write");
    }
    std::fs::copy(src.join("features.yaml"), dir.join("features.yaml")).expect("registry");
    dir.join("home")
}

#[test]
fn diff_of_a_policy_with_itself_exits_0() {
    let (code, out, err) = rpol(&["diff", "policies/home", "policies/home"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out, @"`policies/home` and `policies/home` decide alike: equal mode, route, sources and features in all 4860 regions");
}

#[test]
fn diff_finds_a_change_and_its_witness_reproduces_with_eval() {
    let new = edited_home(
        "flip",
        "when: consent.session == granted",
        "when: consent.session != granted",
    );
    let new = new.to_string_lossy().into_owned();
    let (code, out, err) = rpol(&["diff", "policies/home", &new, "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["equal"], false);
    assert_eq!(j["regions"], 4860);
    let diffs = j["differences"].as_array().expect("differences");
    assert_eq!(diffs.len(), 2);
    for d in diffs {
        let witness =
            std::env::temp_dir().join(format!("rpol-witness-{}.json", std::process::id()));
        std::fs::write(&witness, d["witness"].to_string()).expect("write witness");
        let w = witness.to_string_lossy().into_owned();
        let decide = |path: &str| {
            let (code, out, err) = rpol(&["eval", path, "--input", &w]);
            assert_eq!(code, 0, "{err}");
            let v: serde_json::Value = serde_json::from_str(&out).expect("decision");
            v["sources"]["allowed"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s == "session_intent"))
        };
        let newly_allowed = d["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("newly allowed");
        assert_eq!(decide("policies/home"), !newly_allowed, "{d}");
        assert_eq!(decide(&new), newly_allowed, "{d}");
    }
    let (code, out, _) = rpol(&["diff", "policies/home", &new]);
    assert_eq!(code, 1);
    assert!(out.contains("differ in 2 ways over 4860 regions"), "{out}");
    assert!(out.contains("witness: {"), "{out}");
}

#[test]
fn verify_proves_the_bundled_example() {
    let (code, out, err) = rpol(&["verify", "policies/home"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("verify_home", out);
    let (code, out, _) = rpol(&["verify", "policies/home", "--format", "json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["holds"], true);
    assert_eq!(j["properties"].as_array().map(Vec::len), Some(4));
}

#[test]
fn verify_refutes_a_seeded_violation_with_exit_1() {
    let new = edited_home(
        "violation",
        "when: consent.session == granted",
        "when: consent.session != granted",
    );
    let (code, out, _) = rpol(&["verify", &new.to_string_lossy()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUTED  consent_monotonicity"), "{out}");
}

#[test]
fn a_query_answers_with_a_witness_or_a_proof() {
    let (code, out, err) = rpol(&[
        "verify",
        "policies/home",
        "--query",
        "allowed(feature user_embedding) and consent.personalization != granted",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("unsatisfiable: no request makes"), "{out}");
    let (code, out, _) = rpol(&[
        "verify",
        "policies/home",
        "--query",
        "allowed(source user_cf) and tenant == \"bank_a\"",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let j: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["satisfiable"], true);
    assert_eq!(j["witness"]["tenant"], "bank_a");
}

#[test]
fn a_bad_query_is_a_usage_error_with_a_span() {
    let (code, _, err) = rpol(&[
        "verify",
        "policies/home",
        "--query",
        "allowed(feature user_embeding)",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("E0201"), "{err}");
    assert!(err.contains("<query>:1:17"), "{err}");
    assert!(err.contains("user_embedding"), "did-you-mean: {err}");
}

/// E0702 points at the comparison it refuses, as file:line:col with its
/// snippet, under both engines and in `rpol doc`.
#[test]
fn comparing_two_request_fields_is_e0702_at_the_comparison() {
    let (code, out, err) = rpol(&["verify", "tests/rego/absent"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    insta::assert_snapshot!(err);
    assert!(err.contains("tests/rego/absent/policy.rpol:54:35"), "{err}");
    for args in [
        &["verify", "tests/rego/absent", "--engine", "enumerate"][..],
        &["diff", "policies/home", "tests/rego/absent"],
        &[
            "diff",
            "tests/rego/absent",
            "policies/home",
            "--engine",
            "enumerate",
        ],
        &["doc", "tests/rego/absent"],
    ] {
        let (code, _, other) = rpol(args);
        assert_eq!((code, other.as_str()), (2, err.as_str()), "{args:?}");
    }
}

/// In a query, E0702 points into the query's text.
#[test]
fn a_query_comparing_two_request_fields_is_e0702_in_the_query() {
    let (code, _, err) = rpol(&[
        "verify",
        "policies/home",
        "--query",
        "tenant == \"a\" and subject.user_id == tenant",
    ]);
    assert_eq!(code, 2, "{err}");
    insta::assert_snapshot!(err);
}

/// A compiled artifact has no source: E0702 names its file.
#[test]
fn e0702_in_a_compiled_artifact_names_the_artifact() {
    let dir = std::env::temp_dir().join(format!("rpol-cli-e0702-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let art = dir.join("absent.rpolc");
    let art = art.to_str().expect("utf-8 path");
    let (code, _, err) = rpol(&["compile", "tests/rego/absent", "-o", art]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = rpol(&["diff", "policies/home", art]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E0702"), "{err}");
    assert!(err.contains(&format!("[{art}:1:1]")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn past_the_region_bound_the_analysis_refuses() {
    let (code, out, err) = rpol(&[
        "verify",
        "policies/enterprise",
        "--engine",
        "enumerate",
        "--max-regions",
        "1000",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("E0701"), "{err}");
    assert!(
        err.contains("the request space has 4478976 regions, over the bound of 1000"),
        "{err}"
    );
    assert!(
        err.contains("raise the bound with `--max-regions`"),
        "{err}"
    );
    // It points at the policy it is about.
    assert!(
        err.contains("policies/enterprise/enterprise.rpol:5:8"),
        "{err}"
    );
    let (code, _, err) = rpol(&[
        "diff",
        "policies/home",
        "policies/enterprise",
        "--engine",
        "enumerate",
        "--max-regions",
        "10",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("E0701"), "{err}");
}

#[test]
fn a_policy_with_errors_is_exit_2_for_diff() {
    let (code, _, err) = rpol(&[
        "diff",
        "policies/home",
        "tests/check/E0201_unknown_name.rpol",
    ]);
    assert_eq!(code, 2, "{err}");
}

/// The default symbolic engine prints what `--engine enumerate` prints, exit codes included.
#[test]
fn the_symbolic_engine_answers_like_the_enumeration() {
    let new = edited_home(
        "engine",
        "when: consent.session == granted",
        "when: consent.session != granted",
    );
    let new = new.to_str().expect("utf-8 path");
    for args in [
        vec!["verify", "policies/home"],
        vec!["verify", new],
        vec!["verify", new, "--format", "json"],
        vec!["verify", "tests/verify/dead_forbid.rpol"],
        vec!["verify", "tests/verify/dead_forbid_allowed.rpol"],
        vec!["verify", "tests/verify/unneeded_allows.rpol"],
        vec![
            "verify",
            "policies/home",
            "--query",
            "mode == personalized and allowed(source user_cf)",
        ],
        vec![
            "verify",
            new,
            "--query",
            "allowed(source session_intent) and consent.session != granted",
            "--format",
            "json",
        ],
        vec![
            "verify",
            "policies/home",
            "--query",
            "allowed(feature user_embedding) and consent.personalization != granted",
        ],
        vec!["diff", "policies/home", new],
        vec!["diff", "policies/home", new, "--format", "json"],
    ] {
        let enumerated = rpol(&[args.as_slice(), &["--engine", "enumerate"]].concat());
        let symbolic = rpol(&args);
        assert_eq!(enumerated, symbolic, "{args:?}");
    }
}

#[test]
fn verify_accepts_a_forbid_rule_that_denies_nothing_on_purpose() {
    // Without the allow, the backup rule is a refutation.
    let (code, out, _) = rpol(&["verify", "tests/verify/dead_forbid.rpol"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUTED  live_forbids"), "{out}");
    // With `# rpol: allow(live_forbids)` above it, accepted: exit 0.
    let (code, out, err) = rpol(&["verify", "tests/verify/dead_forbid_allowed.rpol"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("accepted live_forbids"), "{out}");
    assert!(
        out.contains("denies nothing on purpose: `# rpol: allow(live_forbids)` is above it"),
        "{out}"
    );
    assert!(!err.contains("L012"), "{err}");
    let (_, json, _) = rpol(&[
        "verify",
        "tests/verify/dead_forbid_allowed.rpol",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["holds"], true);
    let p = &v["properties"][3];
    assert_eq!(p["name"], "live_forbids");
    assert_eq!(p["holds"], false);
    assert!(p["accepted"].as_str().is_some());
}

#[test]
fn verify_warns_on_a_property_allow_that_accepts_nothing() {
    let (code, out, err) = rpol(&["verify", "tests/verify/unneeded_allows.rpol"]);
    assert_eq!(code, 0, "every property holds: {out}");
    assert_eq!(err.matches("L012").count(), 2, "{err}");
    assert!(
        err.contains("`# rpol: allow(live_forbids)` accepts nothing: the forbid rule below denies"),
        "{err}"
    );
    assert!(
        err.contains(
            "`# rpol: allow(mode_monotonicity)` accepts nothing: `mode_monotonicity` holds"
        ),
        "{err}"
    );
}
