//! SARIF 2.1.0 for `check` and `lint`, as GitHub code scanning reads it.

use rpol_diag::{Diagnostic, Severity, SourceMap};
use serde_json::{Value, json};

#[derive(Default)]
pub struct Sarif {
    results: Vec<Value>,
    rules: Vec<&'static str>,
}

impl Sarif {
    pub fn add(&mut self, d: &Diagnostic, sm: &SourceMap) {
        let l = d.locate(sm);
        let index = match self.rules.iter().position(|r| *r == d.code) {
            Some(i) => i,
            None => {
                self.rules.push(d.code);
                self.rules.len() - 1
            }
        };
        let mut text = d.message.clone();
        if let Some(h) = &d.help {
            text.push_str(&format!("\nhelp: {h}"));
        }
        self.results.push(json!({
            "ruleId": d.code,
            "ruleIndex": index,
            "level": level(d.severity),
            "message": { "text": text },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": l.file },
                    "region": {
                        "startLine": l.range.line,
                        "startColumn": l.range.column,
                        "endLine": l.range.end_line,
                        "endColumn": l.range.end_column.max(if l.range.end_line == l.range.line { l.range.column + 1 } else { 1 })
                    }
                }
            }]
        }));
    }

    pub fn finish(self) -> Value {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|code| match rpol_diag::codes::lookup(code) {
                Some(info) => json!({
                    "id": info.code,
                    "name": info.title,
                    "shortDescription": { "text": info.title },
                    "fullDescription": { "text": info.explanation },
                    "help": { "text": rpol_diag::codes::render_explain(info), "markdown": rpol_diag::codes::render_explain(info) },
                    "defaultConfiguration": { "level": level(info.severity) }
                }),
                None => json!({ "id": code, "shortDescription": { "text": code } }),
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "rpol",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules
                }},
                "results": self.results
            }]
        })
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
