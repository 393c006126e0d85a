//! The word-level decision paths (issue 18) against the per-feature
//! reference, on generated policies whose `forbid feature` rules read
//! `feature.*` every way the language allows (class, sensitive, personal,
//! entity, retention, name, `starts_with`, `exists`), combined with request
//! fields that may be absent (an absent field still forbids):
//! (a) each full-decision verdict equals an independent reference that
//!     substitutes the feature's attributes into the rule and evaluates the
//!     rest on the request; (b) it equals the single check; (c) the allowed
//!     set equals the decision's allowed features and sources, and its cache
//!     scope the decision's; (d) `write_json` equals the tree renderer.

use std::path::Path as FsPath;

use proptest::prelude::*;
use rpol_check::SourceInput;
use rpol_engine::model::{Expr, ForbidKind, Literal, Operand, Path, PolicyModel};
use rpol_engine::{AllowedSet, Compiled, Condition, CtxVal, Verdict};
use rpol_testing::workload;

const FEATURE_ATOMS: &[&str] = &[
    "feature.class == behavioral",
    "feature.class in [aggregate, sensitive]",
    "feature.sensitive",
    "not feature.personal",
    "feature.entity == \"user\"",
    "starts_with(feature.entity, \"it\")",
    "feature.retention > 180d",
    "feature.retention <= 60d",
    "exists(feature.retention)",
    "feature.name == f7",
    "feature.name in [f1, f65, f130]",
    "feature.name != f3",
];

const REQUEST_ATOMS: &[&str] = &[
    "tenant in [\"t1\", \"t2\"]",
    "context.region == \"EU\"",
    "purpose == ads_targeting",
    "consent.ads == denied",
    "exists(subject.user_id)",
    "mode == personalized",
    "context.device == tv",
    "starts_with(tenant, \"t1\")",
    "not exists(context.region)",
];

/// A `forbid feature` rule: optional target, optional condition of up to
/// three atoms joined by `and`/`or`, maybe negated.
fn rule() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        prop::sample::select(FEATURE_ATOMS),
        prop::sample::select(REQUEST_ATOMS)
    ];
    (
        prop::option::of(prop::sample::select(vec![
            "f3",
            "[f2, f66, f140]",
            "[f0, f64]",
        ])),
        prop::collection::vec(atom, 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(target, atoms, or, negate)| {
            let mut s = String::from("forbid feature");
            if let Some(t) = target {
                s.push(' ');
                s.push_str(t);
            }
            if !atoms.is_empty() {
                let joined = atoms.join(if or { " or " } else { " and " });
                if negate {
                    s.push_str(&format!(" when not ({joined})"));
                } else {
                    s.push_str(&format!(" when {joined}"));
                }
            }
            s.push_str(" because \"generated\"\n");
            s
        })
}

fn build(rules: &[String], repeat: usize) -> Option<(Compiled, PolicyModel)> {
    let mut text = workload::policy();
    for _ in 0..repeat {
        for r in rules {
            text.push_str(r);
        }
    }
    let reg = workload::registry(150);
    let checked = rpol_check::check(
        vec![SourceInput {
            name: "workload.rpol".into(),
            text,
        }],
        Some(FsPath::new("registry.yaml")),
        &move |_| Ok(reg.clone()),
    );
    let model = checked.policy?.model;
    Some((Compiled::build(model.clone()).ok()?, model))
}

/// `e` with the attributes of feature `f` substituted (an absent retention
/// stays a path, which reads as absent outside a feature rule).
fn substitute(e: &Expr, m: &PolicyModel, f: usize) -> Expr {
    let feat = &m.features[f];
    let class = &m.classes[feat.class as usize];
    let op = |o: &Operand| match o {
        Operand::Path(p) => Operand::Lit(match p {
            Path::FeatureName => Literal::Sym(f as u32),
            Path::FeatureClass => Literal::Sym(feat.class),
            Path::FeatureEntity => Literal::Str(feat.entity.clone()),
            Path::FeaturePersonal => Literal::Bool(class.personal),
            Path::FeatureSensitive => Literal::Bool(class.sensitive),
            Path::FeatureRetention => match feat.retention_days {
                Some(d) => Literal::Duration(d * 86_400),
                None => return o.clone(),
            },
            _ => return o.clone(),
        }),
        lit => lit.clone(),
    };
    let flag = |p: &Path| match p {
        Path::FeaturePersonal => Some(class.personal),
        Path::FeatureSensitive => Some(class.sensitive),
        _ => None,
    };
    match e {
        Expr::Bool(_) | Expr::HasRole { .. } => e.clone(),
        Expr::Not(x) => Expr::Not(Box::new(substitute(x, m, f))),
        Expr::And(xs) => Expr::And(xs.iter().map(|x| substitute(x, m, f)).collect()),
        Expr::Or(xs) => Expr::Or(xs.iter().map(|x| substitute(x, m, f)).collect()),
        Expr::Compare { op: o, lhs, rhs } => Expr::Compare {
            op: *o,
            lhs: op(lhs),
            rhs: op(rhs),
        },
        Expr::InList {
            lhs,
            items,
            negated,
        } => Expr::InList {
            lhs: op(lhs),
            items: items.iter().map(op).collect(),
            negated: *negated,
        },
        Expr::StartsWith(a, b) => Expr::StartsWith(op(a), op(b)),
        Expr::Exists(Path::FeatureRetention) => Expr::Bool(feat.retention_days.is_some()),
        Expr::Exists(p) if p.is_feature() => Expr::Bool(true),
        Expr::Exists(_) => e.clone(),
        Expr::Truthy(p) => flag(p).map_or_else(|| e.clone(), Expr::Bool),
    }
}

