//! Our own framing of the protocol on stdin/stdout, in front of
//! `tower-lsp-server`'s [`LspService`].
//!
//! The library's transport stops serving at the first malformed message and
//! buffers a body of any declared length; an editor's server must do neither.
//! Here every message is framed and checked first: a body that is not JSON is
//! answered with a JSON-RPC parse error (-32700, id `null`) and serving goes
//! on; a garbled header block is reported on stderr, answered the same way,
//! and skipped up to the next `Content-Length:` header; a body declared over
//! [`MAX_MESSAGE`] is refused before a byte of it is read (-32600) and then
//! discarded as it arrives, never held. See docs/editors.md.

use std::io;

use futures::channel::mpsc;
use futures::future::{self, BoxFuture};
use futures::{FutureExt, SinkExt, StreamExt, stream};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower::Service;
use tower_lsp_server::LspService;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Id, Request, Response};

use crate::server::Backend;

/// The largest message body accepted (64 MiB): far above any policy an editor
/// holds, far below what would exhaust memory.
pub const MAX_MESSAGE: u64 = 64 << 20;
/// The longest header line kept; a longer one is garbled.
const MAX_HEADER_LINE: usize = 8 << 10;
/// How many requests run at once (what `tower-lsp-server` uses by default).
const MAX_CONCURRENCY: usize = 4;

/// How the session ended; the process exit status follows it (LSP: `exit`
/// after `shutdown` is status 0, `exit` without it 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `exit` after `shutdown`, or the end of the input: a client that closes
    /// the pipe is gone, and `rpol lsp < /dev/null` is no error.
    Clean,
    /// `exit` without `shutdown`.
    Abrupt,
}

impl Ending {
    pub fn exit_code(self) -> u8 {
        match self {
            Ending::Clean => 0,
            Ending::Abrupt => 1,
        }
    }
}

/// One framed unit of input.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Body(Vec<u8>),
    /// A header block without a usable `Content-Length`; what is wrong.
    BadHeader(String),
    /// A declared length over [`MAX_MESSAGE`]; the body is skipped.
    TooLarge(u64),
    Eof,
}

/// Splits a byte stream into `Content-Length` framed messages, bounded in
/// memory whatever the input.
pub struct Frames<R> {
    r: BufReader<R>,
    /// Bytes of a refused body still to discard.
    skip: u64,
    /// After a bad header: look for the next `Content-Length:` first.
    resync: bool,
}

const MARKER: &[u8] = b"content-length:";

impl<R: AsyncRead + Unpin> Frames<R> {
    pub fn new(input: R) -> Self {
        Frames {
            r: BufReader::new(input),
            skip: 0,
            resync: false,
        }
    }

    /// The next frame; a read error ends the input.
    pub async fn next(&mut self) -> Frame {
        self.read().await.unwrap_or(Frame::Eof)
    }

    async fn read(&mut self) -> io::Result<Frame> {
        while self.skip > 0 {
            let buf = self.r.fill_buf().await?;
            if buf.is_empty() {
                return Ok(Frame::Eof);
            }
            let n = buf
                .len()
                .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
            self.r.consume(n);
            self.skip -= n as u64;
        }
        let mut line = Vec::new();
        if std::mem::take(&mut self.resync) {
            if !self.find_marker().await? {
                return Ok(Frame::Eof);
            }
            line.extend_from_slice(b"Content-Length:");
        }
        let mut length: Option<u64> = None;
        let mut headers = 0usize;
        loop {
            let Some(overlong) = self.read_line(&mut line).await? else {
                return Ok(Frame::Eof);
            };
            if overlong {
                return Ok(self.bad("a header line is longer than 8 KiB".into()));
            }
            let text = match std::str::from_utf8(&line) {
                Ok(t) => t.trim_end_matches(['\r', '\n']),
                Err(_) => return Ok(self.bad("a header line is not UTF-8".into())),
            };
            if text.is_empty() {
                if headers == 0 {
                    // Blank lines between messages are harmless.
                    line.clear();
                    continue;
                }
                break;
            }
            headers += 1;
            let Some((name, value)) = text.split_once(':') else {
                return Ok(self.bad(format!("garbled header line {:?}", clip(text))));
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                match value.trim().parse::<u64>() {
                    Ok(n) if length.is_none_or(|l| l == n) => length = Some(n),
                    Ok(_) => return Ok(self.bad("two different `Content-Length` headers".into())),
                    Err(_) => {
                        return Ok(self.bad(format!(
                            "`Content-Length` {:?} is not a length",
                            clip(value.trim())
                        )));
                    }
                }
            }
            // Other headers (`Content-Type`) carry nothing we use.
            line.clear();
        }
        let Some(n) = length else {
            return Ok(self.bad("a header block has no `Content-Length`".into()));
        };
        if n > MAX_MESSAGE {
            self.skip = n;
            return Ok(Frame::TooLarge(n));
        }
        let mut body = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        (&mut self.r).take(n).read_to_end(&mut body).await?;
        if (body.len() as u64) < n {
            return Ok(Frame::Eof);
        }
        Ok(Frame::Body(body))
    }

