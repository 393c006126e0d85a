//! `docs/errors.md` is generated from the same catalogue as `rpol explain`.

use rpol_diag::codes::{CODES, lookup, render_errors_markdown};

#[test]
fn errors_doc_is_in_sync() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
    let want = render_errors_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/errors.md is stale: run `UPDATE_DOCS=1 cargo test -p rpol-diag`"
    );
}

#[test]
fn catalogue_is_complete_and_sane() {
    let spec = [
        "E0100", "E0102", "E0103", "E0201", "E0202", "E0203", "E0301", "E0302", "E0303", "E0304",
        "E0305", "E0306", "E0401", "E0402", "E0403", "E0404", "E0405", "E0406", "E0407", "E0501",
        "E0502", "E0503", "E0504", "E0505", "L001", "L002", "L003", "L004", "L005", "L006", "L007",
        "L008", "L009", "L010",
    ];
    for code in spec {
        assert!(lookup(code).is_some(), "{code} missing");
    }
    assert!(lookup("e0201").is_some());
    let codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted, "codes unique and sorted");
    for c in CODES {
        assert!(
            !c.wrong.is_empty() && !c.right.is_empty() && c.wrong != c.right,
            "{}",
            c.code
        );
        assert!(!c.explanation.is_empty());
    }
}
