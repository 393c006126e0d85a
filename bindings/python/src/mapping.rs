//! `rpol.Mapping`: which column (or constant) gives each request field.
//! It keeps its source text, so it pickles (Spark ships it to executors)
//! and reads back exactly as it was checked.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::diagnostics_error;
use crate::load::Diag;

/// A mapping from request fields (``tenant``, ``surface``, ``purpose``,
/// ``subject.user_id``, ``consent.TOPIC``, ``context.FIELD``, ``roles``,
/// ``event_time``, ``kind``...) to a column name or ``{"value": V}``, a
/// constant for every row. Make one with :meth:`from_dict`,
/// :meth:`from_yaml` or :meth:`load` (a YAML file, as ``rpol enforce
/// --map``); a syntax or shape error raises :class:`rpol.EnforceError`.
#[pyclass(frozen, module = "rpol", name = "Mapping")]
pub struct Mapping {
    /// YAML (or JSON) text and the name errors give it.
    text: String,
    file: String,
    json: bool,
    pub(crate) parsed: rpol_batch::Mapping,
}

/// `rpol.EnforceError` carrying every finding of `e`.
pub fn enforce_error(py: Python<'_>, e: &rpol_batch::BatchError) -> PyErr {
    let diags: Vec<Diag> = e
        .findings
        .iter()
        .map(|f| Diag {
            code: f.code.to_string(),
            severity: "error",
            message: f.message.clone(),
            file: f.place.as_ref().map(|p| p.file.clone()),
            line: f.place.as_ref().map(|p| p.line),
            column: f.place.as_ref().map(|p| p.column),
            help: f.help.clone(),
        })
        .collect();
    diagnostics_error(py, "EnforceError", &diags)
}

impl Mapping {
    fn parse(py: Python<'_>, text: String, file: String, json: bool) -> PyResult<Mapping> {
        let parsed = if json {
            rpol_batch::Mapping::from_json(&text)
        } else {
            rpol_batch::Mapping::from_yaml(&text, &file)
        };
        parsed
            .map(|parsed| Mapping {
                text,
                file,
                json,
                parsed,
            })
            .map_err(|e| enforce_error(py, &e))
    }

    /// A mapping from what a user passes: a `Mapping`, a dict, or a path.
    pub fn of_any(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<Mapping>> {
        if let Ok(m) = value.cast::<Mapping>() {
            return Ok(m.clone().unbind());
        }
        let dict_like = value.cast::<PyDict>().is_ok()
            || (!value.is_instance_of::<PyString>() && value.hasattr("keys")?);
        let m = if dict_like {
            Mapping::from_dict(py, value)?
        } else {
            Mapping::load(py, value.extract()?)?
        };
        Py::new(py, m)
    }
}

#[pymethods]
impl Mapping {
    /// ``value`` itself if it is a Mapping, else a mapping from a dict or
    /// from the YAML file at a path.
    #[staticmethod]
    fn of(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<Mapping>> {
        Mapping::of_any(py, value)
    }

    /// A mapping from a dict (its JSON form is checked).
    #[staticmethod]
    fn from_dict(py: Python<'_>, mapping: &Bound<'_, PyAny>) -> PyResult<Mapping> {
        let kw = PyDict::new(py);
        kw.set_item("allow_nan", false)?;
        let text: String = py
            .import("json")?
            .call_method("dumps", (mapping,), Some(&kw))?
            .extract()?;
        Mapping::parse(py, text, "<mapping>".into(), true)
    }

    /// A mapping from YAML text; ``file`` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, file = "<mapping>".to_string()))]
    fn from_yaml(py: Python<'_>, text: String, file: String) -> PyResult<Mapping> {
        Mapping::parse(py, text, file, false)
    }

    /// A mapping read from a YAML file (the format of ``rpol enforce --map``).
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Mapping> {
        let shown = rpol_check::load::display(&path);
        let text = rpol_check::load::read_text(&path).map_err(|e| {
            let d = Diag {
                code: "E0908".into(),
                severity: "error",
                message: e.to_string(),
                file: Some(shown.clone()),
                line: None,
                column: None,
                help: e.help().map(str::to_string),
            };
            diagnostics_error(py, "EnforceError", &[d])
        })?;
        Mapping::parse(py, text, shown, false)
    }

    /// Its source text (YAML, or JSON for a dict).
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!("<rpol.Mapping {}>", self.file)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (String, String, bool))> {
        let py = slf.py();
        let m = slf.get();
        let ctor = py.get_type::<Mapping>().getattr("_from_text")?;
        Ok((ctor, (m.text.clone(), m.file.clone(), m.json)))
    }

    #[staticmethod]
    fn _from_text(py: Python<'_>, text: String, file: String, json: bool) -> PyResult<Mapping> {
        Mapping::parse(py, text, file, json)
    }
}
