//! CPU time (not wall time) of parse + decide for each hostile request shape
//! and for a typical request, read from `/proc/thread-self/schedstat`, so
//! that the figures mean something on a machine shared with other builds.
//! `cargo run --release -p rpol-engine --example hostile_cpu [ITERATIONS [SHAPE]]`
//! (Linux only; the criterion bench `hostile` gives the wall-clock figures.)

use std::hint::black_box;
use std::path::Path;

use rpol_engine::Compiled;
use rpol_testing::hostile;

/// Nanoseconds this thread has run on a CPU (as of the last scheduler tick:
/// means are over many runs).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn home() -> rpol_engine::model::PolicyModel {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = rpol_check::load::read_policy(&root.join("policies/home")).unwrap();
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    checked.policy.expect("the home policy checks").model
}

/// Mean CPU time of `f` over `n` runs, after one warm-up run.
fn mean_cpu(n: u32, mut f: impl FnMut()) -> f64 {
    f();
    let t0 = cpu_ns();
    for _ in 0..n {
        f();
    }
    (cpu_ns() - t0) as f64 / f64::from(n)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    // Only the shapes whose name contains this (all by default).
    let only = std::env::args().nth(2).unwrap_or_default();
    let wide = Compiled::build(hostile::widen(home())).unwrap();
    // The kernel updates the figure at scheduler ticks: after building the
    // policy it is past zero, or the file is not there.
    if cpu_ns() == 0 {
        eprintln!("error: /proc/thread-self/schedstat is not readable here (Linux only)");
        std::process::exit(2);
    }
    println!("shape\tCPU ms (mean of {n})");
    for shape in hostile::shapes() {
        if !shape.name.contains(&only) {
            continue;
        }
        let ns = mean_cpu(n, || {
            black_box(wide.decide_json(black_box(&shape.json), &[]).is_ok());
        });
        println!("{}\t{:.2}", shape.name, ns / 1e6);
    }
    // A chosen shape is measured alone (so that a profile shows it only).
    if !only.is_empty() {
        return;
    }
    let c = Compiled::build(home()).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("policies/requests/granted.json")).unwrap();
    let m = 20_000 * n;
    let parse = mean_cpu(m, || {
        black_box(c.parse_request(black_box(&text)).is_ok());
    });
    let req = c.parse_request(&text).unwrap();
    let decide = mean_cpu(m, || {
        black_box(c.decide(black_box(&req), &[]));
    });
    println!("typical request (policies/requests/granted.json), CPU µs (mean of {m})");
    println!("parse\t{:.3}", parse / 1e3);
    println!("decide\t{:.3}", decide / 1e3);
}
