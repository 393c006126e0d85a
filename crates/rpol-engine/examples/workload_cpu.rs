//! CPU time (not wall time) of the engine on the generated workload of issue
//! 18 and of the hand-written limit of the same output, read from
//! `/proc/thread-self/schedstat`, so that the figures mean something on a
//! machine shared with other builds. Each figure is the mean over many
//! calls; the runs alternate engine and hand-written so both see the same load.
//! `cargo run --release -p rpol-engine --example workload_cpu [ITERATIONS]`
//! (Linux only; `cargo bench -p rpol-engine --bench workload` gives wall time.)

use std::hint::black_box;

use rpol_engine::AllowedSet;
use rpol_testing::by_hand::{ByHand, HandDecision};
use rpol_testing::workload;

#[path = "common/cpu.rs"]
mod cpu;
use cpu::{cpu_ns, mean_cpu};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let engine = workload::compiled(2_000);
    if cpu_ns() == 0 {
        eprintln!("error: /proc/thread-self/schedstat is not readable here (Linux only)");
        std::process::exit(2);
    }
    let req = engine.parse_request(workload::TYPICAL).unwrap();
    let hand = ByHand::new(engine.model());
    let mut out = HandDecision::default();
    let mut set = AllowedSet::new();
    let mut reused = rpol_engine::Decision::new();
    let prepared = engine.prepare(&req);
    let ids: Vec<_> = engine.feature_ids().collect();
    // The same policy without its forbid rules: nothing request-dependent
    // is left to prepare but the mode.
    let mut model = engine.model().clone();
    model.forbids.clear();
    let plain = rpol_engine::Compiled::build(model).unwrap();
    let plain_req = plain.parse_request(workload::TYPICAL).unwrap();
    println!("operation\tCPU ns (mean of {n}, typical request)");
    for round in 0..2 {
        let full = mean_cpu(n, || {
            black_box(engine.decide(black_box(&req), &[]));
        });
        let full_reused = mean_cpu(n, || {
            engine.decide_into(black_box(&req), &[], &mut reused);
            black_box(reused.features.len());
        });
        let hand_full = mean_cpu(n, || {
            hand.decide_scoped(black_box(&req), &mut out, true);
            black_box(out.cache_scope.len());
        });
        let allowed = mean_cpu(n, || {
            engine.decide_allowed(black_box(&req), &mut set);
            black_box(set.feature_words().len());
        });
        let hand_allowed = mean_cpu(n, || {
            hand.decide(black_box(&req), &mut out, false);
            black_box(out.allowed.len());
        });
        let scoped = mean_cpu(n, || {
            engine.decide_allowed_scoped(black_box(&req), &mut set);
            black_box(set.cache_scope().len());
        });
        let hand_scoped = mean_cpu(n, || {
            hand.decide_scoped(black_box(&req), &mut out, false);
            black_box(out.cache_scope.len());
        });
        let prepare = mean_cpu(n * 20, || {
            black_box(engine.prepare(black_box(&req)));
        });
        let plain_prepare = mean_cpu(n * 20, || {
            black_box(plain.prepare(black_box(&plain_req)));
        });
        let mut i = 0usize;
        let check = mean_cpu(n * 100, || {
            i = (i + 1) % ids.len();
            black_box(engine.check_feature(black_box(&prepared), ids[i]));
        });
        println!("round {round}");
        println!(
            "full decision\t{full:.0}\tby hand {hand_full:.0}\tratio {:.2}",
            full / hand_full
        );
        println!(
            "full (reused buffer)\t{full_reused:.0}\tby hand {hand_full:.0}\tratio {:.2}",
            full_reused / hand_full
        );
        println!(
            "allowed set only\t{allowed:.0}\tby hand {hand_allowed:.0}\tratio {:.2}",
            allowed / hand_allowed
        );
        println!(
            "allowed set + cache scope\t{scoped:.0}\tby hand {hand_scoped:.0}\tratio {:.2}",
            scoped / hand_scoped
        );
        println!("prepare\t{prepare:.1}");
        println!("prepare, no forbid rules\t{plain_prepare:.1}");
        println!("single check (prepared)\t{check:.1}");
    }
}
