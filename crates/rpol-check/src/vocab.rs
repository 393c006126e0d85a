//! Field names the checker accepts, shared with the language server's
//! completion so that the two never drift apart.

/// Fields of a `class` block (spec 3).
pub const CLASS_FIELDS: &[&str] = &[
    "requires",
    "personal",
    "sensitive",
    "max_retention",
    "debug",
    "min_group",
];

/// Keys of a test's `given` block: the request of spec 7.1.
pub const GIVEN_FIELDS: &[&str] = &rpol_engine::REQUEST_KEYS;

/// `feature.*` paths in a `forbid feature` condition (spec 4).
pub const FEATURE_FIELDS: &[&str] = &[
    "name",
    "class",
    "entity",
    "personal",
    "sensitive",
    "retention",
];
