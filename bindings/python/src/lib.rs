//! `rpol._rpol`, the native half of the `rpol` Python package: a compiled
//! policy (`rpol.Policy`) deciding requests and enforcing it on Arrow tables.
//! The pure-Python half (`python/rpol`) holds the exception classes and
//! `rpol.spark`. Every call that decides releases the GIL while Rust works.

mod enforce;
mod errors;
mod load;
mod mapping;
mod policy;

use pyo3::prelude::*;

#[pymodule]
fn _rpol(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<policy::Policy>()?;
    m.add_class::<mapping::Mapping>()?;
    m.add_class::<enforce::Enforcer>()?;
    Ok(())
}
