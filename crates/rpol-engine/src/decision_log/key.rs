//! The key of subject-id pseudonyms (HMAC-SHA256) and its configuration form.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Hex digits of the keyed hash kept in a pseudonym (128 bits).
const PSEUDONYM_HEX: usize = 32;
/// A key shorter than this is refused: a short key can be guessed, and with
/// it every pseudonym reversed by hashing candidate ids.
pub const MIN_LOG_KEY_BYTES: usize = 16;

/// The secret key of subject-id pseudonyms. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct LogKey {
    /// The HMAC state with the key already absorbed (cloned per id).
    mac: Hmac<Sha256>,
    len: usize,
}

/// Why a log key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKeyError {
    TooShort(usize),
    BadHex,
}

impl fmt::Display for LogKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogKeyError::TooShort(n) => write!(
                f,
                "the log key has {n} bytes, fewer than the {MIN_LOG_KEY_BYTES} required"
            ),
            LogKeyError::BadHex => f.write_str(
                "the log key starts with `hex:` but the rest is not an even number of hex digits",
            ),
        }
    }
}

impl std::error::Error for LogKeyError {}

impl LogKey {
    /// A key from raw bytes (at least [`MIN_LOG_KEY_BYTES`]).
    pub fn new(bytes: &[u8]) -> Result<LogKey, LogKeyError> {
        if bytes.len() < MIN_LOG_KEY_BYTES {
            return Err(LogKeyError::TooShort(bytes.len()));
        }
        // HMAC accepts keys of any length; the error cannot happen.
        let mac = Hmac::<Sha256>::new_from_slice(bytes)
            .map_err(|_| LogKeyError::TooShort(bytes.len()))?;
        Ok(LogKey {
            mac,
            len: bytes.len(),
        })
    }

    /// A key as written in configuration (`RPOL_LOG_KEY`): `hex:` followed by
    /// hex digits, or else the text's own UTF-8 bytes. The prefix is taken in
    /// any case (`HEX:`, `Hex:`): a key meant as hex must never silently
    /// become the bytes of its text.
    pub fn parse(text: &str) -> Result<LogKey, LogKeyError> {
        let prefixed = text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("hex:"));
        match text.get(4..) {
            Some(hex) if prefixed => {
                LogKey::new(&decode_hex(hex.trim()).ok_or(LogKeyError::BadHex)?)
            }
            _ => LogKey::new(text.as_bytes()),
        }
    }

    /// `hmac:` and the first 32 hex digits of HMAC-SHA256(key, id).
    pub fn pseudonym(&self, id: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut out = String::with_capacity(5 + PSEUDONYM_HEX);
        out.push_str("hmac:");
        push_hex(&mut out, tag.get(..PSEUDONYM_HEX / 2).unwrap_or_default());
        out
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogKey(<redacted, {} bytes>)", self.len)
    }
}

/// Whether `s` has the form of a pseudonym this module writes (`hmac:` and
/// 32 lowercase hex digits): a replayed log must hold no raw subject id.
pub fn is_pseudonym(s: &str) -> bool {
    s.strip_prefix("hmac:").is_some_and(|h| {
        h.len() == PSEUDONYM_HEX && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(super) fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_never_printed() {
        assert_eq!(
            LogKey::parse("short").unwrap_err(),
            LogKeyError::TooShort(5)
        );
        assert_eq!(LogKey::parse("hex:abc").unwrap_err(), LogKeyError::BadHex);
        assert_eq!(LogKey::parse("hex:zz").unwrap_err(), LogKeyError::BadHex);
        // The prefix in another case is still a hex key, never text.
        assert_eq!(LogKey::parse("HEX:zz").unwrap_err(), LogKeyError::BadHex);
        let upper = LogKey::parse("HEX:000102030405060708090A0B0C0D0E0F").unwrap();
        let mixed = LogKey::parse("Hex:000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(upper.pseudonym("u1"), mixed.pseudonym("u1"));
        assert!(is_pseudonym(&upper.pseudonym("u1")));
        for raw in [
            "u1",
            "hmac:",
            "hmac:ABCDEF0123456789abcdef0123456789",
            "hmac:00",
        ] {
            assert!(!is_pseudonym(raw), "{raw}");
        }
        let hex = LogKey::parse("hex:000102030405060708090a0b0c0d0e0f").unwrap();
        let raw = LogKey::new(&(0u8..16).collect::<Vec<_>>()).unwrap();
        assert_eq!(hex.pseudonym("u1"), raw.pseudonym("u1"));
        let text = LogKey::parse("correct horse battery staple").unwrap();
        let shown = format!("{text:?}");
        assert!(!shown.contains("horse"), "{shown}");
        assert_eq!(shown, "LogKey(<redacted, 28 bytes>)");
    }

    #[test]
    fn pseudonyms_are_hmac_sha256() {
        // RFC 4231 test case 2 has a 4-byte key; case 1 is 20 bytes of 0x0b
        // over "Hi There": b0344c61d8db38535ca8afceaf0bf12b…
        let key = LogKey::new(&[0x0b; 20]).unwrap();
        assert_eq!(
            key.pseudonym("Hi There"),
            "hmac:b0344c61d8db38535ca8afceaf0bf12b"
        );
    }
}
