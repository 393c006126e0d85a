//! Routes and handlers (spec 13). Every decision is made by the one policy
//! loaded at the start of its request, and names that policy's digest.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rpol_engine::{Compiled, Decision, LogKey, Request as RpolRequest, RequestErrors};
use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;
use subtle::ConstantTimeEq;

use crate::declog::DecisionLog;
use crate::histogram::Tally;
use crate::metrics::{Asked, Metrics, PolicyCounters, Route};

/// Body limit of `/v1/decide` and `/v1/data/rpol/decision` (spec 13).
pub const REQUEST_LIMIT: usize = 1024 * 1024;
/// Body limit of `/v1/decide/batch`: 10,000 requests of 1.6 KiB on average.
pub const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Requests in one batch.
pub const BATCH_LIMIT: usize = 10_000;
/// Batches of at least this many requests are split over the cores.
const BATCH_PARALLEL_MIN: usize = 256;
/// Batch bodies larger than this are decided off the async workers.
const BATCH_INLINE_BYTES: usize = 4 * 1024;

/// A loaded policy with what serving it needs.
pub struct Served {
    pub compiled: Compiled,
    pub counters: PolicyCounters,
    pub digest_header: HeaderValue,
    /// RFC 3339, UTC.
    pub loaded_at: String,
}

/// State shared by every request.
pub struct AppState {
    pub current: ArcSwapOption<Served>,
    pub metrics: Metrics,
    pub log: Option<(DecisionLog, LogKey)>,
    /// `--auth-token-file`'s token.
    pub token: Option<Vec<u8>>,
    /// PATH as given to `rpol serve`.
    pub source: String,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/decide", post(decide))
        .route("/v1/decide/batch", post(batch))
        .route("/v1/data/rpol/decision", post(opa))
        .route("/v1/policy", get(policy))
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth_and_time,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            crate::MAX_IN_FLIGHT,
        ))
        // The body is read inside the handler, so a stalled body times out too.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            crate::REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Bearer-token check (every path but `/health*`) and the HTTP histogram.
async fn auth_and_time(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let route = Route::of(req.uri().path());
    if let Some(token) = &st.token
        && !matches!(route, Route::Health | Route::Ready)
        && !bearer_ok(req.headers(), token)
    {
        let mut r = error_response(
            StatusCode::UNAUTHORIZED,
            "",
            "missing or wrong bearer token; send `Authorization: Bearer TOKEN`",
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let resp = next.run(req).await;
    st.metrics.http(route).observe(t0.elapsed());
    resp
}

fn bearer_ok(headers: &HeaderMap, token: &[u8]) -> bool {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return false;
    };
    let v = v.as_bytes();
    let Some(given) = v
        .strip_prefix(b"Bearer ")
        .or_else(|| v.strip_prefix(b"bearer "))
    else {
        return false;
    };
    // Length is not secret; the bytes are compared in constant time.
    given.len() == token.len() && bool::from(given.ct_eq(token))
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn push_str(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON needs; a str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

fn error_response(status: StatusCode, path: &str, message: &str) -> Response {
    let mut body = String::from("{\"errors\":[{\"path\":");
    push_str(&mut body, path);
    body.push_str(",\"message\":");
    push_str(&mut body, message);
    body.push_str("}]}\n");
    json_response(status, body)
}

async fn not_found(req: Request) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "",
        &format!("no route `{} {}`", req.method(), req.uri().path()),
    )
}

async fn method_not_allowed(req: Request) -> Response {
    let allow = if req.method() == Method::GET {
        "POST"
    } else {
        "GET"
    };
    let mut r = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "",
        &format!(
            "method `{}` is not allowed on `{}`",
            req.method(),
            req.uri().path()
        ),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// `application/json`, optionally with `charset=utf-8`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(s) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = s.split(';');
    if !parts
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    {
        return false;
    }
    parts.all(|p| {
        let p = p.trim();
        p.is_empty()
            || p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("charset")
                    && v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            })
    })
}

/// The query's `reason=CODE` values, in order (percent-decoded).
fn reasons(query: Option<&str>) -> Vec<String> {
    let Some(q) = query else {
        return Vec::new();
    };
    q.split('&')
        .filter_map(|kv| kv.strip_prefix("reason="))
        .map(percent_decode)
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The body of a JSON POST, or the 4xx that refuses it.
async fn read_body(
    req: Request,
    limit: usize,
) -> Result<(Option<String>, axum::body::Bytes), Response> {
    if !is_json(req.headers()) {
        return Err(error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "",
            "the body must be JSON, sent with `content-type: application/json`",
        ));
    }
    let query = req.uri().query().map(str::to_string);
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
            &format!("the body is over the limit of {limit} bytes"),
        )
    };
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => Ok((query, c.to_bytes())),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(error_response(
            StatusCode::BAD_REQUEST,
            "",
            &format!("cannot read the body: {e}"),
        )),
    }
}

