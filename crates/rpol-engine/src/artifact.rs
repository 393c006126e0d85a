//! Compiled artifacts (`rpol compile`): a header line, then the model as JSON.
//!
//! ```text
//! rpol-compiled 1 <sha256 of body> <body length>[ ed25519:<signature>]\n<body>
//! ```
//!
//! The checksum finds accidental damage; it proves nothing about who wrote the
//! file, since an editor recomputes it. So every load also demands the
//! canonical encoding (the body is exactly what `rpol compile` writes for the
//! model it decodes to) and re-establishes what `rpol check` guarantees
//! (`invariants.rs`). Authenticity comes from the optional Ed25519 signature
//! over the unsigned artifact (header without the signature field, newline,
//! body), checked by [`Compiled::from_signed_artifact`] before the body is
//! parsed at all.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::compile::{Compiled, ModelError};
use crate::invariants::{self, Refusal};
use crate::model::PolicyModel;
use crate::signing::{PublicKey, SecretKey, hex, unhex};

const MAGIC: &str = "rpol-compiled";
const VERSION: u32 = 1;
const SIG_PREFIX: &str = "ed25519:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactError {
    NotAnArtifact,
    UnsupportedVersion(String),
    Truncated,
    ChecksumMismatch {
        expected: String,
        actual: String,
    },
    Corrupt(String),
    /// The body decodes, but is not the canonical encoding of what it decodes
    /// to: it was edited by hand (or by a tool other than `rpol compile`).
    NotCanonical,
    /// The model breaks an invariant `rpol check` guarantees.
    Refused(Refusal),
    Invalid(ModelError),
    /// A signed artifact was required and this one carries no signature.
    Unsigned,
    /// The signature does not verify with the given public key.
    BadSignature {
        key: String,
    },
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactError::NotAnArtifact => {
                write!(f, "not a compiled rpol policy (no `{MAGIC}` header)")
            }
            ArtifactError::UnsupportedVersion(v) => write!(
                f,
                "compiled policy format `{v}` is not supported (expected `{VERSION}`)"
            ),
            ArtifactError::Truncated => write!(f, "compiled policy is truncated"),
            ArtifactError::ChecksumMismatch { expected, actual } => write!(
                f,
                "compiled policy is corrupted: checksum `{actual}` does not match `{expected}`"
            ),
            ArtifactError::Corrupt(e) => write!(f, "compiled policy is corrupted: {e}"),
            ArtifactError::NotCanonical => write!(
                f,
                "compiled policy was edited: its `body` is not the encoding `rpol compile` writes"
            ),
            ArtifactError::Refused(r) => write!(f, "compiled policy is refused: {r}"),
            ArtifactError::Invalid(e) => write!(f, "compiled policy is invalid: {e}"),
            ArtifactError::Unsigned => {
                write!(f, "compiled policy is not signed (no `{SIG_PREFIX}` field)")
            }
            ArtifactError::BadSignature { key } => write!(
                f,
                "compiled policy signature does not verify with public key `{key}`"
            ),
        }
    }
}

impl std::error::Error for ArtifactError {}

/// A header and body that passed the length and checksum checks.
struct Parts<'b> {
    /// The unsigned artifact's header line, without its newline.
    header: &'b str,
    signature: Option<[u8; 64]>,
    body: &'b [u8],
}

fn split(bytes: &[u8]) -> Result<Parts<'_>, ArtifactError> {
    let nl =
        bytes
            .iter()
            .position(|b| *b == b'\n')
            .ok_or(if bytes.starts_with(MAGIC.as_bytes()) {
                ArtifactError::Truncated
            } else {
                ArtifactError::NotAnArtifact
            })?;
    let line = std::str::from_utf8(bytes.get(..nl).ok_or(ArtifactError::NotAnArtifact)?)
        .map_err(|_| ArtifactError::NotAnArtifact)?;
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.first() != Some(&MAGIC) {
        return Err(ArtifactError::NotAnArtifact);
    }
    let (version, sum, len, sig) = match parts[..] {
        [_, version, sum, len] => (version, sum, len, None),
        [_, version, sum, len, sig] => (version, sum, len, Some(sig)),
        _ => return Err(ArtifactError::Corrupt("malformed header".into())),
    };
    if version != VERSION.to_string() {
        return Err(ArtifactError::UnsupportedVersion(version.to_string()));
    }
    let signature = sig
        .map(|s| {
            s.strip_prefix(SIG_PREFIX)
                .and_then(unhex::<64>)
                .ok_or_else(|| ArtifactError::Corrupt("malformed `ed25519` signature field".into()))
        })
        .transpose()?;
    // The unsigned header is the line up to the signature field.
    let header = &line[..MAGIC.len() + version.len() + sum.len() + len.len() + 3];
    let len: usize = len
        .parse()
        .map_err(|_| ArtifactError::Corrupt("malformed length".into()))?;
    let body = bytes
        .get(nl + 1..)
        .ok_or(ArtifactError::Corrupt("no body".into()))?;
    if body.len() < len {
        return Err(ArtifactError::Truncated);
    }
    if body.len() > len {
        return Err(ArtifactError::Corrupt(format!(
            "{} bytes after the end of the policy",
            body.len() - len
        )));
    }
    let actual = hex(&Sha256::digest(body));
    if actual != sum {
        return Err(ArtifactError::ChecksumMismatch {
            expected: sum.to_string(),
            actual,
        });
    }
    Ok(Parts {
        header,
        signature,
        body,
    })
}

