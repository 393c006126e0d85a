//! The data document: the registry and the compiled tables, by name.

use rpol_engine::model::{ContextType, PolicyModel};
use serde_json::{Map, Value, json};

fn names(all: &[String], ids: &[u32]) -> Value {
    Value::Array(
        ids.iter()
            .filter_map(|&i| all.get(i as usize))
            .map(|s| Value::String(s.clone()))
            .collect(),
    )
}

/// `{"rpol_export": {"<policy>": tables}}`.
pub(crate) fn tables(m: &PolicyModel) -> Value {
    let caps = &m.capabilities;
    let mode_names: Vec<String> = m.modes.iter().map(|x| x.name.clone()).collect();
    let class_requires = |c: u32| {
        m.classes
            .get(c as usize)
            .map_or(Value::Array(vec![]), |cl| names(caps, &cl.requires))
    };
    let mut personal: Vec<u32> = m
        .classes
        .iter()
        .filter(|c| c.personal)
        .flat_map(|c| c.requires.iter().copied())
        .collect();
    personal.sort_unstable();
    personal.dedup();

    let modes: Map<String, Value> = m
        .modes
        .iter()
        .map(|x| (x.name.clone(), names(caps, &x.grants)))
        .collect();
    let context: Vec<Value> = m
        .context
        .iter()
        .map(|f| {
            let (ty, variants) = match &f.ty {
                ContextType::String => ("string", Value::Null),
                ContextType::Int => ("int", Value::Null),
                ContextType::Bool => ("bool", Value::Null),
                ContextType::Duration => ("duration", Value::Null),
                ContextType::Enum(vs) => ("enum", json!(vs)),
            };
            json!({"name": f.name, "type": ty, "variants": variants})
        })
        .collect();
    let sources: Vec<Value> = m
        .sources
        .iter()
        .map(|s| json!({"name": s.name, "requires": names(caps, &s.requires)}))
        .collect();
    let features: Vec<Value> = m
        .features
        .iter()
        .map(|f| {
            let class = m.classes.get(f.class as usize);
            json!({
                "name": f.name,
                "entity": f.entity,
                "class": class.map_or("", |c| c.name.as_str()),
                "personal": class.is_some_and(|c| c.personal),
                "sensitive": class.is_some_and(|c| c.sensitive),
                "retention": f.retention_days.and_then(|d| d.checked_mul(86_400)),
                "allowed_modes": names(&mode_names, &f.allowed_modes),
                "allowed_purposes": names(&m.purposes, &f.allowed_purposes),
                "prohibited_purposes": names(&m.purposes, &f.prohibited_purposes),
                "requires_consent": f.requires_consent.and_then(|t| m.consent_topics.get(t as usize)),
                "requires": class_requires(f.class),
            })
        })
        .collect();
    let feature_index: Map<String, Value> = m
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.clone(), json!(i)))
        .collect();
    let feature_names: Vec<String> = m.features.iter().map(|f| f.name.clone()).collect();
    let feature_sets: Vec<Value> = m
        .feature_sets
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "modes": names(&mode_names, &s.modes),
                "surfaces": s.surfaces.as_ref().map(|ids| names(&m.surfaces, ids)),
                "features": names(&feature_names, &s.features),
            })
        })
        .collect();
    let reasons: Vec<Value> = m
        .reasons
        .iter()
        .map(|r| {
            // The capabilities a reason needs: its own and its features' classes'.
            let mut all: Vec<u32> = r.requires.clone();
            for &f in &r.from {
                if let Some(c) = m
                    .features
                    .get(f as usize)
                    .and_then(|f| m.classes.get(f.class as usize))
                {
                    all.extend(&c.requires);
                }
            }
            all.sort_unstable();
            all.dedup();
            json!({
                "name": r.name,
                "text": r.text,
                "codes": r.codes,
                "requires": names(caps, &all),
                "from": names(&feature_names, &r.from),
            })
        })
        .collect();
    let fallback_mode = mode_names
        .get(m.fallback.mode as usize)
        .cloned()
        .unwrap_or_default();
    let tables = json!({
        "name": m.name,
        "version": m.version,
        "digest": m.digest,
        "surfaces": m.surfaces,
        "purposes": m.purposes,
        "consent_topics": m.consent_topics,
        "roles": m.roles,
        "capabilities": m.capabilities,
        "context": context,
        "modes": modes,
        "fallback": {"mode": fallback_mode, "rule": m.fallback.rule},
        "personal_caps": names(caps, &personal),
        "sources": sources,
        "features": features,
        "feature_index": feature_index,
        "feature_sets": feature_sets,
        "reasons": reasons,
    });
    let mut inner = Map::new();
    inner.insert(m.name.clone(), tables);
    json!({ "rpol_export": inner })
}
