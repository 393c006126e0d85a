//! The Rego export decides exactly as the native evaluator (docs/rego.md): requests
//! generated from each policy's own vocabulary (absent and present optional
//! fields, every consent state, every enum value, literals and their
//! neighbours from the policy's conditions, unknown features, reason codes,
//! and invalid requests) are decided by both, and the whole decision JSON
//! must be equal. A difference fails with the request printed.

use std::cell::RefCell;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rpol_check::load;
use rpol_engine::Compiled;
use rpol_engine::model::{ContextType, Expr, Literal, Operand, PolicyModel};
use rpol_rego::{RegoEvaluator, comparable, export};
use serde_json::{Map, Value, json};

fn model(dir: &str) -> PolicyModel {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = load::read_policy(&root.join(dir)).expect("policy files");
    let c = rpol_check::check(files, None, &load::read_registry);
    c.policy
        .unwrap_or_else(|| panic!("{dir} has errors: {:#?}", c.diagnostics))
        .model
}

/// Literals the policy's conditions compare with, so that generated values
/// land on, next to and away from every threshold.
#[derive(Default)]
struct Pools {
    strings: Vec<String>,
    numbers: Vec<i64>,
}

fn collect(e: &Expr, p: &mut Pools) {
    let mut op = |o: &Operand| {
        if let Operand::Lit(l) = o {
            match l {
                Literal::Str(s) => {
                    p.strings.push(s.clone());
                    p.strings.push(format!("{s}x"));
                }
                Literal::Int(i) | Literal::Duration(i) => {
                    for d in [-1, 0, 1] {
                        p.numbers.push(i.saturating_add(d));
                    }
                }
                _ => {}
            }
        }
    };
    match e {
        Expr::Not(x) => collect(x, p),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| collect(x, p)),
        Expr::Compare { lhs, rhs, .. } | Expr::StartsWith(lhs, rhs) => {
            op(lhs);
            op(rhs);
        }
        Expr::InList { lhs, items, .. } => {
            op(lhs);
            items.iter().for_each(op);
        }
        _ => {}
    }
}

fn pools(m: &PolicyModel) -> Pools {
    let mut p = Pools::default();
    let exprs = m
        .resolve
        .iter()
        .filter_map(|a| a.condition.as_ref())
        .chain(m.sources.iter().filter_map(|s| s.when.as_ref()))
        .chain(m.forbids.iter().filter_map(|f| f.when.as_ref()));
    for e in exprs {
        collect(e, &mut p);
    }
    p.strings.extend([
        "acme".to_string(),
        String::new(),
        "staff_1".into(),
        "v2".into(),
    ]);
    p.numbers.extend([0, 1, 17, 18, 3_600, 86_400]);
    p.strings.sort();
    p.strings.dedup();
    p.numbers.sort();
    p.numbers.dedup();
    p
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: Vec<T>) -> BoxedStrategy<T> {
    proptest::sample::select(items).boxed()
}

/// Duration strings whose seconds are `n` (in the largest exact unit).
fn duration(n: i64) -> String {
    let n = n.max(0);
    for (unit, secs) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if n > 0 && n % secs == 0 {
            return format!("{}{unit}", n / secs);
        }
    }
    format!("{n}s")
}

/// One optional key: absent (None) or a value.
type Field = BoxedStrategy<Option<(String, Value)>>;

fn optional(key: &str, values: BoxedStrategy<Value>) -> Field {
    let key = key.to_string();
    prop_oneof![
        1 => Just(None),
        2 => values.prop_map(move |v| Some((key.clone(), v))),
    ]
    .boxed()
}

fn object(fields: Vec<Field>) -> BoxedStrategy<Value> {
    fields
        .prop_map(|fs| Value::Object(fs.into_iter().flatten().collect::<Map<String, Value>>()))
        .boxed()
}

