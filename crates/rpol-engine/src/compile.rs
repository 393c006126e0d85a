//! Building the serve-time tables from a checked [`PolicyModel`].

use std::collections::HashMap;

use crate::names::NameMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::DenyCode;
use crate::eval::{CExpr, FeatureCtx, Tri};
use crate::ids::{FeatureId, SourceId};
use crate::model::{Clearance, ContextType, ForbidKind, PolicyModel};

/// Capabilities, modes, purposes, surfaces and roles are bit sets of this width.
pub const MAX_SET: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(pub String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

/// One `forbid feature` rule specialised for a group of features: the rule's
/// condition with `feature.*` replaced by each feature's constants (partial
/// evaluation at compile time) leaves a residual over request fields only;
/// the features whose residuals are equal form one entry, decided for all of
/// them by one evaluation per request and one mask. Entries are numbered in
/// rule order, so the lowest fired entry of a feature is its first matching
/// rule.
#[derive(Debug, Clone)]
pub(crate) struct ForbidEntry {
    pub rule: u32,
    /// `None`: fires for every request (no condition, or one that folded to
    /// true or unknown for these features: unknown forbids).
    pub when: Option<CExpr>,
    /// The features of the group, 64 per word.
    pub words: Vec<u64>,
}

/// Static verdict of feature steps 2–5 per (purpose, mode) when they pass.
pub(crate) const PASS: u8 = u8::MAX;
/// No consent topic required.
pub(crate) const NO_TOPIC: u32 = u32::MAX;

#[derive(Debug)]
pub struct Compiled {
    pub(crate) model: PolicyModel,
    pub(crate) digest: Arc<str>,
    pub(crate) mode_grants: Vec<u64>,
    /// Union of the `requires` of every personal class (cache scope subject rule).
    pub(crate) personal_caps: u64,
    pub(crate) class_requires: Vec<u64>,
    pub(crate) source_requires: Vec<u64>,
    pub(crate) source_when: Vec<Option<CExpr>>,
    pub(crate) arms: Vec<CExpr>,
    /// Conditions of `forbid source` and `forbid reason` rules (rule order;
    /// `None` for feature rules, which are decided through `entries`).
    pub(crate) forbid_when: Vec<Option<CExpr>>,
    /// Whether rule `r` is a `forbid source`/`forbid reason` rule.
    pub(crate) forbid_other: Vec<bool>,
    /// `[(purpose * modes + mode) * features + feature]`: one contiguous column
    /// per (purpose, mode), so a decision reads its verdicts sequentially.
    pub(crate) feature_static: Vec<u8>,
    /// Consent topic a feature requires, or `NO_TOPIC`.
    pub(crate) feature_consent: Vec<u32>,
    /// `forbid feature` rules specialised per group of features, rule order.
    pub(crate) entries: Vec<ForbidEntry>,
    /// Per feature: its entries below 64, as bits.
    pub(crate) feature_entry_mask: Vec<u64>,
    /// Entries of feature `f` from 64 on are
    /// `entry_more[entry_more_ranges[f]..entry_more_ranges[f + 1]]` (empty for most policies).
    pub(crate) entry_more: Vec<u32>,
    pub(crate) entry_more_ranges: Vec<u32>,
    /// Word-level tables for deciding every feature at once (64 per word):
    /// features passing steps 2–5, per (purpose × modes + mode) …
    pub(crate) pass_words: Vec<Vec<u64>>,
    /// … and features needing each consent topic.
    pub(crate) topic_words: Vec<Vec<u64>>,
    pub(crate) source_forbids: Vec<Vec<u32>>,
    pub(crate) reason_forbids: Vec<Vec<u32>>,
    pub(crate) reason_requires: Vec<u64>,
    /// `[surface * modes + mode]` → feature set.
    pub(crate) routes: Vec<Option<u32>>,
    pub(crate) feature_index: crate::names::FeatureTable,
    pub(crate) source_index: HashMap<String, u32>,
    pub(crate) role_clearance: Vec<Option<Clearance>>,
    /// Name → id for everything a request names, so that parsing is linear
    /// in the request whatever the size of the policy.
    pub(crate) names: NameIndex,
    /// Identity tags checked on use (see [`PolicyTags`]).
    pub(crate) tags: PolicyTags,
    /// The request-field tables `prepare` reads instead of evaluating.
    pub(crate) plan: crate::prepare::PreparePlan,
}

/// Name indexes of the request vocabulary (first declaration wins, as a scan would).
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    pub surfaces: NameMap,
    pub purposes: NameMap,
    pub consent_topics: NameMap,
    pub context: NameMap,
    pub roles: NameMap,
    /// Per context field: its enum variants (empty for other types).
    pub variants: Vec<NameMap>,
}