/// The reference verdict of registry feature `f`: steps 2–6 from the single
/// check, step 7 by evaluating each rule with the feature substituted.
fn reference(c: &Compiled, m: &PolicyModel, req: &rpol_engine::Request, f: usize) -> Verdict {
    let p = c.prepare(req);
    let single = c.check_feature(&p, c.feature_at(f as u32).unwrap());
    if !matches!(single, Verdict::Allowed | Verdict::Forbidden(_)) {
        return single;
    }
    for (r, rule) in m.forbids.iter().enumerate() {
        if rule.kind != ForbidKind::Feature
            || rule
                .targets
                .as_ref()
                .is_some_and(|t| !t.contains(&(f as u32)))
        {
            continue;
        }
        let fires = rule.when.as_ref().is_none_or(|w| {
            Condition::new(&substitute(w, m, f)).eval(req, Some(p.mode)) != Some(false)
        });
        if fires {
            return Verdict::Forbidden(r as u32);
        }
    }
    Verdict::Allowed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fast_paths_equal_the_reference(
        rules in prop::collection::vec(rule(), 0..6),
        many in any::<bool>(),
        which in prop::collection::vec((0usize..416, any::<bool>()), 4),
    ) {
        // Repeated rules push the entries past 64 (the slow single-check path).
        let Some((c, m)) = build(&rules, if many { 14 } else { 1 }) else {
            return Err(TestCaseError::reject("the checker refused the rules"));
        };
        let stream = workload::requests(416);
        let mut set = AllowedSet::new();
        let mut json = String::new();
        for (k, listed) in which {
            let mut text = stream[k].clone();
            let mut codes: &[&str] = &[];
            if listed {
                // An explicit feature list with unknown names that need escaping, and reasons.
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v["features"] = serde_json::json!(["f1", "f140", "f66", "no\"pe\\x\u{1}\u{e9}", "f2"]);
                text = v.to_string();
                codes = &["a\"b", "x"];
            }
            let req = c.parse_request(&text).unwrap();
            let d = c.decide(&req, codes);
            let p = c.prepare(&req);
            for &(f, v) in &d.features {
                prop_assert_eq!(v, reference(&c, &m, &req, f as usize), "feature f{} of request {}", f, k);
                prop_assert_eq!(v, c.check_feature(&p, c.feature_at(f).unwrap()));
            }
            c.decide_allowed_scoped(&req, &mut set);
            prop_assert_eq!(set.allowed_features().collect::<Vec<_>>(), d.allowed_features().collect::<Vec<_>>());
            let sources: Vec<u32> = (0..d.sources.len() as u32).filter(|&s| d.sources[s as usize].is_allowed()).collect();
            prop_assert_eq!(set.allowed_sources().collect::<Vec<_>>(), sources);
            prop_assert_eq!(set.cache_scope(), d.cache_scope.as_str());
            prop_assert_eq!(set.mode(), d.mode);
            json.clear();
            d.write_json(&c, &mut json);
            prop_assert_eq!(&json, &d.to_json_via_tree(&c));
        }
    }
}

/// A request field's value for the prepare differential: absent, a literal
/// the rules name, another value, or (for hand-built requests) a value of
/// the wrong type.
fn tenant_value(k: u8) -> Option<String> {
    match k % 6 {
        0 => None,
        1 => Some("t1".into()),
        2 => Some("t2".into()),
        3 => Some("t10".into()),
        4 => Some(String::new()),
        _ => Some(format!("t{}", k % 10)),
    }
}

fn context_value(k: u8) -> Option<CtxVal> {
    match k % 7 {
        0 => None,
        1 => Some(CtxVal::Str("EU".into())),
        2 => Some(CtxVal::Str("US".into())),
        3 => Some(CtxVal::Str("\u{1}".into())),
        4 => Some(CtxVal::Bool(true)),
        5 => Some(CtxVal::Enum(u32::from(k) % 4)),
        _ => Some(CtxVal::Int(7)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// `prepare` reads tables built when the policy is compiled; it must
    /// equal evaluating every condition on the request, in every mode, for
    /// absent fields, literals, other values and hand-built values of the
    /// wrong type (which fall back to evaluation).
    #[test]
    fn prepare_equals_evaluation(
        rules in prop::collection::vec(rule(), 0..6),
        many in any::<bool>(),
        fields in prop::collection::vec(
            (any::<u8>(), any::<u8>(), any::<u8>(), 0u32..8, 0u32..5, prop::collection::vec(0u8..5, 3), any::<bool>()),
            6,
        ),
    ) {
        let Some((c, m)) = build(&rules, if many { 14 } else { 1 }) else {
            return Err(TestCaseError::reject("the checker refused the rules"));
        };
        let region = m.context.iter().position(|f| f.name == "region").unwrap();
        let device = m.context.iter().position(|f| f.name == "device").unwrap();
        let stream = workload::requests(416);
        for (k, (t, r, d, purpose, surface, consent, user)) in fields.into_iter().enumerate() {
            let parsed = c.parse_request(&stream[(k * 67 + usize::from(t)) % stream.len()]).unwrap();
            let mut built = c.blank_request();
            built.tenant = tenant_value(t);
            built.context[region] = context_value(r);
            built.context[device] = context_value(d);
            built.purpose = (purpose < 7).then_some(purpose);
            built.surface = (surface < 4).then_some(surface);
            built.consent = consent;
            built.user_id = user.then(|| "u1".to_string());
            for req in [&parsed, &built] {
                prop_assert_eq!(c.prepare(req), c.prepare_evaluated(req, None));
                for mode in 0..4 {
                    prop_assert_eq!(c.prepare_in(req, mode), c.prepare_evaluated(req, Some(mode)));
                }
            }
        }
    }
}
