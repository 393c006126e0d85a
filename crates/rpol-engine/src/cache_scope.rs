//! `cache_scope` (spec 3.1): the privacy part of any cache key.

use sha2::{Digest, Sha256};

use crate::compile::Compiled;
use crate::decide::Prepared;

/// The cache scope appended to `out` (a reused buffer). `bits` is the two
/// bitmaps back to back: sources in declaration order, then registry
/// features; bit i is bit i % 8 (LSB first) of byte i / 8, set when allowed,
/// each bitmap padded to whole bytes. The decision fills it while it decides,
/// so it costs no second pass.
pub(crate) fn cache_scope_into(c: &Compiled, p: &Prepared<'_>, bits: &[u8], out: &mut String) {
    let m = &c.model;
    let req = p.req;
    let surface = req
        .surface
        .and_then(|s| m.surfaces.get(s as usize))
        .map_or("-", String::as_str);
    let subject = if p.grants & c.personal_caps == 0 {
        "*"
    } else {
        req.user_id
            .as_deref()
            .or(req.anonymous_id.as_deref())
            .unwrap_or("-")
    };
    let hash = Sha256::digest(bits);
    out.push_str(req.tenant.as_deref().unwrap_or("-"));
    out.push('/');
    out.push_str(surface);
    out.push('/');
    out.push_str(
        m.modes
            .get(p.mode as usize)
            .map_or("-", |x| x.name.as_str()),
    );
    out.push('/');
    out.push_str(subject);
    out.push('/');
    out.push_str(req.consent_version.as_deref().unwrap_or("-"));
    out.push('/');
    out.push_str(&c.digest[..12.min(c.digest.len())]);
    out.push('/');
    for b in hash.iter().take(4) {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
}
