//! Compiled artifacts (`rpol compile`): a header line with a checksum, then the
//! model as JSON. Loading verifies the checksum, then rebuilds and revalidates.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::compile::{Compiled, ModelError};
use crate::model::PolicyModel;

const MAGIC: &str = "rpol-compiled";
const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactError {
    NotAnArtifact,
    UnsupportedVersion(String),
    Truncated,
    ChecksumMismatch { expected: String, actual: String },
    Corrupt(String),
    Invalid(ModelError),
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
            ArtifactError::Invalid(e) => write!(f, "compiled policy is invalid: {e}"),
        }
    }
}

impl std::error::Error for ArtifactError {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    pub fn from_artifact(bytes: &[u8]) -> Result<Compiled, ArtifactError> {
        let nl = bytes.iter().position(|b| *b == b'\n').ok_or(
            if bytes.starts_with(MAGIC.as_bytes()) {
                ArtifactError::Truncated
            } else {
                ArtifactError::NotAnArtifact
            },
        )?;
        let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| ArtifactError::NotAnArtifact)?;
        let parts: Vec<&str> = header.split(' ').collect();
        if parts.first() != Some(&MAGIC) {
            return Err(ArtifactError::NotAnArtifact);
        }
        let [_, version, sum, len] = parts[..] else {
            return Err(ArtifactError::Corrupt("malformed header".into()));
        };
        if version != VERSION.to_string() {
            return Err(ArtifactError::UnsupportedVersion(version.to_string()));
        }
        let len: usize = len
            .parse()
            .map_err(|_| ArtifactError::Corrupt("malformed length".into()))?;
        let body = &bytes[nl + 1..];
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
        let model: PolicyModel =
            serde_json::from_slice(body).map_err(|e| ArtifactError::Corrupt(e.to_string()))?;
        Compiled::build(model).map_err(ArtifactError::Invalid)
    }
}