fn index_of<'a>(names: impl Iterator<Item = &'a String>) -> NameMap {
    let mut map = NameMap::default();
    for (i, n) in names.enumerate() {
        map.entry(n.clone()).or_insert(i as u32);
    }
    map
}

/// What ties ids, requests and prepared requests to the policy that made them
/// (issue 16): each is checked by one integer compare on use, and a mismatch
/// denies with `policy_mismatch` instead of naming something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolicyTags {
    /// Unique to this `Compiled` in the process: a [`crate::Prepared`] carries
    /// it, because its mode and fired rules belong to this policy alone.
    pub instance: u64,
    /// Hash of the registry's feature names in registry order: a
    /// [`FeatureId`] stays valid across a swap exactly when the new policy
    /// has the same features at the same positions.
    pub features: u64,
    /// The same for source names in declaration order ([`SourceId`]).
    pub sources: u64,
    /// Hash of every name a [`crate::Request`] holds as an id (surfaces,
    /// purposes, consent topics, context fields with their types, roles,
    /// features): a request means the same under any policy with this tag.
    pub vocabulary: u64,
}

/// Never a live instance: a [`crate::Prepared`] with it denies every check.
pub(crate) const NO_INSTANCE: u64 = 0;

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

/// A 64-bit tag of a list of names (SHA-256, length-prefixed, domain-separated).
fn name_tag<'a>(domain: &str, names: impl Iterator<Item = &'a str>) -> u64 {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    for n in names {
        h.update((n.len() as u64).to_le_bytes());
        h.update(n.as_bytes());
    }
    let d = h.finalize();
    // A SHA-256 digest has 32 bytes.
    u64::from_le_bytes(d.first_chunk::<8>().copied().unwrap_or_default())
}

impl PolicyTags {
    fn of(m: &PolicyModel) -> PolicyTags {
        let features = name_tag("features", m.features.iter().map(|f| f.name.as_str()));
        let sources = name_tag("sources", m.sources.iter().map(|s| s.name.as_str()));
        let count = |v: usize| v.to_string();
        let mut vocab: Vec<String> = Vec::new();
        for list in [&m.surfaces, &m.purposes, &m.consent_topics, &m.roles] {
            vocab.push(count(list.len()));
            vocab.extend(list.iter().cloned());
        }
        vocab.push(count(m.context.len()));
        for f in &m.context {
            vocab.push(f.name.clone());
            match &f.ty {
                ContextType::String => vocab.push("string".into()),
                ContextType::Int => vocab.push("int".into()),
                ContextType::Bool => vocab.push("bool".into()),
                ContextType::Duration => vocab.push("duration".into()),
                ContextType::Enum(vs) => {
                    vocab.push(format!("enum {}", vs.len()));
                    vocab.extend(vs.iter().cloned());
                }
            }
        }
        vocab.push(features.to_string());
        PolicyTags {
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
            features,
            sources,
            vocabulary: name_tag("vocabulary", vocab.iter().map(String::as_str)),
        }
    }
}

fn mask(ids: &[u32], what: &str, len: usize) -> Result<u64, ModelError> {
    let mut m = 0u64;
    for &i in ids {
        if i as usize >= len || i as usize >= MAX_SET {
            return Err(ModelError(format!("{what} id {i} is out of range")));
        }
        m |= 1u64 << i;
    }
    Ok(m)
}

