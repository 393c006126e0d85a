//! The session without a transport: an open registry buffer is what the
//! policy reads, navigation works inside the YAML, and closing the last file
//! of a policy clears what it published.

use std::path::{Path, PathBuf};

use rpol_lsp::session::{Publish, Session};
use tower_lsp_server::ls_types::{Position, Uri};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("rpol-lsp-session-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policy")).expect("scratch");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lsp/basic");
    for f in ["policy/main.rpol", "policy/rules.rpol", "features.yaml"] {
        std::fs::copy(fixture.join(f), dir.join(f)).expect("copy fixture");
    }
    Scratch(dir.canonicalize().expect("canonical"))
}

fn uri(p: &Path) -> Uri {
    Uri::from_file_path(p).expect("uri")
}

fn codes(out: &[Publish], u: &Uri) -> Vec<String> {
    out.iter()
        .rev()
        .find(|p| &p.uri == u)
        .map(|p| {
            p.diagnostics
                .iter()
                .filter_map(|d| match &d.code {
                    Some(tower_lsp_server::ls_types::NumberOrString::String(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn position(text: &str, needle: &str, within: usize) -> Position {
    let at = text.find(needle).expect(needle) + within;
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let col = at - before.rfind('\n').map_or(0, |i| i + 1);
    Position::new(line, col as u32)
}

#[test]
fn an_open_registry_buffer_is_checked_and_navigable() {
    let dir = scratch("registry");
    let main = dir.0.join("policy/main.rpol");
    let reg = dir.0.join("features.yaml");
    let (main_uri, reg_uri) = (uri(&main), uri(&reg));
    let mut s = Session::new();
    let out = s.open(
        main_uri.clone(),
        "rpol",
        std::fs::read_to_string(&main).expect("main"),
        1,
    );
    assert!(
        out.iter().any(|p| p.uri == reg_uri),
        "the registry is published too"
    );
    assert!(codes(&out, &main_uri).is_empty());

    // The unsaved registry buffer wins over the disk.
    let yaml = std::fs::read_to_string(&reg).expect("yaml");
    s.open(reg_uri.clone(), "yaml", yaml.clone(), 1);
    let broken = yaml.replace("privacy_class: catalog", "privacy_class: catalogue");
    let out = s.change(&reg_uri, broken.clone(), 2);
    assert_eq!(codes(&out, &reg_uri), ["E0402"]);
    assert_eq!(
        out.iter()
            .find(|p| p.uri == reg_uri)
            .and_then(|p| p.version),
        Some(2)
    );

    // From a class named in the YAML to its declaration in the policy.
    let out = s.change(&reg_uri, yaml.clone(), 3);
    assert!(codes(&out, &reg_uri).is_empty());
    let at = position(&yaml, "privacy_class: behavioral", 18);
    let def = s.definition(&reg_uri, at).expect("definition");
    assert_eq!(def.uri, main_uri);
    assert!(
        s.completion(&reg_uri, at).is_none(),
        "no rpol completion in YAML"
    );
    assert!(s.formatting(&reg_uri).is_none());

    // Closing the buffer goes back to the disk; closing the policy clears it.
    s.close(&reg_uri);
    let out = s.close(&main_uri);
    assert!(
        out.iter().all(|p| p.diagnostics.is_empty()),
        "closing the last file clears its policy's diagnostics"
    );
    assert!(out.iter().any(|p| p.uri == reg_uri));
}

#[test]
fn stale_changes_are_ignored_and_a_syntax_error_keeps_the_last_index() {
    let dir = scratch("stale");
    let rules = dir.0.join("policy/rules.rpol");
    let u = uri(&rules);
    let text = std::fs::read_to_string(&rules).expect("rules");
    let mut s = Session::new();
    s.open(u.clone(), "rpol", text.clone(), 5);
    assert!(s.change(&u, "not rpol at all {".into(), 4).is_empty());
    let broken = format!("{text}\nforbid source when (");
    let out = s.change(&u, broken.clone(), 6);
    assert_eq!(codes(&out, &u), ["E0100"]);
    let at = position(&broken, "modes: [personalized]", 9);
    let def = s.definition(&u, at);
    assert!(
        matches!(def, Some(ref l) if l.uri.as_str().ends_with("main.rpol")),
        "{def:?}"
    );
    assert!(s.prepare_rename(&u, at).is_err());
}
