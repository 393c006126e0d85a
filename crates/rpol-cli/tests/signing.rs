//! `rpol keygen`, `compile --sign` and `eval --verify-key` end to end (issue
//! 16): a signed artifact decides like its source; an unsigned, wrongly signed
//! or forged one, a policy source, or the wrong kind of key file is refused
//! with one clear line and exit 2; a policy whose `else` mode is not fail-safe
//! is never compiled.

mod common;

use std::path::{Path, PathBuf};

use common::{rpol, workspace};
use sha2::{Digest, Sha256};

const REQ: &str = "policies/requests/granted.json";

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("rpol-signing-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The message after miette's code line, its wrapped lines joined.
fn message(stderr: &str) -> String {
    let flat = stderr.replace("\n  │ ", " ");
    flat.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("rpol::"))
        .unwrap_or("")
        .to_string()
}

fn refused(args: &[&str], needle: &str) {
    let (code, stdout, stderr) = rpol(args);
    assert_eq!(code, 2, "rpol {args:?}\n{stderr}");
    assert!(stdout.is_empty(), "rpol {args:?} printed {stdout}");
    assert!(
        message(&stderr).contains(needle),
        "rpol {args:?}: expected `{needle}` in\n{stderr}"
    );
}

#[test]
fn keygen_writes_a_private_key_and_a_public_key_and_never_overwrites() {
    let d = Dir::new("keygen");
    let key = d.path("k");
    let (code, stdout, stderr) = rpol(&["keygen", "-o", &key]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("k.pub"), "{stdout}");
    let secret = std::fs::read_to_string(&key).unwrap();
    let public = std::fs::read_to_string(format!("{key}.pub")).unwrap();
    assert!(secret.starts_with("rpol-ed25519-secret-key v1 ") && secret.len() == 27 + 64 + 1);
    assert!(public.starts_with("rpol-ed25519-public-key v1 ") && public.len() == 27 + 64 + 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret key mode {mode:o}");
    }
    // Two key pairs differ (fresh randomness).
    let (code, _, _) = rpol(&["keygen", "-o", &d.path("k2")]);
    assert_eq!(code, 0);
    assert_ne!(std::fs::read_to_string(d.path("k2")).unwrap(), secret);
    // Neither file is replaced, even if only the `.pub` exists.
    refused(
        &["keygen", "-o", &key],
        "already exists; refusing to overwrite it",
    );
    std::fs::write(d.path("only.pub"), "x").unwrap();
    refused(
        &["keygen", "-o", &d.path("only")],
        "only.pub` already exists",
    );
    assert!(!Path::new(&d.path("only")).exists());
    assert_eq!(std::fs::read_to_string(&key).unwrap(), secret);
}

