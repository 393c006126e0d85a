//! Writes a generated wide policy and a copy with one forbid rule dropped:
//! `cargo run -p rpol-analysis --example wide_policy -- DIR [TOPICS TENANTS SOURCES FEATURES SURFACES]`
//! makes `DIR/wide` and `DIR/wide_dropped` (tenant 7's rule left out).

use rpol_analysis::wide::{Shape, generate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: wide_policy DIR [TOPICS TENANTS SOURCES FEATURES SURFACES]");
        std::process::exit(2);
    };
    let mut shape = Shape::TARGET;
    let num = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    shape.topics = num(1, shape.topics);
    shape.tenants = num(2, shape.tenants);
    shape.sources = num(3, shape.sources);
    shape.features = num(4, shape.features);
    shape.surfaces = num(5, shape.surfaces);
    let dir = std::path::Path::new(dir);
    for (name, drop) in [("wide", None), ("wide_dropped", Some(7))] {
        if let Err(e) = generate(&shape, drop).write(&dir.join(name)) {
            eprintln!("cannot write {}: {e}", dir.join(name).display());
            std::process::exit(2);
        }
    }
}
