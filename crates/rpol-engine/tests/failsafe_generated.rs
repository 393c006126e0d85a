//! Fail-safe properties over *generated policies* (issue 9): starting from the
//! vocabularies and registries of `policies/home` and `policies/enterprise`,
//! proptest generates new resolve arms, source conditions and forbid rules
//! (random Kleene expressions over every path kind), compiles them through the
//! engine's own model validation, and decides generated requests, valid and
//! broken. For every generated policy and request:
//!
//! 1. the engine never panics, and deciding twice gives the same JSON;
//! 2. an invalid request gets exactly the fallback decision: the `else` mode,
//!    no arm, and the allowed sources and features of the same request
//!    stripped to what survives (tenant, surface, purpose, features; every
//!    consent topic unknown, no subject, context or roles) decided in the
//!    `else` mode — never more;
//! 3. on that error path no feature that needs consent is allowed (so nothing
//!    is allowed that the request with consent denied would refuse for lack
//!    of consent), and no feature or source needs a capability the `else`
//!    mode does not grant;
//! 4. an added forbid rule never allows more.

mod common;

use proptest::prelude::*;
use rpol_engine::Compiled;
use rpol_engine::model::{
    CmpOp, ContextType, Expr, Forbid, ForbidKind, Literal, Operand, Path, PolicyModel,
};
use serde_json::{Map, Value, json};

fn lit(l: Literal) -> Operand {
    Operand::Lit(l)
}

fn cmp(op: CmpOp, p: Path, l: Literal) -> Expr {
    Expr::Compare {
        op,
        lhs: Operand::Path(p),
        rhs: lit(l),
    }
}

/// Atomic conditions over the request, in every shape the checker can
/// produce; `mode` and `feature.*` only where they are allowed.
fn atoms(m: &PolicyModel, with_mode: bool, with_feature: bool) -> Vec<Expr> {
    let mut a = vec![
        Expr::Bool(true),
        Expr::Bool(false),
        Expr::Exists(Path::UserId),
        Expr::Exists(Path::AnonymousId),
        Expr::Exists(Path::ConsentVersion),
        cmp(CmpOp::Eq, Path::Tenant, Literal::Str("acme".into())),
        Expr::StartsWith(
            Operand::Path(Path::Tenant),
            lit(Literal::Str("bank".into())),
        ),
        Expr::StartsWith(Operand::Path(Path::UserId), lit(Literal::Str("u".into()))),
        cmp(CmpOp::Ne, Path::ConsentVersion, Literal::Str("c-1".into())),
    ];
    for s in 0..m.surfaces.len() as u32 {
        a.push(cmp(CmpOp::Eq, Path::Surface, Literal::Sym(s)));
    }
    for p in 0..m.purposes.len() as u32 {
        a.push(cmp(CmpOp::Ne, Path::Purpose, Literal::Sym(p)));
    }
    for t in 0..m.consent_topics.len() as u32 {
        for state in 0..3 {
            a.push(cmp(CmpOp::Eq, Path::Consent(t), Literal::Sym(state)));
            a.push(cmp(CmpOp::Ne, Path::Consent(t), Literal::Sym(state)));
        }
    }
    for r in 0..m.roles.len() as u32 {
        a.push(Expr::HasRole {
            role: r,
            negated: r % 2 == 1,
        });
    }
    for (i, f) in m.context.iter().enumerate() {
        let p = Path::Context(i as u32);
        a.push(Expr::Exists(p));
        match &f.ty {
            ContextType::String => a.push(cmp(CmpOp::Eq, p, Literal::Str("ID".into()))),
            ContextType::Int => {
                a.push(cmp(CmpOp::Ge, p, Literal::Int(50)));
                a.push(cmp(CmpOp::Lt, p, Literal::Int(18)));
            }
            ContextType::Bool => a.push(Expr::Truthy(p)),
            ContextType::Duration => a.push(cmp(CmpOp::Le, p, Literal::Duration(1_800))),
            ContextType::Enum(vs) => a.push(Expr::InList {
                lhs: Operand::Path(p),
                items: (0..vs.len().min(2) as u32)
                    .map(|v| lit(Literal::Sym(v)))
                    .collect(),
                negated: vs.len() % 2 == 0,
            }),
        }
    }
    if with_mode {
        for i in 0..m.modes.len() as u32 {
            a.push(cmp(CmpOp::Eq, Path::Mode, Literal::Sym(i)));
        }
    }
    if with_feature {
        a.push(Expr::Truthy(Path::FeaturePersonal));
        a.push(Expr::Truthy(Path::FeatureSensitive));
        a.push(Expr::Exists(Path::FeatureRetention));
        a.push(cmp(
            CmpOp::Gt,
            Path::FeatureRetention,
            Literal::Duration(40 * 86_400),
        ));
        a.push(cmp(CmpOp::Eq, Path::FeatureName, Literal::Sym(0)));
        a.push(cmp(CmpOp::Eq, Path::FeatureClass, Literal::Sym(0)));
        a.push(cmp(
            CmpOp::Eq,
            Path::FeatureEntity,
            Literal::Str("user".into()),
        ));
    }
    a
}

