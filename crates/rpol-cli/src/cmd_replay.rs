//! `rpol replay PATH LOG`: decide every logged request again under PATH and
//! report what would change (docs/decision-logs.md).
//!
//! Exit 0 when every logged decision was decided again and none changed; 1
//! when one changed, is invalid now, or could not be decided again; 2 on
//! errors: policy errors, an unreadable log, or a malformed line (the report
//! is still printed, so that every bad line is seen at once).

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use rpol_analysis::replay::{ChangeKind, ReplayOptions, ReplayReport, replay};
use rpol_check::load::display;

use crate::AnalysisFormat;
use crate::cli_error::CliError;
use crate::policy::load_policy;

pub fn run(
    path: &Path,
    log: &Path,
    registry: Option<&Path>,
    format: AnalysisFormat,
) -> Result<ExitCode, CliError> {
    let Some(compiled) = load_policy(path, registry)? else {
        return Ok(ExitCode::from(2));
    };
    let log_name = if log == Path::new("-") {
        "<stdin>".to_string()
    } else {
        display(log)
    };
    let (reader, size): (Box<dyn BufRead>, Option<u64>) = if log == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        // A FIFO would block here; stream through `-` instead.
        if let Err(e @ rpol_check::load::LoadError::NotRegular(..)) =
            rpol_check::load::require_regular(log)
        {
            return Err(e.into());
        }
        let file = File::open(log).map_err(|e| {
            CliError::Load(
                format!("cannot read log `{log_name}`: {e}"),
                Some("give a decision log written by `rpol eval --log` or a service".into()),
            )
        })?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 20, file)), size)
    };
    let bar = progress_bar(size);
    let report = replay(&compiled, reader, &ReplayOptions::default(), &mut |p| {
        bar.set_position(p.bytes);
        bar.set_message(format!("{} lines", p.lines));
    })
    .map_err(|e| CliError::Load(format!("log `{log_name}`: {e}"), None))?;
    bar.finish_and_clear();

    match format {
        AnalysisFormat::Json => {
            let mut v = report.to_json();
            v["log"] = serde_json::json!(log_name);
            v["policy"] = serde_json::json!(display(path));
            outln!(
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
            );
        }
        AnalysisFormat::Human => print_human(&report, &log_name, &display(path)),
    }
    if report.malformed.count > 0 {
        let first = report.malformed.first.first().map_or(0, |m| m.line);
        eprintln!(
            "error: `{log_name}` has {} malformed line{} (the first is line {first})",
            report.malformed.count,
            plural(report.malformed.count)
        );
        return Ok(ExitCode::from(2));
    }
    if report.decisions == 0 {
        eprintln!("warning: `{log_name}` holds no decisions");
    }
    Ok(if report.unchanged() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A byte progress bar on a terminal's stderr; hidden otherwise, so that
/// pipes and CI logs get no control characters.
fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match size {
        Some(n) => (
            ProgressBar::new(n),
            "replaying [{bar:30}] {bytes}/{total_bytes} {msg} ({eta} left)",
        ),
        None => (
            ProgressBar::new_spinner(),
            "replaying {spinner} {bytes} {msg}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Prints one line of the human report with control characters escaped:
/// ids, modes, digests and messages come from the log, which anyone may have
/// written, and must not drive the terminal.
macro_rules! hout {
    () => { outln!() };
    ($($t:tt)*) => { outln!("{}", escape(&format!($($t)*))) };
}

/// `s` with every control character (C0, DEL, C1) and bidirectional
/// formatting character written as `\u{..}`.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn print_human(r: &ReplayReport, log: &str, policy: &str) {
    hout!(
        "replayed `{log}` under `{policy}` (digest {})",
        short(&r.digest)
    );
    hout!(
        "  {} line{}: {} decision{}, {} blank, {} malformed",
        r.lines,
        plural(r.lines),
        r.decisions,
        plural(r.decisions),
        r.blank_lines,
        r.malformed.count
    );
    hout!(
        "  {} decided again ({} of them logged invalid: their fallback), {} changed",
        r.redecided,
        r.logged_invalid,
        r.changed
    );
    hout!(
        "  {} invalid now, {} could not be decided again",
        r.now_invalid.count,
        r.undecidable.count
    );
    if r.other_digest > 0 {
        let digests: Vec<String> = r
            .digests
            .iter()
            .filter(|(d, _)| *d != r.digest)
            .map(|(d, n)| format!("{} ({n})", short(d)))
            .collect();
        hout!(
            "  {} logged under another policy digest: {}{}",
            r.other_digest,
            digests.join(", "),
            if r.more_digests > 0 { ", …" } else { "" }
        );
    }
    if r.changed > 0 {
        hout!();
        hout!("{:<26} {:>9}  first example", "change", "decisions");
        for kind in ChangeKind::ALL {
            let k = r.kind(kind);
            if k.count == 0 {
                continue;
            }
            let first = k.examples.first().map_or(String::new(), |e| {
                format!("line {} ({}): {} → {}", e.line, e.id, e.old, e.new)
            });
            hout!("{:<26} {:>9}  {first}", kind.label(), k.count);
            for ((from, to), n) in &k.transitions {
                hout!("  {from} → {to}: {n}");
            }
        }
        hout!();
        hout!("first examples");
        for kind in ChangeKind::ALL {
            let k = r.kind(kind);
            if k.examples.is_empty() {
                continue;
            }
            hout!("  {}", kind.label());
            for e in &k.examples {
                hout!("    line {} `{}`: {} → {}", e.line, e.id, e.old, e.new);
                if let Some(d) = &e.detail {
                    hout!("      {d}");
                }
            }
        }
    }
    if r.now_invalid.count > 0 {
        hout!();
        hout!("invalid now (a service would serve the fallback decision)");
        for x in &r.now_invalid.first {
            hout!("  line {} `{}`: {}", x.line, x.id, x.errors.join("; "));
        }
    }
    if r.undecidable.count > 0 {
        hout!();
        hout!("could not be decided again");
        for x in &r.undecidable.first {
            hout!("  line {} `{}`: {}", x.line, x.id, x.reason);
        }
    }
    if r.malformed.count > 0 {
        hout!();
        hout!("malformed lines");
        let f = &r.refused;
        if f.total() > 0 {
            hout!(
                "  refused: {} with an unknown key, {} with a `time` that is not RFC 3339, {} with a raw subject id",
                f.unknown_key,
                f.bad_time,
                f.raw_subject_id
            );
        }
        for x in &r.malformed.first {
            hout!("  line {}: {}", x.line, x.message);
        }
    }
    hout!();
    hout!("{}", verdict(r));
}

/// The closing line: what the exit code means, in words.
fn verdict(r: &ReplayReport) -> String {
    if r.malformed.count > 0 {
        return format!(
            "replay incomplete: {} malformed line{}",
            r.malformed.count,
            plural(r.malformed.count)
        );
    }
    let changed = r.changed + r.now_invalid.count;
    if changed > 0 {
        return format!(
            "{changed} of {} decision{} would change",
            r.decisions,
            plural(r.decisions)
        );
    }
    if r.undecidable.count > 0 {
        return format!(
            "no change among the {} decided again, but {} could not be decided again",
            r.redecided, r.undecidable.count
        );
    }
    format!("no decision would change ({} decided again)", r.redecided)
}
