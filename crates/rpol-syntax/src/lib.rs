//! RPOL syntax.
pub mod ast;
