//! `rpol lsp` against hostile or careless clients, as the real binary:
//! malformed messages are answered and serving goes on, an oversized body is
//! refused without being held, the exit status follows the protocol, and a
//! burst of edits is checked a few times, not once per edit.
#![cfg(feature = "lsp")]

mod lsp_support;

use std::path::{Path, PathBuf};

use lsp_support::{Client, uri};
use serde_json::{Value, json};

/// A scratch copy of `tests/lsp/basic`, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lsp/basic");
    let to = std::env::temp_dir().join(format!("rpol-lsp-hard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    copy_dir(&from, &to);
    Scratch(to)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// The server still answers: a request it does not know gets "method not found".
fn assert_serving(c: &mut Client) {
    let r = c.request("rpol/ping", json!(null));
    assert_eq!(r["error"]["code"], json!(-32601), "{r}");
}

#[test]
fn malformed_json_is_a_parse_error_and_serving_goes_on() {
    let s = scratch("json");
    let mut c = Client::start(&s.0);
    c.send_raw(&frame("{not json"));
    let e = c.wait_error();
    assert_eq!(e["error"]["code"], json!(-32700), "{e}");
    assert_eq!(e["id"], Value::Null);
    assert_serving(&mut c);

    // JSON, but no JSON-RPC message: invalid request, with the id it had.
    c.send_raw(&frame("[1, 2]"));
    assert_eq!(c.wait_error()["error"]["code"], json!(-32600));
    let r = {
        c.send_raw(&frame(r#"{"jsonrpc":"2.0","id":777,"method":5}"#));
        c.request("rpol/ping", json!(null))
    };
    assert_eq!(r["error"]["code"], json!(-32601));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_garbled_header_is_skipped_to_the_next_message() {
    let s = scratch("header");
    let mut c = Client::start(&s.0);
    for bad in [
        // No Content-Length at all.
        "Content-Type: application/vscode-jsonrpc\r\n\r\n{\"jsonrpc\":\"2.0\"}".to_string(),
        // A length that is no number.
        "Content-Length: twelve\r\n\r\n{\"jsonrpc\":\"2.0\"}".to_string(),
        // A misspelt header and a line without a colon.
        "Content-Lenght: 5\r\nhello\r\n\r\nhello".to_string(),
        // A header line far longer than any real one.
        format!("X-Junk: {}\r\n\r\n", "a".repeat(100_000)),
    ] {
        c.send_raw(bad.as_bytes());
        let e = c.wait_error();
        assert_eq!(e["error"]["code"], json!(-32700), "{e}");
        // The next well-framed message (right after the unframed body, on the
        // same line as it) is read and answered.
        assert_serving(&mut c);
    }
    assert_eq!(c.shutdown(), 0);
}

/// The peak resident memory of a process, in bytes (Linux).
fn peak_memory(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn an_oversized_message_is_refused_before_it_is_read() {
    let s = scratch("huge");
    let mut c = Client::start(&s.0);
    // Refused on the header alone: nothing of the body has been sent.
    c.send_raw(b"Content-Length: 3000000000\r\n\r\n");
    let e = c.wait_error();
    assert_eq!(e["error"]["code"], json!(-32600), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3000000000"),
        "{e}"
    );
    // The input ends in the middle of the refused body: the server ends.
    assert_eq!(c.close_input(), 0);
}

#[test]
fn an_oversized_body_is_discarded_as_it_arrives_and_serving_goes_on() {
    let s = scratch("drain");
    let mut c = Client::start(&s.0);
    let len = rpol_lsp::MAX_MESSAGE + (8 << 20);
    c.send_raw(format!("Content-Length: {len}\r\n\r\n").as_bytes());
    assert_eq!(c.wait_error()["error"]["code"], json!(-32600));
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..len >> 20 {
        c.send_raw(&chunk);
    }
    assert_serving(&mut c);
    if let Some(peak) = peak_memory(c.pid()) {
        assert!(
            peak < rpol_lsp::MAX_MESSAGE,
            "the server held the refused body: peak {peak} bytes"
        );
    }
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let s = scratch("exit");
    let c = Client::start(&s.0);
    assert_eq!(c.exit(), 1);
    let c = Client::start(&s.0);
    assert_eq!(c.shutdown(), 0);
    // The client closing the pipe is no error.
    let c = Client::start(&s.0);
    assert_eq!(c.close_input(), 0);
}

#[test]
fn a_burst_of_edits_is_checked_a_few_times_on_the_latest_text() {
    let s = scratch("burst");
    let mut c = Client::start(&s.0);
    let path = s.0.join("policy/rules.rpol");
    let file = uri(&path);
    let text = std::fs::read_to_string(&path).expect("fixture");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": file, "languageId": "rpol", "version": 0, "text": text}}),
    );
    c.wait_publish(&file, 0, Some(0));
    let before = c.published(&file);
    const EDITS: i32 = 200;
    for v in 1..=EDITS {
        let edited = text.replacen(
            "features: [item_score]",
            &format!("features: [item_score, unknown_{v}]"),
            1,
        );
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": file, "version": v},
                "contentChanges": [{"text": edited}]
            }),
        );
    }
    c.wait_publish(&file, before, Some(EDITS));
    c.settle();
    let publishes = c.published(&file) - before;
    eprintln!("{EDITS} edits: {publishes} publishes");
    assert!(
        publishes <= 20,
        "{EDITS} quick edits published {publishes} times"
    );
    let diagnostics = c.diagnostics[&file].to_string();
    assert!(
        diagnostics.contains(&format!("unknown_{EDITS}")),
        "{diagnostics}"
    );
    assert!(!diagnostics.contains("unknown_199"), "{diagnostics}");
    assert_eq!(c.shutdown(), 0);
}
