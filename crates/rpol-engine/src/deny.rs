//! Deny codes: why a source, feature or reason was denied or suppressed.

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
    /// Not a decision of spec 3.1: a single check got a
    /// [`FeatureId`](crate::FeatureId), [`SourceId`](crate::SourceId) or
    /// [`Prepared`](crate::Prepared) made by another policy (or a registry in
    /// another order, after [`Engine::swap`](crate::Engine::swap)). A full
    /// decision never has it.
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

    /// The code stored as a byte in the static verdict tables (`as u8`);
    /// any byte that is no code reads as `invalid_request`, never as allowed.
    pub(crate) const fn from_u8(v: u8) -> DenyCode {
        match v {
            0 => DenyCode::CapabilityMissing,
            1 => DenyCode::ConditionFalse,
            2 => DenyCode::Forbidden,
            3 => DenyCode::UnknownFeature,
            4 => DenyCode::PurposeProhibited,
            5 => DenyCode::PurposeNotAllowed,
            6 => DenyCode::ModeNotAllowed,
            7 => DenyCode::ConsentRequired,
            9 => DenyCode::NoReasonForCode,
            10 => DenyCode::FeatureDenied,
            _ => DenyCode::InvalidRequest,
        }
    }
}

impl std::fmt::Display for DenyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
