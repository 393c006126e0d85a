//! The last registry a check run parsed, reused while its text is unchanged
//! (see [`crate::check_cached`]).

use std::sync::{Mutex, PoisonError};

use rpol_diag::{Diagnostic, FileId};
use rpol_registry::Registry;

type Loaded = Result<Registry, Vec<Diagnostic>>;

/// Remembers one registry: its text, the file id it was loaded under and
/// the result (the registry, or its E0401 diagnostics).
#[derive(Debug, Default)]
pub struct RegistryCache {
    last: Mutex<Option<(String, FileId, Loaded)>>,
}

impl RegistryCache {
    pub fn new() -> Self {
        RegistryCache::default()
    }

    /// `rpol_registry::load`, answered from the cache when `text` is the text
    /// loaded last. The file id can differ between runs (it follows the
    /// policy's files), so cached diagnostics are moved to `file`.
    pub(crate) fn load(&self, file: FileId, text: &str) -> Loaded {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((t, old, result)) = last.as_ref()
            && t == text
        {
            return match result {
                Ok(r) => Ok(r.clone()),
                Err(ds) => Err(ds.iter().map(|d| refile(d, *old, file)).collect()),
            };
        }
        let result = rpol_registry::load(file, text);
        *last = Some((text.to_string(), file, result.clone()));
        result
    }
}

fn refile(d: &Diagnostic, old: FileId, new: FileId) -> Diagnostic {
    let mut d = d.clone();
    let swap = |f: &mut FileId| {
        if *f == old {
            *f = new;
        }
    };
    swap(&mut d.primary.file);
    for l in &mut d.secondary {
        swap(&mut l.file);
    }
    if let Some(s) = &mut d.suggestion {
        swap(&mut s.file);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_registry_is_parsed_once_and_moves_with_its_file() {
        let cache = RegistryCache::new();
        let bad = "features:\n  - name: x\n    colour: red\n";
        let first = cache.load(FileId(1), bad).unwrap_err();
        let again = cache.load(FileId(3), bad).unwrap_err();
        assert_eq!(first.len(), again.len());
        assert!(again.iter().all(|d| d.primary.file == FileId(3)));
        let good = "features: []\n";
        assert_eq!(cache.load(FileId(1), good), Ok(Registry::default()));
        assert_eq!(cache.load(FileId(2), good), Ok(Registry::default()));
    }
}
