//! `rpol bench PATH --input FILE`: median and p99 nanoseconds of a full
//! decision, a single feature check on a prepared request, and an explanation.
//! With `--rego`, the same request is also decided by regorus on the Rego
//! export (after checking that both decisions are equal), with the ratio.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use rpol_engine::{Compiled, FeatureId};

use crate::cli_error::CliError;
use crate::cmd_eval::read_input;
use crate::policy::load_policy_verified;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    Human,
    Json,
}

struct Stat {
    name: &'static str,
    median: f64,
    p99: f64,
}

/// Times `f` in batches (so the clock's cost is amortised) and returns
/// per-call nanoseconds at the median and the 99th percentile of the batches.
fn measure(name: &'static str, f: impl FnMut()) -> Stat {
    measure_n(name, 400, f)
}

fn measure_n(name: &'static str, samples: usize, mut f: impl FnMut()) -> Stat {
    let mut batch = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed().as_micros() >= 50 || batch >= 1 << 20 {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(batch)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Stat {
        name,
        median: samples[samples.len() / 2],
        p99: samples[samples.len() * 99 / 100],
    }
}

pub fn run(
    path: &Path,
    input: &str,
    registry: Option<&Path>,
    format: BenchFormat,
    rego: bool,
    verify_key: Option<&Path>,
) -> Result<ExitCode, CliError> {
    if rego && !cfg!(feature = "rego") {
        // Say so before checking and timing anything.
        return Err(CliError::not_built("`rpol bench --rego`", "rego"));
    }
    let Some(c) = load_policy_verified(path, registry, verify_key)? else {
        return Ok(ExitCode::from(1));
    };
    let text = read_input(input)?;
    let req = c.parse_request(&text).map_err(|e| {
        CliError::Usage(
            format!("invalid request: {e}"),
            Some("`rpol eval` shows every problem with the request".into()),
        )
    })?;
    let mut stats = bench(&c, &req);
    let ratio = if rego {
        let r = bench_rego(&c, &text)?;
        let native = measure("parse + decide + JSON", || {
            if let Ok(d) = c.decide_json(black_box(&text), &[]) {
                black_box(d.to_json(&c));
            }
        });
        let native_median = native.median;
        stats.push(native);
        let ratio = r.median / native_median;
        stats.push(r);
        Some(ratio)
    } else {
        None
    };
    match format {
        BenchFormat::Json => {
            let v: Vec<serde_json::Value> = stats
                .iter()
                .map(
                    |s| serde_json::json!({"name": s.name, "median_ns": s.median, "p99_ns": s.p99}),
                )
                .collect();
            outln!("{}", serde_json::to_string_pretty(&serde_json::json!({"policy": c.model().name, "features": c.model().features.len(), "results": v, "rego_ratio": ratio})).unwrap_or_default());
        }
        BenchFormat::Human => {
            outln!(
                "policy `{}` ({}, {})",
                c.model().name,
                rpol_diag::plural(c.model().features.len(), "feature"),
                rpol_diag::plural(c.model().sources.len(), "source")
            );
            outln!("{:<34} {:>12} {:>12}", "operation", "median ns", "p99 ns");
            for s in &stats {
                outln!("{:<34} {:>12.1} {:>12.1}", s.name, s.median, s.p99);
            }
            if let Some(r) = ratio {
                outln!("rego / native (request text to decision JSON, medians): {r:.0}x");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(c: &Compiled, req: &rpol_engine::Request) -> Vec<Stat> {
    let p = c.prepare(req);
    let ids: Vec<FeatureId> = c.feature_ids().collect();
    let nf = ids.len().max(1);
    let mut i = 0usize;
    let code = c
        .model()
        .reasons
        .first()
        .and_then(|r| r.codes.first())
        .map(|p| p.replace('*', "x"))
        .unwrap_or_else(|| "x".into());
    vec![
        measure("full decision", || {
            black_box(c.decide(black_box(req), &[]));
        }),
        measure("full decision + JSON", || {
            black_box(c.decide(black_box(req), &[]).to_json(c));
        }),
        measure("prepare request", || {
            black_box(c.prepare(black_box(req)));
        }),
        measure("single feature check (prepared)", || {
            i = (i + 1) % nf;
            if let Some(&f) = ids.get(i) {
                black_box(c.check_feature(black_box(&p), f));
            }
        }),
        measure("explain a reason code (prepared)", || {
            black_box(c.explain(black_box(&p), black_box(&code)));
        }),
    ]
}

/// Without the `rego` feature there is no regorus to time.
#[cfg(not(feature = "rego"))]
fn bench_rego(_: &Compiled, _: &str) -> Result<Stat, CliError> {
    Err(CliError::not_built("`rpol bench --rego`", "rego"))
}

/// Decides the request through regorus on the export, after checking that
/// the export decides it exactly as the native engine does.
#[cfg(feature = "rego")]
fn bench_rego(c: &Compiled, text: &str) -> Result<Stat, CliError> {
    let export = rpol_rego::export(c.model());
    let fail = |e: rpol_rego::RegoError| CliError::Load(format!("rego export: {e}"), None);
    let mut ev = rpol_rego::RegoEvaluator::new(&export).map_err(fail)?;
    ev.set_request(text).map_err(fail)?;
    let rego = ev.decide(&[]).map_err(fail)?;
    let native = match c.decide_json(text, &[]) {
        Ok(d) | Err((_, d)) => d.to_json(c),
    };
    let native: serde_json::Value = serde_json::from_str(&native)
        .map_err(|e| CliError::Load(format!("native decision: {e}"), None))?;
    if let Some(diff) = rpol_rego::comparable(&native, &rego) {
        return Err(CliError::Load(
            format!("the Rego export decides this request differently: {diff}"),
            Some("please report this with the policy and the request".into()),
        ));
    }
    // Setting the input is part of a decision for regorus, as parsing is for us.
    Ok(measure_n("rego: full decision (regorus)", 60, || {
        let _ = ev.set_request(black_box(text));
        black_box(ev.decide(&[]).ok());
    }))
}