fn no_policy() -> Response {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "",
        "no policy is loaded yet; see `/health/ready`",
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One decided request: valid, or invalid with its errors (the decision
/// buffer then holds the fallback).
enum Outcome {
    Valid,
    Invalid(RequestErrors),
}

/// Decides one request text with `served` into `d` (a buffer a batch reuses
/// for all its requests), counting and logging it. `id` names the decision
/// in the log (`None`: a fresh UUID when logging).
fn decide_one(
    st: &AppState,
    served: &Served,
    text: &str,
    codes: &[&str],
    id: Option<&str>,
    tally: Option<&mut Tally>,
    d: &mut Decision,
) -> Outcome {
    let c = &served.compiled;
    let t0 = Instant::now();
    match c.parse_request(text) {
        Ok(req) => {
            c.decide_into(&req, codes, d);
            timed(st, tally, t0);
            served.counters.record(&st.metrics, c, &asked(&req), d);
            if let Some((log, key)) = &st.log {
                let id = id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
                log.send(c.log_line(&req, d, &id, now_ms(), key));
            }
            Outcome::Valid
        }
        Err(_) => {
            let errors = match c.decide_json_into(text, codes, d) {
                Err(errors) => errors,
                // Unreachable (the same text failed to parse just now), but a
                // panic is never the answer: decide it as it parses now.
                Ok(()) => return Outcome::Valid,
            };
            timed(st, tally, t0);
            st.metrics.invalid.inc();
            let none = Asked {
                surface: None,
                purpose: None,
                listed_features: false,
            };
            served.counters.record(&st.metrics, c, &none, d);
            if let Some((log, _)) = &st.log {
                let id = id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
                log.send(c.log_line_invalid(text, &errors, d, &id, now_ms()));
            }
            Outcome::Invalid(errors)
        }
    }
}

/// Records the engine time since `t0`: in `tally` (a batch's, added to the
/// histogram once per batch part), else in the histogram itself.
fn timed(st: &AppState, tally: Option<&mut Tally>, t0: Instant) {
    let d = t0.elapsed();
    match tally {
        Some(t) => t.add(&st.metrics.decision_duration, d),
        None => st.metrics.decision_duration.observe(d),
    }
}

fn asked(req: &RpolRequest) -> Asked {
    Asked {
        surface: req.surface,
        purpose: req.purpose,
        listed_features: req.features.is_some(),
    }
}

/// `{"errors":[...],"fallback":DECISION}` (compact).
fn write_invalid(out: &mut String, c: &Compiled, errors: &RequestErrors, fb: &Decision) {
    out.push_str("{\"errors\":[");
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"path\":");
        push_str(out, &e.path);
        out.push_str(",\"message\":");
        push_str(out, &e.message);
        out.push('}');
    }
    out.push_str("],\"fallback\":");
    fb.write_json(c, out);
    out.push('}');
}

fn with_digest(mut r: Response, served: &Served) -> Response {
    r.headers_mut()
        .insert("rpol-policy-digest", served.digest_header.clone());
    r
}

/// An invalid request made up here (not by the engine): `errors` and the
/// fallback decision of an empty request.
fn invalid_here(served: &Served, codes: &[&str], path: &str, message: &str) -> Response {
    let c = &served.compiled;
    let fb = match c.decide_json("{}", codes) {
        Ok(d) | Err((_, d)) => d,
    };
    let errors = RequestErrors(vec![rpol_engine::RequestError {
        path: path.to_string(),
        message: message.to_string(),
    }]);
    let mut body = String::new();
    write_invalid(&mut body, c, &errors, &fb);
    body.push('\n');
    with_digest(json_response(StatusCode::BAD_REQUEST, body), served)
}

