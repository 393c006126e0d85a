//! Wrong arguments, missing files and unbuilt commands: a clear message on
//! stderr and exit 2 (spec 10), never a panic.

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
        &["lsp"],
        &["export", "rego", "policies/home"],
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

#[test]
fn not_built_commands_say_so() {
    let (_, _, stderr) = rpol(&["lsp"]);
    assert!(stderr.contains("`rpol lsp` is not built yet"), "{stderr}");
}
