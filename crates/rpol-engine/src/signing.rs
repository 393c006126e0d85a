//! Ed25519 keys for signed artifacts and their key-file format.
//!
//! A key file is one line: a header naming the kind and format version, a
//! space, and the 32 key bytes as 64 lower-case hex digits:
//!
//! ```text
//! rpol-ed25519-secret-key v1 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
//! rpol-ed25519-public-key v1 d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
//! ```
//!
//! The secret line holds the Ed25519 seed (RFC 8032 private key). The header
//! keeps a public key from being used where a secret one is expected (and the
//! reverse), and lets a later format version be told apart.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

pub const SECRET_KEY_HEADER: &str = "rpol-ed25519-secret-key v1";
pub const PUBLIC_KEY_HEADER: &str = "rpol-ed25519-public-key v1";

/// Why a key file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The first word(s) are not the expected header.
    WrongHeader { expected: &'static str },
    /// The key is not 64 hex digits.
    Malformed,
    /// 32 bytes that are not a valid Ed25519 public key (not a curve point).
    InvalidPublicKey,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::WrongHeader { expected } => {
                write!(
                    f,
                    "not an rpol key file of this kind (expected `{expected}`)"
                )
            }
            KeyError::Malformed => f.write_str("the key is not 64 hex digits"),
            KeyError::InvalidPublicKey => f.write_str("the key is not a valid Ed25519 public key"),
        }
    }
}

impl std::error::Error for KeyError {}

/// The signing key of `rpol compile --sign`. Its `Debug` never shows the key.
pub struct SecretKey(SigningKey);

/// The key that [`crate::Compiled::from_signed_artifact`] verifies with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub(crate) VerifyingKey);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public {})",
            hex(self.0.verifying_key().as_bytes())
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex(self.0.as_bytes()))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `N` bytes from lower- or upper-case hex.
pub(crate) fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let &[hi, lo] = pair else { return None };
        *o = digit(hi)? << 4 | digit(lo)?;
    }
    Some(out)
}

/// The hex key after `header` on the file's only line (trailing newline allowed).
fn key_line<'t>(text: &'t str, header: &'static str) -> Result<&'t str, KeyError> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    line.strip_prefix(header)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(KeyError::WrongHeader { expected: header })
}

impl SecretKey {
    /// The key of a 32-byte seed; the caller brings the randomness
    /// (`rpol keygen` reads the operating system's random source).
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from_bytes(&seed))
    }

    pub fn from_key_file(text: &str) -> Result<SecretKey, KeyError> {
        let seed = unhex::<32>(key_line(text, SECRET_KEY_HEADER)?).ok_or(KeyError::Malformed)?;
        Ok(SecretKey::from_seed(seed))
    }

    /// The key file's text, newline-terminated.
    pub fn to_key_file(&self) -> String {
        format!("{SECRET_KEY_HEADER} {}\n", hex(self.0.as_bytes()))
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::InvalidPublicKey)
    }

    pub fn from_key_file(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = unhex::<32>(key_line(text, PUBLIC_KEY_HEADER)?).ok_or(KeyError::Malformed)?;
        PublicKey::from_bytes(&bytes)
    }

    /// The key file's text, newline-terminated.
    pub fn to_key_file(&self) -> String {
        format!("{PUBLIC_KEY_HEADER} {}\n", hex(self.0.as_bytes()))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Strict verification: rejects non-canonical signatures and weak keys,
    /// so one message has one valid signature per key.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_kinds_are_not_confused() {
        let sk = SecretKey::from_seed([7; 32]);
        let pk = sk.public_key();
        let sk_text = sk.to_key_file();
        let pk_text = pk.to_key_file();
        assert!(sk_text.starts_with("rpol-ed25519-secret-key v1 "));
        assert_eq!(SecretKey::from_key_file(&sk_text).unwrap().public_key(), pk);
        assert_eq!(PublicKey::from_key_file(&pk_text).unwrap(), pk);
        assert_eq!(
            PublicKey::from_key_file(&sk_text),
            Err(KeyError::WrongHeader {
                expected: PUBLIC_KEY_HEADER
            })
        );
        assert!(SecretKey::from_key_file(&pk_text).is_err());
        assert_eq!(
            PublicKey::from_key_file("rpol-ed25519-public-key v1 abc\n"),
            Err(KeyError::Malformed)
        );
        assert!(!format!("{sk:?}").contains(&hex(&[7; 32])));
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 section 7.1, TEST 1: the empty message.
        let seed = unhex::<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
        let sk = SecretKey::from_seed(seed);
        assert_eq!(
            hex(&sk.public_key().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = sk.sign(b"");
        assert_eq!(
            hex(&sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert!(sk.public_key().verify(b"", &sig));
        assert!(!sk.public_key().verify(b"x", &sig));
    }
}
