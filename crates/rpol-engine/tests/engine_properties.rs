//! Properties of the engine over generated requests (proptest):
//! (a) no request JSON panics it; (b) an added forbid rule never allows more;
//! (c) with every consent topic unknown a decision never allows more than with
//! every topic denied, where both resolve to the same mode; (d) the full
//! decision and the single-check API always agree; (e) an invalid request
//! never gets more than the fallback; (f) a decision into a reused buffer
//! equals a fresh one, whatever the buffer held before.

mod common;

use proptest::prelude::*;
use rpol_engine::Compiled;
use rpol_engine::model::{Expr, Forbid, ForbidKind, Literal, Operand, Path};
use serde_json::{Value, json};

fn request() -> impl Strategy<Value = Value> {
    let tenant = prop::sample::select(vec![
        "acme",
        "bank_a",
        "clinic_b",
        "trial_x",
        "northwind",
        "gov_ministry",
    ]);
    let surface = prop::sample::select(vec![
        "home",
        "pdp",
        "workspace_home",
        "search",
        "admin_console",
    ]);
    let purpose = prop::sample::select(vec![
        "personalization",
        "quality_monitoring",
        "ads_targeting",
        "fraud_prevention",
        "training",
        "workspace_recommendations",
        "search_ranking",
        "usage_analytics",
        "security_review",
    ]);
    let state = prop::sample::select(vec!["granted", "denied", "unknown"]);
    let topics = prop::collection::btree_map(
        prop::sample::select(vec![
            "personalization",
            "session",
            "training",
            "workspace_activity",
            "product_analytics",
        ]),
        state,
        0..4,
    );
    let ctx = (
        prop::option::of(prop::sample::select(vec!["ID", "EU", "US"])),
        prop::option::of(prop::sample::select(vec![
            "mobile",
            "desktop",
            "tv",
            "free",
            "business",
            "enterprise",
        ])),
        prop::option::of(any::<bool>()),
        prop::option::of(0i64..2000),
        prop::option::of(prop::sample::select(vec!["5m", "45m", "0d"])),
    );
    let features = prop::option::of(prop::collection::vec(
        prop::sample::select(vec![
            "user_embedding",
            "item_quality_score",
            "doc_freshness",
            "team_membership",
            "made_up",
            "login_anomaly_score",
        ]),
        0..4,
    ));
    (
        tenant,
        surface,
        purpose,
        prop::option::of("[a-z0-9]{1,4}"),
        topics,
        prop::option::of("v[0-9]"),
        ctx,
        features,
        prop::option::of(prop::sample::select(vec![
            "sre",
            "support",
            "security_officer",
            "data_scientist",
        ])),
    )
        .prop_map(
            |(t, s, p, user, consent, cv, (region, device, flag, seats, age), features, role)| {
                let mut r = json!({"tenant": t, "surface": s, "purpose": p, "consent": consent});
                if let Some(u) = user {
                    r["subject"] = json!({"user_id": u});
                }
                if let Some(v) = cv {
                    r["consent_version"] = json!(v);
                }
                let mut c = serde_json::Map::new();
                if let Some(x) = region {
                    c.insert("region".into(), json!(x));
                }
                if let Some(x) = device {
                    c.insert("device".into(), json!(x));
                    c.insert("plan".into(), json!(x));
                }
                if let Some(x) = flag {
                    c.insert("authorized".into(), json!(x));
                    c.insert("sso".into(), json!(x));
                }
                if let Some(x) = seats {
                    c.insert("seats".into(), json!(x));
                }
                if let Some(x) = age {
                    c.insert("session_age".into(), json!(x));
                }
                r["context"] = Value::Object(c);
                if let Some(f) = features {
                    r["features"] = json!(f);
                }
                if let Some(role) = role {
                    r["roles"] = json!([role]);
                }
                r
            },
        )
}

/// Drops what a policy does not declare, so most generated requests are valid.
fn fit(c: &Compiled, mut r: Value) -> Value {
    let m = c.model();
    if let Some(obj) = r["consent"].as_object_mut() {
        obj.retain(|k, _| m.consent_topics.contains(k));
    }
    if let Some(obj) = r["context"].as_object_mut() {
        obj.retain(|k, v| {
            m.context.iter().any(|f| {
                f.name == *k
                    && match &f.ty {
                        rpol_engine::model::ContextType::Enum(vs) => {
                            v.as_str().is_some_and(|s| vs.iter().any(|x| x == s))
                        }
                        _ => true,
                    }
            })
        });
    }
    if let Some(roles) = r["roles"].as_array_mut() {
        roles.retain(|x| m.roles.iter().any(|y| Some(y.as_str()) == x.as_str()));
    }
    r
}

