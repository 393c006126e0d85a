//! Reading a policy from disk: one `.rpol` file, or every `.rpol` file under a
//! directory in sorted path order (docs/reference.md, Files and policies).
//!
//! Every file the tools read from disk goes through [`read_bounded`]: only a
//! regular file is opened (a FIFO would block, a device never ends), and at
//! most its limit plus one byte is read, whatever its metadata claims. Files
//! a policy reaches (the `.rpol` files under a directory, its `registry:`)
//! must also lie inside its [`Workspace`] once every symlink is resolved; a
//! refused file is never read, so its content cannot appear in a diagnostic.

use std::fmt;
use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::SourceInput;

/// Files larger than this are refused (the parser's own limit is lower; this
/// only keeps a stray huge file out of memory).
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// The registry file's limit: the registry loader's own.
/// Largest compiled artifact read (docs/limits.md): far above what the
/// policy and registry limits can produce.
pub const MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

pub const MAX_REGISTRY_READ_BYTES: u64 = rpol_registry::MAX_REGISTRY_BYTES as u64;

#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    NotUtf8(PathBuf),
    /// A file name that is not UTF-8 could not be named exactly in diagnostics.
    NameNotUtf8(PathBuf),
    NoPolicyFiles(PathBuf),
    /// Over the limit (the second field).
    TooLarge(PathBuf, u64),
    /// A FIFO, device, socket or directory where a file is expected: what it is.
    NotRegular(PathBuf, &'static str),
    /// Resolves (symlinks followed) outside the workspace (the second field).
    OutsideWorkspace(PathBuf, PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "path `{}` does not exist", display(p)),
            LoadError::NotUtf8(p) => write!(f, "file `{}` is not valid UTF-8", display(p)),
            LoadError::NameNotUtf8(p) => {
                write!(f, "file name `{}` is not valid UTF-8", display(p))
            }
            LoadError::NoPolicyFiles(p) => write!(f, "no `.rpol` files under `{}`", display(p)),
            LoadError::TooLarge(p, limit) => {
                write!(f, "file `{}` is over the {limit}-byte limit", display(p))
            }
            LoadError::NotRegular(p, what) => write!(
                f,
                "`{}` is {what}, not a regular file; it was not read",
                display(p)
            ),
            LoadError::OutsideWorkspace(p, root) => write!(
                f,
                "`{}` resolves outside the workspace `{}`; it was not read",
                display(p),
                display(root)
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
            LoadError::NameNotUtf8(_) => Some("rename the file with a UTF-8 name"),
            LoadError::NoPolicyFiles(_) => Some("policy files end in `.rpol`"),
            LoadError::TooLarge(..) => Some("split the policy into several files"),
            LoadError::NotRegular(..) => Some(
                "policy files and registries must be regular files; FIFOs, devices and sockets are refused because reading them may block or never end",
            ),
            LoadError::OutsideWorkspace(..) => Some(
                "the workspace is the nearest directory above the policy that holds `.git` (see docs/limits.md); replace the symlink by the file itself, or name its target on the command line",
            ),
            LoadError::Io(..) => None,
        }
    }

    /// The error code (docs/errors.md) of a refusal; `None` for plain I/O errors.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            LoadError::TooLarge(..) => Some("E0101"),
            LoadError::NotRegular(..) | LoadError::OutsideWorkspace(..) => Some("E0102"),
            _ => None,
        }
    }

    fn not_found_or(p: &Path, e: std::io::Error) -> LoadError {
        match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound(p.to_path_buf()),
            _ => LoadError::Io(p.to_path_buf(), e),
        }
    }
}

/// `/`-separated display form of a path. Only on Windows is `\` a separator;
/// elsewhere it is part of a file name and kept, so the name read back as a
/// path is the file itself.
pub fn display(p: &Path) -> String {
    let s = p.to_string_lossy();
    if cfg!(windows) {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    }
}

/// What a file that is not regular is, for messages.
fn kind(ft: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn regular(p: &Path, meta: &Metadata) -> Result<(), LoadError> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(LoadError::NotRegular(
            p.to_path_buf(),
            kind(meta.file_type()),
        ))
    }
}

/// Refuses anything but a regular file (symlinks followed), without opening
/// it: for streams read in pieces, such as a decision log.
pub fn require_regular(p: &Path) -> Result<(), LoadError> {
    let meta = std::fs::metadata(p).map_err(|e| LoadError::not_found_or(p, e))?;
    regular(p, &meta)
}

/// Reads a regular file of at most `limit` bytes. The type is checked on the
/// metadata before the file is opened (opening a FIFO blocks until a writer
/// comes), and again on the opened handle; at most `limit + 1` bytes are
/// read, so a file that grows, or lies about its size (`/proc`), is refused
/// without being held in memory.
pub fn read_bounded(p: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
    let meta = std::fs::metadata(p).map_err(|e| LoadError::not_found_or(p, e))?;
    regular(p, &meta)?;
    if meta.len() > limit {
        return Err(LoadError::TooLarge(p.to_path_buf(), limit));
    }
    let file = File::open(p).map_err(|e| LoadError::not_found_or(p, e))?;
    let meta = file
        .metadata()
        .map_err(|e| LoadError::Io(p.to_path_buf(), e))?;
    regular(p, &meta)?;
    let mut buf = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| LoadError::Io(p.to_path_buf(), e))?;
    if buf.len() as u64 > limit {
        return Err(LoadError::TooLarge(p.to_path_buf(), limit));
    }
    Ok(buf)
}