/// The message a signature covers: the unsigned artifact.
fn signed_message(header: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(header.len() + 1 + body.len());
    msg.extend_from_slice(header.as_bytes());
    msg.push(b'\n');
    msg.extend_from_slice(body);
    msg
}

/// Decodes the body, demands its canonical encoding, re-checks the
/// invariants, and builds the tables.
fn load(body: &[u8]) -> Result<Compiled, ArtifactError> {
    // The decoder's message may quote the body (`unknown variant …`): control
    // characters are escaped so that a forged file cannot reach a terminal.
    let model: PolicyModel = serde_json::from_slice(body).map_err(|e| {
        ArtifactError::Corrupt(
            e.to_string()
                .chars()
                .flat_map(|c| {
                    let esc = c.is_control().then(|| c.escape_default());
                    esc.into_iter()
                        .flatten()
                        .chain((!c.is_control()).then_some(c))
                })
                .collect(),
        )
    })?;
    // Unknown keys, duplicate or reordered fields, other number spellings or
    // whitespace all decode to a model whose encoding differs from the body.
    if serde_json::to_vec(&model).ok().as_deref() != Some(body) {
        return Err(ArtifactError::NotCanonical);
    }
    invariants::check(&model).map_err(ArtifactError::Refused)?;
    Compiled::build(model).map_err(ArtifactError::Invalid)
}

impl Compiled {
    /// The artifact bytes: `rpol-compiled 1 <sha256 of body> <body length>\n<body>`.
    pub fn to_artifact(&self) -> Vec<u8> {
        let body = serde_json::to_vec(&self.model).unwrap_or_default();
        let mut out = format!(
            "{MAGIC} {VERSION} {} {}\n",
            hex(&Sha256::digest(&body)),
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        out
    }

    /// The artifact with an Ed25519 signature over the unsigned artifact in
    /// its header: `rpol-compiled 1 <sha256> <length> ed25519:<128 hex>\n<body>`.
    pub fn to_signed_artifact(&self, key: &SecretKey) -> Vec<u8> {
        let unsigned = self.to_artifact();
        let nl = unsigned
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(unsigned.len());
        let signature = key.sign(&unsigned);
        let mut out = Vec::with_capacity(unsigned.len() + 1 + SIG_PREFIX.len() + 128);
        // `nl` is a position in `unsigned` or its length.
        let (header, rest) = unsigned.split_at_checked(nl).unwrap_or((&unsigned, &[]));
        out.extend_from_slice(header);
        out.extend_from_slice(format!(" {SIG_PREFIX}{}", hex(&signature)).as_bytes());
        out.extend_from_slice(rest);
        out
    }

    /// Loads an artifact, signed or not, without checking who wrote it: the
    /// checksum, the canonical encoding and every invariant of `rpol check`
    /// are verified, a signature is not (use
    /// [`Compiled::from_signed_artifact`] where the file may be forged).
    pub fn from_artifact(bytes: &[u8]) -> Result<Compiled, ArtifactError> {
        load(split(bytes)?.body)
    }

    /// Loads an artifact only if it is signed by the secret key of `key`.
    /// The signature is verified before the body is parsed, so an
    /// unauthenticated body never reaches the JSON decoder.
    pub fn from_signed_artifact(bytes: &[u8], key: &PublicKey) -> Result<Compiled, ArtifactError> {
        let parts = split(bytes)?;
        let signature = parts.signature.ok_or(ArtifactError::Unsigned)?;
        if !key.verify(&signed_message(parts.header, parts.body), &signature) {
            return Err(ArtifactError::BadSignature {
                key: hex(&key.to_bytes()),
            });
        }
        load(parts.body)
    }
}
