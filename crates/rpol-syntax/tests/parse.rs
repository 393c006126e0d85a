//! The parser on the bundled example, on syntax errors and on hostile input.

use std::path::Path;

use proptest::prelude::*;
use rpol_diag::FileId;
use rpol_syntax::ast::{
    BlockKind, ExpectKind, ExprKind, ForbidKind, ItemKind, ReasonCodes, Targets,
};
use rpol_syntax::parse;

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies/home")
            .join(name),
    )
    .unwrap()
}

#[test]
fn example_policy_parses() {
    let f = parse(FileId(0), &example("home.rpol")).expect("example parses");
    assert_eq!(f.items.len(), 34);
    let policy = &f.items[0];
    assert!(
        matches!(&policy.kind, ItemKind::Block { kind: BlockKind::Policy, name, .. } if name.name == "home_feed")
    );
    assert_eq!(
        policy.doc.as_deref().unwrap().lines().next(),
        Some("Privacy policy for the home feed.")
    );
    let resolve = f.items.iter().find_map(|i| match &i.kind {
        ItemKind::Resolve { arms, .. } => Some((arms, i.doc.clone())),
        _ => None,
    });
    let (arms, doc) = resolve.expect("resolve");
    assert_eq!(arms.len(), 4);
    assert!(arms[3].condition.is_none());
    assert!(doc.unwrap().starts_with("Consent is resolved"));
    let forbids: Vec<_> = f
        .items
        .iter()
        .filter_map(|i| {
            if let ItemKind::Forbid(fb) = &i.kind {
                Some(fb)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(forbids.len(), 3);
    assert_eq!(forbids[0].kind, ForbidKind::Feature);
    assert!(forbids[0].targets.is_none());
    assert!(
        matches!(&forbids[0].condition.as_ref().unwrap().kind, ExprKind::And(parts) if parts.len() == 2)
    );
    assert!(matches!(&forbids[1].targets, Some(Targets::One(t)) if t.name == "user_two_tower"));
    assert_eq!(
        forbids[1].because.as_ref().unwrap().value,
        "these tenants' contracts exclude cross-user embeddings"
    );
    assert!(f.comments.iter().any(|c| c.text.contains("Privacy modes")));
}

#[test]
fn example_tests_parse() {
    let f = parse(FileId(0), &example("tests.rpol")).expect("tests parse");
    assert_eq!(f.items.len(), 5);
    let ItemKind::Test(t) = &f.items[1].kind else {
        panic!("a test")
    };
    assert_eq!(t.name.value, "unknown consent is served contextually");
    assert_eq!(t.given.len(), 1);
    assert_eq!(t.expects.len(), 9);
    assert!(
        matches!(&t.expects[2].kind, ExpectKind::Source { code: Some(c), .. } if c.name == "capability_missing")
    );
    assert!(
        matches!(&t.expects[6].kind, ExpectKind::ReasonSuppressed { deny: Some(c), .. } if c.name == "capability_missing")
    );
    let ItemKind::Test(t3) = &f.items[3].kind else {
        panic!("a test")
    };
    assert!(
        t3.expects
            .iter()
            .any(|e| matches!(e.kind, ExpectKind::Route(None)))
    );
}

fn error(src: &str) -> (String, String, usize) {
    let d = parse(FileId(0), src).expect_err("syntax error");
    (d.code.to_string(), d.message, d.primary.span.start)
}

#[test]
fn syntax_errors_say_what_was_expected_and_where() {
    let (code, msg, at) = error("mode a { grants: [x] ");
    assert_eq!(code, "E0100");
    assert!(msg.contains("found the end of the file"), "{msg}");
    assert_eq!(at, 21);
    let (_, msg, at) = error("resolve mode { when a == => b }");
    assert!(msg.starts_with("expected"), "{msg}");
    assert_eq!(at, 25);
    let (_, msg, _) = error("source s { when: tenant == \"a\\q\" }");
    assert!(msg.contains("unknown escape"), "{msg}");
    let (_, msg, _) = error("class c { min_group: 99999999999999999999 }");
    assert!(msg.contains("does not fit"), "{msg}");
    let (_, msg, _) = error("retention { a: 5days }");
    assert!(msg.starts_with("expected"), "{msg}");
}

#[test]
fn limits_refuse_hostile_input_quickly() {
    let deep = format!(
        "source s {{ when: {}tenant == \"a\"{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let (code, msg, _) = error(&deep);
    assert_eq!(code, "E0101");
    assert!(msg.contains("deeper than 64"), "{msg}");
    let big = format!(
        "policy p {{ version: \"{}\" }}",
        "x".repeat(5 * 1024 * 1024)
    );
    assert_eq!(error(&big).0, "E0101");
    let long = format!("policy p {{ version: \"{}\" }}", "x".repeat(100 * 1024));
    assert!(error(&long).1.contains("string literal"));
    let nots = format!("source s {{ when: {} true }}", "not ".repeat(10_000));
    assert_eq!(error(&nots).0, "E0101");
}

/// `not(` nested to the depth limit, closed or not, parses in linear work:
/// `not` was also a call's name, so each level was parsed twice on failure
/// (2^depth, found by fuzzing `rpol verify --query`). With the old grammar
/// this test never ends.
#[test]
fn nested_not_calls_parse_in_linear_work() {
    // The parser recurses per bracket; an unoptimised build needs the 8 MiB
    // of a main thread (the CLI's) at the depth limit, not a test thread's 2.
    std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(nested_not_calls)
        .unwrap()
        .join()
        .unwrap();
}

fn nested_not_calls() {
    let depth = 60;
    let closed = format!(
        "source s {{ when: {}tenant == \"a\"{} }}",
        "not(".repeat(depth),
        ")".repeat(depth)
    );
    assert!(parse(FileId(0), &closed).is_ok());
    let unclosed = format!(
        "source s {{ when: x == d or {}",
        "n(not(not(".repeat(depth / 3)
    );
    assert_eq!(error(&unclosed).0, "E0100");
    let query = format!("x == d or {}", "n(not(not(nt(".repeat(depth / 4));
    assert!(rpol_syntax::parse_expr(FileId(0), &query).is_err());
}

#[test]
fn keywords_may_be_names() {
    let f = parse(FileId(0), "capabilities [context, mode]\nmode m { grants: [context] }\nforbid source [context] when consent.session == granted").unwrap();
    assert_eq!(f.items.len(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn mutations_never_panic(pos in 0usize..5000, byte in any::<u8>(), cut in 0usize..5000) {
        let mut b = example("home.rpol").into_bytes();
        let p = pos % b.len();
        b[p] = byte;
        b.truncate(cut.max(p));
        if let Ok(s) = String::from_utf8(b) {
            let _ = parse(FileId(0), &s);
        }
    }
}

#[test]
fn a_doc_comment_belongs_to_the_first_item_of_the_next_line_only() {
    // Found by `cargo fuzz run fmt`: both items used to get the doc.
    let f = parse(FileId(0), "## why\nforbid source forbid feature").unwrap();
    assert_eq!(f.items.len(), 2);
    assert_eq!(f.items[0].doc.as_deref(), Some("why"));
    assert_eq!(f.items[1].doc, None);
}

/// Issue 16: what an editor shows as a line break must be one to rpol too.
#[test]
fn lone_cr_and_control_characters_are_refused_crlf_is_not() {
    let ok = "purposes [a]\r\n# note\r\nroles [r]\r\n";
    assert!(rpol_syntax::parse(FileId(0), ok).is_ok());
    for (src, at) in [
        ("# reviewed\rforbid feature x\n", 10),
        ("purposes [a]\n# \u{0} nul\n", 15),
        ("purposes [a] # \u{2028}\n", 15),
        ("reason r { text: \"\u{1b}[2J\" }\n", 18),
        ("reason r { text: \"\u{85}\" }\n", 18),
    ] {
        let err = rpol_syntax::parse(FileId(0), src).unwrap_err();
        assert_eq!(err.code, "E0103", "{src:?}: {}", err.message);
        assert_eq!(err.primary.span.start, at, "{src:?}");
        assert!(err.help.is_some());
    }
    // Escapes that make a control character are refused too, `\n` and `\t` are not.
    let err = rpol_syntax::parse(FileId(0), "reason r { text: \"a\\u{0}\" }").unwrap_err();
    assert_eq!(err.code, "E0103");
    assert!(rpol_syntax::parse(FileId(0), "reason r { text: \"a\\n\\t\\u{e9}\" }").is_ok());
}

#[test]
fn new_expect_forms_parse() {
    let src = r#"test "t" {
  given { tenant: "a" }
  expect reason ["a_1", "b_*"] shows r
  expect reason "c" suppressed forbidden
  expect retention raw_events 90d
  expect debug sre hides [x, y]
  expect debug analyst sees z
  expect cache_scope { subject: "*", mode: basic }
}"#;
    let f = parse(FileId(0), src).expect("parses");
    let ItemKind::Test(t) = &f.items[0].kind else {
        panic!("a test")
    };
    let e: Vec<&ExpectKind> = t.expects.iter().map(|e| &e.kind).collect();
    assert!(
        matches!(e[0], ExpectKind::ReasonShows { codes: ReasonCodes::List(v, _), reason } if v.len() == 2 && v[1].value == "b_*" && reason.name == "r")
    );
    assert!(
        matches!(e[1], ExpectKind::ReasonSuppressed { codes: ReasonCodes::One(c), .. } if c.value == "c")
    );
    assert!(
        matches!(e[2], ExpectKind::Retention { kind, duration } if kind.name == "raw_events" && matches!(duration.kind, ExprKind::Duration { value: 90, .. }))
    );
    assert!(
        matches!(e[3], ExpectKind::Debug { role, sees: false, targets: Targets::List(v, _), .. } if role.name == "sre" && v.len() == 2)
    );
    assert!(matches!(e[4], ExpectKind::Debug { sees: true, .. }));
    assert!(
        matches!(e[5], ExpectKind::CacheScope(f) if f.fields.len() == 2 && f.fields[0].name.name == "subject")
    );
    // A wrong verb says what is expected.
    let d = parse(FileId(0), "test \"t\" { expect debug sre shows x }").expect_err("verb");
    assert!(d.message.contains("`sees` or `hides`"), "{}", d.message);
}