/// Reads at most `limit` bytes from a stream (standard input), refusing more.
pub fn read_stream_bounded(r: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("over the {limit}-byte limit"),
        ));
    }
    Ok(buf)
}

/// The directory a policy may read from: the nearest directory at or above
/// the policy's that holds `.git`; else the current directory when the
/// policy lies inside it; else the policy directory's parent (so that a
/// policy outside any repository, like the bundled example, can still name
/// `../features.yaml`). Always a canonical path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace of a policy whose files are in `dir` (`""` is `.`).
    pub fn around(dir: &Path) -> std::io::Result<Workspace> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let dir = dir.canonicalize()?;
        let root = match dir.ancestors().find(|a| a.join(".git").exists()) {
            Some(repo) => repo.to_path_buf(),
            None => match std::env::current_dir().and_then(|c| c.canonicalize()) {
                Ok(cwd) if dir.starts_with(&cwd) => cwd,
                _ => dir.parent().unwrap_or(&dir).to_path_buf(),
            },
        };
        Ok(Workspace { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `p`, every symlink resolved, lies inside the workspace. A path
    /// that does not resolve is refused unless it does not exist (the reader
    /// then reports it missing).
    pub fn confine(&self, p: &Path) -> Result<(), LoadError> {
        match p.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(()),
            Ok(_) => Err(LoadError::OutsideWorkspace(
                p.to_path_buf(),
                self.root.clone(),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(LoadError::NotFound(p.to_path_buf()))
            }
            Err(e) => Err(LoadError::Io(p.to_path_buf(), e)),
        }
    }
}

/// Reads the policy at `path`. The path itself is the user's choice; the
/// files under it must stay inside the workspace around it (a committed
/// symlink `zz.rpol -> /etc/passwd` is refused, not read).
pub fn read_policy(path: &Path) -> Result<Vec<SourceInput>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::not_found_or(path, e))?;
    let (files, anchor) = if meta.is_dir() {
        let files = policy_files(path)?;
        if files.is_empty() {
            return Err(LoadError::NoPolicyFiles(path.to_path_buf()));
        }
        (files, path)
    } else {
        (
            vec![path.to_path_buf()],
            path.parent().unwrap_or(Path::new("")),
        )
    };
    let ws = Workspace::around(anchor).map_err(|e| LoadError::Io(anchor.to_path_buf(), e))?;
    files
        .iter()
        .map(|p| {
            let name = utf8_name(p)?;
            ws.confine(p)?;
            Ok(SourceInput {
                name,
                text: read_text(p)?,
            })
        })
        .collect()
}

/// One policy file, confined to the workspace around its own directory (the
/// language server reads files one by one).
pub fn read_policy_file(p: &Path) -> Result<String, LoadError> {
    let dir = p.parent().unwrap_or(Path::new(""));
    let ws = Workspace::around(dir).map_err(|e| LoadError::not_found_or(dir, e))?;
    ws.confine(p)?;
    read_text(p)
}

/// The name of a policy file in diagnostics: the path itself, so that the
/// checker resolves the `registry:` of the very file it read.
fn utf8_name(p: &Path) -> Result<String, LoadError> {
    match p.to_str() {
        Some(s) if cfg!(windows) => Ok(s.replace('\\', "/")),
        Some(s) => Ok(s.to_string()),
        None => Err(LoadError::NameNotUtf8(p.to_path_buf())),
    }
}

/// Every `.rpol` file under `dir`, recursively, in the order a policy reads
/// them (bytewise by full path, docs/reference.md). Empty when there is none; the
/// language server uses this to find the files of the policy an open file
/// belongs to.
pub fn policy_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    sort_paths(&mut files);
    Ok(files)
}

/// Bytewise order of the full path (docs/reference.md, Files and policies).
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

/// Reads a UTF-8 text file of at most [`MAX_READ_BYTES`].
pub fn read_text(p: &Path) -> Result<String, LoadError> {
    let bytes = read_bounded(p, MAX_READ_BYTES)?;
    String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8(p.to_path_buf()))
}

/// The default registry reader for [`crate::check`]: a regular file of at
/// most [`MAX_REGISTRY_READ_BYTES`]. A refusal travels inside the
/// `io::Error` as a [`LoadError`], so the checker reports its code.
pub fn read_registry(p: &Path) -> std::io::Result<String> {
    let bytes = read_bounded(p, MAX_REGISTRY_READ_BYTES).map_err(|e| match e {
        LoadError::NotFound(_) => std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
        LoadError::Io(_, e) => e,
        e => std::io::Error::other(e),
    })?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
}
