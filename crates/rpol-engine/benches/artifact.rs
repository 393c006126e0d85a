//! Loading a compiled artifact of 20,000 features (issue 16): the checksum,
//! the canonical-encoding check and the invariants of `rpol check` are paid
//! once per load, next to building the tables (`build` alone, for reference);
//! a signed load adds one Ed25519 verification over the whole artifact.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_check::load;
use rpol_engine::{Compiled, SecretKey};

fn large(n: usize) -> Compiled {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = load::read_policy(&root.join("policies/home")).unwrap();
    let checked = rpol_check::check(files, None, &load::read_registry);
    let mut m = checked.policy.unwrap().model;
    let base = m.features.clone();
    for i in 0..n.saturating_sub(base.len()) {
        let mut f = base[i % base.len()].clone();
        f.name = format!("{}_{i}", f.name);
        m.features.push(f);
    }
    Compiled::build(m).unwrap()
}

fn bench(c: &mut Criterion) {
    let compiled = large(20_000);
    let key = SecretKey::from_seed([9; 32]);
    let public = key.public_key();
    let unsigned = compiled.to_artifact();
    let signed = compiled.to_signed_artifact(&key);
    let model = compiled.model().clone();
    assert!(Compiled::from_signed_artifact(&signed, &public).is_ok());
    let mut g = c.benchmark_group("artifact");
    g.sample_size(20);
    g.bench_function("build_20000_features", |b| {
        b.iter(|| black_box(Compiled::build(black_box(model.clone())).is_ok()))
    });
    g.bench_function("from_artifact_20000_features", |b| {
        b.iter(|| black_box(Compiled::from_artifact(black_box(&unsigned)).is_ok()))
    });
    g.bench_function("from_signed_artifact_20000_features", |b| {
        b.iter(|| black_box(Compiled::from_signed_artifact(black_box(&signed), &public).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
