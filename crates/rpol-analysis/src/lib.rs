//! Exact analysis of RPOL policies.
//!
//! RPOL conditions compare request fields only with finitely many literals, so
//! the request space splits into finitely many regions in which every request
//! is decided alike. [`regions`] enumerates them, each with a concrete witness
//! request; [`diff`] and [`verify`] answer questions over all of them; [`replay`]
//! re-decides logged decisions under another policy.

pub mod diff;
pub mod error;
pub mod literals;
pub mod query;
pub mod regions;
pub mod replay;
pub mod sweep;
pub mod symbolic;
pub mod verify;
pub mod wide;

pub use error::{AnalysisError, Origin, Site};
