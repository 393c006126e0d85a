//! Counts of one enforcement run, summed over every batch applied.

use serde::Serialize;

/// What happened to the rows and cells, summed over every batch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    pub rows_in: u64,
    pub rows_out: u64,
    /// Rows that were not a valid request (dropped or kept).
    pub invalid_rows: u64,
    /// Rows dropped, each counted under the first reason that applies, in
    /// the order `invalid`, `expired`, `no_features`.
    pub dropped_invalid: u64,
    pub dropped_expired: u64,
    pub dropped_no_features: u64,
    /// Rows whose `kind` was null or is not declared in the policy's
    /// retention block: they never expire.
    pub rows_without_retention: u64,
    /// Per feature column (table order): cells of rows kept that had a
    /// value and were nulled.
    pub cells_nulled: Vec<(String, u64)>,
}

impl Stats {
    pub fn dropped(&self) -> u64 {
        self.dropped_invalid + self.dropped_expired + self.dropped_no_features
    }
}