fn check_expr(e: &crate::model::Expr, m: &PolicyModel) -> Result<(), ModelError> {
    use crate::model::{Expr, Operand, Path};
    let path_ok = |p: &Path| match p {
        Path::Consent(t) => (*t as usize) < m.consent_topics.len(),
        Path::Context(f) => (*f as usize) < m.context.len(),
        _ => true,
    };
    let op_ok = |o: &Operand| match o {
        Operand::Path(p) => path_ok(p),
        Operand::Lit(_) => true,
    };
    let ok = match e {
        Expr::Bool(_) => true,
        Expr::Not(x) => return check_expr(x, m),
        Expr::And(xs) | Expr::Or(xs) => return xs.iter().try_for_each(|x| check_expr(x, m)),
        Expr::Compare { lhs, rhs, .. } => op_ok(lhs) && op_ok(rhs),
        Expr::InList { lhs, items, .. } => op_ok(lhs) && items.iter().all(op_ok),
        Expr::HasRole { role, .. } => (*role as usize) < m.roles.len(),
        Expr::Exists(p) | Expr::Truthy(p) => path_ok(p),
        Expr::StartsWith(a, b) => op_ok(a) && op_ok(b),
    };
    if ok {
        Ok(())
    } else {
        Err(ModelError(
            "a condition refers to an undeclared topic, field or role".into(),
        ))
    }
}

