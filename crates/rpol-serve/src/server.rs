//! Listening, connections, reloads and shutdown.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::http::HeaderValue;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rpol_engine::{Compiled, rfc3339_ms};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::declog::DecisionLog;
use crate::http::{AppState, Served, router};
use crate::metrics::Metrics;
use crate::{MIN_TOKEN_BYTES, Options, ServeError};
use rpol_check::policy_load::load_policy;

/// OPA's port, loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8181";
/// A client must send its request headers within this time.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Reading the body and deciding must finish within this time (408 otherwise).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests handled at once; more wait for a slot.
pub const MAX_IN_FLIGHT: usize = 1024;
/// How long SIGTERM waits for in-flight requests before exiting anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// File events closer together than this make one reload.
const WATCH_DEBOUNCE: Duration = Duration::from_millis(250);

fn log(msg: &str) {
    eprintln!("rpol serve: {msg}");
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The TCP address to bind; `Ok(None)` when only a Unix socket is wanted.
fn tcp_addr(opts: &Options) -> Result<Option<SocketAddr>, ServeError> {
    let text = match (&opts.listen, &opts.unix) {
        (Some(l), _) => l.clone(),
        (None, Some(_)) => return Ok(None),
        (None, None) => DEFAULT_LISTEN.to_string(),
    };
    let addrs: Vec<SocketAddr> = match text.parse::<SocketAddr>() {
        Ok(a) => vec![a],
        Err(_) => text
            .to_socket_addrs()
            .map_err(|e| ServeError::BadListen {
                addr: text.clone(),
                reason: e.to_string(),
            })?
            .collect(),
    };
    let Some(first) = addrs.first().copied() else {
        return Err(ServeError::BadListen {
            addr: text,
            reason: "it resolves to no address".into(),
        });
    };
    if opts.auth_token_file.is_none() && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(ServeError::NonLoopback { addr: text });
    }
    Ok(Some(first))
}

/// A token file is one line; anything longer is not one.
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

fn read_token(path: &Path) -> Result<Vec<u8>, ServeError> {
    let err = |reason: String| ServeError::Token {
        path: rpol_check::load::display(path),
        reason,
    };
    let bytes = rpol_check::load::read_bounded(path, MAX_TOKEN_FILE_BYTES)
        .map_err(|e| err(e.to_string()))?;
    let token = bytes.trim_ascii().to_vec();
    if token.len() < MIN_TOKEN_BYTES {
        return Err(err(format!(
            "the token is {} bytes, shorter than {MIN_TOKEN_BYTES}",
            token.len()
        )));
    }
    if token.iter().any(|b| !b.is_ascii_graphic()) {
        return Err(err(
            "the token holds spaces or non-ASCII bytes, which an HTTP header cannot carry".into(),
        ));
    }
    Ok(token)
}

/// Makes `c` the policy in force (one atomic store).
fn install(st: &AppState, c: Compiled) {
    let counters = st.metrics.for_policy(&c);
    // A digest is hex; the fallback is never used.
    let digest_header =
        HeaderValue::from_str(c.digest()).unwrap_or(HeaderValue::from_static("invalid"));
    st.metrics.set_policy(&c);
    st.current.store(Some(Arc::new(Served {
        compiled: c,
        counters,
        digest_header,
        loaded_at: rfc3339_ms(now_ms()),
    })));
}

fn describe(c: &Compiled) -> String {
    let m = c.model();
    format!("`{}` version {} (digest {})", m.name, m.version, c.digest())
}

pub fn run(opts: Options) -> Result<(), ServeError> {
    let addr = tcp_addr(&opts)?;
    let token = opts
        .auth_token_file
        .as_deref()
        .map(read_token)
        .transpose()?;
    let metrics = Metrics::new();
    let log_file = match &opts.decision_log {
        Some((path, key)) => Some((
            DecisionLog::open(path, metrics.log_dropped.clone()).map_err(|e| ServeError::Log {
                path: rpol_check::load::display(path),
                reason: e.to_string(),
            })?,
            key.clone(),
        )),
        None => None,
    };
    let state = Arc::new(AppState {
        current: ArcSwapOption::empty(),
        metrics,
        log: log_file,
        token,
        source: rpol_check::load::display(&opts.path),
    });
    // Policies are checked on blocking threads at (re)load: the parser
    // recurses per bracket (64 deep at most, E0101), which needs more than
    // tokio's 2 MiB default in an unoptimised build; the main thread's 8 MiB
    // is what `rpol check` has.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 * 1024 * 1024)
        .build()
        .map_err(|e| ServeError::Runtime(format!("cannot start the runtime: {e}")))?;
    let result = rt.block_on(serve(opts, addr, state.clone()));
    // Dropping the runtime waits for blocking tasks; none outlives a request.
    rt.shutdown_timeout(Duration::from_secs(1));
    if let Some((log, _)) = &state.log {
        log.close();
    }
    result
}