fn allowed(c: &Compiled, d: &rpol_engine::Decision) -> (Vec<u32>, Vec<u32>) {
    let _ = c;
    let sources = d
        .sources
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_allowed())
        .map(|(i, _)| i as u32)
        .collect();
    (sources, d.allowed_features().collect())
}

fn policies() -> Vec<Compiled> {
    vec![
        common::compiled("policies/home"),
        common::compiled("policies/enterprise"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for c in policies() {
            let _ = c.decide_json(&s, &["x_*"]);
            let _ = c.decide_json(&String::from_utf8_lossy(&bytes), &[]);
            let _ = c.decide_json(r#"{"tenant": null, "surface": [], "purpose": {"a": 1}, "context": {"region": 1.5}}"#, &[]);
        }
    }

    #[test]
    fn decide_and_single_checks_agree(r in request()) {
        for c in policies() {
            let r = fit(&c, r.clone());
            let Ok(req) = c.parse_request(&r.to_string()) else { continue };
            let d = c.decide(&req, &["trending_region_ID", "collab_1", "editorial"]);
            let p = c.prepare(&req);
            prop_assert_eq!(p.mode, d.mode);
            for (i, v) in d.sources.iter().enumerate() {
                prop_assert_eq!(*v, c.check_source(&p, c.source_at(i as u32).unwrap()));
            }
            for (i, v) in &d.features {
                prop_assert_eq!(*v, c.check_feature(&p, c.feature_at(*i).unwrap()));
            }
            for (code, o) in &d.reasons {
                prop_assert_eq!(*o, c.explain(&p, code));
            }
            // Decisions are deterministic.
            prop_assert_eq!(d.to_json(&c), c.decide(&req, &["trending_region_ID", "collab_1", "editorial"]).to_json(&c));
        }
    }

    #[test]
    fn an_added_forbid_never_allows_more(r in request(), which in 0usize..6, kind in 0usize..2) {
        for base in policies() {
            let r = fit(&base, r.clone());
            let Ok(req) = base.parse_request(&r.to_string()) else { continue };
            let mut m = base.model().clone();
            let when = match which {
                0 => None,
                1 => Some(Expr::Compare { op: rpol_engine::model::CmpOp::Eq, lhs: Operand::Path(Path::Tenant), rhs: Operand::Lit(Literal::Str("acme".into())) }),
                2 => Some(Expr::Exists(Path::UserId)),
                3 => Some(Expr::Truthy(Path::FeaturePersonal)),
                4 => Some(Expr::Compare { op: rpol_engine::model::CmpOp::Eq, lhs: Operand::Path(Path::ConsentVersion), rhs: Operand::Lit(Literal::Str("v1".into())) }),
                _ => Some(Expr::Not(Box::new(Expr::Exists(Path::AnonymousId)))),
            };
            if kind == 1 && matches!(when, Some(Expr::Truthy(_))) { continue; }
            m.forbids.push(Forbid { kind: if kind == 0 { ForbidKind::Feature } else { ForbidKind::Source }, targets: None, when, because: None, rule: "added:1".into() });
            let narrowed = Compiled::build(m).expect("still valid");
            let (s0, f0) = allowed(&base, &base.decide(&req, &[]));
            let (s1, f1) = allowed(&narrowed, &narrowed.decide(&req, &[]));
            prop_assert!(s1.iter().all(|s| s0.contains(s)), "sources widened");
            prop_assert!(f1.iter().all(|f| f0.contains(f)), "features widened");
        }
    }

    #[test]
    fn unknown_consent_never_allows_more_than_denied(r in request()) {
        for c in policies() {
            let r = fit(&c, r.clone());
            let mut unknown = r.clone();
            let mut denied = r.clone();
            let topics: serde_json::Map<String, Value> = c.model().consent_topics.iter().map(|t| (t.clone(), json!("unknown"))).collect();
            unknown["consent"] = Value::Object(topics.clone());
            denied["consent"] = Value::Object(topics.into_iter().map(|(k, _)| (k, json!("denied"))).collect());
            let (Ok(u), Ok(dn)) = (c.parse_request(&unknown.to_string()), c.parse_request(&denied.to_string())) else { continue };
            let (du, dd) = (c.decide(&u, &[]), c.decide(&dn, &[]));
            if du.mode != dd.mode { continue; }
            let (su, fu) = allowed(&c, &du);
            let (sd, fd) = allowed(&c, &dd);
            prop_assert!(su.iter().all(|s| sd.contains(s)));
            prop_assert!(fu.iter().all(|f| fd.contains(f)));
        }
    }

    #[test]
    fn invalid_requests_get_at_most_the_fallback(r in request(), breakage in 0usize..5) {
        for c in policies() {
            let mut bad = fit(&c, r.clone());
            match breakage {
                0 => bad["surface"] = json!("nowhere"),
                1 => bad["context"] = json!({"nope": 1}),
                2 => bad["subject"] = json!({"user_id": null}),
                3 => bad["purpose"] = json!("mind_reading"),
                _ => bad["extra"] = json!(true),
            }
            let Err((errors, fallback)) = c.decide_json(&bad.to_string(), &[]) else { panic!("accepted an invalid request") };
            prop_assert!(!errors.is_empty());
            prop_assert_eq!(fallback.mode, c.model().fallback.mode);
            prop_assert!(fallback.arm.is_none());
            if breakage == 3 {
                prop_assert_eq!(fallback.allowed_features().count(), 0);
            }
        }
    }

    /// A hand-built feature list, short (sorted) or long (through a bitmap),
    /// with repeats and ids past the registry: the decision covers exactly
    /// the listed registry features, in registry order, each with its single
    /// check's verdict, and its cache scope is the allowed set's.
    #[test]
    fn feature_lists_of_any_length_decide_in_registry_order(
        r in request(),
        ids in prop::collection::vec(0u32..40, 0..200),
    ) {
        for c in policies() {
            let Ok(mut req) = c.parse_request(&fit(&c, r.clone()).to_string()) else { continue };
            let mut list = rpol_engine::Features::new();
            ids.iter().for_each(|&i| list.push_known(i));
            req.features = Some(list);
            let d = c.decide(&req, &[]);
            let nf = c.model().features.len();
            let mut want: Vec<u32> = ids.iter().copied().filter(|&i| (i as usize) < nf).collect();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(d.features.iter().map(|x| x.0).collect::<Vec<_>>(), want);
            let p = c.prepare(&req);
            for (i, v) in &d.features {
                prop_assert_eq!(*v, c.check_feature(&p, c.feature_at(*i).unwrap()));
            }
            let mut set = rpol_engine::AllowedSet::new();
            c.decide_allowed_scoped(&req, &mut set);
            prop_assert_eq!(set.cache_scope(), d.cache_scope.as_str());
        }
    }

    /// One buffer reused across a run of requests (valid, unfit, broken),
    /// reason-code lists (none, few, many with repeats) and both policies:
    /// each decision equals the fresh one, so nothing stale ever leaks
    /// (fewer features, sources or reasons than the previous decision, an
    /// unknown-name list that shrinks, another policy's digest).
    #[test]
    fn a_reused_decision_equals_a_fresh_one(
        run in prop::collection::vec(
            (request(), 0usize..4, prop::collection::vec(prop::sample::select(CODES), 0..24)),
            1..8,
        ),
    ) {
        let policies = policies();
        let mut d = rpol_engine::Decision::new();
        for (r, shape, codes) in &run {
            // Each code once, at its first position (few codes and many take
            // different paths).
            let mut once: Vec<&str> = Vec::new();
            codes.iter().for_each(|&c| if !once.contains(&c) { once.push(c) });
            for c in &policies {
                let text = match shape {
                    0 | 1 => fit(c, r.clone()).to_string(),
                    2 => r.to_string(),
                    _ => "{\"tenant\": 7".to_string(),
                };
                let fresh = c.decide_json(&text, codes);
                let reused = c.decide_json_into(&text, codes, &mut d);
                prop_assert_eq!(d.reasons.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), once.clone());
                match fresh {
                    Ok(f) => {
                        prop_assert!(reused.is_ok());
                        prop_assert_eq!(&d, &f);
                        prop_assert_eq!(d.to_json(c), f.to_json(c));
                        let req = c.parse_request(&text).expect("parsed just now");
                        c.decide_into(&req, codes, &mut d);
                        prop_assert_eq!(&d, &f);
                    }
                    Err((errors, f)) => {
                        prop_assert_eq!(reused.err(), Some(errors));
                        prop_assert_eq!(&d, &f);
                        prop_assert_eq!(d.to_json(c), f.to_json(c));
                    }
                }
            }
        }
    }
}

/// Reason codes that match each policy's reasons, and ones that match none.
const CODES: &[&str] = &[
    "trending_region_ID",
    "collab_1",
    "editorial",
    "team_a",
    "recent_doc_2",
    "trending",
    "user_embedding_nn_3",
    "category_affinity_x",
    "nothing_matches",
    "",
];