async fn decide(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let (query, body) = match read_body(req, REQUEST_LIMIT).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let guard = st.current.load();
    let Some(served) = guard.as_deref() else {
        return no_policy();
    };
    let owned = reasons(query.as_deref());
    let codes: Vec<&str> = owned.iter().map(String::as_str).collect();
    let Ok(text) = std::str::from_utf8(&body) else {
        st.metrics.invalid.inc();
        return invalid_here(served, &codes, "", "the body is not valid UTF-8");
    };
    let c = &served.compiled;
    let mut d = Decision::new();
    match decide_one(&st, served, text, &codes, None, None, &mut d) {
        Outcome::Valid => {
            // Exactly `rpol eval --format json`'s output, newline included.
            let mut body = d.to_json_pretty(c);
            body.push('\n');
            with_digest(json_response(StatusCode::OK, body), served)
        }
        Outcome::Invalid(errors) => {
            let mut body = String::with_capacity(2048);
            write_invalid(&mut body, c, &errors, &d);
            body.push('\n');
            with_digest(json_response(StatusCode::BAD_REQUEST, body), served)
        }
    }
}

/// `{"requests": [...], "reasons": [...]}`; requests past the limit are
/// counted, not kept.
#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow)]
    requests: Requests<'a>,
    #[serde(default)]
    reasons: Vec<String>,
}

struct Requests<'a> {
    items: Vec<&'a RawValue>,
    total: usize,
}

impl<'de: 'a, 'a> Deserialize<'de> for Requests<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Requests<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of requests")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Requests<'a>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(BATCH_LIMIT));
                let mut total = 0usize;
                while total < BATCH_LIMIT {
                    match seq.next_element::<&'de RawValue>()? {
                        Some(r) => {
                            items.push(r);
                            total += 1;
                        }
                        None => return Ok(Requests { items, total }),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    total += 1;
                }
                Ok(Requests { items, total })
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

async fn batch(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let (_, body) = match read_body(req, BATCH_BODY_LIMIT).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(served) = st.current.load_full() else {
        return no_policy();
    };
    if body.len() <= BATCH_INLINE_BYTES {
        return batch_work(&st, &served, &body);
    }
    // A large batch would hold an async worker for milliseconds.
    match tokio::task::spawn_blocking(move || batch_work(&st, &served, &body)).await {
        Ok(r) => r,
        Err(_) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "",
            "internal error while deciding the batch",
        ),
    }
}

fn batch_work(st: &AppState, served: &Served, body: &[u8]) -> Response {
    let parsed: BatchBody<'_> = match std::str::from_utf8(body)
        .map_err(|_| "the body is not valid UTF-8".to_string())
        .and_then(|t| serde_json::from_str(t).map_err(|e| e.to_string()))
    {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "",
                &format!("the body is not `{{\"requests\": [...], \"reasons\": [...]}}`: {e}"),
            );
        }
    };
    if parsed.requests.total > BATCH_LIMIT {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "requests",
            &format!(
                "{} requests, over the batch limit of {BATCH_LIMIT}; split the batch",
                parsed.requests.total
            ),
        );
    }
    let codes: Vec<&str> = parsed.reasons.iter().map(String::as_str).collect();
    let items = &parsed.requests.items;
    // Every decision is written into one buffer: the first part's, which
    // starts with the envelope. Large batches are split over the cores; the
    // other parts' buffers are appended to it in order.
    const HEAD: &str = "{\"decisions\":[";
    let mut out = String::with_capacity(HEAD.len() + items.len() * 1024 + 4);
    out.push_str(HEAD);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ok = if items.len() >= BATCH_PARALLEL_MIN && threads > 1 {
        let chunk = items.len().div_ceil(threads);
        let mut parts = items.chunks(chunk);
        let first = parts.next().unwrap_or(&[]);
        std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .map(|part| {
                    s.spawn(|| {
                        let mut buf = String::with_capacity(part.len() * 1024);
                        decide_part(st, served, part, &codes, &mut buf);
                        buf
                    })
                })
                .collect();
            decide_part(st, served, first, &codes, &mut out);
            handles.into_iter().all(|h| match h.join() {
                Ok(buf) => {
                    out.push(',');
                    out.push_str(&buf);
                    true
                }
                Err(_) => false,
            })
        })
    } else {
        decide_part(st, served, items, &codes, &mut out);
        true
    };
    if !ok {
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "",
            "internal error while deciding the batch",
        );
    }
    out.push_str("]}\n");
    with_digest(json_response(StatusCode::OK, out), served)
}

