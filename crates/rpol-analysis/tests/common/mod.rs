//! Loading policies from disk and making edited copies of them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rpol_engine::Compiled;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn checked(path: &Path) -> rpol_check::Checked {
    let files = rpol_check::load::read_policy(path).expect("policy files");
    rpol_check::check(files, None, &rpol_check::load::read_registry)
}

pub fn compile(path: &Path) -> Compiled {
    let c = checked(path);
    let errors: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    let policy = c
        .policy
        .unwrap_or_else(|| panic!("{} has errors: {errors:?}", path.display()));
    Compiled::build(policy.model).expect("compiles")
}

/// The policy at `path`, built, and the query `text` checked against it.
pub fn with_query(path: &Path, text: &str) -> (Compiled, rpol_analysis::query::CheckedQuery) {
    let mut ch = checked(path);
    let policy = ch.policy.take().expect("checks");
    let c = Compiled::build(policy.model).expect("compiles");
    let file = ch.sources.add("<query>", text.to_string());
    let q = rpol_analysis::query::check(text, file, &ch.scope, c.model()).unwrap_or_else(|d| {
        panic!(
            "{text}: {:?}",
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    });
    (c, q)
}

/// A scratch copy of `policies/home` (its files and the shared registry)
/// with `edit` applied to each file's text: `(file name, text) -> text`.
pub fn edited_home(tag: &str, edit: impl Fn(&str, &str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-analysis-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).expect("scratch dir");
    let src = root().join("policies");
    for entry in std::fs::read_dir(src.join("home")).expect("policies/home") {
        let p = entry.expect("entry").path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&p).expect("read");
        std::fs::write(dir.join("home").join(&name), edit(&name, &text)).expect("write");
    }
    let reg = std::fs::read_to_string(src.join("features.yaml")).expect("registry");
    std::fs::write(dir.join("features.yaml"), edit("features.yaml", &reg)).expect("write");
    dir.join("home")
}

/// Replaces `from` by `to` in `file`, asserting it is there.
pub fn replace(
    file: &'static str,
    from: &'static str,
    to: &'static str,
) -> impl Fn(&str, &str) -> String {
    move |name, text| {
        if name == file {
            assert!(text.contains(from), "`{from}` not in {file}");
            text.replacen(from, to, 1)
        } else {
            text.to_string()
        }
    }
}

/// SplitMix64: a seeded generator, so that a failing case reproduces from
/// its seed and a benchmark decides the same requests every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    pub fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
    /// One of `xs`, which must not be empty.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}
