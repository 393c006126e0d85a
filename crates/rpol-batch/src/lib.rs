//! RPOL decisions over Arrow record batches: one request per row, built from
//! mapped columns without JSON and decided by the same engine as a serving
//! request. Feature cells are nulled where the row's decision denies the
//! feature; rows are dropped when invalid, without any allowed feature, or
//! past the retention of their kind.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn run(policy: Arc<rpol_engine::Compiled>, batch: arrow::array::RecordBatch) -> Result<(), rpol_batch::BatchError> {
//! let mapping = rpol_batch::Mapping::from_yaml("tenant: tenant\nsurface: {value: home}\npurpose: {value: training}\n", "map.yaml")?;
//! let mut enforcer = rpol_batch::Enforcer::new(policy, &mapping, &batch.schema(), rpol_batch::Options::default())?;
//! let clean = enforcer.apply(&batch)?;
//! # let _ = clean; Ok(()) }
//! ```

// Panic discipline: a batch of hostile data must never abort the process
// that enforces the policy; errors are returned, indexes are checked.
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod cells;
mod enforce;
mod error;
#[cfg(feature = "parquet")]
pub mod files;
mod mapping;
mod options;
mod stats;

pub use enforce::{DENIED_COLUMN, Enforcer, MODE_COLUMN};
pub use error::{BatchError, Finding, Place};
pub use mapping::{Const, Entry, MAX_MAPPING_BYTES, Mapping, Source, Target};
pub use options::{DropWhen, Options};
pub use stats::Stats;
