//! `rpol diff` and `rpol verify` on the bundled example (issue target: < 1 s).
//! `cargo bench -p rpol-analysis --bench analysis`

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_analysis::diff::diff;
use rpol_analysis::regions::DEFAULT_MAX_REGIONS;
use rpol_analysis::verify::verify;

fn bench(c: &mut Criterion) {
    let home = common::compile(&common::root().join("policies/home"));
    let home2 = common::compile(&common::root().join("policies/home"));
    let mut g = c.benchmark_group("analysis");
    g.sample_size(20);
    g.bench_function("diff policies/home against itself (4,860 regions)", |b| {
        b.iter(|| diff(&home, &home2, DEFAULT_MAX_REGIONS).expect("diff"))
    });
    g.bench_function("verify policies/home (4 properties, 4,860 regions)", |b| {
        b.iter(|| verify(&home, DEFAULT_MAX_REGIONS).expect("verify"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
