//! Where the time of one `/v1/decide` goes, outside HTTP: parsing the
//! request, deciding, writing the decision JSON (pretty, as `/v1/decide`
//! answers; compact, as the batch and OPA endpoints do). docs/serving.md
//! quotes the figures.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

fn split(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (policy, _) = rpol_serve::load_policy(&root.join("policies/home"), None).expect("loads");
    let text = std::fs::read_to_string(root.join("policies/requests/granted.json")).unwrap();
    let req = policy.parse_request(&text).unwrap();
    let d = policy.decide(&req, &[]);
    c.bench_function("parse request", |b| {
        b.iter(|| policy.parse_request(black_box(&text)))
    });
    c.bench_function("decide", |b| b.iter(|| policy.decide(black_box(&req), &[])));
    c.bench_function("decision JSON, pretty", |b| {
        b.iter(|| black_box(&d).to_json_pretty(&policy))
    });
    c.bench_function("decision JSON, compact", |b| {
        b.iter(|| black_box(&d).to_json(&policy))
    });
}

criterion_group!(benches, split);
criterion_main!(benches);
