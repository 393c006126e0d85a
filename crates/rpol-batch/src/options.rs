//! What `apply` does besides nulling denied cells: which rows to drop, the
//! purpose, the time retention is measured at, and the denied column.

use crate::error::BatchError;

/// Reasons to drop a row (any of).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DropWhen {
    /// The row is not a valid request.
    pub invalid: bool,
    /// Every feature column is denied for the row (never on a table without
    /// feature columns).
    pub no_features: bool,
    /// The row's `event_time` is older than `now` minus the retention of its `kind`.
    pub expired: bool,
}

impl DropWhen {
    /// Reads a comma-separated list such as `no_features,invalid,expired`
    /// (an empty text drops nothing).
    pub fn parse(text: &str) -> Result<DropWhen, BatchError> {
        let mut d = DropWhen::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "invalid" => d.invalid = true,
                "no_features" => d.no_features = true,
                "expired" => d.expired = true,
                other => {
                    return Err(BatchError::one(
                        "E0909",
                        format!("`{other}` is not a reason to drop rows"),
                        Some("reasons are `invalid`, `no_features` and `expired`"),
                    ));
                }
            }
        }
        Ok(d)
    }
}

/// How an [`crate::Enforcer`] treats every batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// A fixed purpose for every row; it replaces the mapping's `purpose`.
    pub purpose: Option<String>,
    pub drop: DropWhen,
    /// The time retention is measured at, in milliseconds since the Unix
    /// epoch (a parameter, never the clock, so a run can be repeated).
    pub now_unix_ms: i64,
    /// Add `rpol_denied`: per row, the features nulled and why.
    pub denied_column: bool,
}
