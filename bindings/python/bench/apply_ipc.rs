//! The Rust figure for `bench/enforce_bench.py`: the same table (an Arrow IPC
//! file), mapping and options through `rpol_batch::Enforcer::apply` directly,
//! timed the same way (median of runs, all batches in memory).
//!
//! `cargo run --profile wheel -p rpol-python --example apply_ipc -- POLICY TABLE.arrow MAPPING.json DROP NOW_MS RUNS`

use std::sync::Arc;
use std::time::Instant;

use arrow::ipc::reader::FileReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, policy, table, mapping, drop, now_ms, runs] = args.as_slice() else {
        return Err("usage: apply_ipc POLICY TABLE.arrow MAPPING.json DROP NOW_MS RUNS".into());
    };
    let (compiled, _) = rpol_check::policy_load::load_policy(std::path::Path::new(policy), None)
        .map_err(|r| r.to_string())?;
    let compiled = Arc::new(compiled);
    let reader = FileReader::try_new(std::fs::File::open(table)?, None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mapping = rpol_batch::Mapping::from_json(&std::fs::read_to_string(mapping)?)?;
    let options = rpol_batch::Options {
        purpose: None,
        drop: rpol_batch::DropWhen::parse(drop)?,
        now_unix_ms: now_ms.parse()?,
        denied_column: false,
    };
    let mut times = Vec::new();
    for _ in 0..runs.parse::<usize>()? {
        let start = Instant::now();
        let mut e =
            rpol_batch::Enforcer::new(Arc::clone(&compiled), &mapping, &schema, options.clone())?;
        let mut out = 0;
        for b in &batches {
            out += e.apply(b)?.num_rows();
        }
        times.push(start.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"rows\": {rows}, \"median_s\": {median:.6}, \"rows_per_s\": {:.0}}}",
        rows as f64 / median
    );
    Ok(())
}
