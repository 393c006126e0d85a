//! `rpol export rego` and `rpol bench --rego` end to end: the files written
//! by the command, loaded into regorus, decide the bundled requests exactly
//! as `rpol eval` prints them.

mod common;

use common::rpol;
// Only the regorus tests read files and JSON back.
#[cfg(feature = "rego")]
use common::workspace;
#[cfg(feature = "rego")]
use serde_json::Value;

#[cfg(feature = "rego")]
#[test]
fn exported_files_decide_as_rpol_eval() {
    let out = std::env::temp_dir().join(format!("rpol-export-{}", std::process::id()));
    let out_s = out.to_string_lossy().into_owned();
    for (dir, name, requests) in [
        (
            "policies/home",
            "home_feed",
            vec![
                "policies/requests/granted.json",
                "policies/requests/unknown-consent.json",
            ],
        ),
        (
            "policies/enterprise",
            "enterprise_workspace",
            vec!["policies/enterprise/requests/admin-console.json"],
        ),
    ] {
        let (code, stdout, stderr) = rpol(&["export", "rego", dir, "-o", &out_s]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains(&format!("data.rpol.{name}.decision")),
            "{stdout}"
        );
        let module = std::fs::read_to_string(out.join(format!("{name}.rego"))).expect("module");
        assert!(module.contains(&format!("package rpol.{name}")));
        let data: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("data.json")).expect("data"))
                .expect("json");
        assert!(data["rpol_export"][name]["features"].is_array());
        let export = rpol_rego::Export {
            package: format!("rpol.{name}"),
            module,
            data,
        };
        let mut ev = rpol_rego::RegoEvaluator::new(&export).expect("loads");
        for req in requests {
            let (code, native, stderr) = rpol(&[
                "eval",
                dir,
                "--input",
                req,
                "--reason",
                "trending_region_ID",
            ]);
            assert_eq!(code, 0, "{stderr}");
            let native: Value = serde_json::from_str(&native).expect("decision json");
            ev.set_request(&std::fs::read_to_string(workspace().join(req)).unwrap())
                .unwrap();
            let rego = ev.decide(&["trending_region_ID"]).expect("decides");
            assert_eq!(rpol_rego::comparable(&native, &rego), None, "{dir} {req}");
        }
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn export_refuses_a_policy_with_errors_and_bad_arguments() {
    let (code, _, stderr) = rpol(&[
        "export",
        "rego",
        "tests/check/E0201_unknown_name.rpol",
        "-o",
        "/tmp/rpol-never",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("E0201"), "{stderr}");
    let (code, _, stderr) = rpol(&["export", "rego", "policies/home"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--output"), "{stderr}");
    let (code, _, stderr) = rpol(&["export", "wasm", "policies/home", "-o", "x"]);
    assert_eq!(code, 2, "{stderr}");
}

#[cfg(feature = "rego")]
#[test]
fn bench_rego_prints_both_medians_and_the_ratio() {
    let (code, stdout, stderr) = rpol(&[
        "bench",
        "policies/home",
        "--input",
        "policies/requests/granted.json",
        "--rego",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("json");
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"parse + decide + JSON"), "{names:?}");
    assert!(
        names.contains(&"rego: full decision (regorus)"),
        "{names:?}"
    );
    assert!(
        v["rego_ratio"].as_f64().is_some_and(|r| r > 1.0),
        "{stdout}"
    );
}
