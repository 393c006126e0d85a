//! Ids of registry features and sources, resolved once from names and tied
//! to the policy that resolved them (see `PolicyTags` in `compile.rs`).

/// A registry feature: its registry position, tied to the registry of the
/// policy that resolved it ([`Compiled::feature_id`](crate::Compiled::feature_id)). An id used with a
/// policy whose registry differs (another policy, or one swapped in with the
/// features in another order) is denied `policy_mismatch`, never taken as
/// whatever feature sits at that position there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureId {
    pub(crate) index: u32,
    pub(crate) tag: u64,
}

impl FeatureId {
    pub(crate) fn new(index: u32, tag: u64) -> FeatureId {
        FeatureId { index, tag }
    }

    /// The registry position (an index into `model().features`).
    pub fn index(self) -> u32 {
        self.index
    }
}

/// A candidate source: its declaration position, tied to the sources of the
/// policy that resolved it, as [`FeatureId`] is to its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId {
    pub(crate) index: u32,
    pub(crate) tag: u64,
}

impl SourceId {
    pub(crate) fn new(index: u32, tag: u64) -> SourceId {
        SourceId { index, tag }
    }

    /// The declaration position (an index into `model().sources`).
    pub fn index(self) -> u32 {
        self.index
    }
}
