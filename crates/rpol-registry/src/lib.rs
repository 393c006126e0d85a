//! The RPOL feature registry (docs/reference.md, The feature registry), loaded from YAML with byte spans into
//! the YAML so that every diagnostic points at the offending line.

mod fast;
mod load;
mod model;
/// The span-carrying YAML value tree, also read by batch mappings.
pub mod yaml;

pub use load::{MAX_ALIAS_REPLAY, MAX_REGISTRY_BYTES, load};
pub use model::{DebugVisibility, RegFeature, Registry, Sp};
