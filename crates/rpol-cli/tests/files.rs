//! The command line reads no file outside the workspace a policy names, no
//! FIFO or device, and no input without bound (issue 16, items 1, 6, 7): the
//! reproductions of the issue, run against the real binary. Unix only.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::workspace as repo;

const SECRET: &str = "rpol-secret-canary-2b9e";

/// A fresh directory with `.git` in it: a workspace of its own.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-cli-files-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

fn mkfifo(p: &Path) {
    assert!(
        Command::new("mkfifo").arg(p).status().unwrap().success(),
        "mkfifo"
    );
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rpol"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for `child`, killing it and failing if it blocks.
fn finish(mut child: Child, what: &str) -> (i32, String) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{what}: rpol blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    finish(command(dir, args).spawn().unwrap(), &args.join(" "))
}

/// The example policy, copied into `dir/p` with its registry beside it.
fn example_into(dir: &Path) -> PathBuf {
    let p = dir.join("p");
    std::fs::create_dir_all(&p).unwrap();
    let home = std::fs::read_to_string(repo().join("policies/home/home.rpol")).unwrap();
    std::fs::write(
        p.join("home.rpol"),
        home.replace("\"../features.yaml\"", "\"features.yaml\""),
    )
    .unwrap();
    std::fs::copy(
        repo().join("policies/features.yaml"),
        p.join("features.yaml"),
    )
    .unwrap();
    p
}

#[test]
fn the_environment_does_not_leak_through_a_backslash_name() {
    let ws = scratch("leak");
    std::fs::create_dir_all(ws.join("leak")).unwrap();
    std::fs::write(
        ws.join("leak/a\\b.rpol"),
        "policy p {\n version: \"1\"\n registry: \"/proc/self/environ\"\n}\n",
    )
    .unwrap();
    let (code, out) = run(&ws, &["check", "leak"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E0102"), "{out}");
    assert!(out.contains("registry `/proc/self/environ`"), "{out}");
    assert!(!out.contains(SECRET), "the environment leaked:\n{out}");
    std::fs::remove_dir_all(&ws).unwrap();
}

#[test]
fn a_committed_symlink_out_of_the_workspace_is_not_read() {
    let ws = scratch("symlink");
    let p = example_into(&ws);
    let outside =
        std::env::temp_dir().join(format!("rpol-cli-outside-{}.rpol", std::process::id()));
    std::fs::write(&outside, format!("{SECRET} is not rpol\n")).unwrap();
    for target in [
        outside.as_path(),
        Path::new("/etc/passwd"),
        Path::new("/dev/zero"),
    ] {
        let _ = std::fs::remove_file(p.join("zz.rpol"));
        symlink(target, p.join("zz.rpol")).unwrap();
        for cmd in ["check", "lint", "test", "fmt"] {
            let (code, out) = run(&ws, &[cmd, "p"]);
            assert_eq!(code, 2, "{cmd} {}: {out}", target.display());
            assert!(
                out.contains("E0102") && out.contains("`p/zz.rpol`"),
                "{out}"
            );
            assert!(out.contains("help:"), "{out}");
            assert!(!out.contains(SECRET) && !out.contains("root:"), "{out}");
        }
    }
    std::fs::remove_file(p.join("zz.rpol")).unwrap();
    let (code, out) = run(&ws, &["check", "p"]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_dir_all(&ws).unwrap();
    std::fs::remove_file(&outside).unwrap();
}

#[test]
fn fifos_do_not_hang_any_command() {
    let ws = scratch("fifo");
    let p = example_into(&ws);
    mkfifo(&ws.join("reg.fifo"));
    // A FIFO as `--registry` (trusted as a path, still not a regular file).
    let (code, out) = run(&ws, &["check", "p", "--registry", "reg.fifo"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E0102") && out.contains("FIFO"), "{out}");
    // A FIFO as the policy's registry.
    std::fs::remove_file(p.join("features.yaml")).unwrap();
    mkfifo(&p.join("features.yaml"));
    let (code, out) = run(&ws, &["check", "p"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E0102") && out.contains("FIFO"), "{out}");
    std::fs::remove_file(p.join("features.yaml")).unwrap();
    std::fs::copy(
        repo().join("policies/features.yaml"),
        p.join("features.yaml"),
    )
    .unwrap();
    // A FIFO as request input and as a decision log.
    let (code, out) = run(&ws, &["eval", "p", "--input", "reg.fifo"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FIFO"), "{out}");
    let (code, out) = run(&ws, &["replay", "p", "reg.fifo"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FIFO"), "{out}");
    // A FIFO as a policy file.
    mkfifo(&p.join("zz.rpol"));
    let (code, out) = run(&ws, &["check", "p"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("E0102") && out.contains("FIFO"), "{out}");
    std::fs::remove_dir_all(&ws).unwrap();
}

#[test]
fn request_input_is_bounded() {
    let ws = repo();
    // A device as `--input`: refused before it is read.
    for cmd in ["eval", "bench"] {
        let (code, out) = run(&ws, &[cmd, "policies/home", "--input", "/dev/zero"]);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("character device"), "{out}");
    }
    // An endless standard input is cut off at the limit, not read until
    // memory runs out.
    let mut child = command(&ws, &["eval", "policies/home", "--input", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        // Stops when rpol closes the pipe; 64 MiB at most otherwise.
        for _ in 0..1024 {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let (code, out) = finish(child, "endless stdin");
    writer.join().unwrap();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("limit"), "{out}");
}

#[test]
fn overflowing_retention_fails_check_and_lint() {
    let ws = scratch("retention");
    let p = example_into(&ws);
    let reg = std::fs::read_to_string(p.join("features.yaml")).unwrap();
    let edited = reg.replacen("retention_days: 90", "retention_days: 106751991167301", 1);
    assert_ne!(edited, reg, "the example registry has a 90-day retention");
    std::fs::write(p.join("features.yaml"), edited).unwrap();
    for cmd in ["check", "lint", "compile"] {
        let mut args = vec![cmd, "p"];
        if cmd == "compile" {
            args.extend(["-o", "out.rpolc"]);
        }
        let (code, out) = run(&ws, &args);
        assert_eq!(code, 1, "{cmd}: {out}");
        assert!(
            out.contains("E0304") && out.contains("106751991167301"),
            "{cmd}: {out}"
        );
        assert!(
            out.contains("features.yaml:"),
            "a span into the YAML: {out}"
        );
    }
    std::fs::remove_dir_all(&ws).unwrap();
}
