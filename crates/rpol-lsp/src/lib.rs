//! `rpol lsp`: the RPOL language server (docs/editors.md).
//!
//! The analysis is pure and synchronous — [`analysis::analyze`] checks, lints
//! and indexes a policy, [`index::Index`] answers name questions in byte
//! spans — and [`session::Session`] holds the documents and policies. Byte
//! spans become protocol positions only in [`convert`], through `rpol_diag`.
//! [`server`] is the thin async layer on `tower-lsp-server`, and
//! [`transport`] frames the byte streams itself (malformed messages answered,
//! a size cap, the exit status).

pub mod analysis;
pub mod complete;
pub mod convert;
pub mod hover;
pub mod index;
mod index_build;
mod lex;
pub mod outline;
pub mod rename;
pub mod server;
pub mod session;
pub mod text_map;
pub mod transport;
pub mod view;
pub mod workspace;

use tokio::io::{AsyncRead, AsyncWrite};

pub use transport::{Ending, MAX_MESSAGE};

/// Serves the protocol on `input`/`output` until the client exits. Runs on a
/// Tokio runtime with its timer enabled (edits are debounced).
pub async fn serve<I, O>(input: I, output: O) -> Ending
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    transport::serve(input, output).await
}

/// Serves on standard input and output (what `rpol lsp` runs). One thread:
/// every request is short, and one thread keeps notifications in order.
pub fn run_stdio() -> std::io::Result<Ending> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let ending = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // A read of stdin may still be blocked in its thread (the client need not
    // close it after `exit`); waiting for it would keep the process alive.
    runtime.shutdown_background();
    Ok(ending)
}
