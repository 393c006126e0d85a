//! The checker's per-code cases: every fixture under `tests/check/` (one per
//! error code, named for it) checked through the library, its diagnostics
//! snapshotted with their positions, labels, help and suggestion. The CLI
//! keeps a few snapshots of its rendering of these (rpol-cli's
//! `check_fixtures`).

mod common;

use std::fmt::Write as _;
use std::path::Path;

use rpol_check::{Checked, load};
use rpol_diag::{FileId, Label, Span};

fn at(c: &Checked, file: FileId, span: Span) -> String {
    let f = c.sources.get(file);
    let (a, b) = (f.line_col(span.start), f.line_col(span.end));
    format!("{}:{}:{}-{}:{}", f.name, a.line, a.column, b.line, b.column)
}

fn label(c: &Checked, l: &Label) -> String {
    let msg = l.message.as_deref().unwrap_or("");
    format!("{} {msg}", at(c, l.file, l.span))
        .trim_end()
        .to_string()
}

/// Every diagnostic of a run, one block each.
fn render(c: &Checked) -> String {
    let mut out = String::new();
    for d in &c.diagnostics {
        let _ = writeln!(out, "{} {:?}: {}", d.code, d.severity, d.message);
        let _ = writeln!(out, "  at {}", label(c, &d.primary));
        for l in &d.secondary {
            let _ = writeln!(out, "  also {}", label(c, l));
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  help: {h}");
        }
        if let Some(s) = &d.suggestion {
            let _ = writeln!(
                out,
                "  suggestion: `{}` at {}",
                s.replacement,
                at(c, s.file, s.span)
            );
        }
    }
    out
}

#[test]
fn every_error_code_fixture() {
    // Fixtures name their registry relative to themselves and are confined
    // to the workspace, as `rpol check tests/check/…` run from the root.
    std::env::set_current_dir(common::workspace()).expect("workspace root");
    let mut names: Vec<String> = std::fs::read_dir("tests/check")
        .expect("tests/check")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".rpol"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 27,
        "one fixture per code, found {}",
        names.len()
    );
    for name in names {
        let path = format!("tests/check/{name}");
        let stem = name.trim_end_matches(".rpol");
        let files = load::read_policy(Path::new(&path)).expect("fixture");
        let checked = rpol_check::check(files, None, &load::read_registry);
        let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
        if stem.starts_with("ok") {
            assert!(codes.is_empty(), "{name} should check clean: {codes:?}");
            assert!(checked.policy.is_some(), "{name}: no model");
        } else {
            let expected = &stem[..5];
            assert!(
                codes.contains(&expected),
                "{name}: expected {expected} among {codes:?}"
            );
            // An error run never yields a model to decide with.
            assert!(checked.policy.is_none(), "{name}: a model despite errors");
        }
        insta::assert_snapshot!(stem, render(&checked));
    }
}

/// `roles` is read only by `ROLE in roles`; every other use is an error that
/// names it (it has no operand in the model, so none may reach it).
#[test]
fn roles_is_only_a_membership_test() {
    let dir = common::workspace().join("tests/check");
    let base = std::fs::read_to_string(dir.join("ok.rpol")).expect("ok.rpol");
    let cases = [
        ("roles", "`roles` is the set of roles, not a condition"),
        ("roles == roles", "`roles` is a set and cannot be compared"),
        ("roles < roles", "`<` needs two integers or two durations"),
        (
            "sre == roles",
            "type mismatch: `sre` is a name, expected the set of roles",
        ),
        (
            "roles == \"x\"",
            "type mismatch: the set of roles compared with a string",
        ),
        ("roles in [roles]", "`roles` cannot be a list item"),
        (
            "context.device in [roles]",
            "`roles` is the set of roles, expected a variant",
        ),
        ("exists(roles)", "`roles` is always present"),
        (
            "starts_with(roles, \"a\")",
            "`roles` is the set of roles, expected a string",
        ),
        ("roles.x == 1", "`roles` has no field `x`"),
        ("roles in roles", "`in roles` needs a role name on the left"),
        ("sre in roles", ""),
    ];
    for (cond, expected) in cases {
        let text = base.replace(
            "source trending { when: context.device == mobile }",
            &format!("source trending {{ when: {cond} }}"),
        );
        assert_ne!(text, base, "the fixture has the source to replace");
        let files = vec![rpol_check::SourceInput {
            name: dir.join("roles.rpol").display().to_string(),
            text,
        }];
        let checked = rpol_check::check(files, None, &load::read_registry);
        let messages: Vec<&str> = checked
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        if expected.is_empty() {
            assert!(messages.is_empty(), "`{cond}`: {messages:?}");
        } else {
            assert!(
                messages.len() == 1 && messages[0].contains(expected),
                "`{cond}`: expected one error with {expected:?}, got {messages:?}"
            );
        }
    }
}
