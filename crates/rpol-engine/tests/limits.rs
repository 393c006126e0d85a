//! Every limit of docs/limits.md is enforced with its error, and hostile
//! input is refused quickly (the registry alias bomb, deep and long
//! requests). Source-text limits (file size, nesting, `not` runs, string
//! length) are tested where they live, in `rpol-syntax/tests/parse.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use rpol_check::{SourceInput, load};
use rpol_engine::Compiled;

mod common;

fn example_policy_text() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join("policies/home/home.rpol")).expect("example")
}

/// Checks the example policy against a registry given as text.
fn check_with_registry(registry: &str) -> Vec<(String, String)> {
    let files = vec![SourceInput {
        name: "home.rpol".into(),
        text: example_policy_text(),
    }];
    let reg = registry.to_string();
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| {
        Ok(reg.clone())
    });
    checked
        .diagnostics
        .iter()
        .map(|d| (d.code.to_string(), d.message.clone()))
        .collect()
}

/// Runs `f` and asserts it ended within `limit` times a margin. This is no
/// timing target (criterion measures speed): an input that expanded
/// exponentially would take hours, so a bound 12 times the nominal one
/// catches a runaway and never a machine that is merely busy (the nominal
/// 5 s was once exceeded by a debug build on two loaded cores).
fn quickly<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(t.elapsed() < limit * 12, "{what} took {:?}", t.elapsed());
    out
}

#[test]
fn a_yaml_alias_bomb_is_refused_before_it_expands() {
    // Nine levels of nine-fold aliases: 9^9 = 387 million strings if expanded.
    let mut yaml =
        String::from("bomb:\n  - &a0 [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 1..9 {
        let p = i - 1;
        yaml.push_str(&format!(
            "  - &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
        ));
    }
    yaml.push_str("features:\n  - name: f\n    entity: item\n    privacy_class: public_catalog\n    allowed_privacy_modes: []\n    allowed_purposes: []\n    labels: *a8\n");
    let diags = quickly("the alias bomb", Duration::from_secs(5), || {
        check_with_registry(&yaml)
    });
    assert!(
        diags.iter().any(|(c, _)| c == "E0401"),
        "expected E0401, got {diags:?}"
    );
}

#[test]
fn deeply_nested_yaml_is_refused() {
    let yaml = format!(
        "features:\n  - name: f\n    entity: item\n    privacy_class: public_catalog\n    allowed_privacy_modes: []\n    allowed_purposes: []\n    labels: {}1{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let diags = quickly("deep YAML", Duration::from_secs(5), || {
        check_with_registry(&yaml)
    });
    assert!(diags.iter().any(|(c, _)| c == "E0401"), "{diags:?}");
}

#[test]
fn an_oversized_registry_is_refused_before_parsing() {
    let yaml = format!("features: []\n# {}\n", "x".repeat(rpol_registry_max() + 1));
    let diags = quickly("a huge registry", Duration::from_secs(5), || {
        check_with_registry(&yaml)
    });
    assert!(
        diags
            .iter()
            .any(|(c, m)| c == "E0401" && m.contains("limit")),
        "{diags:?}"
    );
}

fn rpol_registry_max() -> usize {
    64 * 1024 * 1024
}

