//! The formatter on every policy in the repository and on generated policies:
//! it succeeds (so its self-check passed: same tree, same comments), it is
//! idempotent, and it keeps the comment count.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rpol_diag::FileId;

fn rpol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rpol_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rpol") {
            out.push(p);
        }
    }
}

fn comments(text: &str) -> usize {
    rpol_syntax::parse(FileId(0), text)
        .map(|f| f.comments.len())
        .unwrap_or(usize::MAX)
}

fn assert_round_trip(name: &str, text: &str) {
    let once = rpol_fmt::format(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let twice = rpol_fmt::format(&once).unwrap_or_else(|e| panic!("{name} (second pass): {e}"));
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
    assert_eq!(
        comments(text),
        comments(&once),
        "{name}: comment count changed"
    );
}

#[test]
fn every_repository_policy_round_trips() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    rpol_files(&root.join("policies"), &mut files);
    rpol_files(&root.join("tests"), &mut files);
    assert!(files.len() > 10);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        if rpol_syntax::parse(FileId(0), &text).is_err() {
            assert!(
                rpol_fmt::format(&text).is_err(),
                "{}: a file with a syntax error must be refused",
                f.display()
            );
            continue;
        }
        assert_round_trip(&f.display().to_string(), &text);
    }
}

#[test]
fn example_is_formatted_as_documented() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home/home.rpol"),
    )
    .unwrap();
    insta::assert_snapshot!("home_formatted", rpol_fmt::format(&text).unwrap());
}

#[test]
fn fuzz_regressions_round_trip() {
    // Inputs with a lone CR are refused since issue 16 (E0103); each is also
    // checked with its lone CRs turned into line feeds (as editors show it)
    // when that parses.
    fn fuzz_case(name: &str, src: &str) {
        let lone = src.replace("\r\n", "").contains('\r');
        if lone {
            assert!(
                matches!(rpol_fmt::format(src), Err(rpol_fmt::FormatError::Syntax(d)) if d.code == "E0103"),
                "{name}: a lone CR was accepted"
            );
            let lf = src
                .replace("\r\n", "\u{0}")
                .replace('\r', "\n")
                .replace('\u{0}', "\r\n");
            if rpol_syntax::parse(FileId(0), &lf).is_ok() {
                assert_round_trip(name, &lf);
            }
        } else {
            assert_round_trip(name, src);
        }
    }
    // Found by `cargo fuzz run fmt`: a doc comment with trailing spaces.
    for src in ["##  \nsource _{}", "##\t\n## a  \nmode m { grants: [] }\n"] {
        fuzz_case("fuzz regression", src);
    }
    // Found by `cargo fuzz run fmt` (session 2): comments between `forbid
    // feature` and its target were printed before the next item, where a `##`
    // one became that item's doc comment.
    for src in [
        "forbid feature\n## x\nd## a\nforbid feature\n",
        "forbid feature\n## x\r\ry\nd## a \nforbid feature\n",
        "forbid source # why\n[a, b] when tenant == \"t\" # end\n## doc\nforbid feature\n",
        "forbid feature\n## x\nd ## y\nbecause \"b\"\nforbid source\n",
    ] {
        fuzz_case("fuzz regression", src);
    }
    assert_eq!(
        rpol_fmt::format("forbid feature\n## x\nd## a\nforbid feature\n").unwrap(),
        "forbid feature d\n## x\n## a\n\nforbid feature\n"
    );
    // A doc comment attached to both items of one line (fixed in the parser).
    fuzz_case("fuzz regression", "##\nforbid source forbid feature");
    // A span that kept half of a trailing `## ` comment (fixed in the parser).
    fuzz_case(
        "fuzz regression",
        "forbid source when t\r\n## \nforbid feature",
    );
    // A comment ending in `{` looked like an opened block, so the blank line
    // that keeps it off the next item's doc comment was dropped.
    fuzz_case("fuzz regression", "##{\n\n##\nreason u{}");
    // A comment between a vocabulary keyword and its list.
    fuzz_case(
        "fuzz regression",
        "capabilities##e o\n\r [srin]\nsurfaces [ pdp]\n",
    );
    fuzz_case(
        "fuzz regression",
        "capabilities # c\n[a, b]\n## d\nroles [r]\n",
    );
    // The same between a block's name and its empty braces.
    fuzz_case("fuzz regression", "reason u ##c\n{}\nreason v {}");
    // The whole inputs the fuzzer found, byte for byte.
    for crash in [
        &include_bytes!("fuzz/fmt-forbid-interior-comment.rpol")[..],
        &include_bytes!("fuzz/fmt-two-items-one-line-doc.rpol")[..],
        &include_bytes!("fuzz/fmt-vocab-header-comment.rpol")[..],
    ] {
        fuzz_case("fuzz crash", std::str::from_utf8(crash).unwrap());
    }
}

#[test]
fn syntax_errors_are_refused() {
    match rpol_fmt::format("mode x { grants: [a }") {
        Err(rpol_fmt::FormatError::Syntax(d)) => assert_eq!(d.code, "E0100"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn comments_stay_where_they_belong() {
    let src = "# head\nmode a { grants: [] } # trailing\n\n## doc\nsource s {\n  # inside\n  requires: [x] # after field\n}\n";
    let out = rpol_fmt::format(src).unwrap();
    assert_eq!(
        out,
        "# head\nmode a { grants: [] } # trailing\n\n## doc\nsource s {\n  # inside\n  requires: [x] # after field\n}\n"
    );
}

fn ident() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a", "b", "user_cf", "home", "context", "mode", "granted", "x1",
    ])
    .prop_map(str::to_string)
}

