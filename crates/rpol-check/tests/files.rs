//! Reading files from disk (issue 16, items 1 and 6): every file a policy
//! reaches is confined to its workspace on real, canonical paths, refused
//! unread when it leaves it, and read through one bounded reader that refuses
//! FIFOs and devices before opening them. Unix only: real symlinks and FIFOs.
#![cfg(unix)]

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rpol_check::load::{self, LoadError};
use rpol_check::{Checked, SourceInput};

/// A fresh directory with `.git` in it: a workspace of its own.
fn workspace(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-files-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

fn mkfifo(p: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", p.display());
}

const SECRET: &str = "rpol-secret-canary-7f3a";

/// A header naming `registry`, with nothing else (other errors do not matter).
fn header(registry: &str) -> String {
    format!("policy p {{\n  version: \"1\"\n  registry: \"{registry}\"\n}}\n")
}

fn codes(c: &Checked) -> Vec<&str> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

/// Everything a diagnostic could show: messages, helps and every source text.
fn shown(c: &Checked) -> String {
    let mut s: String = c
        .diagnostics
        .iter()
        .map(|d| format!("{} {:?}\n", d.message, d.help))
        .collect();
    for (_, f) in c.sources.files() {
        s.push_str(&f.text);
    }
    s
}

/// Runs `f` on another thread and fails (instead of hanging) if it blocks.
fn without_blocking<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} blocked"))
}

#[test]
fn a_policy_not_on_disk_cannot_name_a_file_outside_its_directory() {
    // The name does not resolve (an editor buffer, or the display form of an
    // odd file name): it used to be taken as inside the workspace.
    for registry in [
        "/proc/self/environ",
        "../../../../etc/passwd",
        "/etc/passwd",
    ] {
        let files = vec![SourceInput {
            name: "nowhere-at-all/a\\b.rpol".into(),
            text: header(registry),
        }];
        let c = rpol_check::check(files, None, &|p| {
            panic!("the registry `{}` must not be read", p.display())
        });
        assert!(codes(&c).contains(&"E0102"), "{registry}: {:?}", codes(&c));
    }
}

#[test]
fn a_backslash_in_a_file_name_is_part_of_the_name() {
    // `leak/a\b.rpol` is the file `a\b.rpol` in `leak`, not `b.rpol` in
    // `leak/a`: the workspace is found from the real directory.
    let ws = workspace("backslash");
    std::fs::create_dir_all(ws.join("leak")).unwrap();
    std::fs::write(ws.join("leak/a\\b.rpol"), header("/proc/self/environ")).unwrap();
    let files = load::read_policy(&ws.join("leak")).unwrap();
    assert!(
        files[0].name.ends_with("leak/a\\b.rpol"),
        "{}",
        files[0].name
    );
    let c = rpol_check::check(files, None, &load::read_registry);
    assert!(codes(&c).contains(&"E0102"), "{:?}", codes(&c));
    assert!(!shown(&c).contains("PATH="), "the environment leaked");
    std::fs::remove_dir_all(&ws).unwrap();
}

#[test]
fn a_registry_symlink_leaving_the_workspace_is_refused_unread() {
    let ws = workspace("reg-link");
    let outside = std::env::temp_dir().join(format!("rpol-files-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.yaml"), format!("{SECRET}\n")).unwrap();
    std::fs::create_dir_all(ws.join("p")).unwrap();
    std::fs::write(ws.join("p/p.rpol"), header("reg.yaml")).unwrap();
    symlink(outside.join("secret.yaml"), ws.join("p/reg.yaml")).unwrap();
    let c = rpol_check::check(
        load::read_policy(&ws.join("p")).unwrap(),
        None,
        &load::read_registry,
    );
    assert!(codes(&c).contains(&"E0102"), "{:?}", codes(&c));
    assert!(!shown(&c).contains(SECRET), "the file outside was quoted");
    // A symlink inside the workspace is fine: it is where it points that counts.
    std::fs::remove_file(ws.join("p/reg.yaml")).unwrap();
    std::fs::write(ws.join("real.yaml"), "features: []\n").unwrap();
    symlink(ws.join("real.yaml"), ws.join("p/reg.yaml")).unwrap();
    let c = rpol_check::check(
        load::read_policy(&ws.join("p")).unwrap(),
        None,
        &load::read_registry,
    );
    assert!(!codes(&c).contains(&"E0102"), "{:?}", codes(&c));
    assert!(c.registry.is_some());
    std::fs::remove_dir_all(&ws).unwrap();
    std::fs::remove_dir_all(&outside).unwrap();
}

#[test]
fn a_policy_file_symlink_leaving_the_workspace_is_refused_unread() {
    let ws = workspace("rpol-link");
    std::fs::create_dir_all(ws.join("p")).unwrap();
    std::fs::write(ws.join("p/a.rpol"), header("features.yaml")).unwrap();
    for target in ["/etc/passwd", "/dev/zero"] {
        let _ = std::fs::remove_file(ws.join("p/zz.rpol"));
        symlink(target, ws.join("p/zz.rpol")).unwrap();
        let err = load::read_policy(&ws.join("p")).expect_err(target);
        assert!(
            matches!(err, LoadError::OutsideWorkspace(..)),
            "{target}: {err}"
        );
        assert_eq!(err.code(), Some("E0102"));
        assert!(err.to_string().contains("zz.rpol`"), "{err}");
        // Named on its own (not the user's choice of target): refused too.
        let err = load::read_policy(&ws.join("p/zz.rpol")).expect_err(target);
        assert!(
            matches!(err, LoadError::OutsideWorkspace(..)),
            "{target}: {err}"
        );
        assert!(load::read_policy_file(&ws.join("p/zz.rpol")).is_err());
    }
    std::fs::remove_dir_all(&ws).unwrap();
}

