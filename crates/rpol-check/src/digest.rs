use sha2::{Digest, Sha256};

/// SHA-256 lower-case hex over the policy files in sorted path order, then the
/// registry bytes, concatenated with no separator (docs/reference.md, Files and policies).
pub fn digest<'a>(policy_files: impl IntoIterator<Item = &'a str>, registry: &str) -> String {
    let mut h = Sha256::new();
    for f in policy_files {
        h.update(f.as_bytes());
    }
    h.update(registry.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
