//! `rpol lsp` in a real editor: Neovim (headless) opens a policy with a
//! misspelt feature through `tests/nvim/diagnostics.lua` and must show the
//! checker's E0201. Skipped, saying so, when `nvim` is not on PATH.
#![cfg(feature = "lsp")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn nvim_version() -> Option<String> {
    let out = Command::new("nvim").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status
        .success()
        .then(|| text.lines().next().unwrap_or("").to_string())
}

#[test]
fn neovim_shows_the_unknown_feature() {
    let Some(version) = nvim_version() else {
        println!("skipped: nvim is not on PATH");
        return;
    };
    // `vim.diagnostic` and `vim.lsp.start_client` need Neovim 0.7 (Debian 12's).
    let minor = version
        .strip_prefix("NVIM v0.")
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    if minor.is_some_and(|m| m < 7) {
        println!("skipped: {version} is older than 0.7");
        return;
    }
    let root = workspace();
    let mut child = Command::new("nvim")
        .args([
            "--headless",
            "--clean",
            "-u",
            "NONE",
            "-c",
            "luafile tests/nvim/diagnostics.lua",
        ])
        .current_dir(&root)
        .env("RPOL_BIN", env!("CARGO_BIN_EXE_rpol"))
        .env("RPOL_FILE", "tests/nvim/misspelt/policy.rpol")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nvim");
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{version}: nvim did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("codes: E0201"),
        "{version}: expected `codes: E0201`\nstdout: {stdout}\nstderr: {stderr}"
    );
    println!("{version}: {}", stdout.trim());
}
