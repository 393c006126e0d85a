//! Messages a new user meets in the first hour, as the real binary prints
//! them: a malformed duration, two labels far apart, an artifact given as
//! source, counts of one, a folder of several policies, completions, man
//! pages and the version.

mod common;

use std::path::PathBuf;

use common::{rpol, workspace};

/// A scratch copy of `policies/home` (and its registry one level up) under
/// `target/`, inside the repository so that the registry may be read, with
/// `edit` applied to `home.rpol`. Returns the policy folder, relative to the
/// workspace root, so that messages print a stable path.
fn scratch_home(tag: &str, edit: impl Fn(&str) -> String) -> String {
    let rel = format!("target/messages-test/{tag}");
    let root = workspace().join(&rel);
    let _ = std::fs::remove_dir_all(&root);
    let home = root.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let src = workspace().join("policies");
    std::fs::copy(src.join("features.yaml"), root.join("features.yaml")).unwrap();
    for f in ["home.rpol", "tests.rpol", "coverage.rpol"] {
        let text = std::fs::read_to_string(src.join("home").join(f)).unwrap();
        let text = if f == "home.rpol" { edit(&text) } else { text };
        std::fs::write(home.join(f), text).unwrap();
    }
    format!("{rel}/home")
}

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in home.rpol");
    text.replacen(from, to, 1)
}

#[test]
fn a_malformed_duration_says_what_a_duration_looks_like() {
    let dir = scratch_home("duration", |t| {
        replace(t, "session_state: 24h", "session_state: 24hours")
    });
    let (code, out, _) = rpol(&["check", &dir]);
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn labels_far_apart_print_two_short_snippets() {
    // 45 unrelated lines between two reasons whose patterns overlap.
    let padding: String = (0..45).map(|i| format!("# unrelated line {i}\n")).collect();
    let dir = scratch_home("far-labels", |t| {
        let t = replace(t, "codes: [\"editorial\"]", "codes: [\"user_embedding_*\"]");
        replace(
            &t,
            "reason editors_pick {",
            &format!("{padding}reason editors_pick {{"),
        )
    });
    let (code, out, _) = rpol(&["check", &dir]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E0505"), "{out}");
    assert!(
        !out.contains("unrelated line 2"),
        "the middle is elided:\n{out}"
    );
    assert!(out.lines().count() < 30, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn an_artifact_is_not_parsed_as_source() {
    let dir = workspace().join("target/messages-test/artifact");
    std::fs::create_dir_all(&dir).unwrap();
    let rel = "target/messages-test/artifact/out.rpolc";
    let (code, _, err) = rpol(&["compile", "policies/home", "-o", rel]);
    assert_eq!(code, 0, "{err}");
    for cmd in ["check", "lint", "test", "fmt"] {
        let (code, out, err) = rpol(&[cmd, rel]);
        assert_eq!(code, 2, "{cmd}: {out}{err}");
        assert!(err.contains("E0105"), "{cmd}: {err}");
        assert!(err.len() < 600, "no artifact text in the message: {err}");
    }
    let (_, _, err) = rpol(&["check", rel]);
    insta::assert_snapshot!(err);
}

#[test]
fn counts_of_one_are_singular() {
    // Two of the three forbid rules removed: one is left.
    let dir = scratch_home("one-forbid", |t| {
        let t = replace(
            t,
            "forbid source user_two_tower when tenant in [\"bank_a\", \"clinic_b\"]\n  because \"these tenants' contracts exclude cross-user embeddings\"\n",
            "",
        );
        replace(
            &t,
            "forbid feature when purpose == training and consent.training != granted\n  because \"training uses only data of users who opted in\"\n",
            "",
        )
    });
    let (code, out, err) = rpol(&["verify", &dir]);
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(
        out.contains("the forbid rule denies something in some region"),
        "{out}"
    );
    assert!(!out.contains("each of the 1"), "{out}");
    let (code, out, _) = rpol(&["fmt", "--check", "policies/home/home.rpol"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "fmt: 0 of 1 file would change");
}

#[test]
fn a_folder_of_several_policies_checks_each() {
    let (code, out, err) = rpol(&["check", "policies"]);
    assert_eq!(code, 0, "{out}{err}");
    insta::assert_snapshot!(out);

    // One broken policy next to a good one: exit 1, each reported.
    let bad = scratch_home("several", |t| {
        replace(t, "mode personalized {", "mode personalised {")
    });
    let root = PathBuf::from(&bad).parent().unwrap().to_path_buf();
    let good = workspace().join(&root).join("good");
    std::fs::create_dir_all(&good).unwrap();
    for f in ["enterprise.rpol", "tests.rpol", "features.yaml"] {
        std::fs::copy(
            workspace().join("policies/enterprise").join(f),
            good.join(f),
        )
        .unwrap();
    }
    let (code, out, _) = rpol(&["check", root.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let summary: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('`') || l.starts_with("check:"))
        .collect();
    assert_eq!(summary.len(), 3, "{out}");
    assert!(summary[0].contains("/good`: "), "{out}");
    assert!(summary[1].starts_with(&format!("`{bad}`: ")), "{out}");
    assert!(summary[1].contains("error"), "{out}");
}

#[test]
fn completions_man_pages_and_version() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = rpol(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains("rpol") && out.contains("registry"), "{shell}");
    }
    let dir = workspace().join("target/messages-test/man");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, out, err) = rpol(&["man", "-o", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("wrote "), "{out}");
    let check = std::fs::read_to_string(dir.join("rpol-check.1")).expect("rpol-check.1");
    assert!(
        check.contains(".TH") && check.contains("registry"),
        "{check}"
    );
    assert!(dir.join("rpol-export-rego.1").is_file());

    let (code, out, _) = rpol(&["--version"]);
    assert_eq!(code, 0);
    let version = out.trim().strip_prefix("rpol ").expect("rpol VERSION");
    assert!(version.starts_with(env!("CARGO_PKG_VERSION")), "{out}");
    // Built from a git checkout (as here), the commit follows in parentheses.
    if let Some(commit) = version.split(" (").nth(1) {
        let commit = commit.trim_end_matches(')');
        assert!(
            commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{out}"
        );
    }
}

/// Each command behind a cargo feature, when that feature is off, exits 2
/// with E0104 naming the feature to add.
#[cfg_attr(
    all(
        feature = "serve",
        feature = "lsp",
        feature = "rego",
        feature = "enforce"
    ),
    allow(dead_code)
)]
fn left_out(args: &[&str], feature: &str) {
    let (code, out, err) = rpol(args);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("E0104") && err.contains(&format!("`{feature}` feature")),
        "{err}"
    );
}

#[cfg(not(feature = "serve"))]
#[test]
fn serve_left_out_of_the_build_says_so() {
    left_out(&["serve", "policies/home"], "serve");
}

#[cfg(not(feature = "lsp"))]
#[test]
fn lsp_left_out_of_the_build_says_so() {
    left_out(&["lsp"], "lsp");
}

#[cfg(not(feature = "rego"))]
#[test]
fn bench_rego_left_out_of_the_build_says_so() {
    left_out(
        &[
            "bench",
            "policies/home",
            "--input",
            "policies/requests/granted.json",
            "--rego",
        ],
        "rego",
    );
}

#[cfg(not(feature = "enforce"))]
#[test]
fn enforce_left_out_of_the_build_says_so() {
    // Refused before any file is read: none of these exist.
    left_out(
        &[
            "enforce",
            "policies/home",
            "--input",
            "in.parquet",
            "--output",
            "out.parquet",
            "--map",
            "map.yaml",
        ],
        "enforce",
    );
}