fn expr(m: &PolicyModel, with_mode: bool, with_feature: bool) -> BoxedStrategy<Expr> {
    let leaf = prop::sample::select(atoms(m, with_mode, with_feature));
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
    .boxed()
}

/// A generated policy: the base's vocabularies and registry with new resolve
/// arms, source conditions and forbid rules.
fn policy(base: PolicyModel) -> BoxedStrategy<PolicyModel> {
    let nm = base.modes.len() as u32;
    let ns = base.sources.len();
    let nf = base.features.len() as u32;
    let arms = prop::collection::vec((expr(&base, false, false), 0..nm), 0..4);
    let whens = prop::collection::vec(prop::option::of(expr(&base, true, false)), ns);
    let forbid = (
        0..3u8,
        prop::option::of(expr(&base, true, true)),
        any::<bool>(),
        0..nf.max(1),
    )
        .prop_map(move |(kind, when, targeted, target)| {
            let kind = match kind {
                0 => ForbidKind::Feature,
                1 => ForbidKind::Source,
                _ => ForbidKind::Reason,
            };
            // Only `forbid feature` may read `feature.*`.
            let when = when.filter(|w| kind == ForbidKind::Feature || !w.reads_feature());
            let targets = targeted.then(|| vec![target % limit(kind, ns as u32, nf)]);
            Forbid {
                kind,
                targets,
                when,
                because: None,
                rule: "generated:1".into(),
            }
        });
    let forbids = prop::collection::vec(forbid, 0..4);
    let fallback = 0..nm;
    (arms, whens, forbids, fallback)
        .prop_map(move |(arms, whens, forbids, fallback)| {
            let mut m = base.clone();
            m.resolve = arms
                .into_iter()
                .map(|(c, mode)| rpol_engine::model::Arm {
                    condition: Some(c),
                    mode,
                    rule: "generated:1".into(),
                })
                .collect();
            m.fallback.mode = fallback;
            for (s, w) in m.sources.iter_mut().zip(whens) {
                s.when = w;
            }
            m.forbids.extend(forbids);
            m
        })
        .boxed()
}

fn limit(kind: ForbidKind, ns: u32, nf: u32) -> u32 {
    match kind {
        ForbidKind::Feature => nf.max(1),
        ForbidKind::Source => ns.max(1),
        ForbidKind::Reason => 1,
    }
}

/// A valid request for the base policy, from its own vocabulary.
fn request(m: &PolicyModel) -> BoxedStrategy<Value> {
    let pick = |v: Vec<String>| prop::sample::select(v);
    let topics = m.consent_topics.clone();
    let consent = prop::collection::vec(
        prop::option::of(prop::sample::select(vec!["granted", "denied", "unknown"])),
        topics.len(),
    )
    .prop_map(move |states| {
        let o: Map<String, Value> = topics
            .iter()
            .zip(states)
            .filter_map(|(t, s)| s.map(|s| (t.clone(), json!(s))))
            .collect();
        Value::Object(o)
    });
    let fields = m.context.clone();
    let context =
        prop::collection::vec((any::<bool>(), 0..100i64), fields.len()).prop_map(move |vals| {
            let o: Map<String, Value> = fields
                .iter()
                .zip(vals)
                .filter(|(_, (present, _))| *present)
                .map(|(f, (_, n))| {
                    let v = match &f.ty {
                        ContextType::String => json!(if n % 2 == 0 { "ID" } else { "DE" }),
                        ContextType::Int => json!(n),
                        ContextType::Bool => json!(n % 2 == 0),
                        ContextType::Duration => json!(format!("{n}m")),
                        ContextType::Enum(vs) => json!(vs[n as usize % vs.len()]),
                    };
                    (f.name.clone(), v)
                })
                .collect();
            Value::Object(o)
        });
    let roles = prop::sample::subsequence(m.roles.clone(), 0..=m.roles.len().min(2));
    let features = prop::option::of(prop::sample::subsequence(
        m.features
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>(),
        0..=m.features.len().min(4),
    ));
    (
        pick(vec!["acme".into(), "bank_a".into()]),
        pick(m.surfaces.clone()),
        pick(m.purposes.clone()),
        prop::option::of(pick(vec!["u1".into(), "x9".into()])),
        prop::option::of(pick(vec!["anon".into()])),
        consent,
        context,
        roles,
        features,
    )
        .prop_map(
            |(tenant, surface, purpose, user, anon, consent, context, roles, features)| {
                let mut r = json!({"tenant": tenant, "surface": surface, "purpose": purpose,
                               "consent": consent, "context": context, "roles": roles,
                               "consent_version": "c-1"});
                let mut subject = Map::new();
                if let Some(u) = user {
                    subject.insert("user_id".into(), json!(u));
                }
                if let Some(a) = anon {
                    subject.insert("anonymous_id".into(), json!(a));
                }
                r["subject"] = Value::Object(subject);
                if let Some(f) = features {
                    r["features"] = json!(f);
                }
                r
            },
        )
        .boxed()
}