async fn serve(
    opts: Options,
    addr: Option<SocketAddr>,
    state: Arc<AppState>,
) -> Result<(), ServeError> {
    // Handlers first: a SIGTERM that comes as soon as we listen must stop us
    // gracefully, not kill us.
    let signals = Signals::install();
    // Listen first, so that `/health` answers while the policy loads.
    let tcp = match addr {
        Some(a) => {
            let l = TcpListener::bind(a).await.map_err(|e| ServeError::Bind {
                addr: a.to_string(),
                reason: e.to_string(),
            })?;
            let bound = l.local_addr().map_err(|e| ServeError::Bind {
                addr: a.to_string(),
                reason: e.to_string(),
            })?;
            log(&format!("listening on http://{bound}"));
            Some(l)
        }
        None => None,
    };
    #[cfg(unix)]
    let unix = match &opts.unix {
        Some(p) => Some(bind_unix(p)?),
        None => None,
    };
    #[cfg(not(unix))]
    let unix: Option<NoListener> = match &opts.unix {
        Some(p) => {
            return Err(ServeError::Bind {
                addr: p.display().to_string(),
                reason: "Unix sockets need a Unix system".into(),
            });
        }
        None => None,
    };

    let app = router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let acceptor = tokio::spawn(accept_loop(tcp, unix, app, stop_rx));

    let path = opts.path.clone();
    let registry = opts.registry.clone();
    let first = tokio::task::spawn_blocking(move || load_policy(&path, registry.as_deref()))
        .await
        .map_err(|e| ServeError::Runtime(format!("loading the policy failed: {e}")))?;
    let (registry_file, what) = match first {
        Ok((c, reg)) => {
            let what = describe(&c);
            install(&state, c);
            (reg, what)
        }
        Err(refused) => {
            for l in refused.lines() {
                log(&l);
            }
            let _ = stop_tx.send(true);
            let _ = acceptor.await;
            return Err(ServeError::Refused(state.source.clone()));
        }
    };

    let (reload_tx, reload_rx) = mpsc::channel::<Trigger>(16);
    let _watcher = if opts.watch {
        Some(watch(&opts, registry_file.as_deref(), reload_tx.clone())?)
    } else {
        None
    };
    // Printed once the policy is in force and watched: scripts wait for it.
    log(&format!("serving policy {what} from `{}`", state.source));
    tokio::spawn(reload_loop(
        state.clone(),
        opts.path.clone(),
        opts.registry.clone(),
        reload_rx,
    ));
    signals.wait(reload_tx).await;
    log("shutting down: no new connections; finishing requests in flight");
    let _ = stop_tx.send(true);
    match acceptor.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(e) => return Err(ServeError::Runtime(format!("the server task failed: {e}"))),
    }
    if let Some(p) = &opts.unix {
        let _ = std::fs::remove_file(p);
    }
    log("stopped");
    Ok(())
}

#[cfg(not(unix))]
struct NoListener;

#[cfg(unix)]
fn bind_unix(p: &Path) -> Result<tokio::net::UnixListener, ServeError> {
    use std::os::unix::fs::FileTypeExt;
    let err = |reason: String| ServeError::Bind {
        addr: format!("unix:{}", p.display()),
        reason,
    };
    // A socket left by a previous run is replaced; any other file is not.
    if let Ok(meta) = std::fs::symlink_metadata(p) {
        if meta.file_type().is_socket() {
            std::fs::remove_file(p).map_err(|e| err(e.to_string()))?;
        } else {
            return Err(err("the path exists and is not a socket".into()));
        }
    }
    let l = tokio::net::UnixListener::bind(p).map_err(|e| err(e.to_string()))?;
    log(&format!("listening on unix:{}", p.display()));
    Ok(l)
}

/// Serves one connection (HTTP/1.1, keep-alive) under `graceful`.
fn serve_conn<I>(io: I, app: &Router, graceful: &GracefulShutdown)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = TowerToHyperService::new(app.clone());
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let conn = b.serve_connection(TokioIo::new(io), svc);
    let fut = graceful.watch(conn);
    tokio::spawn(async move {
        // A client that goes away mid-request is not an error of ours.
        let _ = fut.await;
    });
}

