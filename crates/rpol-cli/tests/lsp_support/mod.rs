//! A minimal language-server client for tests: spawns `rpol lsp`, frames
//! JSON-RPC with `Content-Length`, answers the server's own requests, and keeps
//! the latest diagnostics published for each document.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long to wait for any one answer before the test fails.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Quiet time after a round trip, to collect notifications still in flight.
const SETTLE: Duration = Duration::from_millis(150);

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Latest `textDocument/publishDiagnostics` per URI.
    pub diagnostics: BTreeMap<String, Value>,
    /// How many times diagnostics were published for each URI.
    pub publish_count: BTreeMap<String, usize>,
    /// The document version of the latest publish for each URI.
    pub publish_version: BTreeMap<String, Value>,
    /// Methods of the requests the server sent us, in order.
    pub server_requests: Vec<String>,
    /// Error responses with a `null` id (answers to malformed messages).
    pub errors: Vec<Value>,
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts `rpol lsp` and initializes it, announcing dynamic registration
    /// of watched files as VS Code and Neovim do.
    pub fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rpol"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rpol lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(m) = read_message(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming: rx,
            next_id: 1,
            diagnostics: BTreeMap::new(),
            publish_count: BTreeMap::new(),
            publish_version: BTreeMap::new(),
            server_requests: Vec::new(),
            errors: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "capabilities": {
                    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
                    "textDocument": {
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "rename": {"prepareSupport": true},
                        "documentSymbol": {"hierarchicalDocumentSymbolSupport": true}
                    }
                }
            }),
        );
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        c.notify("initialized", json!({}));
        c
    }

    /// Writes raw bytes, framing and all (to send malformed messages).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write");
        self.stdin.flush().expect("flush");
    }

    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the next error response with a `null` id.
    pub fn wait_error(&mut self) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        while self.errors.is_empty() {
            let Some(m) = self.next(deadline) else {
                panic!("no error response within {TIMEOUT:?}");
            };
            self.handle(m);
        }
        self.errors.remove(0)
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Handles one message that is not the response being waited for.
    fn handle(&mut self, m: Value) {
        let method = m.get("method").and_then(Value::as_str).map(str::to_string);
        match (method, m.get("id")) {
            (Some(method), Some(id)) => {
                // A request from the server (e.g. client/registerCapability).
                let id = id.clone();
                self.server_requests.push(method);
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            (Some(method), None) if method == "textDocument/publishDiagnostics" => {
                let uri = m["params"]["uri"].as_str().unwrap_or_default().to_string();
                *self.publish_count.entry(uri.clone()).or_default() += 1;
                self.publish_version
                    .insert(uri.clone(), m["params"]["version"].clone());
                self.diagnostics
                    .insert(uri, m["params"]["diagnostics"].clone());
            }
            (None, Some(Value::Null)) if m.get("error").is_some() => self.errors.push(m),
            _ => {}
        }
    }

    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("rpol lsp closed its output"),
        }
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let Some(m) = self.next(deadline) else {
                panic!("no answer to {method} within {TIMEOUT:?}");
            };
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.handle(m);
        }
    }

    /// Waits until every notification sent so far has been handled: a round
    /// trip (answered after the notifications before it), then a quiet spell.
    pub fn settle(&mut self) {
        self.request("rpol/sync", json!(null));
        loop {
            match self.incoming.recv_timeout(SETTLE) {
                Ok(m) => self.handle(m),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => panic!("rpol lsp closed its output"),
            }
        }
    }

    pub fn published(&self, uri: &str) -> usize {
        self.publish_count.get(uri).copied().unwrap_or(0)
    }

    /// Waits until diagnostics were published for `uri` more than `seen`
    /// times, the latest for document `version` when one is given.
    pub fn wait_publish(&mut self, uri: &str, seen: usize, version: Option<i32>) {
        let deadline = Instant::now() + TIMEOUT;
        let done = |c: &Client| {
            c.published(uri) > seen
                && version.is_none_or(|v| c.publish_version.get(uri) == Some(&json!(v)))
        };
        while !done(self) {
            let Some(m) = self.next(deadline) else {
                panic!("no new diagnostics for {uri} within {TIMEOUT:?}");
            };
            self.handle(m);
        }
    }

    /// Waits (up to the timeout) until `uri` has published diagnostics.
    pub fn wait_diagnostics(&mut self, uri: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        while !self.diagnostics.contains_key(uri) {
            let Some(m) = self.next(deadline) else {
                panic!("no diagnostics for {uri}");
            };
            self.handle(m);
        }
        self.diagnostics[uri].clone()
    }

    pub fn shutdown(mut self) -> i32 {
        let r = self.request("shutdown", json!(null));
        assert!(r.get("error").is_none(), "shutdown failed: {r}");
        self.exit()
    }

    /// Sends `exit` and returns the server's exit status.
    pub fn exit(mut self) -> i32 {
        self.notify("exit", json!(null));
        self.wait_exit()
    }

    /// Closes the server's input and returns its exit status.
    pub fn close_input(self) -> i32 {
        let Client { child, stdin, .. } = self;
        drop(stdin);
        Client::wait_child(child)
    }

    fn wait_exit(self) -> i32 {
        let Client { child, stdin, .. } = self;
        let status = Client::wait_child(child);
        drop(stdin);
        status
    }

    fn wait_child(mut child: Child) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("rpol lsp did not exit after `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// The LSP position (line, UTF-16 column) of a byte offset.
pub fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[start..].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": character})
}
