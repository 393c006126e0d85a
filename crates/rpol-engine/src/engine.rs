//! Atomic hot swap: services decide against the current policy while a new,
//! checked one is swapped in.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::compile::Compiled;

/// `Send + Sync`; `load` is wait-free for readers.
pub struct Engine {
    current: ArcSwap<Compiled>,
}

impl Engine {
    pub fn new(c: Compiled) -> Engine {
        Engine {
            current: ArcSwap::from_pointee(c),
        }
    }

    /// The policy in force now; keep the guard for the whole decision so that
    /// one decision never mixes two policies.
    pub fn load(&self) -> arc_swap::Guard<Arc<Compiled>> {
        self.current.load()
    }

    /// Swaps in a new policy. A [`Compiled`] exists only for a model that
    /// passed [`Compiled::build`], so a policy that failed its check can never
    /// get here.
    pub fn swap(&self, c: Compiled) -> Arc<Compiled> {
        self.current.swap(Arc::new(c))
    }
}
