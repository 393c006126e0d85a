//! Replay throughput: 100,000 logged decisions of `policies/home`, replayed
//! under the same policy and under an edited one, on every core and on one.
//!
//! `cargo bench -p rpol-analysis --bench replay`
//!
//! The bench also writes the log that `rpol replay` is timed on
//! (docs/decision-logs.md):
//! `RPOL_REPLAY_WRITE_LOG=/tmp/decisions.jsonl RPOL_REPLAY_LINES=1000000 cargo bench -p rpol-analysis --bench replay`
//! writes the log and exits without benchmarking.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::io::Write;
use std::path::Path;

use common::Rng;
use criterion::{Criterion, Throughput};
use rpol_analysis::replay::{ReplayOptions, replay};
use rpol_engine::model::{ContextType, PolicyModel};
use rpol_engine::{Compiled, LogKey};
use serde_json::{Map, Value, json};

const LINES: usize = 100_000;

fn home_model() -> PolicyModel {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home");
    let files = rpol_check::load::read_policy(&path).expect("policy files");
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    checked.policy.expect("policies/home checks").model
}

/// A valid request over the model's vocabulary, shaped like production
/// traffic: most with a user, consent and context, some naming features.
fn request(m: &PolicyModel, rng: &mut Rng) -> String {
    let mut r = Map::new();
    r.insert(
        "tenant".into(),
        json!(rng.pick(&["acme", "bank_a", "shop"])),
    );
    r.insert("surface".into(), json!(rng.pick(&m.surfaces)));
    r.insert("purpose".into(), json!(rng.pick(&m.purposes)));
    if rng.chance(80) {
        r.insert(
            "subject".into(),
            json!({"user_id": format!("u{}", rng.next() % 1_000_000)}),
        );
    }
    let mut consent = Map::new();
    for t in &m.consent_topics {
        if rng.chance(70) {
            consent.insert(
                t.clone(),
                json!(rng.pick(&["granted", "denied", "unknown"])),
            );
        }
    }
    r.insert("consent".into(), Value::Object(consent));
    r.insert("consent_version".into(), json!("c-42"));
    let mut ctx = Map::new();
    for f in &m.context {
        if rng.chance(60) {
            let v = match &f.ty {
                ContextType::String => json!(rng.pick(&["ID", "US", "DE"])),
                ContextType::Int => json!(rng.next() % 100),
                ContextType::Bool => json!(rng.chance(50)),
                ContextType::Duration => json!("90d"),
                ContextType::Enum(vs) => json!(rng.pick(vs)),
            };
            ctx.insert(f.name.clone(), v);
        }
    }
    r.insert("context".into(), Value::Object(ctx));
    if rng.chance(20) {
        let fs: Vec<&String> = m
            .features
            .iter()
            .filter(|_| rng.chance(40))
            .map(|f| &f.name)
            .collect();
        r.insert("features".into(), json!(fs));
    }
    Value::Object(r).to_string()
}

/// Writes `n` log lines of decisions by `c` to `out`.
fn write_log(c: &Compiled, n: usize, out: &mut impl Write) -> std::io::Result<()> {
    let key = LogKey::parse("benchmark key, not a secret").expect("key");
    let mut rng = Rng(42);
    for i in 0..n {
        let raw = request(c.model(), &mut rng);
        let req = c.parse_request(&raw).expect("generated requests are valid");
        let d = c.decide(&req, &[]);
        let line = c.log_line(
            &req,
            &d,
            &format!("d-{i}"),
            1_795_593_600_000 + i as u64,
            &key,
        );
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The home policy with the `denied => non_personalized` arm sent to
/// `contextual_only`: about a fifth of the decisions change.
fn edited(m: &PolicyModel) -> Compiled {
    let mut m = m.clone();
    let np = m.modes.iter().position(|x| x.name == "non_personalized");
    let co = m.modes.iter().position(|x| x.name == "contextual_only");
    if let (Some(np), Some(co)) = (np, co)
        && let Some(arm) = m.resolve.iter_mut().filter(|a| a.mode == np as u32).nth(1)
    {
        arm.mode = co as u32;
    }
    m.digest = "ab".repeat(32);
    Compiled::build(m).expect("edited policy compiles")
}

fn main() {
    let model = home_model();
    let c = Compiled::build(model.clone()).expect("compiles");
    if let Some(path) = std::env::var_os("RPOL_REPLAY_WRITE_LOG") {
        let n = std::env::var("RPOL_REPLAY_LINES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        let file = std::fs::File::create(&path).expect("create the log");
        let mut out = std::io::BufWriter::new(file);
        write_log(&c, n, &mut out).expect("write the log");
        out.flush().expect("write the log");
        eprintln!("wrote {n} log lines to {}", Path::new(&path).display());
        return;
    }
    let mut log = Vec::new();
    write_log(&c, LINES, &mut log).expect("in memory");
    let new = edited(&model);

    let mut crit = Criterion::default().sample_size(10).configure_from_args();
    let mut g = crit.benchmark_group("replay_100k");
    g.throughput(Throughput::Elements(LINES as u64));
    for (name, policy, threads) in [
        ("same_policy_all_cores", &c, 0),
        ("edited_policy_all_cores", &new, 0),
        ("edited_policy_one_core", &new, 1),
    ] {
        let opts = ReplayOptions {
            threads,
            ..ReplayOptions::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| {
                let r = replay(policy, log.as_slice(), &opts, &mut |_| {}).expect("replays");
                assert_eq!(r.decisions, LINES as u64);
                black_box(r)
            })
        });
    }
    g.finish();
    crit.final_summary();
}