fn operand() -> impl Strategy<Value = String> {
    prop_oneof![
        ident(),
        "[a-z]{1,5}".prop_map(|s| format!("\"{s}\"")),
        (0u32..1000).prop_map(|n| n.to_string()),
        (
            1u32..99,
            prop::sample::select(vec!['s', 'm', 'h', 'd', 'w'])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        (ident(), ident()).prop_map(|(a, b)| format!("{a}.{b}")),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (
            operand(),
            prop::sample::select(vec!["==", "!=", "<", ">="]),
            operand()
        )
            .prop_map(|(a, o, b)| format!("{a} {o} {b}")),
        (operand(), prop::collection::vec(operand(), 0..3))
            .prop_map(|(a, l)| format!("{a} in [{}]", l.join(", "))),
        ident().prop_map(|a| format!("exists({a}.x)")),
        Just("true".to_string()),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        (ident(), prop::collection::vec(ident(), 0..4)).prop_map(|(n, l)| format!("mode {n} {{ grants: [{}] }}", l.join(", "))),
        (ident(), expr()).prop_map(|(n, e)| format!("source {n} {{\n requires: [a]\n when: {e}\n}}")),
        (expr(), prop::option::of("[a-z ]{0,12}")).prop_map(|(e, b)| match b {
            Some(b) => format!("forbid feature when {e}\n because \"{b}\""),
            None => format!("forbid source x when {e}"),
        }),
        prop::collection::vec((expr(), ident()), 0..3).prop_map(|arms| {
            let body: String = arms.iter().map(|(e, m)| format!("  when {e} => {m}\n")).collect();
            format!("resolve mode {{\n{body}  else => a\n}}")
        }),
        prop::collection::vec(ident(), 1..30).prop_map(|l| format!("purposes [{}]", l.join(", "))),
        Just("test \"t\" {\n given { tenant: \"a\", subject: { user_id: \"u\" } }\n expect source [a, b] denied forbidden\n expect reason \"x_1\" suppressed\n}".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_round_trip(items in prop::collection::vec((item(), prop::option::of("[a-z ]{0,10}"), any::<bool>()), 1..8)) {
        let mut text = String::new();
        for (it, comment, trailing) in items {
            match (comment, trailing) {
                (Some(c), true) => {
                    // A trailing comment after the item's first line.
                    let mut lines = it.lines();
                    let first = lines.next().unwrap_or_default();
                    text.push_str(&format!("{first} # {c}\n"));
                    for l in lines { text.push_str(l); text.push('\n'); }
                }
                (Some(c), false) => text.push_str(&format!("# {c}\n{it}\n\n")),
                (None, _) => text.push_str(&format!("{it}\n")),
            }
        }
        if rpol_syntax::parse(FileId(0), &text).is_ok() {
            assert_round_trip("generated", &text);
        }
    }
}

/// Generated policies as in `generated_policies_round_trip`.
fn generated_text() -> impl Strategy<Value = String> {
    prop::collection::vec((item(), prop::option::of("[a-z ]{0,10}")), 1..6).prop_map(|items| {
        let mut text = String::new();
        for (it, comment) in items {
            if let Some(c) = comment {
                text.push_str(&format!("# {c}\n"));
            }
            text.push_str(&it);
            text.push('\n');
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// CRLF line ends are accepted and format exactly like LF ones (the output
    /// has LF line ends, and formatting it again changes nothing).
    #[test]
    fn crlf_formats_like_lf(text in generated_text()) {
        prop_assume!(rpol_syntax::parse(FileId(0), &text).is_ok());
        let lf = rpol_fmt::format(&text).unwrap();
        let crlf = rpol_fmt::format(&text.replace('\n', "\r\n")).unwrap();
        prop_assert_eq!(&crlf, &lf);
        prop_assert!(!crlf.contains('\r'));
        prop_assert_eq!(rpol_fmt::format(&crlf).unwrap(), crlf);
    }

    /// A lone CR anywhere is refused (E0103) at its own offset, and its line
    /// and column are the ones an editor shows (a lone CR ends a line there).
    #[test]
    fn a_lone_cr_is_refused_where_editors_see_it(text in generated_text(), pick in any::<prop::sample::Index>()) {
        let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
        prop_assume!(!newlines.is_empty());
        let at = newlines[pick.index(newlines.len())];
        let mut bad = text.clone();
        bad.replace_range(at..at + 1, "\r");
        let err = match rpol_fmt::format(&bad) {
            Err(rpol_fmt::FormatError::Syntax(d)) => d,
            other => panic!("a lone CR was accepted: {other:?}"),
        };
        prop_assert_eq!(err.code, "E0103");
        prop_assert_eq!(err.primary.span.start, at);
        let editor_line = bad[..at].split(['\n', '\r']).count();
        let f = rpol_diag::SourceFile::new("x.rpol", bad.as_str());
        prop_assert_eq!(f.line_col(at).line, editor_line);
        // The character after the CR starts the next line.
        prop_assert_eq!(f.line_col(at + 1).line, editor_line + 1);
        prop_assert_eq!(f.line_col(at + 1).column, 1);
    }
}
