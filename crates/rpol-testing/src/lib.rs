//! Runs RPOL `test` blocks through the compiled engine that services use
//! (never a second interpreter), with coverage and JSON/JUnit reports.

pub mod by_hand;
mod coverage;
pub mod hostile;
mod observe;
mod report;
mod run;
pub mod workload;

pub use coverage::{Coverage, CoverageItem, CoverageKind};
pub use report::{human, json, junit};
pub use run::{Failure, Options, Report, TestResult, run};
