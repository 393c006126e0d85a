//! The serve-time engine on the example policy with 8 sources and a generated
//! registry of 2,000 features. Targets (issue 4): full decision < 5 µs, a
//! 5-feature route < 300 ns, a single check on a prepared request < 10 ns.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_check::SourceInput;
use rpol_engine::{Compiled, FeatureId};

#[path = "common/home.rs"]
mod home;
use home::{GRANTED_HOME, GRANTED_PDP, compiled};

fn bench(c: &mut Criterion) {
    let engine = compiled(2_000);
    assert_eq!(engine.model().sources.len(), 8);
    let all = engine.parse_request(GRANTED_PDP).unwrap();
    let route = engine.parse_request(GRANTED_HOME).unwrap();
    assert_eq!(engine.decide(&all, &[]).features.len(), 2_008);
    assert_eq!(engine.decide(&route, &[]).features.len(), 5);
    let prepared = engine.prepare(&all);
    let mut g = c.benchmark_group("engine");
    g.bench_function("full_decision_2000_features", |b| {
        b.iter(|| black_box(engine.decide(black_box(&all), &[])))
    });
    g.bench_function("route_decision_5_features", |b| {
        b.iter(|| black_box(engine.decide(black_box(&route), &[])))
    });
    g.bench_function("prepare", |b| {
        b.iter(|| black_box(engine.prepare(black_box(&route))))
    });
    let ids: Vec<FeatureId> = engine.feature_ids().collect();
    assert_eq!(ids.len(), 2_008);
    let mut i = 0usize;
    g.bench_function("single_feature_check_prepared", |b| {
        b.iter(|| {
            i = (i + 1) % 2_008;
            black_box(engine.check_feature(black_box(&prepared), ids[i]))
        })
    });
    g.bench_function("explain_prepared", |b| {
        b.iter(|| {
            black_box(engine.explain(black_box(&prepared), black_box("user_embedding_nn_42")))
        })
    });
    let d = engine.decide(&all, &[]);
    g.bench_function("decision_json_2000_features", |b| {
        b.iter(|| black_box(d.to_json(&engine)))
    });
    g.bench_function("parse_request", |b| {
        b.iter(|| black_box(engine.parse_request(black_box(GRANTED_PDP))))
    });
    // The same route decision on the example's own 8-feature registry.
    let small = compiled(0);
    let small_route = small.parse_request(GRANTED_HOME).unwrap();
    assert_eq!(small.decide(&small_route, &[]).features.len(), 5);
    g.bench_function("route_decision_5_features_example_registry", |b| {
        b.iter(|| black_box(small.decide(black_box(&small_route), &[])))
    });
    // The JSON of a home-policy decision (example registry, every feature).
    let small_all = small.parse_request(GRANTED_PDP).unwrap();
    let home = small.decide(&small_all, &["user_embedding_nn_42"]);
    g.bench_function("decision_json_home", |b| {
        b.iter(|| black_box(home.to_json(&small)))
    });
    let mut out = String::new();
    g.bench_function("decision_write_json_home_reused", |b| {
        b.iter(|| {
            out.clear();
            home.write_json(&small, &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("decision_json_home_via_tree", |b| {
        b.iter(|| black_box(home.to_json_via_tree(&small)))
    });
    g.finish();
}

/// `rpol test` on 1,000 test blocks (issue 5 target: under 1 s), checking
/// excluded: the runner through the compiled engine.
fn thousand_tests(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut text = std::fs::read_to_string(root.join("policies/home/home.rpol")).unwrap();
    let tests = std::fs::read_to_string(root.join("policies/home/tests.rpol")).unwrap();
    for i in 0..200 {
        text.push_str(&tests.replace("test \"", &format!("test \"{i} ")));
    }
    let reg = std::fs::read_to_string(root.join("policies/features.yaml")).unwrap();
    let checked = rpol_check::check(
        vec![SourceInput {
            name: "home.rpol".into(),
            text,
        }],
        Some(Path::new("features.yaml")),
        &move |_| Ok(reg.clone()),
    );
    let policy = checked
        .policy
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics.first()));
    assert_eq!(policy.tests.len(), 1_000);
    let compiled = Compiled::build(policy.model.clone()).unwrap();
    let mut g = c.benchmark_group("runner");
    g.sample_size(10);
    g.bench_function("run_1000_tests", |b| {
        b.iter(|| {
            let r = rpol_testing::run(&policy, &compiled, &rpol_testing::Options::default());
            assert_eq!(r.failed(), 0);
            black_box(r.passed())
        })
    });
    g.finish();
}

criterion_group!(benches, bench, thousand_tests);
criterion_main!(benches);
