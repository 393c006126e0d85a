//! Language-server latency on a generated 2,000-line policy (issue targets:
//! a change to its diagnostics under 50 ms, a completion under 20 ms).
//!
//! `change_to_diagnostics` is what the server does on `didChange`: re-read the
//! policy (the open buffer wins), check, lint, index, and convert every
//! diagnostic to the protocol. The completions answer in a reason's `from: [`
//! list (every registry feature) and at the start of an item (keywords).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use rpol_lsp::session::Session;
use tower_lsp_server::ls_types::{Position, Uri};

fn generated_policy() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home/home.rpol");
    let mut s = std::fs::read_to_string(root).expect("example policy");
    let mut i = 0;
    while s.lines().count() < 2_000 {
        s.push_str(&format!(
            "\n## Generated source {i}.\nsource gen_{i} {{\n  requires: [coarse_context]\n  when: context.device in [mobile, tv] and not (tenant == \"t{i}\")\n}}\nforbid source gen_{i} when consent.session != granted\n  because \"generated rule {i}\"\nreason gen_reason_{i} {{\n  text: \"Generated reason {i}\"\n  codes: [\"g{i}x*\"]\n  from: [item_quality_score, region_popularity]\n}}\n"
        ));
        i += 1;
    }
    s
}

/// The example registry with `extra` generated features in front.
fn registry(extra: usize) -> String {
    let reg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/features.yaml");
    let example = std::fs::read_to_string(reg).expect("registry");
    let mut s = String::from("features:\n");
    for i in 0..extra {
        s.push_str(&format!(
            "  - name: generated_{i}\n    entity: item\n    privacy_class: public_catalog\n    allowed_privacy_modes: [personalized, contextual_only]\n    allowed_purposes: [personalization, quality_monitoring]\n"
        ));
    }
    s.push_str(example.trim_start_matches("features:\n"));
    s
}

/// A scratch copy of the example's layout: `DIR/home/home.rpol` reading
/// `DIR/features.yaml`, with `extra` generated registry features.
fn scratch(extra: usize) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("rpol-lsp-bench-{}-{extra}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).expect("scratch");
    std::fs::write(dir.join("features.yaml"), registry(extra)).expect("registry");
    let text = generated_policy();
    std::fs::write(dir.join("home/home.rpol"), &text).expect("policy");
    (dir, text)
}

fn bench(c: &mut Criterion) {
    let (dir, text) = scratch(0);
    let path = dir.join("home/home.rpol");
    let uri = Uri::from_file_path(&path).expect("uri");
    let mut session = Session::new();
    let first = session.open(uri.clone(), "rpol", text.clone(), 1);
    let errors: Vec<&str> = first
        .iter()
        .flat_map(|p| &p.diagnostics)
        .filter(|d| d.severity == Some(tower_lsp_server::ls_types::DiagnosticSeverity::ERROR))
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        errors.is_empty(),
        "the generated policy has {} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    println!("generated policy: {} lines", text.lines().count());

    // Two texts to alternate between, so every change is a real one: the
    // second has a misspelt feature (one more diagnostic to publish).
    let typo = text.replacen(
        "from: [item_quality_score, region_popularity]",
        "from: [item_quality_score, region_populatity]",
        1,
    );
    let mut version = 1;
    let mut g = c.benchmark_group("lsp");
    g.sample_size(30);
    g.bench_function("change_to_diagnostics_2000_lines", |b| {
        b.iter(|| {
            version += 1;
            let t = if version % 2 == 0 { &typo } else { &text };
            black_box(session.change(&uri, t.clone(), version))
        })
    });
    session.change(&uri, text.clone(), version + 1);
    let needle = "from: [item_quality_score, ";
    let at = text.rfind(needle).expect("list") + needle.len();
    let before = &text[..at];
    let pos = Position::new(
        before.matches('\n').count() as u32,
        (at - before.rfind('\n').map_or(0, |i| i + 1)) as u32,
    );
    let n = session
        .completion(&uri, pos)
        .map(|r| match r {
            tower_lsp_server::ls_types::CompletionResponse::Array(v) => v.len(),
            tower_lsp_server::ls_types::CompletionResponse::List(l) => l.items.len(),
        })
        .unwrap_or(0);
    assert!(n >= 8, "completion found {n} items");
    g.bench_function("completion_in_feature_list_2000_lines", |b| {
        b.iter(|| black_box(session.completion(&uri, black_box(pos))))
    });
    let end = Position::new(text.lines().count() as u32, 0);
    g.bench_function("completion_at_item_start_2000_lines", |b| {
        b.iter(|| black_box(session.completion(&uri, black_box(end))))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same change with a 2,000-feature registry: the checker reads and
/// parses the registry on every run, which dominates (see docs/performance.md).
fn bench_big_registry(c: &mut Criterion) {
    let (dir, text) = scratch(2_000);
    let uri = Uri::from_file_path(dir.join("home/home.rpol")).expect("uri");
    let mut session = Session::new();
    session.open(uri.clone(), "rpol", text.clone(), 1);
    let mut version = 1;
    let mut g = c.benchmark_group("lsp");
    g.sample_size(20);
    g.bench_function("change_to_diagnostics_2000_lines_2000_features", |b| {
        b.iter(|| {
            version += 1;
            black_box(session.change(&uri, text.clone(), version))
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench, bench_big_registry);
criterion_main!(benches);
