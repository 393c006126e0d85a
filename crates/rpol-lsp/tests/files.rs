//! The language server reads the disk like `rpol check` (issue 16, items 1
//! and 6): a FIFO registry or policy file does not block it, and a policy
//! file or registry symlinked out of the workspace is not read. Unix only.
#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rpol_lsp::analysis::{Analysis, analyze};
use rpol_lsp::workspace::{Overlay, Root, inputs};

const SECRET: &str = "rpol-secret-canary-lsp-41c";

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-lsp-files-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

fn mkfifo(p: &Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap()
            .success()
    );
}

/// Analyses the policy in `dir` on another thread; fails if it blocks.
fn analyze_dir(dir: PathBuf) -> Analysis {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let ov = Overlay::default();
        let cache = rpol_check::RegistryCache::new();
        let a = analyze(
            inputs(&Root::Dir(dir), &ov),
            &|p| ov.read_registry(p),
            &cache,
        );
        let _ = tx.send(a);
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the analysis blocked")
}

fn everything_shown(a: &Analysis) -> String {
    let mut s: String = a.diagnostics.iter().map(|d| d.message.clone()).collect();
    for (_, f) in a.checked.sources.files() {
        s.push_str(&f.text);
    }
    s
}

#[test]
fn fifos_do_not_block_the_language_server() {
    let ws = scratch("fifo");
    let p = ws.join("p");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("a.rpol"),
        "policy p {\n  version: \"1\"\n  registry: \"reg.yaml\"\n}\n",
    )
    .unwrap();
    mkfifo(&p.join("reg.yaml"));
    mkfifo(&p.join("b.rpol"));
    let a = analyze_dir(p);
    let d = a
        .diagnostics
        .iter()
        .find(|d| d.code == "E0102")
        .expect("E0102 for the FIFO registry");
    assert!(d.message.contains("FIFO"), "{}", d.message);
    // The FIFO policy file is left out, as an unreadable file.
    assert!(
        a.file_named(&ws.join("p/b.rpol").to_string_lossy())
            .is_none()
    );
    std::fs::remove_dir_all(&ws).unwrap();
}

#[test]
fn symlinks_out_of_the_workspace_are_not_read() {
    let ws = scratch("link");
    let outside = std::env::temp_dir().join(format!("rpol-lsp-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("x.rpol"),
        format!("# {SECRET}\nmode m {{ }}\n"),
    )
    .unwrap();
    std::fs::write(outside.join("x.yaml"), format!("{SECRET}: 1\n")).unwrap();
    let p = ws.join("p");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("a.rpol"),
        "policy p {\n  version: \"1\"\n  registry: \"reg.yaml\"\n}\n",
    )
    .unwrap();
    symlink(outside.join("x.rpol"), p.join("zz.rpol")).unwrap();
    symlink(outside.join("x.yaml"), p.join("reg.yaml")).unwrap();
    let a = analyze_dir(p);
    assert!(a.diagnostics.iter().any(|d| d.code == "E0102"));
    assert!(!everything_shown(&a).contains(SECRET));
    std::fs::remove_dir_all(&ws).unwrap();
    std::fs::remove_dir_all(&outside).unwrap();
}
