//! The region split is exact: every request is decided as its region's
//! witness, and the requests a sweep builds are what the engine parses.

mod common;

use common::Rng;
use proptest::prelude::*;
use rpol_analysis::literals;
use rpol_analysis::regions::Space;
use rpol_analysis::sweep::{Bound, Outcome, reason_codes, sweep};
use rpol_engine::Compiled;
use rpol_engine::model::ContextType;
use serde_json::{Map, Value, json};

fn policies() -> Vec<(&'static str, Compiled)> {
    let root = common::root();
    ["policies/home", "policies/enterprise", "tests/rego/forbids"]
        .into_iter()
        .map(|p| (p, common::compile(&root.join(p))))
        .collect()
}

fn space(c: &Compiled) -> Space {
    let reads = literals::collect(&[c.model()], &[]).expect("splittable");
    Space::build(&[c.model()], &reads).expect("space")
}

/// Strings the policy compares with, and their near misses.
fn string_like(g: &mut Rng, pool: &[String]) -> String {
    let base = g.pick(pool).clone();
    match g.below(5) {
        0 => base,
        1 => format!("{base}{}", g.below(3)),
        2 => base.chars().take(g.below(base.len() + 1)).collect(),
        3 => format!("z{}", g.below(100)),
        _ => String::new(),
    }
}

/// A random valid request over the policy's vocabulary, biased towards the
/// values its conditions compare with.
fn random_request(c: &Compiled, s: &Space, seed: u64) -> Value {
    let m = c.model();
    let mut g = Rng(seed);
    // Literal pools from the classes' own witnesses.
    let mut strs: Vec<String> = Vec::new();
    let mut nums: Vec<i64> = vec![0, 1, 59, 60, 3_600, 86_400];
    for a in &s.axes {
        for cl in &a.classes {
            match &cl.value {
                Some(Value::String(x)) => {
                    strs.push(x.clone());
                    if let Some(n) = rpol_engine::parse_duration(x) {
                        nums.extend([n - 1, n, n + 1]);
                    }
                }
                Some(Value::Number(n)) => {
                    let n = n.as_i64().unwrap_or(0);
                    nums.extend([n.saturating_sub(1), n, n.saturating_add(1)]);
                }
                _ => {}
            }
        }
    }
    let mut o = Map::new();
    o.insert("tenant".into(), json!(string_like(&mut g, &strs)));
    o.insert("surface".into(), json!(g.pick(&m.surfaces)));
    o.insert("purpose".into(), json!(g.pick(&m.purposes)));
    let mut subject = Map::new();
    if g.coin() {
        subject.insert("user_id".into(), json!(string_like(&mut g, &strs)));
    }
    if g.coin() {
        subject.insert("anonymous_id".into(), json!(string_like(&mut g, &strs)));
    }
    if !subject.is_empty() {
        o.insert("subject".into(), Value::Object(subject));
    }
    let mut consent = Map::new();
    for t in &m.consent_topics {
        let st = *g.pick(&["granted", "denied", "unknown", "absent"]);
        if st != "absent" {
            consent.insert(t.clone(), json!(st));
        }
    }
    o.insert("consent".into(), Value::Object(consent));
    if g.coin() {
        o.insert("consent_version".into(), json!(string_like(&mut g, &strs)));
    }
    let mut ctx = Map::new();
    for f in &m.context {
        if g.below(4) == 0 {
            continue;
        }
        let nonneg: Vec<i64> = nums.iter().copied().filter(|n| *n >= 0).collect();
        let v = match &f.ty {
            ContextType::String => json!(string_like(&mut g, &strs)),
            ContextType::Int => json!(*g.pick(&nums) + g.below(3) as i64 - 1),
            ContextType::Bool => json!(g.coin()),
            ContextType::Duration => json!(format!("{}s", g.pick(&nonneg))),
            ContextType::Enum(vs) => json!(g.pick(vs)),
        };
        ctx.insert(f.name.clone(), v);
    }
    o.insert("context".into(), Value::Object(ctx));
    let roles: Vec<&String> = m.roles.iter().take(64).filter(|_| g.coin()).collect();
    o.insert("roles".into(), json!(roles));
    Value::Object(o)
}

