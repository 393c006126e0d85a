//! Rego v1 export of a checked RPOL policy (docs/rego.md).
//!
//! [`export`] turns a [`PolicyModel`] into a Rego module (package
//! `rpol.<policy name>`) and a data document (the registry and the compiled
//! tables, under `data.rpol_export.<policy name>`). Querying the module's
//! `decision` rule with a request as input yields the native decision
//! (docs/reference.md, Decisions (JSON)); `with_reasons(codes)` adds the `reasons` object.
//! [`RegoEvaluator`] runs an export with regorus, for the differential tests
//! and `rpol bench --rego`.

mod data;
#[cfg(feature = "evaluator")]
mod evaluator;
mod expr;
mod module;
mod sha;

use rpol_engine::model::PolicyModel;

#[cfg(feature = "evaluator")]
pub use evaluator::{RegoError, RegoEvaluator, comparable};

/// A policy exported to Rego.
#[derive(Debug, Clone)]
pub struct Export {
    /// `rpol.<policy name>`.
    pub package: String,
    /// The Rego v1 module text.
    pub module: String,
    /// The data document (to load with `opa eval -d data.json`).
    pub data: serde_json::Value,
}

impl Export {
    /// The file name of the module: `<policy name>.rego`.
    pub fn module_file_name(&self) -> String {
        format!("{}.rego", self.package.trim_start_matches("rpol."))
    }

    /// The data document as pretty JSON.
    pub fn data_json(&self) -> String {
        serde_json::to_string_pretty(&self.data).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Exports a checked policy.
pub fn export(m: &PolicyModel) -> Export {
    Export {
        package: format!("rpol.{}", m.name),
        module: module::render(m),
        data: data::tables(m),
    }
}

/// A JSON string literal, which is also a Rego string literal.
pub(crate) fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}
