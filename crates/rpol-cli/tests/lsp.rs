//! `rpol lsp` end to end: each script under `tests/lsp/*.json` names a fixture
//! folder (a policy and its registry), which is copied to a scratch
//! directory; the script's steps are sent to the real binary over stdio and
//! the answers are snapshotted with the scratch path redacted to `$ROOT`.
//!
//! Steps:
//! - `{"open": FILE}` — `didOpen` with the file's text;
//! - `{"change": FILE, "replace": [OLD, NEW]}` (or `"text": NEW_TEXT`) — a
//!   full-text `didChange` of the open buffer;
//! - `{"close": FILE}` — `didClose`;
//! - `{"write": FILE, "replace": [OLD, NEW]}` — changes the file on disk and
//!   sends `workspace/didChangeWatchedFiles`;
//! - `{"diagnostics": true}` — records the latest diagnostics of every file;
//! - `{"request": METHOD, "file": FILE, "at": "te|xt", "range": "text",
//!   "params": {…}}` — a request on FILE; `at` puts the cursor where `|` is in
//!   the first occurrence of the text (without the `|`), `range` selects the
//!   first occurrence of its text; `params` is merged into the parameters.
#![cfg(feature = "lsp")]

mod lsp_support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lsp_support::{Client, position, uri};
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
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

/// A scratch copy of a fixture folder, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    root: PathBuf,
    client: Client,
    /// Open buffers: path relative to the root, text, version.
    docs: Vec<(String, String, i32)>,
    out: String,
}

impl Run {
    fn text(&self, file: &str) -> String {
        match self.docs.iter().find(|(f, _, _)| f == file) {
            Some((_, t, _)) => t.clone(),
            None => std::fs::read_to_string(self.root.join(file)).expect("fixture file"),
        }
    }

    fn uri(&self, file: &str) -> String {
        uri(&self.root.join(file))
    }

    fn redact(&self, s: &str) -> String {
        s.replace(&self.root.display().to_string(), "$ROOT")
    }

    fn locate(&self, file: &str, marked: &str) -> Value {
        let text = self.text(file);
        let bar = marked
            .find('|')
            .unwrap_or_else(|| panic!("no `|` in {marked:?}"));
        let needle = marked.replace('|', "");
        let at = text
            .find(&needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {file}"));
        position(&text, at + bar)
    }

    fn range(&self, file: &str, needle: &str) -> Value {
        let text = self.text(file);
        let at = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {file}"));
        json!({"start": position(&text, at), "end": position(&text, at + needle.len())})
    }

    fn replaced(text: &str, step: &Value) -> String {
        if let Some(t) = step["text"].as_str() {
            return t.to_string();
        }
        let old = step["replace"][0].as_str().expect("replace: [old, new]");
        let new = step["replace"][1].as_str().expect("replace: [old, new]");
        assert!(text.contains(old), "{old:?} not found for replace");
        text.replacen(old, new, 1)
    }

    /// Waits for the diagnostics a notification causes (each analysis
    /// publishes every file of the policy, the touched one included, with the
    /// version of an open buffer), so that what is recorded next does not
    /// depend on timing.
    fn caught_up(&mut self, file: &str, seen: usize) {
        let uri = self.uri(file);
        let version = self
            .docs
            .iter()
            .find(|(f, _, _)| f == file)
            .map(|(_, _, v)| *v);
        self.client.wait_publish(&uri, seen, version);
        self.client.settle();
    }

    fn step(&mut self, step: &Value) {
        let touched = ["open", "change", "close", "write"]
            .iter()
            .find_map(|k| step[*k].as_str())
            .map(|f| (f.to_string(), self.client.published(&self.uri(f))));
        self.send(step);
        if let Some((file, seen)) = touched {
            self.caught_up(&file, seen);
        }
    }

    fn send(&mut self, step: &Value) {
        if let Some(file) = step["open"].as_str() {
            let text = self.text(file);
            let language = if file.ends_with(".rpol") {
                "rpol"
            } else {
                "yaml"
            };
            self.client.notify(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": self.uri(file), "languageId": language, "version": 1, "text": text}}),
            );
            self.docs.push((file.to_string(), text, 1));
        } else if let Some(file) = step["change"].as_str() {
            let uri = self.uri(file);
            let doc = self
                .docs
                .iter_mut()
                .find(|(f, _, _)| f == file)
                .expect("change of a file that is not open");
            doc.1 = Self::replaced(&doc.1, step);
            doc.2 += 1;
            let (text, version) = (doc.1.clone(), doc.2);
            self.client.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
            );
        } else if let Some(file) = step["close"].as_str() {
            self.docs.retain(|(f, _, _)| f != file);
            self.client.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": self.uri(file)}}),
            );
        } else if let Some(file) = step["write"].as_str() {
            let path = self.root.join(file);
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, Self::replaced(&text, step)).expect("write");
            self.client.notify(
                "workspace/didChangeWatchedFiles",
                json!({"changes": [{"uri": self.uri(file), "type": 2}]}),
            );
        } else if step["diagnostics"].as_bool() == Some(true) {
            let _ = writeln!(self.out, ">> diagnostics");
            let published: Vec<(String, Value)> = self
                .client
                .diagnostics
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (uri, diags) in published {
                let _ = writeln!(self.out, "{}", self.redact(&uri));
                for d in diags.as_array().into_iter().flatten() {
                    let r = &d["range"];
                    let _ = writeln!(
                        self.out,
                        "  {}:{}-{}:{} {} {} {}",
                        r["start"]["line"],
                        r["start"]["character"],
                        r["end"]["line"],
                        r["end"]["character"],
                        if d["severity"] == 1 {
                            "error"
                        } else {
                            "warning"
                        },
                        d["code"].as_str().unwrap_or("?"),
                        self.redact(d["message"].as_str().unwrap_or(""))
                            .replace('\n', " | "),
                    );
                }
            }
        } else if let Some(method) = step["request"].as_str() {
            let file = step["file"].as_str().expect("request needs a file");
            let mut params = json!({"textDocument": {"uri": self.uri(file)}});
            if let Some(at) = step["at"].as_str() {
                params["position"] = self.locate(file, at);
            }
            if let Some(r) = step["range"].as_str() {
                params["range"] = self.range(file, r);
            }
            if let Some(extra) = step["params"].as_object() {
                for (k, v) in extra {
                    params[k] = v.clone();
                }
            }
            let response = self.client.request(method, params);
            let shown = response
                .get("result")
                .map(|r| json!({"result": r}))
                .unwrap_or_else(|| json!({"error": response["error"]["message"]}));
            let label = step["at"]
                .as_str()
                .or(step["range"].as_str())
                .map(|a| format!(" at {a:?}"))
                .unwrap_or_default();
            let _ = writeln!(self.out, ">> {method} {file}{label}");
            let pretty = serde_json::to_string_pretty(&compact(shown)).expect("json");
            let _ = writeln!(self.out, "{}", self.redact(&pretty));
        } else {
            panic!("unknown step {step}");
        }
    }
}

