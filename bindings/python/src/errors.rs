//! Raising the package's exceptions (defined in Python, `rpol.errors`, so
//! that they carry plain attributes and pickle) from Rust.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::load::Diag;

/// An instance of `rpol.errors.NAME` built from `args`, as a `PyErr`.
pub fn raise<'py>(py: Python<'py>, name: &str, args: impl pyo3::call::PyCallArgs<'py>) -> PyErr {
    let made = py
        .import("rpol.errors")
        .and_then(|m| m.getattr(name))
        .and_then(|cls| cls.call1(args));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// `rpol.PolicyError` whose `.diagnostics` are `diags`.
pub fn policy_error(py: Python<'_>, diags: &[Diag]) -> PyErr {
    diagnostics_error(py, "PolicyError", diags)
}

/// `rpol.errors.CLASS(diagnostics)`, each an `rpol.Diagnostic`.
pub fn diagnostics_error(py: Python<'_>, class: &str, diags: &[Diag]) -> PyErr {
    let list = (|| -> PyResult<Bound<'_, PyList>> {
        let cls = py.import("rpol.errors")?.getattr("Diagnostic")?;
        let list = PyList::empty(py);
        for d in diags {
            let kw = PyDict::new(py);
            kw.set_item("code", &d.code)?;
            kw.set_item("severity", d.severity)?;
            kw.set_item("message", &d.message)?;
            kw.set_item("file", &d.file)?;
            kw.set_item("line", d.line)?;
            kw.set_item("column", d.column)?;
            kw.set_item("help", &d.help)?;
            list.append(cls.call((), Some(&kw))?)?;
        }
        Ok(list)
    })();
    match list {
        Ok(list) => raise(py, class, (list,)),
        Err(e) => e,
    }
}
