//! RPOL serve-time engine.
pub mod model;