/// Ranges as `line:col-line:col` (0-based, UTF-16), so snapshots stay readable.
fn compact(v: Value) -> Value {
    fn pos(p: &Value) -> Option<String> {
        Some(format!(
            "{}:{}",
            p.get("line")?.as_u64()?,
            p.get("character")?.as_u64()?
        ))
    }
    match v {
        Value::Object(m) => {
            if m.len() == 2
                && let (Some(s), Some(e)) =
                    (m.get("start").and_then(pos), m.get("end").and_then(pos))
            {
                return Value::String(format!("{s}-{e}"));
            }
            Value::Object(m.into_iter().map(|(k, v)| (k, compact(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(compact).collect()),
        v => v,
    }
}

fn run_script(script: &Path) -> String {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(script).expect("script")).expect("json");
    let fixture = doc["fixture"].as_str().expect("fixture");
    let name = script
        .file_stem()
        .expect("name")
        .to_string_lossy()
        .to_string();
    let scratch =
        Scratch(std::env::temp_dir().join(format!("rpol-lsp-{}-{name}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    copy_dir(&workspace().join("tests/lsp").join(fixture), &scratch.0);
    let root = scratch.0.canonicalize().expect("scratch");
    let client = Client::start(&root);
    let mut run = Run {
        root,
        client,
        docs: Vec::new(),
        out: String::new(),
    };
    for step in doc["steps"].as_array().expect("steps") {
        run.step(step);
    }
    assert!(
        run.client
            .server_requests
            .iter()
            .any(|m| m == "client/registerCapability"),
        "the server should register for watched files"
    );
    let code = run.client.shutdown();
    assert_eq!(code, 0, "rpol lsp exit code");
    run.out
}

#[test]
fn lsp_scripts() {
    let dir = workspace().join("tests/lsp");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/lsp")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 4, "expected the LSP scripts in {dir:?}");
    for s in scripts {
        let name = s.file_stem().expect("name").to_string_lossy().to_string();
        let out = run_script(&s);
        insta::assert_snapshot!(name, out);
    }
}
