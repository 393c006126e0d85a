//! `rpol keygen -o KEYFILE`: a new Ed25519 key pair for signed artifacts
//! (docs/cli.md). KEYFILE gets the secret key (mode 0600), KEYFILE.pub the
//! public one; neither may exist already.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rpol_engine::{PublicKey, SecretKey};

use crate::cli_error::CliError;

/// Key files are one short line; anything longer is not a key file.
const MAX_KEY_FILE_BYTES: u64 = 4096;

pub fn run(out: &Path) -> Result<ExitCode, CliError> {
    let public = pub_path(out);
    for p in [out, public.as_path()] {
        // `symlink_metadata`: a dangling symlink counts as existing too.
        if p.symlink_metadata().is_ok() {
            return Err(CliError::Usage(
                format!("`{}` already exists; refusing to overwrite it", p.display()),
                Some("choose another output path, or remove the old key pair first".into()),
            ));
        }
    }
    let key = SecretKey::from_seed(seed()?);
    write_new(out, key.to_key_file().as_bytes(), 0o600)?;
    write_new(&public, key.public_key().to_key_file().as_bytes(), 0o644)?;
    outln!(
        "wrote the secret key to {} (keep it secret) and the public key to {}",
        out.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `KEYFILE.pub`.
fn pub_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// 32 bytes from the operating system's random source.
fn seed() -> Result<[u8; 32], CliError> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| CliError::Load(format!("cannot read `/dev/urandom`: {e}"), None))?;
    Ok(seed)
}

/// Creates `path` (never replacing a file, even one made since the check
/// above) with `mode` on Unix, so the secret is never readable by others.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CliError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    opts.open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| CliError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// The text of a key file: a regular file of at most 4 KiB.
fn read_key_file(path: &Path) -> Result<String, CliError> {
    let fail = |reason: String| {
        CliError::Load(
            format!("cannot read key file `{}`: {reason}", path.display()),
            Some("create a key pair with `rpol keygen -o KEYFILE`".into()),
        )
    };
    // Checked as a regular file before it is opened: a FIFO would block.
    let bytes = rpol_check::load::read_bounded(path, MAX_KEY_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|_| fail("not valid UTF-8".into()))
}

pub fn read_secret_key(path: &Path) -> Result<SecretKey, CliError> {
    SecretKey::from_key_file(&read_key_file(path)?).map_err(|e| {
        CliError::Load(
            format!("key file `{}`: {e}", path.display()),
            Some("`--sign` takes the secret key file written by `rpol keygen -o KEYFILE`".into()),
        )
    })
}

pub fn read_public_key(path: &Path) -> Result<PublicKey, CliError> {
    PublicKey::from_key_file(&read_key_file(path)?).map_err(|e| {
        CliError::Load(
            format!("key file `{}`: {e}", path.display()),
            Some(
                "`--verify-key` takes the public key file `KEYFILE.pub` written by `rpol keygen`"
                    .into(),
            ),
        )
    })
}
