//! Builds the engine's [`PolicyModel`] from what lowering produced, once the
//! run has no error.

use rpol_engine::model::{self, PolicyModel};

use crate::ModelSpans;
use crate::context::{Cx, Lowered};

/// The model and its spans; `None` when any part failed to lower.
pub(crate) fn into_model(
    lowered: Lowered,
    cx: &mut Cx<'_>,
    digest: String,
) -> Option<(PolicyModel, ModelSpans)> {
    let features = match cx.model_features.take() {
        Some(built) => built?,
        None => crate::registry_check::model_features(cx, &lowered)?.clone(),
    };
    let features = features.into_iter().collect::<Option<Vec<_>>>()?;
    let (name, version) = lowered.header?;
    let (resolve, fallback) = lowered.resolve?;
    let s = &cx.scope;
    let strings = |n: &crate::names::Names| n.names().map(str::to_string).collect::<Vec<_>>();
    let model = PolicyModel {
        name,
        version,
        digest,
        purposes: strings(&s.purposes),
        consent_topics: strings(&s.consent),
        capabilities: strings(&s.capabilities),
        roles: strings(&s.roles),
        surfaces: strings(&s.surfaces),
        context: s
            .context
            .names()
            .zip(&s.context_types)
            .map(|(n, t)| model::ContextField {
                name: n.to_string(),
                ty: t.clone(),
            })
            .collect(),
        modes: lowered.modes.into_iter().collect::<Option<_>>()?,
        resolve,
        fallback,
        classes: lowered.classes.into_iter().collect::<Option<_>>()?,
        sources: lowered.sources.into_iter().collect::<Option<_>>()?,
        features,
        feature_sets: lowered.feature_sets.into_iter().collect::<Option<_>>()?,
        reasons: lowered.reasons.into_iter().collect::<Option<_>>()?,
        forbids: lowered.forbids,
        retention: lowered.retention,
        debug: lowered.debug,
    };
    let mut spans = lowered.spans;
    // In `PolicyModel::conditions` order: arms, source `when`s, forbid rules.
    spans.conditions = lowered
        .arm_conditions
        .into_iter()
        .chain(lowered.source_whens.into_iter().flatten())
        .chain(lowered.forbid_whens.into_iter().flatten())
        .collect();
    Some((model, spans))
}
