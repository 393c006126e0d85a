//! `rpol serve`: decisions over HTTP/1.1 with JSON bodies (spec 13), for
//! services in any language. docs/serving.md is the user's guide.
//!
//! One hyper HTTP/1.1 connection per accepted socket on tokio's multi-thread
//! runtime, an axum router, tower layers for the request timeout and the
//! in-flight limit, `prometheus-client` for `/metrics`, `notify` for
//! `--watch`. Policies are swapped atomically; a request loads the current
//! one once and is decided, counted, logged and labelled by it alone.

// Nothing a client sends may crash the process: no unwrap, no indexing that
// can go out of range, no panic in this crate (tests may).
#![deny(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)
)]

mod declog;
mod histogram;
mod http;
mod metrics;
mod server;

pub use http::{BATCH_BODY_LIMIT, BATCH_LIMIT, REQUEST_LIMIT};
pub use rpol_check::policy_load::{Refused, load_policy};
pub use server::{DEFAULT_LISTEN, DRAIN_TIMEOUT, HEADER_TIMEOUT, MAX_IN_FLIGHT, REQUEST_TIMEOUT};

use std::path::PathBuf;

use miette::Diagnostic;
use rpol_engine::LogKey;
use thiserror::Error;

/// What `rpol serve` was asked to do.
pub struct Options {
    /// A policy directory or file, or an artifact of `rpol compile`.
    pub path: PathBuf,
    /// TCP address; `None` with `unix` set means no TCP listener.
    pub listen: Option<String>,
    pub unix: Option<PathBuf>,
    pub registry: Option<PathBuf>,
    pub watch: bool,
    /// `--decision-log FILE` with the key of subject-id pseudonyms.
    pub decision_log: Option<(PathBuf, LogKey)>,
    pub auth_token_file: Option<PathBuf>,
}

/// Shortest accepted bearer token, in bytes.
pub const MIN_TOKEN_BYTES: usize = 16;

#[derive(Debug, Error, Diagnostic)]
pub enum ServeError {
    #[error(
        "refusing to listen on `{addr}` without `--auth-token-file`: it is not a loopback address"
    )]
    #[diagnostic(
        code(E0801),
        help(
            "keep the default `127.0.0.1:8181` for a sidecar, or give `--auth-token-file FILE` so that every client must send `Authorization: Bearer TOKEN`"
        )
    )]
    NonLoopback { addr: String },
    #[error("auth token file `{path}`: {reason}")]
    #[diagnostic(
        code(E0802),
        help(
            "write a secret of at least 16 bytes to the file, e.g. `openssl rand -hex 32 > token`"
        )
    )]
    Token { path: String, reason: String },
    #[error("`--listen {addr}` is not an address: {reason}")]
    #[diagnostic(
        code(rpol::usage),
        help("give `HOST:PORT`, e.g. `127.0.0.1:8181` or `[::1]:8181`")
    )]
    BadListen { addr: String, reason: String },
    #[error("cannot listen on `{addr}`: {reason}")]
    #[diagnostic(code(rpol::io))]
    Bind { addr: String, reason: String },
    #[error("cannot open the decision log `{path}`: {reason}")]
    #[diagnostic(code(rpol::io))]
    Log { path: String, reason: String },
    #[error("{0}")]
    #[diagnostic(code(rpol::io))]
    Runtime(String),
    /// The policy failed to load at start; its errors are already on stderr.
    #[error("policy `{0}` was not loaded")]
    #[diagnostic(code(rpol::io))]
    Refused(String),
}

/// Runs the service until SIGTERM or SIGINT, then drains and returns.
pub fn run(opts: Options) -> Result<(), ServeError> {
    server::run(opts)
}
