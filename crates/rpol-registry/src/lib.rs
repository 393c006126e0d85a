//! Feature registry loader.
