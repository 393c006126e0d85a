//! `Policy.enforce` and `rpol.Enforcer`: the policy over Arrow tables, through
//! `rpol-batch`. Tables and batches cross the boundary through the Arrow C
//! data interface (no copy); the GIL is released while batches are enforced.

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, PyArrowType, Table, ToPyArrow};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use rpol_batch::{DropWhen, Options, Stats};

use crate::mapping::{Mapping, enforce_error};
use crate::policy::Policy;

/// `drop` as a comma-separated text or any iterable of reasons (`None`:
/// drop nothing).
fn read_drop(py: Python<'_>, drop: Option<&Bound<'_, PyAny>>) -> PyResult<DropWhen> {
    let Some(drop) = drop else {
        return Ok(DropWhen::default());
    };
    let text = if let Ok(s) = drop.extract::<String>() {
        s
    } else {
        let parts: Vec<String> = drop
            .try_iter()?
            .map(|x| x?.extract())
            .collect::<PyResult<_>>()?;
        parts.join(",")
    };
    DropWhen::parse(&text).map_err(|e| enforce_error(py, &e))
}

/// `now` in Unix milliseconds: a timezone-aware `datetime`, or the current
/// time when `None`.
fn read_now(py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
    let now = match now {
        Some(n) => n.clone(),
        None => py.import("datetime")?.getattr("datetime")?.call_method1(
            "now",
            (py.import("datetime")?.getattr("timezone")?.getattr("utc")?,),
        )?,
    };
    if now.getattr("tzinfo").map(|t| t.is_none()).unwrap_or(true) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "`now` must be a timezone-aware datetime (e.g. `datetime.now(timezone.utc)`)",
        ));
    }
    let seconds: f64 = now.call_method0("timestamp")?.extract()?;
    Ok((seconds * 1000.0).round() as i64)
}

fn stats_dict<'py>(py: Python<'py>, s: &Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rows_in", s.rows_in)?;
    d.set_item("rows_out", s.rows_out)?;
    d.set_item("invalid_rows", s.invalid_rows)?;
    d.set_item("dropped_invalid", s.dropped_invalid)?;
    d.set_item("dropped_expired", s.dropped_expired)?;
    d.set_item("dropped_no_features", s.dropped_no_features)?;
    d.set_item("rows_without_retention", s.rows_without_retention)?;
    let cells = PyDict::new(py);
    for (name, n) in &s.cells_nulled {
        cells.set_item(name, n)?;
    }
    d.set_item("cells_nulled", cells)?;
    Ok(d)
}

/// A table or batch from Python: its batches and schema, without copying.
enum Tabular {
    Table(Vec<RecordBatch>),
    Batch(RecordBatch),
}

fn read_tabular(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Tabular> {
    let record_batch = py.import("pyarrow")?.getattr("RecordBatch")?;
    if data.is_instance(&record_batch)? {
        return Ok(Tabular::Batch(RecordBatch::from_pyarrow_bound(data)?));
    }
    let (batches, _) = Table::from_pyarrow_bound(data)?.into_inner();
    Ok(Tabular::Table(batches))
}

/// The policy applied to the batches of one table schema, keeping counts
/// over every batch (``.stats``). Made by :meth:`Policy.enforcer`; one
/// Enforcer per stream (Spark makes one per partition).
#[pyclass(frozen, module = "rpol", name = "Enforcer")]
pub struct Enforcer {
    inner: Mutex<rpol_batch::Enforcer>,
}

impl Enforcer {
    fn apply_all(&self, py: Python<'_>, batches: Vec<RecordBatch>) -> PyResult<Vec<RecordBatch>> {
        py.detach(|| {
            let mut e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            batches
                .iter()
                .map(|b| e.apply(b))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| enforce_error(py, &e))
    }

    fn output(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match read_tabular(py, data)? {
            Tabular::Batch(b) => {
                let mut out = self.apply_all(py, vec![b])?;
                Ok(out.remove(0).to_pyarrow(py)?.unbind())
            }
            Tabular::Table(batches) => {
                let out = self.apply_all(py, batches)?;
                let schema = self.schema();
                let table = Table::try_new(out, schema)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
                Ok(table.into_pyarrow(py)?.unbind())
            }
        }
    }

    fn schema(&self) -> Arc<Schema> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .output_schema()
    }
}

#[pymethods]
impl Enforcer {
    /// Enforces the policy on a ``pyarrow.RecordBatch`` or ``pyarrow.Table``
    /// (same schema as the Enforcer was made for) and returns the same kind.
    fn apply(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.output(py, data)
    }

    /// The schema of every output batch: the input's columns (feature
    /// columns nullable), ``rpol_mode`` and, when asked, ``rpol_denied``.
    #[getter]
    fn output_schema(&self) -> PyArrowType<Schema> {
        PyArrowType(Arc::unwrap_or_clone(self.schema()))
    }

    /// Counts summed over every batch applied so far: ``rows_in``,
    /// ``rows_out``, ``invalid_rows``, ``dropped_invalid``,
    /// ``dropped_expired``, ``dropped_no_features``,
    /// ``rows_without_retention`` and ``cells_nulled`` (per feature column).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        stats_dict(py, e.stats())
    }
}

/// Builds an Enforcer for `schema`: every mapping problem raised here.
#[allow(clippy::too_many_arguments)] // the keyword arguments of `Policy.enforcer` in Python, one to one
pub fn enforcer(
    py: Python<'_>,
    policy: &Policy,
    mapping: &Bound<'_, PyAny>,
    schema: &Schema,
    purpose: Option<String>,
    drop: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    denied_column: bool,
) -> PyResult<Enforcer> {
    let mapping = Mapping::of_any(py, mapping)?;
    let options = Options {
        purpose,
        drop: read_drop(py, drop)?,
        now_unix_ms: read_now(py, now)?,
        denied_column,
    };
    let compiled = Arc::clone(&policy.compiled);
    let inner = py
        .detach(|| rpol_batch::Enforcer::new(compiled, &mapping.get().parsed, schema, options))
        .map_err(|e| enforce_error(py, &e))?;
    Ok(Enforcer {
        inner: Mutex::new(inner),
    })
}

/// The schema of a table or batch, or a ``pyarrow.Schema`` itself.
pub fn schema_of(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Schema> {
    let schema_class = py.import("pyarrow")?.getattr("Schema")?;
    if data.is_instance(&schema_class)? {
        return Schema::from_pyarrow_bound(data);
    }
    Schema::from_pyarrow_bound(&data.getattr("schema")?)
}

/// `Policy.enforce`: one Enforcer for the table, applied to all of it.
pub fn enforce(
    py: Python<'_>,
    e: &Enforcer,
    data: &Bound<'_, PyAny>,
    with_stats: bool,
) -> PyResult<Py<PyAny>> {
    let out = e.output(py, data)?;
    if with_stats {
        let stats = e.stats(py)?;
        return Ok((out, stats).into_pyobject(py)?.into_any().unbind());
    }
    Ok(out)
}