#[test]
fn fifos_and_devices_are_refused_before_they_are_opened() {
    let ws = workspace("fifo");
    std::fs::create_dir_all(ws.join("p")).unwrap();
    std::fs::write(ws.join("p/a.rpol"), header("reg.yaml")).unwrap();
    mkfifo(&ws.join("p/reg.yaml"));
    // The registry as a FIFO: E0102 at the `registry:` field, no hang.
    let dir = ws.join("p");
    let c = without_blocking("a FIFO registry", move || {
        rpol_check::check(load::read_policy(&dir).unwrap(), None, &load::read_registry)
    });
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == "E0102")
        .expect("E0102");
    assert!(d.message.contains("FIFO"), "{}", d.message);
    assert!(d.help.is_some());
    // A FIFO as `--registry`: trusted as a path, still not a regular file.
    let (dir, reg) = (ws.join("p"), ws.join("p/reg.yaml"));
    let c = without_blocking("a FIFO --registry", move || {
        rpol_check::check(
            load::read_policy(&dir).unwrap(),
            Some(&reg),
            &load::read_registry,
        )
    });
    assert!(codes(&c).contains(&"E0102"), "{:?}", codes(&c));
    // A FIFO as a policy file.
    mkfifo(&ws.join("p/b.rpol"));
    let dir = ws.join("p");
    let err = without_blocking("a FIFO policy file", move || load::read_policy(&dir))
        .expect_err("refused");
    assert!(matches!(err, LoadError::NotRegular(..)), "{err}");
    // Devices and directories.
    for (p, what) in [
        ("/dev/zero", "character device"),
        ("/dev/null", "character device"),
    ] {
        let err = load::read_bounded(Path::new(p), 1024).expect_err(p);
        assert!(err.to_string().contains(what), "{err}");
    }
    let err = load::read_text(&ws).expect_err("a directory");
    assert!(err.to_string().contains("a directory"), "{err}");
    std::fs::remove_dir_all(&ws).unwrap();
}

#[test]
fn the_limit_is_counted_while_reading_not_taken_from_metadata() {
    // `/proc` files report a size of 0 and hold more.
    let p = Path::new("/proc/self/status");
    if p.exists() {
        assert_eq!(std::fs::metadata(p).unwrap().len(), 0);
        let err = load::read_bounded(p, 16).expect_err("over 16 bytes");
        assert!(matches!(err, LoadError::TooLarge(_, 16)), "{err}");
        assert_eq!(err.code(), Some("E0101"));
        assert!(load::read_bounded(p, 1 << 20).is_ok());
    }
    // An endless stream is cut off at the limit.
    let err = load::read_stream_bounded(std::io::repeat(b'x'), 1000).expect_err("endless");
    assert!(err.to_string().contains("1000-byte limit"), "{err}");
    assert_eq!(
        load::read_stream_bounded(&b"abc"[..], 3).unwrap(),
        b"abc".to_vec()
    );
}

#[test]
fn an_empty_feature_name_is_e0304() {
    let reg = common::example_registry().replacen("name: user_embedding", "name: \"\"", 1);
    let c = common::check_with_registry(common::example_files(), &reg);
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == "E0304")
        .unwrap_or_else(|| panic!("{:?}", codes(&c)));
    assert_eq!(d.message, "a feature name is empty");
    assert_eq!(Some(d.primary.file), c.registry_file);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn component() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "..",
            ".",
            "",
            "etc",
            "passwd",
            "a\\b",
            "proc",
            "self",
            "environ",
            "features.yaml",
        ])
    }

    proptest! {
        /// A policy that is not on disk never makes the reader open a path
        /// outside its own directory, whatever its `registry:` says.
        #[test]
        fn an_in_memory_policy_reads_only_below_its_directory(
            absolute in any::<bool>(),
            parts in prop::collection::vec(component(), 1..8),
        ) {
            let reg = format!("{}{}", if absolute { "/" } else { "" }, parts.join("/"));
            let files = vec![SourceInput {
                name: "nowhere-at-all/p.rpol".into(),
                text: header(&reg),
            }];
            let escaped = std::sync::Mutex::new(None);
            let _ = rpol_check::check(files, None, &|p| {
                if !p.starts_with("nowhere-at-all") {
                    *escaped.lock().unwrap() = Some(p.to_path_buf());
                }
                Err(std::io::Error::new(std::io::ErrorKind::NotFound, "in memory"))
            });
            let escaped = escaped.lock().unwrap().clone();
            prop_assert!(escaped.is_none(), "`{reg}` read {escaped:?}");
        }
    }
}
