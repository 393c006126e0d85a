//! Resource limits, checked by a linear scan before the (recursive) parser runs,
//! so hostile input can neither overflow the stack nor take long.

/// Largest source file accepted.
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of `(`, `[` and `{`.
pub const MAX_NESTING: usize = 64;
/// Longest run of consecutive `not` keywords.
pub const MAX_NOT_RUN: usize = 64;
/// Longest string literal, in bytes (escapes included).
pub const MAX_STRING_BYTES: usize = 64 * 1024;
