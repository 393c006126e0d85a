//! The serve-time RPOL evaluator.
//!
//! A [`Compiled`] policy is built from the checker's [`model::PolicyModel`]
//! (in-process, or loaded from an artifact written by `rpol compile`). It
//! decides requests exactly as spec sections 3.1, 4 and 7 say, fails safe, never
//! panics on a request, and checks a single feature or source on a
//! [`Prepared`] request without allocating or hashing strings.
//! [`Engine`] swaps compiled policies atomically while other threads decide.
//!
//! This crate depends on serde, serde_json, sha2, hmac (keyed hashes of subject
//! ids in decision logs), arc-swap and ed25519-dalek (signed artifacts, no
//! default features) only.

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
mod engine;
mod eval;
mod fields;
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
pub use decide::{
    FeatureId, Prepared, ReasonOutcome, SourceId, UnknownRetention, Verdict, pattern_matches,
};
pub use decision::Decision;
pub use decision_log::{
    DecisionSummary, LOG_DENY_CODES, LogKey, LogKeyError, MIN_LOG_KEY_BYTES, VerdictTally,
    allowed_set_hash, is_pseudonym, is_rfc3339, log_code_index, rfc3339_ms,
};
pub use engine::Engine;
pub use fields::{FieldValue, RequestBuilder};
pub use invariants::Refusal;
pub use lean::AllowedSet;
pub use names::{NameIter, NameList};
pub use request::{
    CtxVal, FeatureName, Features, MAX_ARRAY_LEN, MAX_DEPTH, MAX_REQUEST_BYTES, MAX_REQUEST_ERRORS,
    REQUEST_KEYS, Request, RequestError, RequestErrors, parse_duration,
};
pub use signing::{KeyError, PUBLIC_KEY_HEADER, PublicKey, SECRET_KEY_HEADER, SecretKey};

/// Why a source, feature or reason was denied or suppressed (spec 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DenyCode {
    CapabilityMissing,
    ConditionFalse,
    Forbidden,
    UnknownFeature,
    PurposeProhibited,
    PurposeNotAllowed,
    ModeNotAllowed,
    ConsentRequired,
    InvalidRequest,
    NoReasonForCode,
    FeatureDenied,
    /// Not a decision of spec 3.1: a single check got a [`FeatureId`],
    /// [`SourceId`] or [`Prepared`] made by another policy (or a registry in
    /// another order, after [`Engine::swap`]). A full decision never has it.
    PolicyMismatch,
}

impl DenyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::CapabilityMissing => "capability_missing",
            DenyCode::ConditionFalse => "condition_false",
            DenyCode::Forbidden => "forbidden",
            DenyCode::UnknownFeature => "unknown_feature",
            DenyCode::PurposeProhibited => "purpose_prohibited",
            DenyCode::PurposeNotAllowed => "purpose_not_allowed",
            DenyCode::ModeNotAllowed => "mode_not_allowed",
            DenyCode::ConsentRequired => "consent_required",
            DenyCode::InvalidRequest => "invalid_request",
            DenyCode::NoReasonForCode => "no_reason_for_code",
            DenyCode::FeatureDenied => "feature_denied",
            DenyCode::PolicyMismatch => "policy_mismatch",
        }
    }
}

impl std::fmt::Display for DenyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
