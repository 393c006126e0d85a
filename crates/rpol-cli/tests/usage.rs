//! Wrong arguments, missing files and unbuilt commands: a clear message on
//! stderr and exit 2 (docs/cli.md), never a panic.

mod common;

use common::rpol;

#[test]
fn usage_and_io_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["check"],
        &["check", "no/such/policy"],
        &["check", "tests/check/ok.rpol", "--format", "xml"],
        &["eval", "policies/home"],
        &["eval", "policies/home", "--input", "no-such-request.json"],
        &["test", "no/such/policy"],
        &["test", "--min-coverage", "150", "policies/home"],
        &["fmt", "no/such/policy"],
        &["compile", "policies/home"],
        &["explain", "E9999"],
        &["export", "rego", "policies/home"],
        &["keygen"],
        &[
            "compile",
            "policies/home",
            "-o",
            "x.rpolc",
            "--sign",
            "no/such/key",
        ],
        &["compile", "policies/home", "-o", "x.rpolc", "--sign"],
        &[
            "eval",
            "policies/home",
            "--input",
            "policies/requests/granted.json",
            "--verify-key",
            "no/such/key.pub",
        ],
        &[
            "eval",
            "policies/home",
            "--input",
            "policies/requests/granted.json",
            "--verify-key",
        ],
        &[
            "bench",
            "policies/home",
            "--input",
            "policies/requests/granted.json",
            "--verify-key",
            "no/such/key.pub",
        ],
        &["frobnicate"],
    ];
    for args in cases {
        let (code, stdout, stderr) = rpol(args);
        assert_eq!(code, 2, "rpol {args:?} exited {code}\n{stderr}");
        assert!(
            !stderr.trim().is_empty(),
            "rpol {args:?} said nothing on stderr"
        );
        assert!(
            !stderr.contains("panicked"),
            "rpol {args:?} panicked: {stderr}"
        );
        assert!(
            stdout.trim().is_empty() || args.is_empty(),
            "rpol {args:?} printed to stdout: {stdout}"
        );
    }
}

/// As a new user would: a directory without a policy, an empty request, an
/// output that cannot be written, a missing required flag. Each answer leads
/// with one line that names the offending thing in backticks, and exits 2.
#[test]
fn new_user_mistakes_get_one_clear_line() {
    let dir = std::env::temp_dir().join(format!("rpol-usage-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::fs::write(dir.join("empty.json"), "").unwrap();
    let empty_dir = dir.join("empty").to_string_lossy().into_owned();
    let empty_json = dir.join("empty.json").to_string_lossy().into_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", &empty_dir],
        vec!["lint", &empty_dir],
        vec!["test", &empty_dir],
        vec!["fmt", &empty_dir],
        vec!["eval", &empty_dir, "--input", &empty_json],
        vec!["compile", &empty_dir, "-o", "x.compiled"],
        vec!["export", "rego", &empty_dir, "-o", "out"],
        vec!["bench", &empty_dir, "--input", &empty_json],
        vec!["eval", "policies/home", "--input", &empty_json],
        vec!["compile", "policies/home", "-o", "/nonexistent/dir/x"],
        vec![
            "export",
            "rego",
            "policies/home",
            "-o",
            "/proc/rpol-cannot-write",
        ],
        vec!["bench", "policies/home"],
        vec!["lint"],
    ];
    for args in &cases {
        let (code, _, stderr) = rpol(args);
        assert_eq!(code, 2, "rpol {args:?} exited {code}\n{stderr}");
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("rpol::"))
            .unwrap_or("");
        assert!(
            first.contains('`') || first.starts_with("error"),
            "rpol {args:?}: the first line does not name the problem: {stderr}"
        );
        assert!(
            stderr.lines().count() <= 8,
            "rpol {args:?} is too long:\n{stderr}"
        );
    }
    // An empty policy file is a policy error (no `policy` block), exit 1.
    std::fs::write(dir.join("empty.rpol"), "").unwrap();
    let (code, stdout, _) = rpol(&["check", &dir.join("empty.rpol").to_string_lossy()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("E0203"), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(feature = "lsp")]
#[test]
fn lsp_ends_quietly_when_its_input_closes() {
    // No client: standard input is empty, so the server sees the end at once.
    let (code, stdout, stderr) = rpol(&["lsp"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
