//! `rpol.Policy`: a compiled policy. Requests come in as dicts (or JSON
//! text) and decisions go out as the JSON of `rpol eval --format json`,
//! turned into Python values.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use rpol_engine::{Compiled, ReasonOutcome, Request, RequestErrors};

use crate::errors::{policy_error, raise};
use crate::load;

/// A compiled policy: load it once, then decide any number of requests from
/// any number of threads (the GIL is released while it decides).
///
/// ``Policy.load(path)`` checks and compiles a policy directory or file (or
/// loads an artifact written by ``rpol compile``) and raises
/// :class:`rpol.PolicyError` when it has errors.
#[pyclass(frozen, module = "rpol", name = "Policy")]
pub struct Policy {
    pub(crate) compiled: Arc<Compiled>,
}

/// A request as JSON text: `str` and `bytes` as they are, anything else
/// through `json.dumps` (NaN refused, as JSON has none).
fn request_text(py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = request.cast::<PyString>() {
        return s.extract();
    }
    if let Ok(b) = request.cast::<PyBytes>() {
        // Not UTF-8: a request whose text the parser refuses, as a service would.
        return Ok(String::from_utf8_lossy(b.as_bytes()).into_owned());
    }
    let kw = PyDict::new(py);
    kw.set_item("allow_nan", false)?;
    py.import("json")?
        .call_method("dumps", (request,), Some(&kw))?
        .extract()
}

fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// `{"errors": [{"path", "message"}, ...], "fallback": DECISION}` as JSON,
/// the shape `rpol serve` answers an invalid request with.
fn invalid_json(c: &Compiled, errors: &RequestErrors, fallback: &rpol_engine::Decision) -> String {
    let errors: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| serde_json::json!({"path": e.path, "message": e.message}))
        .collect();
    format!(
        "{{\"errors\":{},\"fallback\":{}}}",
        serde_json::Value::Array(errors),
        fallback.to_json(c)
    )
}

/// Raises `rpol.InvalidRequest` from the JSON of [`invalid_json`].
fn invalid_request(py: Python<'_>, json: &str) -> PyErr {
    match json_loads(py, json).and_then(|v| Ok((v.get_item("errors")?, v.get_item("fallback")?))) {
        Ok(args) => raise(py, "InvalidRequest", args),
        Err(e) => e,
    }
}

impl Policy {
    /// Parses a request (GIL released); an invalid one raises `InvalidRequest`.
    fn parse(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Request> {
        let text = request_text(py, request)?;
        let c = &self.compiled;
        py.detach(|| {
            c.parse_request(&text).map_err(|_| {
                let Err((errors, fallback)) = c.decide_json(&text, &[]) else {
                    unreachable!("a request parsed once and failed once")
                };
                invalid_json(c, &errors, &fallback)
            })
        })
        .map_err(|json| invalid_request(py, &json))
    }
}

#[pymethods]
impl Policy {
    /// Checks and compiles the policy at ``path`` (a ``.rpol`` file, a
    /// directory of them, or a compiled artifact); ``registry`` replaces the
    /// registry the policy names. Raises :class:`rpol.PolicyError` with every
    /// error found.
    #[staticmethod]
    #[pyo3(signature = (path, registry = None))]
    fn load(py: Python<'_>, path: PathBuf, registry: Option<PathBuf>) -> PyResult<Policy> {
        py.detach(|| load::load_policy(&path, registry.as_deref()))
            .map(|c| Policy {
                compiled: Arc::new(c),
            })
            .map_err(|d| policy_error(py, &d))
    }

    /// Loads a compiled artifact from its bytes (``rpol compile``'s output,
    /// or :meth:`to_artifact`). Raises :class:`rpol.PolicyError`.
    #[staticmethod]
    fn from_artifact(py: Python<'_>, data: &[u8]) -> PyResult<Policy> {
        py.detach(|| load::from_artifact(data))
            .map(|c| Policy {
                compiled: Arc::new(c),
            })
            .map_err(|d| policy_error(py, &d))
    }