impl Compiled {
    /// Validates the model (it may come from a file) and derives the tables.
    ///
    /// Runs once per load, before any request. Its indexing is in range by
    /// construction: every id from the model is checked against its list
    /// before use (classes, modes, purposes and topics per feature, forbid
    /// targets against their kind's count, feature-set members), and every
    /// other index ranges over tables sized from the same counts here.
    #[allow(clippy::indexing_slicing)]
    pub fn build(model: PolicyModel) -> Result<Compiled, ModelError> {
        let m = &model;
        for (what, n) in [
            ("capabilities", m.capabilities.len()),
            ("modes", m.modes.len()),
            ("purposes", m.purposes.len()),
            ("surfaces", m.surfaces.len()),
            ("roles", m.roles.len()),
        ] {
            if n > MAX_SET {
                return Err(ModelError(format!(
                    "{n} {what}: at most {MAX_SET} are supported"
                )));
            }
        }
        if m.digest.len() != 64 || !m.digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ModelError("the digest is not 64 hex digits".into()));
        }
        let (nc, nm, np, ns) = (
            m.capabilities.len(),
            m.modes.len(),
            m.purposes.len(),
            m.surfaces.len(),
        );
        let mode_grants = m
            .modes
            .iter()
            .map(|md| mask(&md.grants, "capability", nc))
            .collect::<Result<Vec<_>, _>>()?;
        let class_requires = m
            .classes
            .iter()
            .map(|c| mask(&c.requires, "capability", nc))
            .collect::<Result<Vec<_>, _>>()?;
        let personal_caps = m
            .classes
            .iter()
            .zip(&class_requires)
            .filter(|(c, _)| c.personal)
            .fold(0, |acc, (_, r)| acc | r);
        let source_requires = m
            .sources
            .iter()
            .map(|s| mask(&s.requires, "capability", nc))
            .collect::<Result<Vec<_>, _>>()?;
        for arm in m.resolve.iter().chain([&m.fallback]) {
            if arm.mode as usize >= nm {
                return Err(ModelError("a resolve arm names an undeclared mode".into()));
            }
            if let Some(c) = &arm.condition {
                check_expr(c, m)?;
            }
        }
        if m.fallback.condition.is_some() {
            return Err(ModelError("the fallback arm has a condition".into()));
        }
        let arms = m
            .resolve
            .iter()
            .map(|a| {
                a.condition
                    .as_ref()
                    .map_or(CExpr::Const(Tri::F), CExpr::from_model)
            })
            .collect();
        for s in &m.sources {
            if let Some(w) = &s.when {
                check_expr(w, m)?;
            }
        }
        let source_when = m
            .sources
            .iter()
            .map(|s| s.when.as_ref().map(CExpr::from_model))
            .collect();

        // Per-feature static verdicts for steps 2–5.
        let mut feature_static = vec![PASS; m.features.len() * np * nm];
        let mut feature_consent = Vec::with_capacity(m.features.len());
        let mut feature_index = crate::names::FeatureTable::with_capacity(m.features.len());
        for (fi, f) in m.features.iter().enumerate() {
            let class = class_requires.get(f.class as usize).ok_or_else(|| {
                ModelError(format!("feature `{}` has an undeclared class", f.name))
            })?;
            let allowed_modes = mask(&f.allowed_modes, "mode", nm)?;
            let allowed_p = mask(&f.allowed_purposes, "purpose", np)?;
            let prohibited_p = mask(&f.prohibited_purposes, "purpose", np)?;
            if let Some(t) = f.requires_consent
                && t as usize >= m.consent_topics.len()
            {
                return Err(ModelError(format!(
                    "feature `{}` requires an undeclared consent topic",
                    f.name
                )));
            }
            // Out of range, `feature.retention` would read as absent and a
            // `forbid … when feature.retention > …` would stop firing: refuse.
            if let Some(d) = f.retention_days
                && !(1..=crate::model::MAX_RETENTION_DAYS).contains(&d)
            {
                return Err(ModelError(format!(
                    "feature `{}` has retention_days {d}, outside 1..={}",
                    f.name,
                    crate::model::MAX_RETENTION_DAYS
                )));
            }
            feature_consent.push(f.requires_consent.unwrap_or(NO_TOPIC));
            if feature_index.insert(f.name.clone(), fi as u32).is_some() {
                return Err(ModelError(format!("feature `{}` appears twice", f.name)));
            }
            for p in 0..np {
                for md in 0..nm {
                    let code = if prohibited_p & (1 << p) != 0 {
                        DenyCode::PurposeProhibited as u8
                    } else if allowed_p & (1 << p) == 0 {
                        DenyCode::PurposeNotAllowed as u8
                    } else if allowed_modes & (1 << md) == 0 {
                        DenyCode::ModeNotAllowed as u8
                    } else if class & !mode_grants[md] != 0 {
                        DenyCode::CapabilityMissing as u8
                    } else {
                        PASS
                    };
                    feature_static[(p * nm + md) * m.features.len() + fi] = code;
                }
            }
        }

        // Forbid rules: source and reason conditions, feature entries, target lists.
        let words = m.features.len().div_ceil(64);
        let mut forbid_when = Vec::with_capacity(m.forbids.len());
        let mut forbid_other = Vec::with_capacity(m.forbids.len());
        let mut entries: Vec<ForbidEntry> = Vec::new();
        let mut source_forbids: Vec<Vec<u32>> = vec![Vec::new(); m.sources.len()];
        let mut reason_forbids: Vec<Vec<u32>> = vec![Vec::new(); m.reasons.len()];
        for (ri, rule) in m.forbids.iter().enumerate() {
            let ri = ri as u32;
            if let Some(w) = &rule.when {
                check_expr(w, m)?;
            }
            let when = rule.when.as_ref().map(CExpr::from_model);
            let limit = match rule.kind {
                ForbidKind::Feature => m.features.len(),
                ForbidKind::Source => m.sources.len(),
                ForbidKind::Reason => m.reasons.len(),
            };
            let targets: Vec<u32> = match &rule.targets {
                Some(t) => {
                    if t.iter().any(|&i| i as usize >= limit) {
                        return Err(ModelError(format!(
                            "forbid rule at {} targets an undeclared name",
                            rule.rule
                        )));
                    }
                    t.clone()
                }
                None => (0..limit as u32).collect(),
            };
            match rule.kind {
                ForbidKind::Feature => {
                    // This rule's entries, by residual (equal residuals share one).
                    let first = entries.len();
                    for &fi in &targets {
                        let residual = match &when {
                            None => None,
                            Some(w) if !w.reads_feature() => Some(w.clone()),
                            Some(w) => {
                                let f = &m.features[fi as usize];
                                let class = m
                                    .classes
                                    .get(f.class as usize)
                                    .ok_or_else(|| ModelError("undeclared class".into()))?;
                                let ctx = FeatureCtx {
                                    id: fi,
                                    class: f.class,
                                    entity: &f.entity,
                                    personal: class.personal,
                                    sensitive: class.sensitive,
                                    retention_secs: f
                                        .retention_days
                                        .and_then(|d| d.checked_mul(86_400)),
                                };
                                match w.fold_feature(&ctx) {
                                    CExpr::Const(Tri::F) => continue,
                                    CExpr::Const(_) => None,
                                    residual => Some(residual),
                                }
                            }
                        };
                        let k = match entries[first..].iter().position(|e| e.when == residual) {
                            Some(k) => first + k,
                            None => {
                                entries.push(ForbidEntry {
                                    rule: ri,
                                    when: residual,
                                    words: vec![0; words],
                                });
                                entries.len() - 1
                            }
                        };
                        entries[k].words[fi as usize / 64] |= 1 << (fi % 64);
                    }
                }
                ForbidKind::Source => targets
                    .iter()
                    .for_each(|&s| source_forbids[s as usize].push(ri)),
                ForbidKind::Reason => targets
                    .iter()
                    .for_each(|&r| reason_forbids[r as usize].push(ri)),
            }
            let other = rule.kind != ForbidKind::Feature;
            forbid_other.push(other);
            forbid_when.push(if other { when } else { None });
        }

        let mut reason_requires = Vec::with_capacity(m.reasons.len());
        for r in &m.reasons {
            let mut req = mask(&r.requires, "capability", nc)?;
            for &f in &r.from {
                let feat = m.features.get(f as usize).ok_or_else(|| {
                    ModelError(format!("reason `{}` draws from an unknown feature", r.name))
                })?;
                req |= class_requires[feat.class as usize];
            }
            reason_requires.push(req);
        }

        let mut routes = vec![None; ns * nm];
        for (i, fs) in m.feature_sets.iter().enumerate() {
            if fs.features.iter().any(|&f| f as usize >= m.features.len()) {
                return Err(ModelError(format!(
                    "feature set `{}` names an unknown feature",
                    fs.name
                )));
            }
            let modes = mask(&fs.modes, "mode", nm)?;
            let surfaces = match &fs.surfaces {
                Some(s) => mask(s, "surface", ns)?,
                None => u64::MAX,
            };
            for s in 0..ns {
                for md in 0..nm {
                    if modes & (1 << md) != 0 && surfaces & (1 << s) != 0 {
                        // The checker rejects overlaps (E0503); first wins if a file says otherwise.
                        routes[s * nm + md].get_or_insert(i as u32);
                    }
                }
            }
        }
        let mut feature_entry_mask = vec![0u64; m.features.len()];
        let mut more: Vec<Vec<u32>> = vec![Vec::new(); m.features.len()];
        for (k, e) in entries.iter().enumerate() {
            for (fi, list) in more.iter_mut().enumerate() {
                if e.words[fi / 64] >> (fi % 64) & 1 == 1 {
                    if k < 64 {
                        feature_entry_mask[fi] |= 1 << k;
                    } else {
                        list.push(k as u32);
                    }
                }
            }
        }
        let mut entry_more = Vec::new();
        let mut entry_more_ranges = Vec::with_capacity(m.features.len() + 1);
        entry_more_ranges.push(0u32);
        for list in more {
            entry_more.extend(list);
            entry_more_ranges.push(entry_more.len() as u32);
        }
        let word_set = |pred: &dyn Fn(usize) -> bool| -> Vec<u64> {
            let mut w = vec![0u64; words];
            for f in 0..m.features.len() {
                if pred(f) {
                    w[f / 64] |= 1 << (f % 64);
                }
            }
            w
        };
        let pass_words = (0..np * nm)
            .map(|pm| word_set(&|f| feature_static[pm * m.features.len() + f] == PASS))
            .collect();
        let topic_words = (0..m.consent_topics.len())
            .map(|t| word_set(&|f| feature_consent[f] == t as u32))
            .collect();
        let source_index = m
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as u32))
            .collect();
        let mut role_clearance = vec![None; m.roles.len()];
        for (r, c) in &m.debug {
            *role_clearance
                .get_mut(*r as usize)
                .ok_or_else(|| ModelError("debug names an undeclared role".into()))? = Some(*c);
        }
        let names = NameIndex {
            surfaces: index_of(m.surfaces.iter()),
            purposes: index_of(m.purposes.iter()),
            consent_topics: index_of(m.consent_topics.iter()),
            context: index_of(m.context.iter().map(|f| &f.name)),
            roles: index_of(m.roles.iter()),
            variants: m
                .context
                .iter()
                .map(|f| match &f.ty {
                    ContextType::Enum(vs) => index_of(vs.iter()),
                    _ => NameMap::default(),
                })
                .collect(),
        };
        let tags = PolicyTags::of(m);
        let mut c = Compiled {
            names,
            tags,
            plan: crate::prepare::PreparePlan::default(),
            digest: m.digest.as_str().into(),
            mode_grants,
            personal_caps,
            class_requires,
            source_requires,
            source_when,
            arms,
            forbid_when,
            forbid_other,
            feature_static,
            feature_consent,
            entries,
            feature_entry_mask,
            entry_more,
            entry_more_ranges,
            pass_words,
            topic_words,
            source_forbids,
            reason_forbids,
            reason_requires,
            routes,
            feature_index,
            source_index,
            role_clearance,
            model,
        };
        c.plan = crate::prepare::PreparePlan::build(&c);
        Ok(c)
    }

    pub fn model(&self) -> &PolicyModel {
        &self.model
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The id of a registry feature, tied to this policy's registry: resolve
    /// names once at start-up. After [`crate::Engine::swap`] the id still
    /// works if the new registry has the same features in the same order, and
    /// is denied `policy_mismatch` otherwise.
    pub fn feature_id(&self, name: &str) -> Option<FeatureId> {
        self.feature_index
            .get(name)
            .map(|&i| FeatureId::new(i, self.tags.features))
    }

    /// The id of the feature at registry position `index`.
    pub fn feature_at(&self, index: u32) -> Option<FeatureId> {
        ((index as usize) < self.model.features.len())
            .then(|| FeatureId::new(index, self.tags.features))
    }

    /// Every registry feature, in registry order.
    pub fn feature_ids(&self) -> impl ExactSizeIterator<Item = FeatureId> + '_ {
        (0..self.model.features.len() as u32).map(|i| FeatureId::new(i, self.tags.features))
    }

    /// The id of a source, tied to this policy's sources (as [`Compiled::feature_id`]).
    pub fn source_id(&self, name: &str) -> Option<SourceId> {
        self.source_index
            .get(name)
            .map(|&i| SourceId::new(i, self.tags.sources))
    }

    /// The id of the source at declaration position `index`.
    pub fn source_at(&self, index: u32) -> Option<SourceId> {
        ((index as usize) < self.model.sources.len())
            .then(|| SourceId::new(index, self.tags.sources))
    }

    /// Every source, in declaration order.
    pub fn source_ids(&self) -> impl ExactSizeIterator<Item = SourceId> + '_ {
        (0..self.model.sources.len() as u32).map(|i| SourceId::new(i, self.tags.sources))
    }

    /// The name of a feature; `None` for an id of another registry.
    pub fn feature_name(&self, f: FeatureId) -> Option<&str> {
        self.own_feature(f)
            .and_then(|i| self.model.features.get(i as usize))
            .map(|x| x.name.as_str())
    }

    /// The registry position of `f` if it was made by a policy with this registry.
    #[inline]
    pub(crate) fn own_feature(&self, f: FeatureId) -> Option<u32> {
        (f.tag == self.tags.features).then_some(f.index)
    }
}