#[test]
fn oversized_files_are_not_read() {
    let dir = std::env::temp_dir().join(format!("rpol-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.rpol");
    let f = std::fs::File::create(&big).unwrap();
    // A sparse file: the limit is checked on the size, before reading.
    f.set_len(load::MAX_READ_BYTES + 1).unwrap();
    let err = load::read_policy(&dir).expect_err("refused");
    assert!(err.to_string().contains("limit"), "{err}");
    // The registry has its own, larger limit (the registry loader's).
    f.set_len(load::MAX_REGISTRY_READ_BYTES + 1).unwrap();
    let reg = load::read_registry(&big).expect_err("refused");
    assert!(reg.to_string().contains("limit"), "{reg}");
    f.set_len(load::MAX_READ_BYTES + 1).unwrap();
    assert!(
        load::read_registry(&big).is_ok(),
        "under the registry limit"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn more_than_64_names_of_a_set_kind_is_e0101() {
    let names: Vec<String> = (0..65).map(|i| format!("c{i}")).collect();
    let text = example_policy_text().replace(
        "capabilities [behavior, profile, context, coarse_context]",
        &format!(
            "capabilities [behavior, profile, context, coarse_context, {}]",
            names.join(", ")
        ),
    );
    let files = vec![SourceInput {
        name: "home.rpol".into(),
        text,
    }];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reg = std::fs::read_to_string(root.join("policies/features.yaml")).unwrap();
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| {
        Ok(reg.clone())
    });
    assert!(
        checked.diagnostics.iter().any(|d| d.code == "E0101"),
        "{:?}",
        checked.diagnostics
    );
}

fn engine() -> Compiled {
    common::compiled("policies/home")
}

fn request_errors(c: &Compiled, text: &str) -> String {
    match c.decide_json(text, &[]) {
        Ok(_) => panic!("accepted"),
        Err((errors, fallback)) => {
            // Refused requests still get the fallback decision.
            assert_eq!(
                c.model().modes[fallback.mode as usize].name,
                "contextual_only"
            );
            errors.to_string()
        }
    }
}

#[test]
fn a_request_over_one_mebibyte_is_refused() {
    let c = engine();
    let text = format!(
        r#"{{"tenant":"{}","surface":"home","purpose":"personalization"}}"#,
        "x".repeat(rpol_engine::MAX_REQUEST_BYTES)
    );
    let msg = quickly("a 1 MiB request", Duration::from_secs(5), || {
        request_errors(&c, &text)
    });
    assert!(msg.contains("over the limit"), "{msg}");
}

#[test]
fn a_deep_request_is_refused_without_recursion() {
    let c = engine();
    for depth in [rpol_engine::MAX_DEPTH + 1, 100_000] {
        let text = format!(
            r#"{{"tenant":"a","surface":"home","purpose":"personalization","context":{{"region":{}1{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let msg = quickly("a deep request", Duration::from_secs(5), || {
            request_errors(&c, &text)
        });
        assert!(
            msg.contains("deeper") || msg.contains("recursion"),
            "{depth}: {msg}"
        );
    }
}

#[test]
fn a_long_request_array_is_refused() {
    let c = engine();
    let items = vec!["\"x\""; rpol_engine::MAX_ARRAY_LEN + 1].join(",");
    let text = format!(
        r#"{{"tenant":"a","surface":"home","purpose":"personalization","features":[{items}]}}"#
    );
    let msg = request_errors(&c, &text);
    assert!(msg.contains("items") || msg.contains("limit"), "{msg}");
}

#[test]
fn out_of_range_retention_never_compiles() {
    // The checker refuses it (E0304); a model edited by hand must fail closed
    // too, never treat the retention as absent.
    let files = vec![SourceInput {
        name: "home.rpol".into(),
        text: example_policy_text(),
    }];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reg = std::fs::read_to_string(root.join("policies/features.yaml")).unwrap();
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| {
        Ok(reg.clone())
    });
    let model = checked.policy.expect("the example checks").model;
    assert!(Compiled::build(model.clone()).is_ok());
    for days in [
        106_751_991_167_301,
        rpol_engine::model::MAX_RETENTION_DAYS + 1,
        0,
        -1,
    ] {
        let mut m = model.clone();
        m.features[0].retention_days = Some(days);
        let err = Compiled::build(m).expect_err("refused");
        assert!(err.to_string().contains("retention_days"), "{err}");
    }
    let mut m = model;
    m.features[0].retention_days = Some(rpol_engine::model::MAX_RETENTION_DAYS);
    assert!(Compiled::build(m).is_ok());
}
