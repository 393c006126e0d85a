//! `rpol diff OLD NEW`: what a policy change does to requests, region by
//! region (docs/analysis.md). Exit 0 equal, 1 different, 2 on errors.

use std::path::Path;
use std::process::ExitCode;

use rpol_analysis::diff::{DiffReport, diff};
use rpol_analysis::regions::Space;
use rpol_check::load;
use rpol_diag::plural;
use serde_json::Value;

use crate::cli_error::CliError;
use crate::policy::{analysis_error, load_with_origin};
use crate::{AnalysisEngine, AnalysisFormat};

pub struct DiffArgs<'a> {
    pub old: &'a Path,
    pub new: &'a Path,
    pub old_registry: Option<&'a Path>,
    pub new_registry: Option<&'a Path>,
    pub format: AnalysisFormat,
    pub max_regions: u64,
    pub engine: AnalysisEngine,
}

pub fn run(a: &DiffArgs<'_>) -> Result<ExitCode, CliError> {
    let (Some(old), Some(new)) = (
        load_with_origin(a.old, a.old_registry)?,
        load_with_origin(a.new, a.new_registry)?,
    ) else {
        // Check errors are on stderr; 1 means "they differ" here, so errors are 2.
        return Ok(ExitCode::from(2));
    };
    let report = match a.engine {
        AnalysisEngine::Enumerate => diff(&old.compiled, &new.compiled, a.max_regions),
        AnalysisEngine::Symbolic => rpol_analysis::symbolic::diff(&old.compiled, &new.compiled),
    }
    .map_err(|e| analysis_error(e, &[&old.origin, &new.origin], None))?;
    match a.format {
        AnalysisFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        ),
        AnalysisFormat::Human => human(&report, a.old, a.new),
    }
    Ok(if report.equal() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn human(r: &DiffReport, old: &Path, new: &Path) {
    let (o, n) = (load::display(old), load::display(new));
    if r.equal() {
        outln!(
            "`{o}` and `{n}` decide alike: equal mode, route, sources and features in all {}",
            plural(r.regions, "region")
        );
        return;
    }
    outln!(
        "`{o}` (OLD) and `{n}` (NEW) differ in {} over {}:",
        plural(r.differences.len(), "way"),
        plural(r.regions, "region")
    );
    for (i, d) in r.differences.iter().enumerate() {
        outln!();
        outln!("{:>3}. {}", i + 1, d.summary);
        outln!("     witness: {}", Space::witness_text(&d.witness));
        outln!("     old: {}", side(&d.old));
        outln!("     new: {}", side(&d.new));
    }
}

/// One side of a difference in words: `mode `m`, route `r`; feature `f` denied (`code`)`.
fn side(v: &Value) -> String {
    if v["valid"] == false {
        let errors: Vec<&str> = v["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        return format!("invalid request ({})", errors.join("; "));
    }
    let name = |x: &Value| x.as_str().map_or("none".to_string(), |s| format!("`{s}`"));
    let mut out = format!("mode {}, route {}", name(&v["mode"]), name(&v["route"]));
    for kind in ["source", "feature"] {
        if let Some(Value::Object(o)) = v.get(kind) {
            for (n, verdict) in o {
                let what = match (verdict["allowed"].as_bool(), verdict["code"].as_str()) {
                    (Some(true), _) => "allowed".to_string(),
                    (_, Some(code)) => format!("denied (`{code}`)"),
                    _ => "not declared".to_string(),
                };
                out.push_str(&format!("; {kind} `{n}` {what}"));
            }
        }
    }
    out
}