    fn bad(&mut self, why: String) -> Frame {
        self.resync = true;
        Frame::BadHeader(why)
    }

    /// Appends one line (through its `\n`) to `line`, keeping at most
    /// [`MAX_HEADER_LINE`] bytes. `None` at the end of the input; otherwise
    /// whether the line was longer (the rest is discarded).
    async fn read_line(&mut self, line: &mut Vec<u8>) -> io::Result<Option<bool>> {
        let mut overlong = false;
        let mut any = false;
        loop {
            let buf = self.r.fill_buf().await?;
            if buf.is_empty() {
                return Ok(if any { Some(overlong) } else { None });
            }
            any = true;
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let room = MAX_HEADER_LINE.saturating_sub(line.len());
            if take > room {
                overlong = true;
            }
            line.extend_from_slice(&buf[..take.min(room)]);
            self.r.consume(take);
            if done {
                return Ok(Some(overlong));
            }
        }
    }

    /// Discards input up to and through the next `Content-Length:` (any
    /// case); false at the end of the input.
    async fn find_marker(&mut self) -> io::Result<bool> {
        let mut matched = 0;
        loop {
            let buf = self.r.fill_buf().await?;
            if buf.is_empty() {
                return Ok(false);
            }
            let mut used = buf.len();
            let mut found = false;
            for (i, b) in buf.iter().enumerate() {
                let b = b.to_ascii_lowercase();
                matched = if b == MARKER[matched] {
                    matched + 1
                } else {
                    // The marker's first letter occurs nowhere else in it.
                    usize::from(b == MARKER[0])
                };
                if matched == MARKER.len() {
                    used = i + 1;
                    found = true;
                    break;
                }
            }
            self.r.consume(used);
            if found {
                return Ok(true);
            }
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// A message body, checked: a request/notification, a response to one of our
/// requests, or the error response that answers it.
enum Incoming {
    Request(Request),
    Response(Response),
}

fn decode(body: &[u8]) -> Result<Incoming, Response> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        error_response(
            Id::Null,
            ErrorCode::ParseError,
            format!("parse error: the message is not JSON ({e})"),
        )
    })?;
    let id = value
        .get("id")
        .and_then(|v| serde_json::from_value::<Id>(v.clone()).ok())
        .unwrap_or(Id::Null);
    let invalid = |e: serde_json::Error| {
        error_response(
            id.clone(),
            ErrorCode::InvalidRequest,
            format!("invalid request: {e}"),
        )
    };
    if value.get("method").is_some() {
        serde_json::from_value(value.clone())
            .map(Incoming::Request)
            .map_err(invalid)
    } else {
        serde_json::from_value(value.clone())
            .map(Incoming::Response)
            .map_err(invalid)
    }
}

fn error_response(id: Id, code: ErrorCode, message: String) -> Response {
    Response::from_error(
        id,
        Error {
            code,
            message: message.into(),
            data: None,
        },
    )
}

