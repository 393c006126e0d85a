//! One analysis of a policy: the check run, what `rpol lint` would report for
//! it, and its symbol index. This is the work the server does on every change.

use rpol_check::{Checked, ReadFile, RegistryCache, SourceInput};
use rpol_diag::{Diagnostic, FileId};

use crate::index::Index;

#[derive(Debug)]
pub struct Analysis {
    pub checked: Checked,
    /// The check's errors, then the lints: the same findings as `rpol lint`.
    pub diagnostics: Vec<Diagnostic>,
    pub index: Index,
    /// Every policy file parsed, so the index covers the whole policy. The
    /// checker stops after a syntax error, so an analysis that did not parse
    /// knows no names; the server then answers from the last one that did.
    pub parsed: bool,
}

/// Checks and lints `files` (the whole policy, open buffers included) and
/// indexes the result. `read` reads the registry; `cache` keeps it parsed
/// between runs while its text does not change.
pub fn analyze(files: Vec<SourceInput>, read: ReadFile<'_>, cache: &RegistryCache) -> Analysis {
    let count = files.len();
    let checked = rpol_check::check_cached(files, None, read, cache);
    let parsed = checked.asts.len() == count;
    let diagnostics = rpol_check::lint::reported(&checked, true);
    let index = crate::index_build::build(&checked);
    Analysis {
        checked,
        diagnostics,
        index,
        parsed,
    }
}

impl Analysis {
    /// The file of this analysis with a given name (a path, or a URI for a
    /// buffer that is not a file).
    pub fn file_named(&self, name: &str) -> Option<FileId> {
        self.checked
            .sources
            .files()
            .find(|(_, f)| f.name == name)
            .map(|(id, _)| id)
    }

    pub fn file_name(&self, file: FileId) -> Option<&str> {
        (self.has_file(file)).then(|| self.checked.sources.get(file).name.as_str())
    }

    pub fn text(&self, file: FileId) -> Option<&str> {
        (self.has_file(file)).then(|| &*self.checked.sources.get(file).text)
    }

    /// `SourceMap::get` panics on a foreign id; every lookup goes through this.
    pub fn has_file(&self, file: FileId) -> bool {
        (file.0 as usize) < self.checked.sources.len()
    }

    /// The parsed syntax tree of a file, if it parsed.
    pub fn ast(&self, file: FileId) -> Option<&rpol_syntax::ast::File> {
        self.checked
            .asts
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, a)| a)
    }
}
