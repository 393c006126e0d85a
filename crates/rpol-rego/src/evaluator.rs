//! Running an export with regorus: the other side of the differential tests
//! and of `rpol bench --rego`.

use std::fmt;

use serde_json::Value;

use crate::{Export, json_str};

/// A failure inside regorus (loading the export or evaluating it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegoError(pub String);

impl fmt::Display for RegoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "regorus: {}", self.0)
    }
}

impl std::error::Error for RegoError {}

/// A regorus engine loaded with one export.
pub struct RegoEvaluator {
    engine: regorus::Engine,
    package: String,
}

impl RegoEvaluator {
    pub fn new(export: &Export) -> Result<Self, RegoError> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(export.module_file_name(), export.module.clone())
            .map_err(|e| RegoError(e.to_string()))?;
        engine
            .add_data(
                regorus::Value::from_json_str(&export.data.to_string())
                    .map_err(|e| RegoError(e.to_string()))?,
            )
            .map_err(|e| RegoError(e.to_string()))?;
        Ok(RegoEvaluator {
            engine,
            package: export.package.clone(),
        })
    }

    /// Sets the request (any JSON text; Rego validates it as docs/reference.md says).
    pub fn set_request(&mut self, request_json: &str) -> Result<(), RegoError> {
        self.engine
            .set_input_json(request_json)
            .map_err(|e| RegoError(e.to_string()))
    }

    /// The decision for the request last set, with reasons when `reasons`
    /// is non-empty (docs/reference.md, Decisions (JSON): `reasons` appears only when asked for).
    pub fn decide(&mut self, reasons: &[&str]) -> Result<Value, RegoError> {
        let query = self.decision_query(reasons);
        self.query(&query)
    }

    /// The decision and the validation errors Rego found, in one evaluation.
    pub fn decide_checked(&mut self, reasons: &[&str]) -> Result<(Value, Vec<String>), RegoError> {
        let query = format!(
            "[{}, data.{}.errors]",
            self.decision_query(reasons),
            self.package
        );
        match self.query(&query)? {
            Value::Array(mut pair) if pair.len() == 2 => {
                let errors = pair
                    .pop()
                    .and_then(|e| {
                        e.as_array().map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        })
                    })
                    .unwrap_or_default();
                let decision = pair.pop().unwrap_or(Value::Null);
                Ok((decision, errors))
            }
            other => Err(RegoError(format!("unexpected result {other}"))),
        }
    }

    fn decision_query(&self, reasons: &[&str]) -> String {
        if reasons.is_empty() {
            format!("data.{}.decision", self.package)
        } else {
            let list: Vec<String> = reasons.iter().map(|c| json_str(c)).collect();
            format!("data.{}.with_reasons([{}])", self.package, list.join(", "))
        }
    }

    fn query(&mut self, query: &str) -> Result<Value, RegoError> {
        let results = self
            .engine
            .eval_query(query.to_string(), false)
            .map_err(|e| RegoError(e.to_string()))?;
        let value = results
            .result
            .first()
            .and_then(|r| r.expressions.first())
            .map(|e| e.value.clone())
            .ok_or_else(|| RegoError("the decision is undefined".to_string()))?;
        let text = value.to_json_str().map_err(|e| RegoError(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| RegoError(e.to_string()))
    }
}

/// The first place where two decisions differ, as a JSON path with both
/// values; `None` when they are equal.
pub fn comparable(native: &Value, rego: &Value) -> Option<String> {
    fn walk(path: &str, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x {
                    let p = format!("{path}.{k}");
                    match y.get(k) {
                        Some(vb) => {
                            if let Some(d) = walk(&p, va, vb) {
                                return Some(d);
                            }
                        }
                        None => return Some(format!("{p}: native {va}, rego has no such key")),
                    }
                }
                y.keys()
                    .find(|k| !x.contains_key(*k))
                    .map(|k| format!("{path}.{k}: rego {}, native has no such key", y[k]))
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (va, vb))| walk(&format!("{path}[{i}]"), va, vb)),
            _ if a == b => None,
            _ => Some(format!("{path}: native {a}, rego {b}")),
        }
    }
    walk("$", native, rego)
}
