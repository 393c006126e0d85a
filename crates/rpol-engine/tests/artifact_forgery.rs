//! Forged artifacts (issue 16), made exactly as an attacker would: decode the
//! body of a real `rpol compile` output, edit it, write it back in the same
//! encoding and recompute the checksum. Every shape that breaks an invariant of
//! `rpol check` is refused with its own message; shapes a checked source could
//! also produce (forbid rules removed, another digest) load unsigned, and only
//! a signature tells them apart, so they are refused by `from_signed_artifact`.

mod common;

use std::path::Path;

use rpol_engine::model::{CmpOp, Expr, Literal, Operand, Path as P, PolicyModel};
use rpol_engine::{ArtifactError, Compiled, PublicKey, Refusal, SecretKey};
use sha2::{Digest, Sha256};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn body(artifact: &[u8]) -> &[u8] {
    let nl = artifact.iter().position(|b| *b == b'\n').unwrap();
    &artifact[nl + 1..]
}

/// An artifact for `body` with a correct checksum.
fn with_checksum(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "rpol-compiled 1 {} {}\n",
        hex(&Sha256::digest(body)),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The home policy's artifact, with its model edited and the checksum recomputed.
fn forge(edit: impl FnOnce(&mut PolicyModel)) -> Vec<u8> {
    let real = common::compiled("policies/home").to_artifact();
    let mut m: PolicyModel = serde_json::from_slice(body(&real)).unwrap();
    edit(&mut m);
    with_checksum(&serde_json::to_vec(&m).unwrap())
}

fn refused(bytes: &[u8]) -> (ArtifactError, String) {
    let e = Compiled::from_artifact(bytes).expect_err("a forged artifact must be refused");
    let msg = e.to_string();
    (e, msg)
}

fn mode(m: &PolicyModel, name: &str) -> u32 {
    m.modes.iter().position(|x| x.name == name).unwrap() as u32
}

fn key() -> SecretKey {
    SecretKey::from_seed([42; 32])
}

#[test]
fn the_untouched_artifact_loads_and_decides_alike() {
    let c = common::compiled("policies/home");
    let loaded = Compiled::from_artifact(&c.to_artifact()).unwrap();
    assert_eq!(loaded.model(), c.model());
    let signed = c.to_signed_artifact(&key());
    let loaded = Compiled::from_signed_artifact(&signed, &key().public_key()).unwrap();
    assert_eq!(loaded.model(), c.model());
    // An unsigned loader takes a signed artifact too (it ignores the signature).
    assert!(Compiled::from_artifact(&signed).is_ok());
}

#[test]
fn a_personalized_fallback_is_refused() {
    let (e, msg) = refused(&forge(|m| m.fallback.mode = mode(m, "personalized")));
    assert!(matches!(
        e,
        ArtifactError::Refused(Refusal::UnsafeFallback { .. })
    ));
    assert_eq!(
        msg,
        "compiled policy is refused: not fail-safe: the `else` mode `personalized` grants `behavior`, which personal class `behavioral_personal` requires (L003)"
    );
}

#[test]
fn two_routes_for_one_mode_are_refused() {
    let (e, msg) = refused(&forge(|m| {
        let p = mode(m, "personalized");
        let fs = m
            .feature_sets
            .iter_mut()
            .find(|f| f.name == "home_contextual")
            .unwrap();
        fs.modes.push(p);
    }));
    assert!(matches!(
        e,
        ArtifactError::Refused(Refusal::RouteConflict { .. })
    ));
    assert_eq!(
        msg,
        "compiled policy is refused: feature sets `home_personalized` and `home_contextual` both route surface `home` in mode `personalized` (E0503)"
    );
}

#[test]
fn an_out_of_range_symbol_is_refused() {
    let (e, msg) = refused(&forge(|m| {
        m.resolve[1].condition = Some(Expr::Compare {
            op: CmpOp::Eq,
            lhs: Operand::Path(P::Surface),
            rhs: Operand::Lit(Literal::Sym(99)),
        });
    }));
    assert!(matches!(
        e,
        ArtifactError::Refused(Refusal::OutOfRange { .. })
    ));
    assert!(
        msg.starts_with(
            "compiled policy is refused: symbol `99` of surface (2 declared) in resolve arm `"
        ) && msg.ends_with("home.rpol:30` is out of range"),
        "{msg}"
    );
}

#[test]
fn an_ill_typed_condition_is_refused() {
    let (e, msg) = refused(&forge(|m| {
        m.resolve[1].condition = Some(Expr::Compare {
            op: CmpOp::Lt,
            lhs: Operand::Path(P::Tenant),
            rhs: Operand::Lit(Literal::Int(3)),
        });
    }));
    assert!(matches!(
        e,
        ArtifactError::Refused(Refusal::IllTyped { .. })
    ));
    assert!(
        msg.contains("ill-typed condition in resolve arm `"),
        "{msg}"
    );
    assert!(msg.contains("home.rpol:30`: "), "{msg}");
    assert!(msg.ends_with("a string compared with an int"), "{msg}");
}

#[test]
fn mode_read_inside_resolve_is_refused() {
    let (e, msg) = refused(&forge(|m| {
        m.resolve[0].condition = Some(Expr::Compare {
            op: CmpOp::Eq,
            lhs: Operand::Path(P::Mode),
            rhs: Operand::Lit(Literal::Sym(0)),
        });
    }));
    assert!(matches!(
        e,
        ArtifactError::Refused(Refusal::Misplaced { .. })
    ));
    assert!(
        msg.ends_with("reads `mode`, which has no value there"),
        "{msg}"
    );
}

#[test]
fn a_duplicate_name_is_refused() {
    let (e, msg) = refused(&forge(|m| {
        let first = m.sources[0].clone();
        m.sources.push(first);
    }));
    assert!(matches!(
        e,
        ArtifactError::Refused(Refusal::Duplicate { .. })
    ));
    assert!(
        msg.contains("source `") && msg.ends_with("` is declared twice"),
        "{msg}"
    );
}

#[test]
fn a_control_character_in_a_name_is_refused() {
    let (e, msg) = refused(&forge(|m| m.sources[0].name = "trending\u{1b}[2J".into()));
    assert!(matches!(e, ArtifactError::Refused(Refusal::BadName { .. })));
    assert_eq!(
        msg,
        "compiled policy is refused: source name `trending\\u{1b}[2J` is empty or has control characters"
    );
}

#[test]
fn a_malformed_digest_is_refused() {
    let (e, msg) = refused(&forge(|m| m.digest = m.digest.to_uppercase()));
    assert!(matches!(e, ArtifactError::Refused(Refusal::BadDigest)));
    assert_eq!(
        msg,
        "compiled policy is refused: the `digest` is not 64 lower-case hex digits"
    );
}

#[test]
fn an_out_of_range_id_in_a_table_is_refused() {
    let (_, msg) = refused(&forge(|m| {
        let fs = &mut m.feature_sets[0];
        fs.features.push(100_000);
    }));
    assert!(msg.contains("names an unknown feature"), "{msg}");
    let (_, msg) = refused(&forge(|m| {
        m.features[0].allowed_purposes.push(64);
    }));
    assert!(
        msg.contains("purpose id") && msg.contains("out of range"),
        "{msg}"
    );
}

#[test]
fn a_hand_edited_encoding_is_refused() {
    let real = common::compiled("policies/home").to_artifact();
    let text = std::str::from_utf8(body(&real)).unwrap();
    // An unknown key, extra whitespace, a duplicated field: each decodes, none
    // is what `rpol compile` writes.
    for edited in [
        text.replacen('{', "{\"forbid_rules_off\":true,", 1),
        text.replacen(",", ", ", 1),
        text.replacen("\"name\":", "\"version\":\"0\",\"name\":", 1),
    ] {
        let e = Compiled::from_artifact(&with_checksum(edited.as_bytes()));
        assert!(
            matches!(
                e,
                Err(ArtifactError::NotCanonical | ArtifactError::Corrupt(_))
            ),
            "{e:?}"
        );
    }
    let e = Compiled::from_artifact(&with_checksum(text.replacen(",", ", ", 1).as_bytes()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "compiled policy was edited: its `body` is not the encoding `rpol compile` writes"
    );
}

#[test]
fn a_decoder_error_never_prints_control_characters() {
    let real = common::compiled("policies/home").to_artifact();
    let text = std::str::from_utf8(body(&real)).unwrap();
    let forged = text.replacen(
        "\"kind\":\"Feature\"",
        "\"kind\":\"\\u001b]0;pwned\\u0007\"",
        1,
    );
    assert_ne!(forged, text);
    let msg = Compiled::from_artifact(&with_checksum(forged.as_bytes()))
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("compiled policy is corrupted: unknown variant"),
        "{msg}"
    );
    assert!(!msg.chars().any(char::is_control), "{msg:?}");
    assert!(msg.contains("\\u{1b}]0;pwned"), "{msg}");
}

/// Forbid rules removed and a digest swapped for another policy's: a checked
/// source could compile to either, so an unsigned load cannot tell; the
/// signature can.
#[test]
fn removed_forbids_and_a_forged_digest_are_caught_by_the_signature() {
    let c = common::compiled("policies/home");
    let signed = c.to_signed_artifact(&key());
    let header_end = signed.iter().position(|b| *b == b'\n').unwrap();
    let sig_field = std::str::from_utf8(&signed[..header_end])
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    for edit in [
        (|m: &mut PolicyModel| m.forbids.clear()) as fn(&mut PolicyModel),
        |m| m.digest = "0".repeat(64),
    ] {
        let forged = forge(edit);
        assert!(Compiled::from_artifact(&forged).is_ok(), "loads unsigned");
        // The attacker keeps the original signature on the edited body.
        let nl = forged.iter().position(|b| *b == b'\n').unwrap();
        let mut resigned = forged[..nl].to_vec();
        resigned.extend_from_slice(format!(" {sig_field}").as_bytes());
        resigned.extend_from_slice(&forged[nl..]);
        let e = Compiled::from_signed_artifact(&resigned, &key().public_key()).unwrap_err();
        assert!(matches!(e, ArtifactError::BadSignature { .. }), "{e:?}");
        // Or signs it with a key of their own.
        let theirs = SecretKey::from_seed([1; 32]);
        let m: PolicyModel = serde_json::from_slice(body(&forged)).unwrap();
        let own = Compiled::build(m).unwrap().to_signed_artifact(&theirs);
        let e = Compiled::from_signed_artifact(&own, &key().public_key()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "compiled policy signature does not verify with public key `{}`",
                hex(&key().public_key().to_bytes())
            )
        );
    }
}

