//! `rpol eval` end to end: every expectation of the example's tests holds
//! through the CLI; invalid requests exit 2 with every error; compiled
//! artifacts load, and corrupted ones are refused.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rpol_check::{ExpectCheck, load};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn eval(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rpol"))
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn example_tests_hold_through_rpol_eval() {
    for dir in ["policies/home", "policies/enterprise"] {
        let files = load::read_policy(&workspace().join(dir)).unwrap();
        let checked = rpol_check::check(files, None, &load::read_registry);
        let policy = checked.policy.expect("checks");
        let mut checked_expects = 0;
        for t in &policy.tests {
            let mut req = t.request.clone();
            let named: Vec<String> = t
                .expects
                .iter()
                .filter_map(|e| {
                    if let ExpectCheck::Feature { name, .. } = &e.check {
                        Some(name.clone())
                    } else {
                        None
                    }
                })
                .collect();
            let codes: Vec<String> = t
                .expects
                .iter()
                .filter_map(|e| match &e.check {
                    ExpectCheck::ReasonShows { code, .. }
                    | ExpectCheck::ReasonSuppressed { code, .. } => Some(code.clone()),
                    _ => None,
                })
                .collect();
            let mut args = vec!["eval", dir, "--input", "-"];
            for c in &codes {
                args.push("--reason");
                args.push(c);
            }
            // Route and mode from the request as given; named features decided explicitly.
            let (code, out, err) = eval(&args, &req.to_string());
            assert_eq!(code, 0, "{}: {err}", t.name);
            let d: serde_json::Value = serde_json::from_str(&out).unwrap();
            if !named.is_empty() {
                req["features"] = serde_json::json!(named);
            }
            let (_, out_f, _) = eval(&args, &req.to_string());
            let df: serde_json::Value = serde_json::from_str(&out_f).unwrap();
            for e in &t.expects {
                checked_expects += 1;
                match &e.check {
                    ExpectCheck::Mode(m) => assert_eq!(d["mode"], *m, "{}", t.name),
                    ExpectCheck::Route(r) => assert_eq!(
                        d["route"],
                        r.as_ref()
                            .map_or(serde_json::Value::Null, |r| serde_json::json!(r)),
                        "{}",
                        t.name
                    ),
                    ExpectCheck::Source {
                        name,
                        allowed,
                        code,
                    }
                    | ExpectCheck::Feature {
                        name,
                        allowed,
                        code,
                    } => {
                        let key = if matches!(e.check, ExpectCheck::Source { .. }) {
                            "sources"
                        } else {
                            "features"
                        };
                        let doc = if key == "sources" { &d } else { &df };
                        let is_allowed = doc[key]["allowed"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|x| x == name);
                        assert_eq!(is_allowed, *allowed, "{}: {key} {name}", t.name);
                        if let (false, Some(c)) = (allowed, code) {
                            assert_eq!(doc[key]["denied"][name]["code"], *c, "{}: {name}", t.name);
                        }
                    }
                    ExpectCheck::ReasonShows { code, reason } => {
                        assert_eq!(d["reasons"][code]["shown"], *reason, "{}", t.name)
                    }
                    ExpectCheck::ReasonSuppressed { code, suppression } => {
                        assert!(
                            d["reasons"][code]["suppressed"].is_string(),
                            "{}: {code}",
                            t.name
                        );
                        if let Some(s) = suppression {
                            assert_eq!(d["reasons"][code]["suppressed"], *s, "{}", t.name);
                        }
                    }
                    // Not part of one decision's JSON: `rpol test` checks them.
                    ExpectCheck::Retention { .. }
                    | ExpectCheck::Debug { .. }
                    | ExpectCheck::CacheScope(_) => checked_expects -= 1,
                }
            }
        }
        assert!(checked_expects > 20);
    }
}

