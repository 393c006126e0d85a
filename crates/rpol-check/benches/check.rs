//! `rpol check` of the example policy against generated registries of 2,000 and
//! 20,000 features (issue target: under 20 ms and 200 ms).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_check::SourceInput;

fn registry(n: usize) -> String {
    let mut s = String::from("features:\n");
    for i in 0..n {
        let (class, modes, consent) = match i % 3 {
            0 => (
                "behavioral_personal",
                "[personalized]",
                "\n    requires_consent: personalization",
            ),
            1 => (
                "public_catalog",
                "[personalized, contextual_only, non_personalized]",
                "",
            ),
            _ => (
                "contextual",
                "[personalized, contextual_only, non_personalized]",
                "",
            ),
        };
        s.push_str(&format!(
            "  - name: feature_{i}\n    entity: user\n    privacy_class: {class}\n    allowed_privacy_modes: {modes}\n    allowed_purposes: [personalization, quality_monitoring]\n    retention_days: 30{consent}\n"
        ));
    }
    // The example's routes name these features.
    s.push_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/features.yaml"),
        )
        .unwrap()
        .replace("features:\n", ""),
    );
    s
}

/// Events of `text`, read with serde-saphyr's parser.
fn yaml_events(text: &str) -> usize {
    use serde_saphyr::granit_parser::{Parser, StrInput};
    let mut p = Parser::new(StrInput::new(text));
    let mut n = 0;
    while let Some(Ok(_)) = p.next_event() {
        n += 1;
    }
    n
}

fn files() -> Vec<SourceInput> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home");
    ["home.rpol", "tests.rpol"]
        .iter()
        .map(|f| SourceInput {
            name: format!("policies/home/{f}"),
            text: std::fs::read_to_string(dir.join(f)).unwrap(),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    for n in [2_000usize, 20_000] {
        let reg = registry(n);
        let fs = files();
        let checked = rpol_check::check(fs.clone(), Some(Path::new("features.yaml")), &|_| {
            Ok(reg.clone())
        });
        assert!(
            checked.policy.is_some(),
            "{:#?}",
            checked.diagnostics.first()
        );
        let mut g = c.benchmark_group("check");
        // The floor of the loader's fast path: the parser's events alone.
        g.bench_function(format!("yaml_events_only_{n}_features"), |b| {
            b.iter(|| black_box(yaml_events(black_box(&reg))))
        });
        // serde-saphyr reading the whole YAML and discarding it, with the
        // node budget the loader gives it (the default refuses 20,000).
        let options = || {
            let mut o = serde_saphyr::Options::default();
            if let Some(b) = o.budget.as_mut() {
                b.max_nodes = 4_000_000;
                b.max_events = 16_000_000;
            }
            o
        };
        assert!(
            serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(&reg, options()).is_ok()
        );
        g.bench_function(format!("yaml_serde_saphyr_only_{n}_features"), |b| {
            b.iter(|| {
                black_box(
                    serde_saphyr::from_str_with_options::<serde::de::IgnoredAny>(
                        black_box(&reg),
                        options(),
                    )
                    .is_ok(),
                )
            })
        });
        g.bench_function(format!("registry_load_{n}_features"), |b| {
            b.iter(|| black_box(rpol_registry::load(rpol_diag::FileId(0), black_box(&reg)).is_ok()))
        });
        g.sample_size(if n > 5_000 { 10 } else { 30 });
        g.bench_function(format!("example_with_{n}_features"), |b| {
            b.iter(|| {
                let c = rpol_check::check(
                    black_box(fs.clone()),
                    Some(Path::new("features.yaml")),
                    &|_| Ok(reg.clone()),
                );
                black_box(c.policy.is_some())
            })
        });
        g.finish();
    }
}

/// `rpol lint` (check + lints) of a generated 5,000-line policy (issue target: under 100 ms).
fn lint_big(c: &mut Criterion) {
    let mut s = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home/home.rpol"),
    )
    .unwrap();
    let mut i = 0;
    while s.lines().count() < 5_000 {
        s.push_str(&format!(
            "\nsource gen_{i} {{\n  requires: [coarse_context]\n  when: context.device in [mobile, tv] and not (tenant == \"t{i}\")\n}}\nforbid source gen_{i} when consent.session != granted\n  because \"generated rule {i}\"\ntest \"generated {i}\" {{\n  given {{\n    tenant: \"acme\"\n    surface: home\n    purpose: personalization\n  }}\n  expect source gen_{i} denied\n}}\n"
        ));
        i += 1;
    }
    let reg = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/features.yaml"),
    )
    .unwrap();
    let files = vec![SourceInput {
        name: "big.rpol".into(),
        text: s,
    }];
    let run = || {
        let checked = rpol_check::check(files.clone(), Some(Path::new("features.yaml")), &|_| {
            Ok(reg.clone())
        });
        let lints = rpol_check::lint::lint(&checked);
        (checked.policy.is_some(), lints.len())
    };
    assert!(run().0, "the generated policy checks");
    let mut g = c.benchmark_group("lint");
    g.sample_size(20);
    g.bench_function("lint_5000_lines", |b| b.iter(|| black_box(run())));
    g.finish();
}

criterion_group!(benches, bench, lint_big);
criterion_main!(benches);
