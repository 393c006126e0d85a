//! The engine on the generated workload of issue 18 (2,000 features over 5
//! classes, 6 purposes, 3 modes from consent, 8 sources, per-tenant class
//! blocks as `forbid feature` rules reading `feature.class` and `tenant`;
//! about 88% of the features denied for a typical request). Targets: full
//! decision <= 2 us (also measured into a reused buffer), allowed set only <= 600 ns (the allowed set with the cache
//! scope is measured too), single check <= 10 ns,
//! prepare <= 25 ns; and the hand-written limit of the same output
//! (`rpol_testing::by_hand`: bit sets, word-level deny codes, SHA-256, the
//! cache-scope string), measured in the same run for the ratio.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_engine::FeatureId;
use rpol_testing::by_hand::{ByHand, HandDecision};
use rpol_testing::workload;

fn bench(c: &mut Criterion) {
    let engine = workload::compiled(2_000);
    let typical = engine.parse_request(workload::TYPICAL).unwrap();
    let stream: Vec<_> = workload::requests(416)
        .iter()
        .map(|r| engine.parse_request(r).unwrap())
        .collect();
    let d = engine.decide(&typical, &[]);
    assert_eq!(d.features.len(), 2_000);
    let allowed = d.allowed_features().count();
    assert!((150..=350).contains(&allowed), "{allowed} allowed");
    let prepared = engine.prepare(&typical);
    let ids: Vec<FeatureId> = engine.feature_ids().collect();
    let mut g = c.benchmark_group("workload");
    g.bench_function("full_decision", |b| {
        b.iter(|| black_box(engine.decide(black_box(&typical), &[])))
    });
    // The same decision into one reused buffer (`decide_into`): no allocation.
    let mut reused = rpol_engine::Decision::new();
    g.bench_function("full_decision_reused", |b| {
        b.iter(|| {
            engine.decide_into(black_box(&typical), &[], &mut reused);
            black_box(reused.features.len())
        })
    });
    let mut k = 0usize;
    g.bench_function("full_decision_stream", |b| {
        b.iter(|| {
            k = (k + 1) % stream.len();
            black_box(engine.decide(black_box(&stream[k]), &[]))
        })
    });
    let mut set = rpol_engine::AllowedSet::new();
    g.bench_function("allowed_set_only", |b| {
        b.iter(|| {
            engine.decide_allowed(black_box(&typical), &mut set);
            black_box(set.feature_words().len())
        })
    });
    g.bench_function("allowed_set_with_cache_scope", |b| {
        b.iter(|| {
            engine.decide_allowed_scoped(black_box(&typical), &mut set);
            black_box(set.cache_scope().len())
        })
    });
    g.bench_function("prepare", |b| {
        b.iter(|| black_box(engine.prepare(black_box(&typical))))
    });
    let mut i = 0usize;
    g.bench_function("single_check_prepared", |b| {
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(engine.check_feature(black_box(&prepared), ids[i]))
        })
    });
    let hand = ByHand::new(engine.model());
    let mut out = HandDecision::default();
    g.bench_function("by_hand_full_decision", |b| {
        b.iter(|| {
            hand.decide_scoped(black_box(&typical), &mut out, true);
            black_box(out.cache_scope.len())
        })
    });
    g.bench_function("by_hand_allowed_set_only", |b| {
        b.iter(|| {
            hand.decide(black_box(&typical), &mut out, false);
            black_box(out.allowed.len())
        })
    });
    g.bench_function("by_hand_allowed_set_with_cache_scope", |b| {
        b.iter(|| {
            hand.decide_scoped(black_box(&typical), &mut out, false);
            black_box(out.cache_scope.len())
        })
    });
    g.bench_function("decision_json", |b| {
        b.iter(|| black_box(d.to_json(&engine)))
    });
    let mut out = String::new();
    g.bench_function("decision_write_json_reused", |b| {
        b.iter(|| {
            out.clear();
            d.write_json(&engine, &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("decision_json_via_tree", |b| {
        b.iter(|| black_box(d.to_json_via_tree(&engine)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
