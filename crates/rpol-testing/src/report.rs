//! The runner's outputs: human (one line per test, failures in full, closing
//! `N passed, N failed`), JSON, and JUnit XML.

use rpol_diag::SourceMap;
use serde_json::{Value, json};

use crate::run::Report;

fn at(sm: &SourceMap, file: rpol_diag::FileId, span: rpol_diag::Span) -> String {
    let f = sm.get(file);
    let lc = f.line_col(span.start);
    format!("{}:{}:{}", f.name, lc.line, lc.column)
}

/// Human output. `paint(text, style)` adds colour on a terminal.
pub fn human(
    reports: &[Report],
    sms: &[&SourceMap],
    coverage: bool,
    paint: &dyn Fn(&str, &str) -> String,
) -> String {
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    for (ri, r) in reports.iter().enumerate() {
        let sm = sms[ri];
        for t in &r.results {
            if t.passed() {
                passed += 1;
                out.push_str(&format!(
                    "{} {} :: {}\n",
                    paint("ok  ", "green"),
                    r.policy,
                    t.name
                ));
            } else {
                failed += 1;
                out.push_str(&format!(
                    "{} {} :: {}\n",
                    paint("FAIL", "red"),
                    r.policy,
                    t.name
                ));
            }
        }
        for t in r.results.iter().filter(|t| !t.passed()) {
            out.push_str(&format!("\n{} {}\n", paint("failure:", "red"), t.name));
            for f in &t.failures {
                let file = sm.get(f.file);
                let line = file.line_col(f.span.start).line;
                let src = file
                    .slice(rpol_diag::Span::new(
                        file.line_start(line - 1),
                        file.line_start(line),
                    ))
                    .trim_end();
                out.push_str(&format!("  --> {}\n", at(sm, f.file, f.span)));
                out.push_str(&format!("   | {src}\n"));
                let expected = match &f.item {
                    // A list: point at the element that failed and name it.
                    Some(item) => {
                        let before = file.slice(rpol_diag::Span::new(
                            file.line_start(line - 1),
                            f.span.start,
                        ));
                        let pad: String = before
                            .chars()
                            .map(|c| if c == '\t' { '\t' } else { ' ' })
                            .collect();
                        let width = file.slice(f.span).chars().count().max(1);
                        out.push_str(&format!("   | {pad}{}\n", "^".repeat(width)));
                        format!("{item} {}", f.expected)
                    }
                    None => f.expected.clone(),
                };
                out.push_str(&format!("   = expected: {expected}\n"));
                out.push_str(&format!("   = actual:   {}\n", f.actual));
            }
        }
        if coverage {
            let c = &r.coverage;
            out.push_str(&format!(
                "\ncoverage of {}: {:.1}% ({} of {} items)\n",
                r.policy,
                c.percent(),
                c.items.iter().filter(|i| i.covered).count(),
                c.items.len()
            ));
            for g in c.gaps() {
                out.push_str(&format!(
                    "  {} {}: {} `{}`\n",
                    paint("gap", "yellow"),
                    at(sm, g.file, g.span),
                    g.kind.describe(),
                    g.name
                ));
            }
        }
    }
    if failed > 0 || passed > 0 {
        out.push('\n');
    }
    out.push_str(&format!("{passed} passed, {failed} failed\n"));
    out
}

pub fn json(reports: &[Report], sms: &[&SourceMap], coverage: bool) -> Value {
    let mut policies = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for (ri, r) in reports.iter().enumerate() {
        let sm = sms[ri];
        passed += r.passed();
        failed += r.failed();
        let tests: Vec<Value> = r
            .results
            .iter()
            .map(|t| {
                let loc = sm.range(t.file, t.span);
                json!({
                    "name": t.name,
                    "file": sm.get(t.file).name,
                    "line": loc.line,
                    "passed": t.passed(),
                    "micros": t.micros,
                    "failures": t.failures.iter().map(|f| {
                        let l = sm.range(f.file, f.span);
                        json!({"file": sm.get(f.file).name, "line": l.line, "column": l.column, "expect": f.expect, "expected": f.expected, "actual": f.actual})
                    }).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut p =
            json!({"policy": r.policy, "passed": r.passed(), "failed": r.failed(), "tests": tests});
        if coverage {
            p["coverage"] = json!({
                "percent": (r.coverage.percent() * 10.0).round() / 10.0,
                "items": r.coverage.items.len(),
                "covered": r.coverage.items.iter().filter(|i| i.covered).count(),
                "gaps": r.coverage.gaps().map(|g| {
                    let l = sm.range(g.file, g.span);
                    json!({"kind": g.kind.describe(), "name": g.name, "file": sm.get(g.file).name, "line": l.line, "column": l.column})
                }).collect::<Vec<_>>()
            });
        }
        policies.push(p);
    }
    json!({"policies": policies, "passed": passed, "failed": failed})
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 has no representation for most control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one `testsuite` per policy, one `testcase` per test.
pub fn junit(reports: &[Report], sms: &[&SourceMap]) -> String {
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = reports.iter().map(|r| r.results.len()).sum();
    let failures: usize = reports.iter().map(|r| r.failed()).sum();
    o.push_str(&format!(
        "<testsuites name=\"rpol\" tests=\"{total}\" failures=\"{failures}\">\n"
    ));
    for (ri, r) in reports.iter().enumerate() {
        let sm = sms[ri];
        let secs: f64 = r.results.iter().map(|t| t.micros as f64 / 1e6).sum();
        o.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{secs:.6}\">\n",
            xml_escape(&r.policy),
            r.results.len(),
            r.failed()
        ));
        for t in &r.results {
            let file = sm.get(t.file);
            let line = file.line_col(t.span.start).line;
            o.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\" time=\"{:.6}\"",
                xml_escape(&t.name),
                xml_escape(&r.policy),
                xml_escape(&file.name),
                t.micros as f64 / 1e6
            ));
            if t.passed() {
                o.push_str("/>\n");
                continue;
            }
            o.push_str(">\n");
            let first = &t.failures[0];
            let message = format!(
                "expect {}: expected {}, actual {}",
                first.expect, first.expected, first.actual
            );
            let body: Vec<String> = t
                .failures
                .iter()
                .map(|f| {
                    format!(
                        "{}: expect {}\n  expected: {}\n  actual:   {}",
                        at(sm, f.file, f.span),
                        f.expect,
                        f.expected,
                        f.actual
                    )
                })
                .collect();
            o.push_str(&format!(
                "      <failure message=\"{}\" type=\"expectation\">{}</failure>\n",
                xml_escape(&message),
                xml_escape(&body.join("\n"))
            ));
            o.push_str("    </testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}
