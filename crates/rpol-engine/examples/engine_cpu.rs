//! CPU time (not wall time) of the figures of docs/performance.md: the engine
//! bench's policy (`policies/home` + 8 sources + 2,000 generated features)
//! and the generated workload, read from `/proc/thread-self/schedstat` so
//! that two builds can be compared on a machine shared with other work (run
//! them alternately). Uses only API that predates the prepare tables, so the
//! same file measures an older checkout.
//! `cargo run --release -p rpol-engine --example engine_cpu [ITERATIONS]`

use std::hint::black_box;

#[path = "../benches/common/home.rs"]
mod home;

use rpol_engine::AllowedSet;
use rpol_testing::workload;

#[path = "common/cpu.rs"]
mod cpu;
use cpu::{cpu_ns, mean_cpu};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let engine = home::compiled(2_000);
    let small = home::compiled(0);
    if cpu_ns() == 0 {
        eprintln!("error: /proc/thread-self/schedstat is not readable here (Linux only)");
        std::process::exit(2);
    }
    let all = engine.parse_request(home::GRANTED_PDP).unwrap();
    let route = engine.parse_request(home::GRANTED_HOME).unwrap();
    let small_route = small.parse_request(home::GRANTED_HOME).unwrap();
    let prepared = engine.prepare(&all);
    let ids: Vec<_> = engine.feature_ids().collect();
    let w = workload::compiled(2_000);
    let typical = w.parse_request(workload::TYPICAL).unwrap();
    let w_prepared = w.prepare(&typical);
    let w_ids: Vec<_> = w.feature_ids().collect();
    let mut set = AllowedSet::new();
    let mut i = 0usize;
    let rows: Vec<(&str, f64)> = vec![
        (
            "home+2000: full decision",
            mean_cpu(n, || {
                black_box(engine.decide(black_box(&all), &[]));
            }),
        ),
        (
            "home+2000: route decision (5)",
            mean_cpu(n * 5, || {
                black_box(engine.decide(black_box(&route), &[]));
            }),
        ),
        (
            "home: route decision (5)",
            mean_cpu(n * 5, || {
                black_box(small.decide(black_box(&small_route), &[]));
            }),
        ),
        (
            "home+2000: prepare",
            mean_cpu(n * 20, || {
                black_box(engine.prepare(black_box(&route)));
            }),
        ),
        (
            "home+2000: single check",
            mean_cpu(n * 100, || {
                i = (i + 1) % ids.len();
                black_box(engine.check_feature(black_box(&prepared), ids[i]));
            }),
        ),
        (
            "home+2000: explain",
            mean_cpu(n * 20, || {
                black_box(engine.explain(black_box(&prepared), black_box("user_embedding_nn_42")));
            }),
        ),
        (
            "home+2000: parse request",
            mean_cpu(n * 2, || {
                black_box(engine.parse_request(black_box(home::GRANTED_PDP)).is_ok());
            }),
        ),
        (
            "workload: full decision",
            mean_cpu(n, || {
                black_box(w.decide(black_box(&typical), &[]));
            }),
        ),
        (
            "workload: allowed set only",
            mean_cpu(n * 5, || {
                w.decide_allowed(black_box(&typical), &mut set);
                black_box(set.feature_words().len());
            }),
        ),
        (
            "workload: prepare",
            mean_cpu(n * 20, || {
                black_box(w.prepare(black_box(&typical)));
            }),
        ),
        (
            "workload: single check",
            mean_cpu(n * 100, || {
                i = (i + 1) % w_ids.len();
                black_box(w.check_feature(black_box(&w_prepared), w_ids[i]));
            }),
        ),
    ];
    for (name, ns) in rows {
        println!("{name}\t{ns:.1}");
    }
}
