//! Which files make up the policy an open file belongs to, and their texts
//! (open buffers win over the disk).
//!
//! A policy is the directory a file sits in, with every `.rpol` file under it
//! (docs/reference.md, Files and policies, as `rpol check DIR` reads it). One exception: a directory whose
//! files hold more than one `policy` block is a folder of single-file
//! policies (such as `tests/check/`), so each of its files stands alone;
//! merging them would bury every file under E0202 and E0203.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rpol_check::SourceInput;
use rpol_check::load;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Root {
    /// Every `.rpol` file under a directory.
    Dir(PathBuf),
    /// One file on its own.
    File(PathBuf),
    /// An editor buffer that is not a file, by its name (its URI).
    Buffer(String),
}

impl Root {
    /// Whether a file of this name is part of the policy.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Root::Dir(d) => Path::new(name).starts_with(d) && is_policy_file(Path::new(name)),
            Root::File(p) => load::display(p) == name,
            Root::Buffer(b) => b == name,
        }
    }
}

pub fn is_policy_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "rpol")
}

/// The texts of open buffers, by name (`/`-separated path, or URI for a
/// buffer that is not a file).
#[derive(Debug, Default, Clone)]
pub struct Overlay {
    pub texts: HashMap<String, String>,
}

impl Overlay {
    fn get(&self, p: &Path) -> Option<&str> {
        self.texts.get(&load::display(p)).map(String::as_str)
    }

    /// Open `.rpol` files under `dir` (they may not be saved yet).
    fn policy_files_under(&self, dir: &Path) -> impl Iterator<Item = PathBuf> {
        self.texts
            .keys()
            .map(PathBuf::from)
            .filter(move |p| p.starts_with(dir) && is_policy_file(p))
    }

    /// A file's text: the open buffer, else the disk (a regular file inside
    /// the workspace, within the read limit; anything else is left out, as
    /// `rpol check` refuses it).
    pub fn read(&self, p: &Path) -> Option<String> {
        match self.get(p) {
            Some(t) => Some(t.to_string()),
            None => load::read_policy_file(p).ok(),
        }
    }

    /// The registry reader for the checker: an open YAML buffer, else the disk.
    pub fn read_registry(&self, p: &Path) -> std::io::Result<String> {
        match self.get(p) {
            Some(t) => Ok(t.to_string()),
            None => load::read_registry(p),
        }
    }
}

/// How many directories up a file may sit below its policy's header.
const MAX_DEPTH: usize = 4;

/// The policy the file at `path` belongs to.
pub fn root_of(path: &Path, overlay: &Overlay) -> Root {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Root::File(path.to_path_buf());
    };
    let dir = header_dir(dir, overlay).unwrap_or(dir);
    let Ok(files) = dir_files(dir, overlay) else {
        return Root::File(path.to_path_buf());
    };
    let headers = files
        .iter()
        .filter(|p| overlay.read(p).is_some_and(|t| declares_policy(&t)))
        .count();
    if headers > 1 {
        Root::File(path.to_path_buf())
    } else {
        Root::Dir(dir.to_path_buf())
    }
}

/// A policy may keep files in subdirectories (`rpol check DIR` reads them
/// recursively): the nearest directory at or above `dir` whose own `.rpol`
/// files hold the `policy` header is the policy's directory.
fn header_dir<'a>(dir: &'a Path, overlay: &Overlay) -> Option<&'a Path> {
    dir.ancestors().take(MAX_DEPTH + 1).find(|d| {
        let Ok(entries) = std::fs::read_dir(d) else {
            return false;
        };
        let on_disk = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_policy_file(p) && p.is_file());
        let open = overlay
            .texts
            .keys()
            .map(PathBuf::from)
            .filter(|p| p.parent() == Some(d) && is_policy_file(p));
        on_disk
            .chain(open)
            .any(|p| overlay.read(&p).is_some_and(|t| declares_policy(&t)))
    })
}

/// The `.rpol` files under `dir`, on disk or open, in policy order.
fn dir_files(dir: &Path, overlay: &Overlay) -> Result<Vec<PathBuf>, load::LoadError> {
    let mut files = load::policy_files(dir)?;
    files.extend(overlay.policy_files_under(dir));
    load::sort_paths(&mut files);
    files.dedup();
    Ok(files)
}

/// Whether a text holds a `policy NAME {` header, judged by lines so that a
/// file with a syntax error still counts.
fn declares_policy(text: &str) -> bool {
    text.lines().any(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some("policy")
            && words
                .next()
                .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
    })
}

/// The policy's files with their texts, in policy order. Unreadable files are
/// left out (a file deleted since it was listed, a non-UTF-8 file).
pub fn inputs(root: &Root, overlay: &Overlay) -> Vec<SourceInput> {
    let input = |p: &Path| {
        overlay.read(p).map(|text| SourceInput {
            name: load::display(p),
            text,
        })
    };
    match root {
        Root::Dir(d) => dir_files(d, overlay)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| input(p))
            .collect(),
        Root::File(p) => input(p).into_iter().collect(),
        Root::Buffer(name) => overlay
            .texts
            .get(name)
            .map(|text| SourceInput {
                name: name.clone(),
                text: text.clone(),
            })
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_by_line() {
        assert!(declares_policy("## doc\npolicy home {\n}"));
        assert!(declares_policy("  policy x{"));
        assert!(!declares_policy("# policy notes\nmode policy_x {}"));
        assert!(!declares_policy("purposes [policy]"));
    }

    #[test]
    fn a_folder_of_single_file_policies_splits() {
        let dir = std::env::temp_dir().join(format!("rpol-lsp-ws-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.rpol"), "policy a { version: \"1\" }\n").unwrap();
        std::fs::write(dir.join("b.rpol"), "mode m { }\n").unwrap();
        let ov = Overlay::default();
        assert_eq!(root_of(&dir.join("b.rpol"), &ov), Root::Dir(dir.clone()));
        let names: Vec<String> = inputs(&Root::Dir(dir.clone()), &ov)
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names.len(), 2);
        std::fs::write(dir.join("c.rpol"), "policy c { version: \"1\" }\n").unwrap();
        assert_eq!(
            root_of(&dir.join("c.rpol"), &ov),
            Root::File(dir.join("c.rpol"))
        );
        // A file in a subdirectory belongs to the policy whose header is above it.
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/d.rpol"), "mode d { }\n").unwrap();
        assert_eq!(
            root_of(&dir.join("sub/d.rpol"), &ov),
            Root::File(dir.join("sub/d.rpol")),
            "the directory above holds two headers"
        );
        std::fs::remove_file(dir.join("c.rpol")).unwrap();
        assert_eq!(
            root_of(&dir.join("sub/d.rpol"), &ov),
            Root::Dir(dir.clone())
        );
        // An unsaved buffer counts as a file of its directory.
        let mut ov = Overlay::default();
        ov.texts.insert(
            load::display(&dir.join("new.rpol")),
            "mode n { }\n".to_string(),
        );
        let names: Vec<String> = inputs(&Root::Dir(dir.clone()), &ov)
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert!(names.iter().any(|n| n.ends_with("new.rpol")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