    /// The compiled artifact's bytes, as ``rpol compile`` writes them.
    fn to_artifact<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| self.compiled.to_artifact());
        PyBytes::new(py, &bytes)
    }

    /// SHA-256 (hex) of the policy's files and registry.
    #[getter]
    fn digest(&self) -> &str {
        self.compiled.digest()
    }

    /// The policy's name.
    #[getter]
    fn name(&self) -> &str {
        &self.compiled.model().name
    }

    /// The policy's version.
    #[getter]
    fn version(&self) -> &str {
        &self.compiled.model().version
    }

    /// The registry's feature names, in registry order.
    #[getter]
    fn features(&self) -> Vec<String> {
        let m = self.compiled.model();
        m.features.iter().map(|f| f.name.clone()).collect()
    }

    fn __repr__(&self) -> String {
        let m = self.compiled.model();
        format!(
            "<rpol.Policy {} {} {}>",
            m.name,
            m.version,
            &self.compiled.digest()[..12.min(self.compiled.digest().len())]
        )
    }

    /// Pickles as its artifact, so a policy can travel to worker processes.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let ctor = py.get_type::<Policy>().getattr("from_artifact")?;
        Ok((ctor, (slf.get().to_artifact(py),)))
    }

    /// The decision for ``request`` (a dict, or JSON text), as the JSON of
    /// ``rpol eval --format json`` in Python values; ``reasons`` are reason
    /// codes to explain, in order. An invalid request raises
    /// :class:`rpol.InvalidRequest` (its ``.fallback`` is the decision a
    /// service serves for it).
    #[pyo3(signature = (request, reasons = Vec::new()))]
    fn decide<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        reasons: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = request_text(py, request)?;
        let c = &self.compiled;
        let out = py.detach(|| {
            let codes: Vec<&str> = reasons.iter().map(String::as_str).collect();
            match c.decide_json(&text, &codes) {
                Ok(d) => Ok(d.to_json(c)),
                Err((errors, fallback)) => Err(invalid_json(c, &errors, &fallback)),
            }
        });
        match out {
            Ok(json) => json_loads(py, &json),
            Err(json) => Err(invalid_request(py, &json)),
        }
    }

    /// Decides every request of ``requests`` (GIL released for the whole
    /// list). An invalid request's place holds ``{"errors": [...],
    /// "fallback": DECISION}`` instead of raising.
    #[pyo3(signature = (requests, reasons = Vec::new()))]
    fn decide_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
        reasons: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let texts: Vec<String> = requests
            .try_iter()?
            .map(|r| request_text(py, &r?))
            .collect::<PyResult<_>>()?;
        let c = &self.compiled;
        let json = py.detach(|| {
            let codes: Vec<&str> = reasons.iter().map(String::as_str).collect();
            let mut out = String::with_capacity(texts.len() * 1024 + 2);
            out.push('[');
            for (i, text) in texts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match c.decide_json(text, &codes) {
                    Ok(d) => out.push_str(&d.to_json(c)),
                    Err((errors, fallback)) => out.push_str(&invalid_json(c, &errors, &fallback)),
                }
            }
            out.push(']');
            out
        });
        json_loads(py, &json)
    }

    /// Whether the feature ``name`` is allowed for ``request``, without
    /// building the whole decision. A name not in the registry is denied.
    /// An invalid request raises :class:`rpol.InvalidRequest`.
    fn check_feature(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        name: &str,
    ) -> PyResult<bool> {
        let req = self.parse(py, request)?;
        let c = &self.compiled;
        Ok(py.detach(|| {
            c.feature_id(name)
                .is_some_and(|f| c.check_feature(&c.prepare(&req), f).is_allowed())
        }))
    }

    /// What happens to reason ``code`` for ``request``:
    /// ``{"shown": REASON, "text": TEXT}`` or ``{"suppressed": DENY_CODE}``,
    /// as under ``reasons`` in a decision.
    fn explain<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        code: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let req = self.parse(py, request)?;
        let c = &self.compiled;
        let outcome = py.detach(|| c.explain(&c.prepare(&req), code));
        let out = PyDict::new(py);
        match outcome {
            ReasonOutcome::Shown(r) => {
                let r = c.model().reasons.get(r as usize);
                out.set_item("shown", r.map_or("", |x| x.name.as_str()))?;
                out.set_item("text", r.map_or("", |x| x.text.as_str()))?;
            }
            ReasonOutcome::Suppressed(code) => out.set_item("suppressed", code.as_str())?,
            ReasonOutcome::Forbidden(_) => out.set_item("suppressed", "forbidden")?,
        }
        Ok(out)
    }

    /// The retention of data of ``kind`` as a ``datetime.timedelta``.
    /// A kind the policy does not declare raises :class:`rpol.UnknownKind`
    /// (never a default retention).
    fn retention<'py>(&self, py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.compiled.retention(kind) {
            Ok(seconds) => {
                let kw = PyDict::new(py);
                kw.set_item("seconds", seconds)?;
                py.import("datetime")?
                    .getattr("timedelta")?
                    .call((), Some(&kw))
            }
            Err(e) => Err(raise(py, "UnknownKind", (kind, e.to_string()))),
        }
    }

    /// Whether ``role`` may see ``feature`` in a debug view. An undeclared
    /// role or a feature not in the registry never may.
    fn debug_visible(&self, role: &str, feature: &str) -> bool {
        let c = &self.compiled;
        c.feature_id(feature)
            .is_some_and(|f| c.debug_visible(role, f))
    }

    /// An :class:`Enforcer` for tables of ``schema`` (a ``pyarrow.Schema``,
    /// or a table or batch whose schema to use). ``mapping`` maps request
    /// fields to columns: a dict such as ``{"tenant": "tenant_col",
    /// "surface": {"value": "home"}}``, or the path of a YAML mapping file.
    /// ``purpose`` replaces the mapping's purpose; ``drop`` lists reasons to
    /// drop rows (``"invalid"``, ``"no_features"``, ``"expired"``); ``now``
    /// (an aware ``datetime``, default the current time) is when retention
    /// is measured; ``denied_column`` adds ``rpol_denied``. Every mapping
    /// problem raises :class:`rpol.EnforceError` here, before any row is read.
    #[pyo3(signature = (schema, mapping, *, purpose = None, drop = None, now = None, denied_column = false))]
    #[allow(clippy::too_many_arguments)]
    fn enforcer(
        &self,
        py: Python<'_>,
        schema: &Bound<'_, PyAny>,
        mapping: &Bound<'_, PyAny>,
        purpose: Option<String>,
        drop: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        denied_column: bool,
    ) -> PyResult<crate::enforce::Enforcer> {
        let schema = crate::enforce::schema_of(py, schema)?;
        crate::enforce::enforcer(
            py,
            self,
            mapping,
            &schema,
            purpose,
            drop,
            now,
            denied_column,
        )
    }

    /// Enforces the policy on ``table`` (a ``pyarrow.Table`` or
    /// ``RecordBatch``; the result is the same kind): each feature column
    /// (a column named as a registry feature) keeps its cell where the row's
    /// decision allows the feature and is null where it denies it; rows are
    /// dropped as ``drop`` says; ``rpol_mode`` holds each row's mode. The
    /// arguments are those of :meth:`enforcer`; with ``with_stats=True`` the
    /// result is ``(table, stats)``. Zero-copy in and out; the GIL is
    /// released while Rust works.
    #[pyo3(signature = (table, mapping, *, purpose = None, drop = None, now = None, denied_column = false, with_stats = false))]
    #[allow(clippy::too_many_arguments)]
    fn enforce(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        mapping: &Bound<'_, PyAny>,
        purpose: Option<String>,
        drop: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        denied_column: bool,
        with_stats: bool,
    ) -> PyResult<Py<PyAny>> {
        let e = self.enforcer(py, table, mapping, purpose, drop, now, denied_column)?;
        crate::enforce::enforce(py, &e, table, with_stats)
    }
}