#[test]
fn signed_artifacts_load_with_their_key_and_nothing_else_does() {
    let d = Dir::new("verify");
    let (key, other) = (d.path("k"), d.path("other"));
    for k in [&key, &other] {
        assert_eq!(rpol(&["keygen", "-o", k]).0, 0);
    }
    let (pubkey, other_pub) = (format!("{key}.pub"), format!("{other}.pub"));
    let (signed, unsigned) = (d.path("signed.rpolc"), d.path("unsigned.rpolc"));
    let (code, stdout, stderr) = rpol(&["compile", "policies/home", "-o", &signed, "--sign", &key]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(", signed)"), "{stdout}");
    assert_eq!(rpol(&["compile", "policies/home", "-o", &unsigned]).0, 0);

    let (code, from_signed, stderr) =
        rpol(&["eval", &signed, "--input", REQ, "--verify-key", &pubkey]);
    assert_eq!(code, 0, "{stderr}");
    let (_, from_source, _) = rpol(&["eval", "policies/home", "--input", REQ]);
    assert_eq!(from_signed, from_source);
    let (code, _, stderr) = rpol(&["bench", &signed, "--input", REQ, "--verify-key", &pubkey]);
    assert_eq!(code, 0, "{stderr}");

    refused(
        &["eval", &unsigned, "--input", REQ, "--verify-key", &pubkey],
        "compiled policy is not signed (no `ed25519:` field)",
    );
    refused(
        &["eval", &signed, "--input", REQ, "--verify-key", &other_pub],
        "compiled policy signature does not verify with public key `",
    );
    refused(
        &["bench", &unsigned, "--input", REQ, "--verify-key", &pubkey],
        "is not signed",
    );
    refused(
        &[
            "eval",
            "policies/home",
            "--input",
            REQ,
            "--verify-key",
            &pubkey,
        ],
        "`policies/home` is not a compiled artifact; `--verify-key` only loads signed artifacts",
    );
    refused(
        &["eval", &signed, "--input", REQ, "--verify-key", &key],
        "not an rpol key file of this kind (expected `rpol-ed25519-public-key v1`)",
    );
    refused(
        &[
            "compile",
            "policies/home",
            "-o",
            &d.path("x"),
            "--sign",
            &pubkey,
        ],
        "(expected `rpol-ed25519-secret-key v1`)",
    );
    assert!(
        !Path::new(&d.path("x")).exists(),
        "no artifact on a bad key"
    );

    // An edited body with the old signature kept and the checksum recomputed.
    let bytes = std::fs::read_to_string(&signed).unwrap();
    let (head, body) = bytes.split_once('\n').unwrap();
    let body2 = body.replace("contextual_only", "contextual_onlx");
    assert_ne!(body2, body);
    let fields: Vec<&str> = head.split(' ').collect();
    let forged = format!(
        "rpol-compiled 1 {} {} {}\n{body2}",
        Sha256::digest(body2.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        body2.len(),
        fields[4]
    );
    std::fs::write(d.path("forged.rpolc"), forged).unwrap();
    refused(
        &[
            "eval",
            &d.path("forged.rpolc"),
            "--input",
            REQ,
            "--verify-key",
            &pubkey,
        ],
        "signature does not verify",
    );
}

/// As an attacker: the unsigned artifact with a `personalized` fallback and a
/// recomputed checksum is refused by plain `eval`.
#[test]
fn a_forged_unsafe_fallback_is_refused_by_eval() {
    let d = Dir::new("forged");
    let art = d.path("home.rpolc");
    assert_eq!(rpol(&["compile", "policies/home", "-o", &art]).0, 0);
    let text = std::fs::read_to_string(&art).unwrap();
    let body = text.split_once('\n').unwrap().1;
    let model: serde_json::Value = serde_json::from_str(body).unwrap();
    let personalized = model["modes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|m| m["name"] == "personalized")
        .unwrap();
    // Edit the text in place (no re-encoding), as `sed` would.
    let old = format!(
        "\"fallback\":{{\"condition\":null,\"mode\":{}",
        model["fallback"]["mode"]
    );
    assert!(body.contains(&old), "{old}");
    let body = body.replacen(
        &old,
        &format!("\"fallback\":{{\"condition\":null,\"mode\":{personalized}"),
        1,
    );
    let forged = format!(
        "rpol-compiled 1 {} {}\n{body}",
        Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        body.len()
    );
    std::fs::write(&art, forged).unwrap();
    refused(
        &["eval", &art, "--input", REQ],
        "not fail-safe: the `else` mode `personalized` grants `behavior`, which personal class `behavioral_personal` requires (L003)",
    );
}

/// `rpol check` lets an unsafe `else` through (L003 is a lint); `compile`
/// does not write an artifact the loader would refuse.
#[test]
fn compile_refuses_a_policy_whose_else_is_not_fail_safe() {
    let d = Dir::new("unsafe-else");
    let src = std::fs::read_to_string(workspace().join("tests/lint/L003_fires.rpol")).unwrap();
    let src = src
        .replace("../check/registries/base.yaml", "base.yaml")
        .replace("else => basic", "else => personalized");
    std::fs::write(d.path("p.rpol"), src).unwrap();
    std::fs::copy(
        workspace().join("tests/check/registries/base.yaml"),
        d.path("base.yaml"),
    )
    .unwrap();
    let (code, _, stderr) = rpol(&["check", &d.path("p.rpol")]);
    assert_eq!(code, 0, "{stderr}");
    let out = d.path("p.rpolc");
    refused(
        &["compile", &d.path("p.rpol"), "-o", &out],
        "the `else` mode `personalized` grants `behavior`, which personal class `behavioral` requires (L003)",
    );
    assert!(!Path::new(&out).exists());
}
