//! Every word list of the language that the checker accepts, in one place:
//! the checker validates against these lists and the language server's
//! completion offers them, so the two never drift apart.

/// Fields of a `class` block (docs/reference.md, Items).
pub const CLASS_FIELDS: &[&str] = &[
    "requires",
    "personal",
    "sensitive",
    "max_retention",
    "debug",
    "min_group",
];

/// Keys of a test's `given` block: the request of docs/reference.md, Requests (JSON).
pub const GIVEN_FIELDS: &[&str] = &rpol_engine::REQUEST_KEYS;

/// `feature.*` paths in a `forbid feature` condition (docs/reference.md, Expressions).
pub const FEATURE_FIELDS: &[&str] = &[
    "name",
    "class",
    "entity",
    "personal",
    "sensitive",
    "retention",
];

/// The scalar types of a `context` field (the other type is a list of
/// variants).
pub const CONTEXT_TYPES: &[&str] = &["string", "int", "bool", "duration"];

/// The states of a consent topic in a request.
pub const CONSENT_STATES: &[&str] = &["granted", "denied", "unknown"];

/// The fields of `subject` in a request and in conditions.
pub const SUBJECT_FIELDS: &[&str] = &["user_id", "anonymous_id"];

/// Fields of the `policy` header block.
pub const POLICY_FIELDS: &[&str] = &["version", "registry", "description"];

/// Fields of a `mode` block.
pub const MODE_FIELDS: &[&str] = &["grants"];

/// Fields of a `source` block.
pub const SOURCE_FIELDS: &[&str] = &["requires", "when"];

/// Fields of a `feature_set` block.
pub const FEATURE_SET_FIELDS: &[&str] = &["modes", "surfaces", "features"];

/// Fields of a `reason` block.
pub const REASON_FIELDS: &[&str] = &["text", "codes", "requires", "from"];

/// A class's `debug` visibility, least hidden first.
pub const VISIBILITIES: &[&str] = &["open", "restricted", "hidden"];

/// What the `debug` table may clear a role for (`hidden` is never shown).
pub const CLEARANCES: &[&str] = &["open", "restricted"];

/// The functions a condition may call.
pub const FUNCTIONS: &[&str] = &["exists", "starts_with"];

/// What a `resolve` block may decide.
pub const RESOLVE_TARGETS: &[&str] = &["mode"];
