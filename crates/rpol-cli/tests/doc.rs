//! `rpol doc` as the real binary: both formats, the file output, and errors.

mod common;

use common::rpol;

#[test]
fn doc_writes_markdown_and_html() {
    let (code, out, err) = rpol(&["doc", "policies/home"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("# Privacy review: `home_feed` `2026.11.1`"),
        "{out}"
    );
    assert!(out.contains("| `user_embedding` | ✓ `allowed` | ✗ `purpose_not_allowed` |"));
    assert!(out.contains("| `consent_monotonicity` | holds |"));
    let dir = std::env::temp_dir().join(format!("rpol-cli-doc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("review.html");
    let (code, out, err) = rpol(&[
        "doc",
        "policies/home",
        "--format",
        "html",
        "--no-verify",
        "-o",
        &file.to_string_lossy(),
    ]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let html = std::fs::read_to_string(&file).expect("written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("data-feature=\"user_embedding\" data-mode=\"personalized\" data-purpose=\"training\" data-outcomes=\"forbidden:F3 allowed\""));
    assert!(html.contains("Not run (<code>--no-verify</code>)."));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doc_errors_exit_2() {
    // A policy with check errors: its errors, then exit 2.
    let (code, out, err) = rpol(&["doc", "tests/check/E0100_syntax.rpol"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("E0100"), "{err}");
    // An output that cannot be written.
    let (code, _, err) = rpol(&["doc", "policies/home", "-o", "/nonexistent-dir/review.md"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot write `/nonexistent-dir/review.md`"),
        "{err}"
    );
    // Past the region bound.
    let (code, _, err) = rpol(&["doc", "policies/home", "--max-regions", "10"]);
    assert_eq!(code, 2);
    assert!(err.contains("E0701"), "{err}");
}