fn allowed(d: &rpol_engine::Decision) -> (Vec<usize>, Vec<u32>) {
    (
        d.sources
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_allowed())
            .map(|(i, _)| i)
            .collect(),
        d.allowed_features().collect(),
    )
}

fn base_models() -> Vec<PolicyModel> {
    vec![
        common::checked("policies/home").model,
        common::checked("policies/enterprise").model,
    ]
}

fn case() -> impl Strategy<Value = (PolicyModel, Value, u8)> {
    prop::sample::select(base_models())
        .prop_flat_map(|base| (policy(base.clone()), request(&base), 0..6u8))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_fail_safe((m, req, breakage) in case()) {
        // A model the validation refuses is never served; proptest fails the
        // test if that happens for too many cases, so the generator stays useful.
        let built = Compiled::build(m.clone());
        prop_assume!(built.is_ok(), "refused: {:?}", built.as_ref().err());
        let Ok(c) = built else { unreachable!() };
        // The artifact loads again unless its `else` mode is not fail-safe
        // (issue 16: the loader re-checks what `rpol check` guarantees, and L003
        // on the `else` arm), so the loader refuses no shape the checker makes.
        let grants = &m.modes[m.fallback.mode as usize].grants;
        let unsafe_else = m.classes.iter().any(|k| k.personal && k.requires.iter().any(|r| grants.contains(r)));
        match Compiled::from_artifact(&c.to_artifact()) {
            Ok(l) => prop_assert!(!unsafe_else && l.model() == c.model()),
            Err(e) => prop_assert!(unsafe_else, "refused: {e}"),
        }
        let text = req.to_string();
        // 1. Total and deterministic.
        let d1 = c.decide_json(&text, &["x", "trending_region_1"]).map_err(|(e, _)| TestCaseError::fail(format!("valid request refused: {e}")))?;
        let d2 = c.decide_json(&text, &["x", "trending_region_1"]).map_err(|(e, _)| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(d1.to_json(&c), d2.to_json(&c));

        // 2. An invalid request gets exactly the fallback decision.
        let mut bad = req.clone();
        match breakage {
            0 => bad["extra"] = json!(1),
            1 => bad["subject"] = json!({"user_id": null}),
            2 => bad["context"] = json!({"undeclared": 1}),
            3 => bad["roles"] = json!(["no_such_role"]),
            4 => bad["consent"] = json!({"no_topic": "granted"}),
            _ => bad["consent_version"] = json!(7),
        }
        let Err((errors, fallback)) = c.decide_json(&bad.to_string(), &[]) else {
            return Err(TestCaseError::fail(format!("accepted an invalid request: {bad}")));
        };
        prop_assert!(!errors.is_empty());
        prop_assert_eq!(fallback.mode, m.fallback.mode);
        prop_assert!(fallback.arm.is_none());
        let mut stripped = json!({"tenant": req["tenant"], "surface": req["surface"], "purpose": req["purpose"]});
        if let Some(f) = req.get("features") {
            stripped["features"] = f.clone();
        }
        let mut else_only = m.clone();
        else_only.resolve.clear();
        let e = Compiled::build(else_only).expect("an else-only variant is valid");
        let expected = e.decide_json(&stripped.to_string(), &[]).map_err(|(e, _)| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(allowed(&fallback), allowed(&expected));

        // 3. Nothing on the error path needs consent or an ungranted capability.
        let grants = &m.modes[m.fallback.mode as usize].grants;
        for f in fallback.allowed_features() {
            let feat = &m.features[f as usize];
            prop_assert!(feat.requires_consent.is_none(), "feature {} needs consent", feat.name);
            let class = &m.classes[feat.class as usize];
            prop_assert!(class.requires.iter().all(|c| grants.contains(c)));
        }
        for (i, v) in fallback.sources.iter().enumerate() {
            if v.is_allowed() {
                prop_assert!(m.sources[i].requires.iter().all(|c| grants.contains(c)));
            }
        }

        // 4. An added forbid never allows more.
        let mut narrowed = m.clone();
        narrowed.forbids.push(Forbid { kind: ForbidKind::Feature, targets: None, when: Some(Expr::Exists(Path::UserId)), because: None, rule: "added:1".into() });
        narrowed.forbids.push(Forbid { kind: ForbidKind::Source, targets: None, when: Some(Expr::Not(Box::new(Expr::Exists(Path::AnonymousId)))), because: None, rule: "added:2".into() });
        let n = Compiled::build(narrowed).expect("still valid");
        let dn = n.decide_json(&text, &[]).map_err(|(e, _)| TestCaseError::fail(e.to_string()))?;
        let ((s0, f0), (s1, f1)) = (allowed(&d1), allowed(&dn));
        prop_assert!(s1.iter().all(|s| s0.contains(s)), "sources widened");
        prop_assert!(f1.iter().all(|f| f0.contains(f)), "features widened");
    }
}