async fn accept_tcp(l: &Option<TcpListener>) -> std::io::Result<tokio::net::TcpStream> {
    match l {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

#[cfg(unix)]
type UnixL = tokio::net::UnixListener;
#[cfg(not(unix))]
type UnixL = NoListener;

#[cfg(unix)]
async fn accept_unix(l: &Option<UnixL>) -> std::io::Result<tokio::net::UnixStream> {
    match l {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

async fn accept_loop(
    tcp: Option<TcpListener>,
    unix: Option<UnixL>,
    app: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let graceful = GracefulShutdown::new();
    loop {
        #[cfg(unix)]
        let unix_accept = accept_unix(&unix);
        #[cfg(not(unix))]
        let unix_accept = std::future::pending::<std::io::Result<tokio::net::TcpStream>>();
        tokio::select! {
            r = accept_tcp(&tcp) => match r {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    serve_conn(s, &app, &graceful);
                }
                // Out of file descriptors and the like: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            r = unix_accept => match r {
                Ok(s) => serve_conn(s, &app, &graceful),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            _ = stop.changed() => break,
        }
    }
    drop(tcp);
    drop(unix);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        log(&format!(
            "requests still in flight after {}s were cut off",
            DRAIN_TIMEOUT.as_secs()
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Signal,
    Watch,
}

/// SIGHUP, SIGTERM and SIGINT, installed once at start.
#[cfg(unix)]
struct Signals(
    Option<(
        tokio::signal::unix::Signal,
        tokio::signal::unix::Signal,
        tokio::signal::unix::Signal,
    )>,
);

#[cfg(unix)]
impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(h), Ok(t), Ok(i)) => Signals(Some((h, t, i))),
            _ => {
                log("error: cannot install signal handlers; stop with SIGKILL");
                Signals(None)
            }
        }
    }

    /// Waits for SIGTERM or SIGINT; SIGHUP asks for a reload meanwhile.
    async fn wait(self, reload: mpsc::Sender<Trigger>) {
        let Some((mut hup, mut term, mut int)) = self.0 else {
            std::future::pending::<()>().await;
            return;
        };
        loop {
            tokio::select! {
                _ = hup.recv() => { let _ = reload.try_send(Trigger::Signal); }
                _ = term.recv() => return,
                _ = int.recv() => return,
            }
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Signals {
        Signals
    }
    async fn wait(self, _reload: mpsc::Sender<Trigger>) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Re-checks and recompiles on each trigger; a refused policy leaves the
/// current one serving.
async fn reload_loop(
    st: Arc<AppState>,
    path: PathBuf,
    registry: Option<PathBuf>,
    mut rx: mpsc::Receiver<Trigger>,
) {
    while let Some(t) = rx.recv().await {
        if t == Trigger::Watch {
            tokio::time::sleep(WATCH_DEBOUNCE).await;
        }
        // Triggers queued meanwhile are covered by this reload.
        while rx.try_recv().is_ok() {}
        let (p, r) = (path.clone(), registry.clone());
        let loaded = tokio::task::spawn_blocking(move || load_policy(&p, r.as_deref())).await;
        let cause = if t == Trigger::Signal {
            "SIGHUP"
        } else {
            "file change"
        };
        match loaded {
            Ok(Ok((c, _))) => {
                let what = describe(&c);
                install(&st, c);
                st.metrics.reload_ok.inc();
                log(&format!("reloaded ({cause}): now serving {what}"));
            }
            Ok(Err(refused)) => {
                for l in refused.lines() {
                    log(&l);
                }
                let still = st
                    .current
                    .load()
                    .as_deref()
                    .map_or_else(String::new, |s| describe(&s.compiled));
                log(&format!("reload refused ({cause}): still serving {still}"));
                st.metrics.reload_refused.inc();
            }
            Err(e) => {
                log(&format!("reload failed ({cause}): {e}"));
                st.metrics.reload_refused.inc();
            }
        }
    }
}

/// Watches the policy path and its registry; events go to the reload loop.
fn watch(
    opts: &Options,
    registry_file: Option<&Path>,
    tx: mpsc::Sender<Trigger>,
) -> Result<notify::RecommendedWatcher, ServeError> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let policy = canon(&opts.path);
    let registry = opts.registry.as_deref().or(registry_file).map(canon);
    let log_path = opts.decision_log.as_ref().map(|(p, _)| canon(p));
    let is_dir = policy.is_dir();
    let (p2, r2) = (policy.clone(), registry.clone());
    let relevant = move |path: &Path| {
        if log_path.as_deref() == Some(path) {
            return false;
        }
        (if is_dir {
            path.starts_with(&p2)
        } else {
            path == p2
        }) || r2.as_deref() == Some(path)
    };
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && matches!(
                ev.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            )
            && ev.paths.iter().any(|p| relevant(p))
        {
            let _ = tx.try_send(Trigger::Watch);
        }
    })
    .map_err(|e| ServeError::Runtime(format!("cannot watch files: {e}")))?;
    let err = |p: &Path, e: notify::Error| {
        ServeError::Runtime(format!("cannot watch `{}`: {e}", p.display()))
    };
    // Files are watched through their directory: editors replace a file by
    // renaming a new one over it, which a watch on the file would miss.
    let parent = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    if is_dir {
        w.watch(&policy, RecursiveMode::Recursive)
            .map_err(|e| err(&policy, e))?;
    } else {
        let d = parent(&policy);
        w.watch(&d, RecursiveMode::NonRecursive)
            .map_err(|e| err(&d, e))?;
    }
    if let Some(r) = &registry
        && !(is_dir && r.starts_with(&policy))
    {
        let d = parent(r);
        w.watch(&d, RecursiveMode::NonRecursive)
            .map_err(|e| err(&d, e))?;
    }
    log("watching the policy files for changes");
    Ok(w)
}