/// Appends the decisions of `items` to `out`, comma-separated.
fn decide_part(
    st: &AppState,
    served: &Served,
    items: &[&RawValue],
    codes: &[&str],
    out: &mut String,
) {
    let c = &served.compiled;
    let mut tally = Tally::new(&st.metrics.decision_duration);
    // One decision buffer for the whole part: after the first requests it
    // has grown, and deciding allocates nothing more.
    let mut d = Decision::new();
    for (i, r) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match decide_one(st, served, r.get(), codes, None, Some(&mut tally), &mut d) {
            Outcome::Valid => d.write_json(c, out),
            Outcome::Invalid(errors) => write_invalid(out, c, &errors, &d),
        }
    }
    st.metrics.decision_duration.observe_many(&tally);
}

#[derive(Deserialize)]
struct OpaBody<'a> {
    #[serde(borrow)]
    input: Option<&'a RawValue>,
}

async fn opa(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let (query, body) = match read_body(req, REQUEST_LIMIT).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let guard = st.current.load();
    let Some(served) = guard.as_deref() else {
        return no_policy();
    };
    let owned = reasons(query.as_deref());
    let codes: Vec<&str> = owned.iter().map(String::as_str).collect();
    let parsed = std::str::from_utf8(&body)
        .map_err(|_| "the body is not valid UTF-8".to_string())
        .and_then(|t| serde_json::from_str::<OpaBody<'_>>(t).map_err(|e| e.to_string()));
    let input = match parsed {
        Ok(OpaBody { input: Some(i) }) => i,
        Ok(OpaBody { input: None }) => {
            st.metrics.invalid.inc();
            return invalid_here(served, &codes, "input", "`input` is missing");
        }
        Err(e) => {
            st.metrics.invalid.inc();
            return invalid_here(
                served,
                &codes,
                "",
                &format!("the body is not `{{\"input\": REQUEST}}`: {e}"),
            );
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let c = &served.compiled;
    let mut d = Decision::new();
    match decide_one(&st, served, input.get(), &codes, Some(&id), None, &mut d) {
        Outcome::Valid => {
            let mut body = String::with_capacity(2048);
            body.push_str("{\"result\":");
            d.write_json(c, &mut body);
            body.push_str(",\"decision_id\":\"");
            body.push_str(&id);
            body.push_str("\"}\n");
            with_digest(json_response(StatusCode::OK, body), served)
        }
        Outcome::Invalid(errors) => {
            let mut body = String::with_capacity(2048);
            write_invalid(&mut body, c, &errors, &d);
            body.push('\n');
            with_digest(json_response(StatusCode::BAD_REQUEST, body), served)
        }
    }
}

async fn policy(State(st): State<Arc<AppState>>) -> Response {
    let guard = st.current.load();
    let Some(served) = guard.as_deref() else {
        return no_policy();
    };
    let m = served.compiled.model();
    let v = serde_json::json!({
        "name": m.name,
        "version": m.version,
        "digest": served.compiled.digest(),
        "loaded_at": served.loaded_at,
        "source": st.source,
        "reloads": {
            "ok": st.metrics.reload_ok.get(),
            "refused": st.metrics.reload_refused.get(),
        },
    });
    let mut body = v.to_string();
    body.push('\n');
    with_digest(json_response(StatusCode::OK, body), served)
}

async fn health() -> Response {
    json_response(StatusCode::OK, "{\"status\":\"ok\"}\n".into())
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    if st.current.load().is_some() {
        json_response(StatusCode::OK, "{\"status\":\"ready\"}\n".into())
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "{\"status\":\"loading\"}\n".into(),
        )
    }
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let mut r = Response::new(Body::from(st.metrics.render()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        for (v, ok) in [
            ("application/json", true),
            ("Application/JSON", true),
            ("application/json; charset=utf-8", true),
            ("application/json;charset=\"UTF-8\"", true),
            ("application/json; charset=latin1", false),
            ("text/plain", false),
            ("application/jsonx", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(v));
            assert_eq!(is_json(&h), ok, "{v}");
        }
    }

    #[test]
    fn reason_query() {
        assert_eq!(
            reasons(Some("reason=a&x=1&reason=b%5Fc&reason=%zz")),
            vec!["a", "b_c", "%zz"]
        );
        assert!(reasons(None).is_empty());
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("a%4"), "a%4");
    }

    #[test]
    fn bearer() {
        let mut h = HeaderMap::new();
        assert!(!bearer_ok(&h, b"secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret"),
        );
        assert!(bearer_ok(&h, b"secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secreT"),
        );
        assert!(!bearer_ok(&h, b"secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret2"),
        );
        assert!(!bearer_ok(&h, b"secret"));
    }
}