fn request(m: &PolicyModel) -> BoxedStrategy<(Value, Vec<String>)> {
    let p = pools(m);
    let strings = pick(p.strings.clone()).prop_map(Value::String).boxed();
    let with_bad = |names: &[String], bad: &str| {
        let mut v: Vec<String> = names.to_vec();
        v.push(bad.to_string());
        v
    };
    let surfaces = prop_oneof![
        12 => pick(m.surfaces.clone()),
        1 => Just("no_surface".to_string()),
    ];
    let purposes = prop_oneof![
        12 => pick(m.purposes.clone()),
        1 => Just("no_purpose".to_string()),
    ];
    let subject = object(vec![
        optional("user_id", strings.clone()),
        optional("anonymous_id", strings.clone()),
    ]);
    let states = prop_oneof![
        10 => pick(vec!["granted", "denied", "unknown"]).prop_map(|s| json!(s)),
        1 => Just(json!("maybe")),
    ]
    .boxed();
    let consent = object(
        m.consent_topics
            .iter()
            .map(|t| optional(t, states.clone()))
            .collect(),
    );
    let numbers = pick(p.numbers.clone());
    let context = object(
        m.context
            .iter()
            .map(|f| {
                let values: BoxedStrategy<Value> = match &f.ty {
                    ContextType::String => strings.clone(),
                    ContextType::Int => numbers.clone().prop_map(|n| json!(n)).boxed(),
                    ContextType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
                    ContextType::Duration => prop_oneof![
                        8 => numbers.clone().prop_map(|n| json!(duration(n))),
                        1 => Just(json!("0d")),
                        1 => Just(json!("90 days")),
                    ]
                    .boxed(),
                    ContextType::Enum(vs) => prop_oneof![
                        10 => pick(vs.clone()).prop_map(Value::String),
                        1 => Just(json!("no_variant")),
                    ]
                    .boxed(),
                };
                optional(&f.name, values)
            })
            .collect(),
    );
    let roles = proptest::collection::vec(pick(with_bad(&m.roles, "intruder")), 0..3)
        .prop_map(|v| json!(v))
        .boxed();
    let mut feature_names: Vec<String> = m.features.iter().map(|f| f.name.clone()).collect();
    feature_names.push("not_in_registry".into());
    let features = proptest::collection::vec(pick(feature_names), 0..5)
        .prop_map(|v| json!(v))
        .boxed();
    let versions = pick(vec!["c-1", "v2", "v10"])
        .prop_map(|s| json!(s))
        .boxed();
    let base = object(vec![
        surfaces
            .prop_map(|s| Some(("surface".to_string(), json!(s))))
            .boxed(),
        purposes
            .prop_map(|s| Some(("purpose".to_string(), json!(s))))
            .boxed(),
        strings
            .clone()
            .prop_map(|s| Some(("tenant".to_string(), s)))
            .boxed(),
        optional("subject", subject),
        optional("consent", consent),
        optional("consent_version", versions),
        optional("context", context),
        optional("roles", roles),
        optional("features", features),
    ]);
    // Rarely, break the request in one of the ways docs/reference.md calls invalid.
    let breakage = prop_oneof![
        20 => Just(0u8),
        1 => Just(1u8),
        1 => Just(2u8),
        1 => Just(3u8),
        1 => Just(4u8),
        1 => Just(5u8),
    ];
    let mut codes: Vec<String> = m
        .reasons
        .iter()
        .flat_map(|r| r.codes.iter().map(|c| c.replace('*', "7")))
        .collect();
    codes.extend(["unmatched".to_string(), "pub".into(), "x".into()]);
    let codes = proptest::collection::vec(pick(codes), 0..3);
    (base, breakage, codes)
        .prop_map(|(mut req, b, codes)| {
            if let Value::Object(o) = &mut req {
                match b {
                    1 => {
                        o.insert("extra".into(), json!(1));
                    }
                    2 => {
                        o.insert("tenant".into(), Value::Null);
                    }
                    3 => {
                        o.remove("purpose");
                    }
                    4 => {
                        o.insert("context".into(), json!({"undeclared_field": 1}));
                    }
                    5 => {
                        o.insert("features".into(), json!(["ok", 3]));
                    }
                    _ => {}
                }
            }
            (req, codes)
        })
        .boxed()
}

fn differential(dir: &str, cases: u32) {
    let m = model(dir);
    let ex = export(&m);
    let compiled = Compiled::build(m.clone()).expect("compiles");
    let rego = RefCell::new(RegoEvaluator::new(&ex).unwrap_or_else(|e| panic!("{dir}: {e}")));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let stats = RefCell::new((0u32, 0u32));
    let result = runner.run(&request(&m), |(req, codes)| {
        let text = req.to_string();
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        let (valid, native) = match compiled.decide_json(&text, &codes) {
            Ok(d) => (true, d),
            Err((_, d)) => (false, d),
        };
        let native: Value = serde_json::from_str(&native.to_json(&compiled)).expect("json");
        let mut ev = rego.borrow_mut();
        ev.set_request(&text)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (got, errors) = ev
            .decide_checked(&codes)
            .map_err(|e| TestCaseError::fail(format!("{e}\nrequest: {text}")))?;
        prop_assert_eq!(
            valid,
            errors.is_empty(),
            "validity differs (rego errors {:?})\nrequest: {}",
            errors,
            text
        );
        if let Some(diff) = comparable(&native, &got) {
            return Err(TestCaseError::fail(format!(
                "{diff}\nrequest: {text}\nreasons: {codes:?}"
            )));
        }
        let mut s = stats.borrow_mut();
        s.0 += 1;
        s.1 += u32::from(!valid);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{dir}: the Rego export and the native evaluator differ: {e}");
    }
    let (all, invalid) = *stats.borrow();
    // Both kinds of request were exercised.
    assert!(
        all >= cases && invalid > 0 && invalid < all,
        "{all} cases, {invalid} invalid"
    );
}

/// Cases per policy: 10,000 by default; `RPOL_REGO_CASES` changes it.
fn cases() -> u32 {
    std::env::var("RPOL_REGO_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn example_policy() {
    differential("policies/home", cases());
}

#[test]
fn enterprise_policy() {
    differential("policies/enterprise", cases());
}

#[test]
fn forbid_stress_policy() {
    differential("tests/rego/forbids", cases());
}

#[test]
fn absent_values_policy() {
    differential("tests/rego/absent", cases());
}

#[test]
fn a_difference_is_reported_with_its_path() {
    let a = json!({"features": {"allowed": ["x"]}, "mode": "m"});
    let b = json!({"features": {"allowed": ["y"]}, "mode": "m"});
    assert_eq!(
        comparable(&a, &b).as_deref(),
        Some("$.features.allowed[0]: native \"x\", rego \"y\"")
    );
    assert_eq!(comparable(&a, &a), None);
}
