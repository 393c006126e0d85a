//! Four threads decide while another swaps between two policies: every
//! decision is made wholly by one of the two.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rpol_engine::Engine;

#[test]
fn decisions_stay_consistent_during_swaps() {
    let model_a = common::checked("policies/home").model;
    let a = rpol_engine::Compiled::build(model_a.clone()).unwrap();
    let mut model_b = model_a.clone();
    model_b.digest = "f".repeat(64);
    model_b.version.push_str("-b");
    let b = rpol_engine::Compiled::build(model_b.clone()).unwrap();
    let digests = [a.digest().to_string(), b.digest().to_string()];
    let engine = Arc::new(Engine::new(a));
    let stop = Arc::new(AtomicBool::new(false));
    let request = r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted"}}"#;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let engine = engine.clone();
            let stop = stop.clone();
            let digests = digests.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) || n < 1_000 {
                    let policy = engine.load();
                    let d = policy.decide_json(request, &[]).expect("valid request");
                    assert!(digests.iter().any(|x| **x == *d.digest), "unknown digest");
                    let json = d.to_json(&policy);
                    assert!(json.contains(&*d.digest), "a decision mixes two policies");
                    assert!(d.cache_scope.contains(&d.digest[..12]));
                    n += 1;
                }
                n
            })
        })
        .collect();
    for i in 0..2_000 {
        let next = rpol_engine::Compiled::build(if i % 2 == 0 {
            model_b.clone()
        } else {
            model_a.clone()
        })
        .unwrap();
        engine.swap(next);
    }
    stop.store(true, Ordering::Relaxed);
    let total: u64 = workers
        .into_iter()
        .map(|w| w.join().expect("no worker panicked"))
        .sum();
    assert!(total >= 4_000);
}