fn encode<T: serde::Serialize>(message: &T) -> String {
    // Serializing our own JSON-RPC types cannot fail; an empty object keeps
    // the framing intact if it ever did.
    serde_json::to_string(message).unwrap_or_else(|_| "{}".to_string())
}

/// Serves the protocol on `input`/`output` until `exit` or the end of the input.
pub async fn serve<I, O>(input: I, output: O) -> Ending
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let (mut service, socket) = LspService::new(Backend::new);
    let (client_requests, mut client_responses) = socket.split();
    let (client_requests, client_abort) = stream::abortable(client_requests);
    let (out_tx, mut out_rx) = mpsc::channel::<String>(16);
    let (mut tasks_tx, tasks_rx) = mpsc::channel::<BoxFuture<'static, Option<Response>>>(100);

    let mut out = out_tx.clone();
    // Requests still running at `exit` are abandoned with it: one awaiting an
    // answer from a client that has gone would otherwise hold the server.
    let (process, process_abort) = future::abortable(async move {
        let mut responses = tasks_rx
            .buffer_unordered(MAX_CONCURRENCY)
            .filter_map(future::ready);
        while let Some(r) = responses.next().await {
            if out.send(encode(&r)).await.is_err() {
                break;
            }
        }
    });
    let mut out = out_tx.clone();
    let forward = async move {
        let mut requests = client_requests;
        while let Some(r) = requests.next().await {
            if out.send(encode(&r)).await.is_err() {
                break;
            }
        }
    };
    let write = async move {
        let mut output = output;
        while let Some(body) = out_rx.next().await {
            let head = format!("Content-Length: {}\r\n\r\n", body.len());
            let written = async {
                output.write_all(head.as_bytes()).await?;
                output.write_all(body.as_bytes()).await?;
                output.flush().await
            };
            if written.await.is_err() {
                break;
            }
        }
    };
    let mut out = out_tx;
    let read = async move {
        let mut frames = Frames::new(input);
        let ending = loop {
            let refusal = match frames.next().await {
                Frame::Eof => break Ending::Clean,
                Frame::BadHeader(why) => {
                    eprintln!("rpol lsp: {why}; skipping to the next message");
                    error_response(
                        Id::Null,
                        ErrorCode::ParseError,
                        format!("parse error: {why}"),
                    )
                }
                Frame::TooLarge(n) => {
                    eprintln!("rpol lsp: refused a message of {n} bytes (limit {MAX_MESSAGE})");
                    error_response(
                        Id::Null,
                        ErrorCode::InvalidRequest,
                        format!(
                            "a message of {n} bytes is over the limit of {MAX_MESSAGE} bytes; it is skipped"
                        ),
                    )
                }
                Frame::Body(body) => match decode(&body) {
                    Err(refusal) => {
                        if let Some(e) = refusal.error() {
                            eprintln!("rpol lsp: {}", e.message);
                        }
                        refusal
                    }
                    Ok(Incoming::Response(r)) => {
                        if client_responses.send(r).await.is_err() {
                            break ending_of(&service);
                        }
                        continue;
                    }
                    Ok(Incoming::Request(req)) => {
                        if future::poll_fn(|cx| service.poll_ready(cx)).await.is_err() {
                            break ending_of(&service);
                        }
                        let exit = req.method() == "exit";
                        if req.id().is_some() {
                            // An answer must see every edit sent before it.
                            service.inner().flush_pending().await;
                        }
                        let fut = service.call(req).map(|r| r.unwrap_or(None)).boxed();
                        let _ = tasks_tx.send(fut).await;
                        if exit {
                            break ending_of(&service);
                        }
                        continue;
                    }
                },
            };
            if out.send(encode(&refusal)).await.is_err() {
                break ending_of(&service);
            }
        };
        tasks_tx.disconnect();
        out.disconnect();
        client_abort.abort();
        process_abort.abort();
        ending
    };
    let (_, (), (), ending) = futures::join!(process, forward, write, read);
    ending
}

fn ending_of(service: &LspService<Backend>) -> Ending {
    if service.inner().was_shut_down() {
        Ending::Clean
    } else {
        Ending::Abrupt
    }
}