fn outcome(c: &Compiled, json: &Value, codes: &[String]) -> Outcome {
    let req = c
        .parse_request(&json.to_string())
        .unwrap_or_else(|e| panic!("valid request {json}: {e}"));
    let mut o = Outcome::default();
    o.fill(c, &req, None, codes);
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The region property: a request is decided exactly as its region's witness.
    #[test]
    fn requests_are_decided_as_their_witness(seed in any::<u64>()) {
        thread_local! {
            static POLICIES: Vec<(&'static str, Compiled, Space, Vec<String>)> = policies()
                .into_iter()
                .map(|(n, c)| { let s = space(&c); let codes = reason_codes(&c); (n, c, s, codes) })
                .collect();
        }
        POLICIES.with(|ps| {
            for (name, c, s, codes) in ps {
                let req = random_request(c, s, seed);
                if c.parse_request(&req.to_string()).is_err() {
                    continue;
                }
                let region = s.classify(&req).unwrap_or_else(|| panic!("{name}: no region for {req}"));
                let witness = s.witness(&region);
                let (a, b) = (outcome(c, &req, codes), outcome(c, &witness, codes));
                prop_assert_eq!(&a, &b, "{}: {} decided unlike its witness {}", name, req, witness);
                // The witness is in its own region.
                prop_assert_eq!(s.classify(&witness), Some(region));
            }
            Ok(())
        })?;
    }
}

/// Every region's bound request equals what the engine parses from its
/// witness, so a sweep decides exactly what `rpol eval` would.
#[test]
fn swept_requests_are_the_parsed_witnesses() {
    for (name, c) in policies() {
        let s = space(&c);
        let b = Bound::new(&s, &c);
        let total = s.count().expect("small");
        // Every region of the small policies, a stride through the big ones.
        let stride = (total / 20_000).max(1);
        let mut i = 0u64;
        let mut checked = 0;
        sweep(&s, &[&b], |choice, reqs| {
            i += 1;
            if !i.is_multiple_of(stride) {
                return;
            }
            let w = s.witness(choice);
            let parsed = c.parse_request(&w.to_string());
            match (reqs[0], parsed) {
                (Some(r), Ok(p)) => assert_eq!(r, &p, "{name}: {w}"),
                (None, Err(_)) => {}
                (r, p) => panic!(
                    "{name}: {w}: bound {:?} but parsed {:?}",
                    r.is_some(),
                    p.is_ok()
                ),
            }
            checked += 1;
        });
        assert!(checked > 0, "{name}: no region checked");
    }
}

/// Fields that nothing reads are not split; tenant, surface and purpose,
/// being required, still get a witness value.
#[test]
fn unread_fields_are_not_split() {
    let c = common::compile(&common::root().join("policies/home"));
    let s = space(&c);
    let fields: Vec<String> = s.axes.iter().map(|a| a.field.display()).collect();
    assert_eq!(
        fields,
        [
            "tenant",
            "surface",
            "purpose",
            "subject.user_id",
            "consent.personalization",
            "consent.session",
            "consent.training",
            "context.authorized",
        ]
    );
    // Classes: tenants bank_a / clinic_b / other; surfaces home / pdp; five purposes.
    let sizes: Vec<usize> = s.axes.iter().map(|a| a.classes.len()).collect();
    assert_eq!(sizes, [3, 2, 5, 2, 3, 3, 3, 3]);
    assert_eq!(s.count(), Some(4_860));
}

/// Past the bound the analysis refuses and names the biggest fields.
#[test]
fn the_region_bound_names_the_fields() {
    let c = common::compile(&common::root().join("policies/enterprise"));
    let err = space(&c).check_bound(1_000).unwrap_err();
    let msg = format!("{err}");
    assert!(msg.contains("over the bound of 1000"), "{msg}");
    let rpol_analysis::AnalysisError::TooManyRegions { fields, .. } = err else {
        panic!("{msg}")
    };
    assert!(
        fields.starts_with("`purpose` (4 classes)") || fields.contains("(4 classes)"),
        "{fields}"
    );
}

/// Two request fields compared with each other cannot be split field by
/// field: the analysis refuses (E0702) rather than answer unproven.
#[test]
fn comparing_two_request_fields_is_refused() {
    // `forbid source [a_src, b_src] when subject.user_id == subject.anonymous_id`
    let c = common::compile(&common::root().join("tests/rego/absent"));
    let err = literals::collect(&[c.model()], &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a condition compares `subject.user_id` with `subject.anonymous_id`, two request fields"
    );
}

/// A parallel sweep gives the same answer however the space is cut: counts
/// add up and the chosen witness region is the same.
#[test]
fn parallel_sweeps_do_not_depend_on_the_cut() {
    use rpol_analysis::sweep::sweep_par_n;
    let c = common::compile(&common::root().join("policies/enterprise"));
    let s = space(&c);
    let b = Bound::new(&s, &c);
    // Regions where source 0 is denied: how many, and the best witness.
    let run = |threads| {
        sweep_par_n(
            threads,
            &s,
            &[&b],
            || (0u64, None::<Vec<usize>>, Outcome::default()),
            |st, choice, reqs| {
                let Some(r) = reqs[0] else { return };
                st.2.fill(&c, r, None, &[]);
                if !st.2.sources[0].is_allowed() {
                    st.0 += 1;
                    if st.1.as_ref().is_none_or(|x| s.better(choice, x)) {
                        st.1 = Some(choice.to_vec());
                    }
                }
            },
            |mut a, b| {
                a.0 += b.0;
                if let Some(r) = b.1
                    && a.1.as_ref().is_none_or(|x| s.better(&r, x))
                {
                    a.1 = Some(r);
                }
                a
            },
        )
    };
    let one = run(1);
    assert!(one.0 > 0);
    for n in [2, 3, 5] {
        let many = run(n);
        assert_eq!((many.0, &many.1), (one.0, &one.1), "{n} threads");
    }
}

/// E0702 names the comparison it refuses: the policy, the condition in
/// `PolicyModel::conditions` order and the comparison in it, which the
/// checker's spans turn into a place in the file.
#[test]
fn a_refused_comparison_has_its_site_and_span() {
    use rpol_analysis::{AnalysisError, Origin};
    let path = common::root().join("tests/rego/absent");
    let checked = common::checked(&path);
    let policy = checked.policy.as_ref().expect("checks");
    let c = rpol_engine::Compiled::build(policy.model.clone()).expect("compiles");
    let err = literals::collect(&[c.model(), c.model()], &[]).unwrap_err();
    let Some(site) = err.site() else {
        panic!("no site: {err:?}")
    };
    assert!(matches!(err, AnalysisError::Relational { .. }));
    assert_eq!(site.origin, Origin::Policy(0));
    let at = &policy.spans.conditions[site.condition];
    let text = checked
        .sources
        .get(at.file)
        .slice(at.comparisons[site.comparison]);
    assert_eq!(text, "subject.user_id == subject.anonymous_id");
    let d = err.diagnostic(at.file, at.comparisons[site.comparison]);
    assert_eq!(d.code, "E0702");
    assert!(
        d.help
            .is_some_and(|h| h.contains("compare each field with literals"))
    );
}

/// The checker lists the comparisons of each condition in the order the
/// analysis counts them (the pre-order of `Compare`, `InList` and
/// `StartsWith`), for every condition of every bundled policy: E0702's
/// site depends on the two agreeing.
#[test]
fn the_checker_and_the_analysis_count_comparisons_alike() {
    use rpol_engine::model::Expr;
    fn count(e: &Expr) -> usize {
        match e {
            Expr::Not(x) => count(x),
            Expr::And(xs) | Expr::Or(xs) => xs.iter().map(count).sum(),
            Expr::Compare { .. } | Expr::InList { .. } | Expr::StartsWith(..) => 1,
            _ => 0,
        }
    }
    let mut seen = 0;
    for dir in [
        "policies/home",
        "policies/enterprise",
        "tests/rego/absent",
        "tests/check/ok.rpol",
    ] {
        let checked = common::checked(&common::root().join(dir));
        let policy = checked.policy.expect(dir);
        let conditions: Vec<&Expr> = policy.model.conditions().collect();
        assert_eq!(conditions.len(), policy.spans.conditions.len(), "{dir}");
        for (e, at) in conditions.iter().zip(&policy.spans.conditions) {
            assert_eq!(count(e), at.comparisons.len(), "{dir}: {e:?}");
            seen += at.comparisons.len();
            // Every comparison lies inside its condition.
            for s in &at.comparisons {
                assert!(at.span.start <= s.start && s.end <= at.span.end, "{dir}");
            }
        }
    }
    assert!(seen > 20, "too few comparisons to prove anything: {seen}");
}
