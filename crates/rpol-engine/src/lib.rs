//! The serve-time RPOL evaluator.
//!
//! A [`Compiled`] policy is built from the checker's [`model::PolicyModel`]
//! (in-process, or loaded from an artifact written by `rpol compile`). It
//! decides requests exactly as docs/reference.md says, fails safe, never
//! panics on a request, and checks a single feature or source on a
//! [`Prepared`] request without allocating or hashing strings.
//! [`Engine`] swaps compiled policies atomically while other threads decide.
//!
//! This crate depends on serde and serde_json (the model, requests,
//! artifacts), sha2 (digests, cache scopes), hmac (keyed hashes of subject
//! ids in decision logs), arc-swap (hot swap), ed25519-dalek (signed
//! artifacts, no default features) and foldhash (the keyed name
//! tables of the request path) only: no server, Arrow or Python.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]

mod artifact;
mod cache_scope;
mod compile;
pub mod condition;
mod decide;
mod decision;
mod decision_json;
mod decision_log;
mod deny;
mod engine;
mod eval;
mod fields;
mod ids;
mod invariants;
mod json;
// The request scanner's panic discipline is being reworked with the wire
// path; until then its proven indexing is allowed here as a whole.
#[allow(clippy::indexing_slicing)]
mod json_fast;
mod lean;
pub mod model;
#[allow(clippy::indexing_slicing)]
mod names;
mod prepare;
mod request;
mod signing;

pub use artifact::ArtifactError;
pub use compile::{Compiled, MAX_SET, ModelError};
pub use condition::Condition;
pub use decide::{Prepared, ReasonOutcome, UnknownRetention, Verdict, pattern_matches};
pub use decision::Decision;
pub use decision_log::{
    DecisionSummary, LOG_DENY_CODES, LogKey, LogKeyError, MIN_LOG_KEY_BYTES, VerdictTally,
    allowed_set_hash, is_pseudonym, is_rfc3339, log_code_index, rfc3339_ms,
};
pub use deny::DenyCode;
pub use engine::Engine;
pub use fields::{FieldValue, RequestBuilder};
pub use ids::{FeatureId, SourceId};
pub use invariants::Refusal;
pub use lean::AllowedSet;
pub use names::{NameIter, NameList};
pub use request::{
    CtxVal, FeatureName, Features, MAX_ARRAY_LEN, MAX_DEPTH, MAX_REQUEST_BYTES, MAX_REQUEST_ERRORS,
    REQUEST_KEYS, Request, RequestError, RequestErrors, parse_duration,
};
pub use signing::{KeyError, PUBLIC_KEY_HEADER, PublicKey, SECRET_KEY_HEADER, SecretKey};
