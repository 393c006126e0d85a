//! `rpol compile PATH -o FILE [--sign KEYFILE]`: a checked policy as a
//! verified artifact, signed with an Ed25519 key when `--sign` is given.

use std::path::Path;
use std::process::ExitCode;

use rpol_engine::{ArtifactError, Compiled, Refusal};

use crate::cli_error::CliError;
use crate::policy::load_policy;

pub fn run(
    path: &Path,
    out: &Path,
    registry: Option<&Path>,
    sign: Option<&Path>,
) -> Result<ExitCode, CliError> {
    // The key is read first: a bad key file leaves no unsigned artifact behind.
    let key = sign.map(crate::cmd_keygen::read_secret_key).transpose()?;
    let Some(compiled) = load_policy(path, registry)? else {
        return Ok(ExitCode::from(1));
    };
    let bytes = compiled.to_artifact();
    // An artifact is written only if the loader will take it: the loader
    // demands a fail-safe `else` mode, which `rpol check` does not (L003 is a lint).
    if let Err(e) = Compiled::from_artifact(&bytes) {
        return Err(CliError::Load(
            format!("cannot compile `{}`: {e}", path.display()),
            matches!(e, ArtifactError::Refused(Refusal::UnsafeFallback { .. })).then(|| {
                "the `else` arm of `resolve` must name a mode that grants no capability a personal class requires"
                    .into()
            }),
        ));
    }
    let bytes = match &key {
        Some(k) => compiled.to_signed_artifact(k),
        None => bytes,
    };
    std::fs::write(out, &bytes).map_err(|e| CliError::Write {
        path: out.display().to_string(),
        reason: e.to_string(),
    })?;
    outln!(
        "compiled `{}` ({} bytes, digest {}{}) to {}",
        compiled.model().name,
        bytes.len(),
        compiled.digest(),
        if key.is_some() { ", signed" } else { "" },
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
