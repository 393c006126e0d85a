//! Lean outputs (issue 18): the allowed sources and features of a decision
//! as bitmaps in reusable buffers, for a service that needs only the allowed
//! set. Nothing is allocated per call once the buffers have grown to the
//! policy's size.

use crate::compile::Compiled;
use crate::decide::{Prepared, words_to_bytes};
use crate::request::{FeatureName, Partial, Request};

/// The allowed set of one decision, reused across calls
/// ([`Compiled::decide_allowed`]). Bit `i` of [`AllowedSet::feature_words`]
/// is registry feature `i` (64 per word, least significant bit first), set
/// exactly when the full decision ([`Compiled::decide`]) lists the feature
/// as allowed; the same for sources in declaration order.
#[derive(Debug, Clone, Default)]
pub struct AllowedSet {
    mode: u32,
    arm: Option<u32>,
    route: Option<u32>,
    sources: Vec<u64>,
    features: Vec<u64>,
    /// Scratch: the covered features of a route or of the request's list.
    covered: Vec<u64>,
    /// Scratch: the cache-scope bitmap bytes.
    bytes: Vec<u8>,
    cache_scope: String,
}

impl AllowedSet {
    pub fn new() -> AllowedSet {
        AllowedSet::default()
    }

    /// The resolved mode (an index into `model().modes`).
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// The `when` arm that decided the mode (`None`: `else`, or a fallback).
    pub fn arm(&self) -> Option<u32> {
        self.arm
    }

    /// The feature set that routed the decision, if any.
    pub fn route(&self) -> Option<u32> {
        self.route
    }

    /// Allowed registry features as a bitmap, 64 per word.
    pub fn feature_words(&self) -> &[u64] {
        &self.features
    }

    /// Allowed sources as a bitmap, 64 per word.
    pub fn source_words(&self) -> &[u64] {
        &self.sources
    }

    /// Whether registry feature `index` is allowed.
    pub fn is_feature_allowed(&self, index: u32) -> bool {
        bit(&self.features, index)
    }

    /// Whether source `index` (declaration order) is allowed.
    pub fn is_source_allowed(&self, index: u32) -> bool {
        bit(&self.sources, index)
    }

    /// The allowed registry features, in registry order.
    pub fn allowed_features(&self) -> impl Iterator<Item = u32> + '_ {
        ones(&self.features)
    }

    /// The allowed sources, in declaration order.
    pub fn allowed_sources(&self) -> impl Iterator<Item = u32> + '_ {
        ones(&self.sources)
    }

    /// The decision's `cache_scope`, filled by
    /// [`Compiled::decide_allowed_scoped`] (empty after [`Compiled::decide_allowed`]).
    pub fn cache_scope(&self) -> &str {
        &self.cache_scope
    }
}

fn bit(words: &[u64], i: u32) -> bool {
    words
        .get(i as usize / 64)
        .is_some_and(|w| w >> (i % 64) & 1 == 1)
}

/// Sets bit `i` (nothing when `i` is past the words: not a registry feature).
fn set_bit(words: &mut [u64], i: u32) {
    if let Some(w) = words.get_mut(i as usize / 64) {
        *w |= 1 << (i % 64);
    }
}

fn ones(words: &[u64]) -> impl Iterator<Item = u32> + '_ {
    words.iter().enumerate().flat_map(|(k, &w)| {
        let mut bits = w;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let i = bits.trailing_zeros();
                bits &= bits - 1;
                k as u32 * 64 + i
            })
        })
    })
}

impl Compiled {
    /// The allowed sources and features of [`Compiled::decide`] for `req`,
    /// into `out`, without the denied entries, their codes or the cache
    /// scope. A request of another vocabulary gets the fallback's allowed set,
    /// as [`Compiled::decide`] gives it the fallback decision.
    pub fn decide_allowed(&self, req: &Request, out: &mut AllowedSet) {
        self.allowed_of(req, out, false);
    }

    /// [`Compiled::decide_allowed`] and the decision's `cache_scope`
    /// ([`AllowedSet::cache_scope`]).
    pub fn decide_allowed_scoped(&self, req: &Request, out: &mut AllowedSet) {
        self.allowed_of(req, out, true);
    }

    fn allowed_of(&self, req: &Request, out: &mut AllowedSet, scope: bool) {
        if req.vocabulary != self.tags.vocabulary {
            let fallback = self.fallback_request(Partial::default());
            let p = self.prepare_in(&fallback, self.model.fallback.mode);
            return self.allowed_prepared(&p, out, scope);
        }
        let p = self.prepare(req);
        self.allowed_prepared(&p, out, scope);
    }

    /// The allowed set for a prepared request (the decision's coverage: the
    /// request's feature list, else the route's feature set, else the registry).
    pub fn allowed_prepared(&self, p: &Prepared<'_>, out: &mut AllowedSet, scope: bool) {
        let ns = self.model.sources.len();
        let nf = self.feature_consent.len();
        out.mode = p.mode;
        out.arm = p.arm;
        out.route = self.route(p.req.surface, p.mode);
        out.sources.clear();
        out.sources.resize(ns.div_ceil(64), 0);
        for s in 0..ns {
            if self.source_by_index(p, s).is_allowed() {
                set_bit(&mut out.sources, s as u32);
            }
        }
        let covered = match (&p.req.features, out.route) {
            (Some(list), _) => {
                out.covered.clear();
                out.covered.resize(nf.div_ceil(64), 0);
                for f in list.iter() {
                    if let FeatureName::Known(i) = f {
                        set_bit(&mut out.covered, i);
                    }
                }
                true
            }
            (None, Some(r)) => {
                out.covered.clear();
                out.covered.resize(nf.div_ceil(64), 0);
                let set = self.model.feature_sets.get(r as usize);
                for &i in set.map_or(&[][..], |s| &s.features) {
                    set_bit(&mut out.covered, i);
                }
                true
            }
            (None, None) => false,
        };
        self.allowed_words(p, &mut out.features, None);
        if covered {
            out.features
                .iter_mut()
                .zip(&out.covered)
                .for_each(|(a, c)| *a &= c);
        }
        out.cache_scope.clear();
        if scope {
            out.bytes.clear();
            out.bytes.resize(ns.div_ceil(8) + nf.div_ceil(8), 0);
            let (src, feat) = out.bytes.split_at_mut(ns.div_ceil(8));
            words_to_bytes(&out.sources, src);
            words_to_bytes(&out.features, feat);
            crate::cache_scope::cache_scope_into(self, p, &out.bytes, &mut out.cache_scope);
        }
    }
}
