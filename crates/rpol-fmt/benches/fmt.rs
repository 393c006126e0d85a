//! Formatting a generated 5,000-line policy (issue target: under 100 ms).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// The example policy followed by generated sources, forbid rules and tests,
/// about 5,000 lines in all.
pub fn big_policy() -> String {
    let mut s = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home/home.rpol"),
    )
    .unwrap();
    let mut i = 0;
    while s.lines().count() < 5_000 {
        s.push_str(&format!(
            "\n# generated block {i}\nsource gen_{i} {{\n  requires: [coarse_context]\n  when: context.device in [mobile, tv] and not (tenant == \"t{i}\")\n}}\nforbid source gen_{i} when consent.session != granted  # trailing\n  because \"generated rule {i}\"\ntest \"generated {i}\" {{\n  given {{\n    tenant: \"acme\"\n    surface: home\n    purpose: personalization\n  }}\n  expect source gen_{i} denied\n}}\n"
        ));
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = big_policy();
    assert!(rpol_fmt::format(&text).is_ok());
    let mut g = c.benchmark_group("fmt");
    g.sample_size(20);
    g.bench_function("format_5000_lines", |b| {
        b.iter(|| black_box(rpol_fmt::format(black_box(&text)).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