#[test]
fn the_example_requests_evaluate() {
    let (code, out, _) = eval(
        &[
            "eval",
            "policies/home",
            "--input",
            "policies/requests/granted.json",
        ],
        "",
    );
    assert_eq!(code, 0);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["mode"], "personalized");
    assert_eq!(d["route"], "home_personalized");
    // Key order of docs/reference.md, Decisions (JSON) (serde_json's map sorts, so read the text).
    let order: Vec<usize> = [
        "policy",
        "version",
        "digest",
        "mode",
        "mode_rule",
        "route",
        "sources",
        "features",
        "cache_scope",
    ]
    .iter()
    .map(|k| {
        out.find(&format!("\n  \"{k}\":"))
            .unwrap_or_else(|| panic!("no top-level `{k}`"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {order:?}"
    );
    let scope: Vec<&str> = d["cache_scope"].as_str().unwrap().split('/').collect();
    assert_eq!(
        &scope[..5],
        ["acme", "home", "personalized", "u123", "c-42"]
    );
    assert_eq!(scope[5], &d["digest"].as_str().unwrap()[..12]);
    let (code, out, _) = eval(
        &[
            "eval",
            "policies/home",
            "--input",
            "policies/requests/unknown-consent.json",
        ],
        "",
    );
    assert_eq!(code, 0);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["mode"], "contextual_only");
    assert_eq!(d["mode_rule"], "policies/home/home.rpol:32");
    assert!(
        d["cache_scope"]
            .as_str()
            .unwrap()
            .starts_with("acme/home/contextual_only/*/-/")
    );
}

#[test]
fn invalid_requests_exit_2_with_every_error() {
    let (code, out, err) = eval(
        &["eval", "policies/home", "--input", "-"],
        r#"{"tenant": "acme", "surface": "attic", "purpose": "personalization", "consent": {"personalization": "maybe"}, "context": {"device": null}, "colour": 1}"#,
    );
    assert_eq!(code, 2);
    assert!(out.is_empty(), "no decision is printed");
    for needle in [
        "$.surface",
        "$.consent.personalization",
        "$.context.device",
        "$.colour",
    ] {
        assert!(err.contains(needle), "missing {needle} in {err}");
    }
    let (code, _, err) = eval(&["eval", "policies/home", "--input", "-"], "not json");
    assert_eq!(code, 2);
    assert!(err.contains("invalid JSON"));
    let (code, _, err) = eval(&["eval", "policies/home", "--input", "missing.json"], "");
    assert_eq!(code, 2);
    assert!(err.contains("missing.json"));
}

#[test]
fn compiled_artifacts_load_and_corruption_is_refused() {
    let dir = std::env::temp_dir().join(format!("rpol-artifact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let art = dir.join("home.rpolc");
    let art_s = art.to_str().unwrap();
    let (code, _, err) = eval(&["compile", "policies/home", "-o", art_s], "");
    assert_eq!(code, 0, "{err}");
    let (code, from_art, _) = eval(
        &["eval", art_s, "--input", "policies/requests/granted.json"],
        "",
    );
    assert_eq!(code, 0);
    let (_, from_src, _) = eval(
        &[
            "eval",
            "policies/home",
            "--input",
            "policies/requests/granted.json",
        ],
        "",
    );
    assert_eq!(from_art, from_src, "the artifact decides like the source");
    let bytes = std::fs::read(&art).unwrap();
    let truncated = dir.join("truncated.rpolc");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    let (code, _, err) = eval(
        &[
            "eval",
            truncated.to_str().unwrap(),
            "--input",
            "policies/requests/granted.json",
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("truncated"), "{err}");
    let mut flipped = bytes.clone();
    let n = flipped.len();
    flipped[n - 20] ^= 0x01;
    let corrupt = dir.join("corrupt.rpolc");
    std::fs::write(&corrupt, &flipped).unwrap();
    let (code, _, err) = eval(
        &[
            "eval",
            corrupt.to_str().unwrap(),
            "--input",
            "policies/requests/granted.json",
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("corrupted"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
