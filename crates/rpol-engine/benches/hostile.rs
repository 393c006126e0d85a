//! Parse + decide of hostile 1 MiB requests (issue 16: each < 5 ms) against
//! the home example widened to 100,008 registry features; see
//! `rpol_testing::hostile` for the shapes. `decide_json` is what a service
//! calls: it parses, and decides (the fallback for an invalid request).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_engine::Compiled;
use rpol_testing::hostile;

fn policy() -> Compiled {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = rpol_check::load::read_policy(&root.join("policies/home")).unwrap();
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    let model = checked.policy.expect("the home policy checks").model;
    Compiled::build(hostile::widen(model)).unwrap()
}

fn bench(c: &mut Criterion) {
    let policy = policy();
    let mut g = c.benchmark_group("hostile");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    for shape in hostile::shapes() {
        assert!(shape.json.len() <= rpol_engine::MAX_REQUEST_BYTES);
        g.bench_function(format!("parse_decide_{}", shape.name), |b| {
            b.iter(|| black_box(policy.decide_json(black_box(&shape.json), &[]).is_ok()))
        });
    }
    // Reason codes come from the caller, not the request: 100,000 of them,
    // half repeats, count once each.
    let req = policy
        .parse_request(&format!("{}}}", hostile::BASE))
        .unwrap();
    let codes: Vec<String> = (0..100_000)
        .map(|i| format!("trending_region_{}", i / 2))
        .collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    g.bench_function("decide_100000_reason_codes", |b| {
        b.iter(|| black_box(policy.decide(black_box(&req), &codes)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
