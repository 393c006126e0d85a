//! The pure analysis on the example policy and the check fixtures: the index
//! finds every name where the checker would, completion and hover answer
//! without the protocol, and nothing panics on any cursor position.

use std::path::{Path, PathBuf};

use rpol_check::load;
use rpol_lsp::analysis::{Analysis, analyze};
use rpol_lsp::complete::complete;
use rpol_lsp::index::{Kind, Loc};
use rpol_lsp::workspace::{Overlay, Root, inputs};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn analyze_root(root: Root) -> Analysis {
    let ov = Overlay::default();
    let cache = rpol_check::RegistryCache::new();
    analyze(inputs(&root, &ov), &|p| ov.read_registry(p), &cache)
}

fn home() -> Analysis {
    analyze_root(Root::Dir(workspace().join("policies/home")))
}

fn file(a: &Analysis, suffix: &str) -> rpol_diag::FileId {
    a.checked
        .sources
        .files()
        .find(|(_, f)| f.name.ends_with(suffix))
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no file {suffix}"))
}

/// Every occurrence covers exactly its symbol's name.
fn assert_spans_are_names(a: &Analysis) {
    for o in a.index.occurrences() {
        let sym = a.index.symbol(o.symbol).expect("symbol");
        let text = a.text(o.file).expect("file");
        assert_eq!(
            text.get(o.span.start..o.span.end),
            Some(sym.name.as_str()),
            "{} in {}",
            sym.name,
            a.file_name(o.file).unwrap_or("?")
        );
    }
}

#[test]
fn the_example_is_indexed() {
    let a = home();
    assert!(a.parsed);
    assert!(
        a.diagnostics.is_empty(),
        "{:?}",
        a.diagnostics.first().map(|d| &d.message)
    );
    assert_spans_are_names(&a);
    let ix = &a.index;
    let count = |kind: Kind, name: &str| {
        let id = ix.find(kind, None, name).expect(name);
        ix.occurrences_of(id).count()
    };
    // Declared once, yielded by one arm, listed by a feature set, allowed by
    // registry entries, expected by tests.
    let personalized = ix.find(Kind::Mode, None, "personalized").expect("mode");
    let files: Vec<&str> = ix
        .occurrences_of(personalized)
        .filter_map(|o| a.file_name(o.file))
        .collect();
    assert!(files.iter().any(|f| f.ends_with("home.rpol")));
    assert!(files.iter().any(|f| f.ends_with("features.yaml")));
    assert!(files.iter().any(|f| f.ends_with("tests.rpol")));
    assert!(count(Kind::Feature, "user_embedding") >= 3);
    assert!(count(Kind::Consent, "personalization") >= 3);
    // `purpose == ads_targeting` types the bare name by the path.
    assert!(count(Kind::Purpose, "ads_targeting") >= 2);
    // Each kind is its own namespace.
    assert_ne!(
        ix.find(Kind::Purpose, None, "personalization"),
        ix.find(Kind::Consent, None, "personalization")
    );
    let device = ix.find(Kind::ContextField, None, "device").expect("device");
    let variants: Vec<&str> = ix.variants(device).map(|(_, s)| s.name.as_str()).collect();
    assert_eq!(variants, ["mobile", "desktop", "tv"]);
}

#[test]
fn a_feature_is_defined_in_the_registry_and_hovers_with_its_rules() {
    let a = home();
    let id = a
        .index
        .find(Kind::Feature, None, "user_category_affinity_30d")
        .expect("feature");
    let sym = a.index.symbol(id).expect("symbol");
    assert!(
        a.file_name(sym.decl.file)
            .is_some_and(|n| n.ends_with("features.yaml"))
    );
    let md = rpol_lsp::hover::markdown(&a, id).expect("hover");
    for part in [
        "behavioral_personal",
        "`personalized`",
        "`ads_targeting`",
        "90 days",
        "`personalization` must be granted",
        "`restricted`",
    ] {
        assert!(md.contains(part), "{part} missing from\n{md}");
    }
}

#[test]
fn doc_comments_show_on_hover() {
    let a = home();
    let id = a
        .index
        .find(Kind::Policy, None, "home_feed")
        .expect("policy");
    let md = rpol_lsp::hover::markdown(&a, id).expect("hover");
    assert!(
        md.contains("Personalization is permissioned computation"),
        "{md}"
    );
}

#[test]
fn completion_reads_the_cursor() {
    let a = home();
    let f = file(&a, "home.rpol");
    let text = a.text(f).expect("text").to_string();
    let labels = |needle: &str| -> Vec<String> {
        let at = text.find(needle).expect(needle) + needle.len();
        complete(&text, at, &a)
            .items
            .into_iter()
            .map(|c| c.label)
            .collect()
    };
    let feats = labels("features: [\n    user_category_affinity_30d,\n    ");
    assert!(feats.contains(&"user_embedding".to_string()), "{feats:?}");
    assert!(!feats.contains(&"personalized".to_string()));
    assert_eq!(
        labels("when consent.personalization == granted => "),
        ["personalized", "contextual_only", "non_personalized"]
    );
    assert_eq!(
        labels("source session_intent {\n  requires: ["),
        ["behavior", "profile", "context", "coarse_context"]
    );
    assert_eq!(
        labels("when: consent."),
        ["personalization", "session", "training"]
    );
    assert_eq!(labels("when: context."), ["region", "device", "authorized"]);
}

#[test]
fn every_cursor_position_is_safe() {
    let a = home();
    for (_, f) in a.checked.sources.files() {
        let text = f.text.to_string();
        for i in 0..=text.len() {
            let _ = complete(&text, i, &a);
        }
    }
    let odd = "policy é { version: \"→\" }\nmode ü { grants: [ñ, \"x\n# ☃\ncontext.";
    for i in 0..=odd.len() + 2 {
        let _ = complete(odd, i, &a);
    }
}

#[test]
fn check_fixtures_index_without_panics() {
    let dir = workspace().join("tests/check");
    let mut n = 0;
    for p in load::policy_files(&dir).expect("fixtures") {
        let a = analyze_root(Root::File(p));
        assert_spans_are_names(&a);
        for o in a.index.occurrences() {
            let loc = Loc {
                file: o.file,
                span: o.span,
            };
            let _ = a.checked.sources.range(loc.file, loc.span);
            let _ = rpol_lsp::hover::markdown(&a, o.symbol);
        }
        n += 1;
    }
    assert!(n > 20);
}