#[test]
fn unsigned_and_malformed_signatures_are_refused() {
    let c = common::compiled("policies/home");
    let pk = key().public_key();
    let e = Compiled::from_signed_artifact(&c.to_artifact(), &pk).unwrap_err();
    assert_eq!(e, ArtifactError::Unsigned);
    assert_eq!(
        e.to_string(),
        "compiled policy is not signed (no `ed25519:` field)"
    );
    let signed = c.to_signed_artifact(&key());
    let text = String::from_utf8(signed.clone()).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    for bad in [
        format!("{} ed25519:00\n{rest}", head.rsplit_once(' ').unwrap().0),
        format!(
            "{} rsa:{}\n{rest}",
            head.rsplit_once(' ').unwrap().0,
            "0".repeat(128)
        ),
    ] {
        let e = Compiled::from_signed_artifact(bad.as_bytes(), &pk).unwrap_err();
        assert_eq!(
            e.to_string(),
            "compiled policy is corrupted: malformed `ed25519` signature field"
        );
    }
    // A flipped signature bit.
    let mut flipped = signed.clone();
    let at = text.find("ed25519:").unwrap() + 10;
    flipped[at] = if flipped[at] == b'0' { b'1' } else { b'0' };
    assert!(matches!(
        Compiled::from_signed_artifact(&flipped, &pk),
        Err(ArtifactError::BadSignature { .. })
    ));
    // The public key of another pair.
    let other = SecretKey::from_seed([3; 32]).public_key();
    assert!(matches!(
        Compiled::from_signed_artifact(&signed, &other),
        Err(ArtifactError::BadSignature { .. })
    ));
    let _: PublicKey = other;
}

/// Every policy and fixture the checker accepts still loads from its
/// artifact: the loader refuses nothing `rpol check` lets through, except an
/// unsafe `else` mode (`L003_fires.rpol` has a safe one).
#[test]
fn every_checked_fixture_loads_from_its_artifact() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths = vec![root.join("policies/home"), root.join("policies/enterprise")];
    for dir in ["tests/check", "tests/lint", "tests/runner"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "rpol") {
                paths.push(e.path());
            }
        }
    }
    let mut loaded = 0;
    for p in paths {
        let Ok(files) = rpol_check::load::read_policy(&p) else {
            continue;
        };
        let c = rpol_check::check(files, None, &rpol_check::load::read_registry);
        let Some(policy) = c.policy else { continue };
        let c = Compiled::build(policy.model).unwrap();
        if let Err(e) = Compiled::from_artifact(&c.to_artifact()) {
            panic!("{}: {e}", p.display());
        }
        loaded += 1;
    }
    assert!(loaded >= 10, "only {loaded} fixtures checked");
}
