//! Reading a policy from disk: one `.rpol` file, or every `.rpol` file under a
//! directory in sorted path order (spec 12).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::SourceInput;

/// Files larger than this are refused before they are read (the parser's own
/// limit is lower; this only keeps a stray huge file out of memory).
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    NotUtf8(PathBuf),
    NoPolicyFiles(PathBuf),
    TooLarge(PathBuf, u64),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "path `{}` does not exist", display(p)),
            LoadError::NotUtf8(p) => write!(f, "file `{}` is not valid UTF-8", display(p)),
            LoadError::NoPolicyFiles(p) => write!(f, "no `.rpol` files under `{}`", display(p)),
            LoadError::TooLarge(p, n) => write!(
                f,
                "file `{}` is {n} bytes, over the {MAX_READ_BYTES}-byte limit",
                display(p)
            ),
            LoadError::Io(p, e) => write!(f, "cannot read `{}`: {e}", display(p)),
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    pub fn help(&self) -> Option<&'static str> {
        match self {
            LoadError::NotFound(_) => {
                Some("give a `.rpol` file or a directory that holds the policy's files")
            }
            LoadError::NotUtf8(_) => Some("policy files must be UTF-8 text"),
            LoadError::NoPolicyFiles(_) => Some("policy files end in `.rpol`"),
            LoadError::TooLarge(..) => Some("split the policy into several files"),
            LoadError::Io(..) => None,
        }
    }
}

/// `/`-separated display form of a path.
pub fn display(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Reads the policy at `path`.
pub fn read_policy(path: &Path) -> Result<Vec<SourceInput>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound(path.to_path_buf()),
        _ => LoadError::Io(path.to_path_buf(), e),
    })?;
    let files = if meta.is_dir() {
        let files = policy_files(path)?;
        if files.is_empty() {
            return Err(LoadError::NoPolicyFiles(path.to_path_buf()));
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    files
        .iter()
        .map(|p| {
            Ok(SourceInput {
                name: display(p),
                text: read_text(p)?,
            })
        })
        .collect()
}

/// Every `.rpol` file under `dir`, recursively, in the order a policy reads
/// them (bytewise by full path, spec 12). Empty when there is none; the
/// language server uses this to find the files of the policy an open file
/// belongs to.
pub fn policy_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    sort_paths(&mut files);
    Ok(files)
}

/// Bytewise order of the full path (spec 12).
pub fn sort_paths(files: &mut [PathBuf]) {
    files.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError::Io(dir.to_path_buf(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| LoadError::Io(dir.to_path_buf(), e))?;
        let p = entry.path();
        let ft = entry.file_type().map_err(|e| LoadError::Io(p.clone(), e))?;
        if ft.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "rpol") {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads a UTF-8 text file, refusing very large ones.
pub fn read_text(p: &Path) -> Result<String, LoadError> {
    let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound(p.to_path_buf()),
        _ => LoadError::Io(p.to_path_buf(), e),
    })?;
    if meta.len() > MAX_READ_BYTES {
        return Err(LoadError::TooLarge(p.to_path_buf(), meta.len()));
    }
    let bytes = std::fs::read(p).map_err(|e| LoadError::Io(p.to_path_buf(), e))?;
    String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8(p.to_path_buf()))
}

/// The default registry reader for [`crate::check`].
pub fn read_registry(p: &Path) -> std::io::Result<String> {
    match read_text(p) {
        Ok(s) => Ok(s),
        Err(LoadError::NotFound(_)) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not found",
        )),
        Err(LoadError::NotUtf8(_)) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8",
        )),
        Err(LoadError::Io(_, e)) => Err(e),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    }
}
