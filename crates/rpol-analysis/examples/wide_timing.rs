//! Times the symbolic `verify` and `diff` on a generated wide policy and
//! prints the diagram sizes, for docs/analysis.md:
//! `cargo run --release -p rpol-analysis --example wide_timing -- DIR`
//! where `DIR` holds `wide` and `wide_dropped` from the `wide_policy` example.

use std::time::Instant;

use rpol_analysis::symbolic;

fn compile(path: &std::path::Path) -> rpol_engine::Compiled {
    let files = rpol_check::load::read_policy(path).expect("policy files");
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    let policy = checked.policy.expect("the policy checks");
    rpol_engine::Compiled::build(policy.model).expect("compiles")
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: wide_timing DIR");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(&dir);
    let t = Instant::now();
    let old = compile(&dir.join("wide"));
    let new = compile(&dir.join("wide_dropped"));
    println!("check and compile both: {:.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let (v, nodes) = symbolic::verify_with_stats(&old).expect("verify");
    println!(
        "verify: {:.3} s, holds {}, {} regions, {nodes} diagram nodes",
        t.elapsed().as_secs_f64(),
        v.holds(),
        v.regions
    );
    let t = Instant::now();
    let (d, nodes) = symbolic::diff_with_stats(&old, &new).expect("diff");
    println!(
        "diff: {:.3} s, {} difference(s), {nodes} diagram nodes",
        t.elapsed().as_secs_f64(),
        d.differences.len()
    );
    for x in &d.differences {
        println!("  {}", x.summary);
    }
}
