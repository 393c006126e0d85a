//! `rpol serve` against the real binary on an ephemeral loopback port: every
//! endpoint and error status, byte-for-byte equality with `rpol eval`, the
//! OPA-shaped endpoint, metrics after a known sequence, reload under load,
//! the bearer token, the decision log and a graceful SIGTERM.
#![cfg(feature = "serve")]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

fn rpol() -> &'static str {
    env!("CARGO_BIN_EXE_rpol")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path string used alike by `rpol eval` and `rpol serve`, so that the
/// `mode_rule` and `rule` paths in decisions match.
fn policy(name: &str) -> String {
    repo().join("policies").join(name).display().to_string()
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rpol-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A running `rpol serve`; killed on drop.
struct Server {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Self::start_env(args, &[])
    }

    fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(rpol());
        cmd.arg("serve").args(args);
        if !args.contains(&"--listen") && !args.contains(&"--unix") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rpol serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let lines = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut addr = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("rpol serve: listening on http://") {
                        addr = a.to_string();
                    }
                    if line.contains("serving policy") {
                        break;
                    }
                }
                Err(_) => panic!(
                    "rpol serve did not start: {:?}",
                    stderr.lock().unwrap().clone()
                ),
            }
        }
        Server {
            child,
            addr,
            stderr,
        }
    }

    fn conn(&self) -> Conn {
        Conn::new(&self.addr)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the process to exit (after a signal) and returns its code.
    fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("rpol serve did not exit");
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// A keep-alive HTTP/1.1 connection (the server always sends a length).
struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: test\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let s = self.r.get_mut();
        s.write_all(req.as_bytes()).unwrap();
        // The server may answer (413, 415) and close before reading the body.
        let _ = s.write_all(body);
        read_response(&mut self.r)
    }

    fn post_json(&mut self, path: &str, body: &[u8]) -> Resp {
        self.send("POST", path, &[("content-type", "application/json")], body)
    }

    fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, &[], b"")
    }
}

fn read_response(r: &mut impl BufRead) -> Resp {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

/// `rpol eval PATH --input FILE --format json [--reason …]`: stdout, or
/// `None` when it refused the request (exit 2).
fn eval(path: &str, input: &Path, reasons: &[&str]) -> Option<Vec<u8>> {
    let mut cmd = Command::new(rpol());
    cmd.args(["eval", path, "--format", "json", "--input"])
        .arg(input);
    for r in reasons {
        cmd.args(["--reason", r]);
    }
    let out = cmd.output().unwrap();
    match out.status.code() {
        Some(0) => Some(out.stdout),
        Some(2) => None,
        other => panic!(
            "eval exited {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Every request of a policy's test blocks, then its `requests/*.json`.
fn requests_of(path: &str) -> Vec<String> {
    let p = Path::new(path);
    let files = rpol_check::load::read_policy(p).unwrap();
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    let policy = checked.policy.expect("policy checks");
    let mut out: Vec<String> = policy.tests.iter().map(|t| t.request.to_string()).collect();
    for dir in [p.join("requests"), repo().join("policies/requests")] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
            files.sort();
            for f in files {
                out.push(std::fs::read_to_string(f).unwrap());
            }
        }
    }
    out
}

fn compile(path: &str) -> rpol_engine::Compiled {
    let files = rpol_check::load::read_policy(Path::new(path)).unwrap();
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    rpol_engine::Compiled::build(checked.policy.expect("policy checks").model).unwrap()
}

const GRANTED: &str = r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted","session":"granted"},"context":{"region":"ID","device":"mobile"}}"#;
const UNKNOWN: &str = r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u1"},"context":{"region":"ID"}}"#;

#[test]
fn decide_is_byte_identical_to_eval_for_every_bundled_request() {
    let dir = tempdir("eq");
    for name in ["home", "enterprise"] {
        let path = policy(name);
        let srv = Server::start(&[&path]);
        let mut c = srv.conn();
        let reason_sets: Vec<Vec<&str>> = vec![
            vec![],
            vec![
                "user_embedding_nn_7",
                "trending_region_3",
                "editorial",
                "nope",
            ],
        ];
        let mut compared = 0;
        for (i, req) in requests_of(&path).iter().enumerate() {
            let file = dir.join(format!("{name}-{i}.json"));
            std::fs::write(&file, req).unwrap();
            for reasons in &reason_sets {
                let query: String = reasons
                    .iter()
                    .enumerate()
                    .map(|(k, r)| format!("{}reason={r}", if k == 0 { "?" } else { "&" }))
                    .collect();
                let resp = c.post_json(&format!("/v1/decide{query}"), req.as_bytes());
                match eval(&path, &file, reasons) {
                    Some(expected) => {
                        assert_eq!(resp.status, 200, "{req}: {}", resp.text());
                        assert_eq!(
                            resp.text(),
                            String::from_utf8(expected).unwrap(),
                            "{name} request {i} reasons {reasons:?}"
                        );
                        compared += 1;
                    }
                    None => {
                        assert_eq!(resp.status, 400, "{req}");
                        assert!(resp.json()["fallback"].is_object());
                    }
                }
            }
        }
        assert!(compared >= 10, "{name}: only {compared} comparisons");
    }
}

#[test]
fn endpoints_and_error_statuses() {
    let path = policy("home");
    let srv = Server::start(&[&path]);
    let mut c = srv.conn();

    let r = c.get("/health");
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("ok")));
    let r = c.get("/health/ready");
    assert_eq!(r.status, 200);

    let p = c.get("/v1/policy").json();
    assert_eq!(p["name"], "home_feed");
    assert_eq!(p["version"], "2026.11.1");
    assert_eq!(p["source"], path.as_str());
    assert_eq!(p["reloads"]["ok"], 0);
    assert_eq!(p["reloads"]["refused"], 0);
    assert!(p["loaded_at"].as_str().unwrap().ends_with('Z'));
    let digest = p["digest"].as_str().unwrap().to_string();

    // A decision, with the digest header; charset=utf-8 is accepted.
    let r = c.send(
        "POST",
        "/v1/decide",
        &[("content-type", "application/json; charset=utf-8")],
        GRANTED.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("rpol-policy-digest"), Some(digest.as_str()));
    assert_eq!(r.json()["mode"], "personalized");

    // 400: not JSON, and an invalid request; both with the fallback.
    for body in ["{not json", r#"{"tenant": 7, "surface": "home"}"#] {
        let r = c.post_json("/v1/decide", body.as_bytes());
        assert_eq!(r.status, 400, "{body}");
        let j = r.json();
        let errors = j["errors"].as_array().unwrap();
        assert!(!errors.is_empty());
        assert!(
            errors
                .iter()
                .all(|e| e["path"].is_string() && e["message"].is_string())
        );
        assert_eq!(j["fallback"]["mode"], "contextual_only");
        assert_eq!(r.header("rpol-policy-digest"), Some(digest.as_str()));
    }

    // 415: no content type, or another one. A refused body is not read,
    // so the server closes the connection after answering.
    let r = srv
        .conn()
        .send("POST", "/v1/decide", &[], GRANTED.as_bytes());
    assert_eq!(r.status, 415);
    let r = srv.conn().send(
        "POST",
        "/v1/decide",
        &[("content-type", "text/plain")],
        GRANTED.as_bytes(),
    );
    assert_eq!(r.status, 415);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );

    // 413: over 1 MiB.
    let big = format!(
        "{{\"tenant\":\"{}\",\"surface\":\"home\"}}",
        "x".repeat(1024 * 1024)
    );
    let r = Conn::new(&srv.addr).post_json("/v1/decide", big.as_bytes());
    assert_eq!(r.status, 413);

    // 404, 405.
    let r = c.get("/v1/nothing");
    assert_eq!(r.status, 404);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/nothing")
    );
    let r = c.get("/v1/decide");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = srv.conn().post_json("/health", b"{}");
    assert_eq!(r.status, 405);

    // Batch: in order, an invalid item in its place.
    let body = format!(
        "{{\"requests\":[{GRANTED},{{\"surface\":1}},{UNKNOWN}],\"reasons\":[\"editorial\"]}}"
    );
    let r = c.post_json("/v1/decide/batch", body.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("rpol-policy-digest"), Some(digest.as_str()));
    let d = r.json();
    let d = d["decisions"].as_array().unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d[0]["mode"], "personalized");
    assert!(d[0]["reasons"].is_object() || d[0]["reasons"].is_array());
    assert!(d[1]["errors"].is_array());
    assert_eq!(d[1]["fallback"]["mode"], "contextual_only");
    assert_eq!(d[2]["mode"], "contextual_only");
    // Each item is the same JSON value as `/v1/decide` gives.
    let single = c
        .post_json("/v1/decide?reason=editorial", GRANTED.as_bytes())
        .json();
    assert_eq!(d[0], single);
    // Over the batch limit: 413; a bad envelope: 400.
    let many = format!("{{\"requests\":[{}{{}}]}}", "{},".repeat(10_000));
    let r = c.post_json("/v1/decide/batch", many.as_bytes());
    assert_eq!(r.status, 413, "{}", r.text());
    let exactly = format!("{{\"requests\":[{}{{}}]}}", "{},".repeat(9_999));
    let r = c.post_json("/v1/decide/batch", exactly.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["decisions"].as_array().unwrap().len(), 10_000);
    let r = c.post_json("/v1/decide/batch", b"[1,2]");
    assert_eq!(r.status, 400);
    let r = c.post_json("/v1/decide/batch", b"{\"requests\": 3}");
    assert_eq!(r.status, 400);

    // OPA's Data API shape.
    let body = format!("{{\"input\":{GRANTED}}}");
    let r = c.post_json("/v1/data/rpol/decision", body.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("rpol-policy-digest"), Some(digest.as_str()));
    let j = r.json();
    let single = c.post_json("/v1/decide", GRANTED.as_bytes()).json();
    assert_eq!(j["result"], single);
    let id = j["decision_id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a version-4 UUID: {id}");
    let r = c.post_json("/v1/data/rpol/decision", b"{\"input\":{\"tenant\":1}}");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["fallback"]["mode"], "contextual_only");
    let r = c.post_json("/v1/data/rpol/decision", b"{}");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["path"], "input");

    // Metrics exposition.
    let r = c.get("/metrics");
    assert_eq!(r.status, 200);
    let text = r.text();
    for name in [
        "rpol_decisions_total",
        "rpol_mode_fallback_total",
        "rpol_invalid_requests_total",
        "rpol_denied_total",
        "rpol_forbid_fired_total",
        "rpol_personal_feature_requested_total",
        "rpol_decision_duration_seconds_bucket",
        "rpol_http_request_duration_seconds_bucket",
        "rpol_policy_info",
        "rpol_policy_reloads_total",
        "rpol_decision_log_dropped_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    assert!(text.contains(&format!(
        "rpol_policy_info{{name=\"home_feed\",version=\"2026.11.1\",digest=\"{digest}\"}} 1"
    )));
}

/// The value of one series in the exposition.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn metrics_after_a_known_sequence() {
    let srv = Server::start(&[&policy("home")]);
    let mut c = srv.conn();
    for _ in 0..3 {
        assert_eq!(c.post_json("/v1/decide", GRANTED.as_bytes()).status, 200);
    }
    for _ in 0..2 {
        assert_eq!(c.post_json("/v1/decide", UNKNOWN.as_bytes()).status, 200);
    }
    // Consent unknown (contextual_only) while asking for two personal
    // features and one contextual one: two personal features requested.
    let asking = r#"{"tenant":"acme","surface":"pdp","purpose":"personalization","subject":{"user_id":"u1"},"features":["user_category_affinity_30d","user_embedding","no_such_feature"]}"#;
    let r = c.post_json("/v1/decide", asking.as_bytes());
    assert_eq!(r.status, 200);
    // The same features in the personalized mode are allowed: not counted.
    let granted_asking = asking.replace(
        "\"features\"",
        "\"consent\":{\"personalization\":\"granted\"},\"features\"",
    );
    assert_eq!(
        c.post_json("/v1/decide", granted_asking.as_bytes()).status,
        200
    );
    // Two invalid requests: one through /v1/decide, one in a batch.
    assert_eq!(c.post_json("/v1/decide", b"nope").status, 400);
    let batch = format!("{{\"requests\":[{GRANTED},{{}}]}}");
    assert_eq!(
        c.post_json("/v1/decide/batch", batch.as_bytes()).status,
        200
    );

    let m = c.get("/metrics").text();
    let home_p = "rpol_decisions_total{surface=\"home\",purpose=\"personalization\",mode=";
    assert_eq!(metric(&m, &format!("{home_p}\"personalized\"}}")), 4.0);
    assert_eq!(metric(&m, &format!("{home_p}\"contextual_only\"}}")), 2.0);
    assert_eq!(
        metric(
            &m,
            "rpol_decisions_total{surface=\"pdp\",purpose=\"personalization\",mode=\"contextual_only\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rpol_decisions_total{surface=\"-\",purpose=\"-\",mode=\"contextual_only\"}"
        ),
        2.0
    );
    assert_eq!(metric(&m, "rpol_invalid_requests_total"), 2.0);
    // The `else` arm: two unknown-consent home requests, the pdp one, and
    // the two invalid requests' fallbacks.
    assert_eq!(
        metric(&m, "rpol_mode_fallback_total{surface=\"home\"}"),
        2.0
    );
    assert_eq!(metric(&m, "rpol_mode_fallback_total{surface=\"pdp\"}"), 1.0);
    assert_eq!(metric(&m, "rpol_mode_fallback_total{surface=\"-\"}"), 2.0);
    assert_eq!(
        metric(
            &m,
            "rpol_personal_feature_requested_total{mode=\"contextual_only\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "rpol_personal_feature_requested_total{mode=\"personalized\"}"
        ),
        0.0
    );
    // One unknown feature in each of the two asking requests.
    assert_eq!(
        metric(
            &m,
            "rpol_denied_total{kind=\"feature\",code=\"unknown_feature\"}"
        ),
        2.0
    );
    assert_eq!(metric(&m, "rpol_decision_duration_seconds_count"), 10.0);
    assert_eq!(
        metric(
            &m,
            "rpol_http_request_duration_seconds_count{route=\"/v1/decide\"}"
        ),
        8.0
    );
    assert_eq!(
        metric(
            &m,
            "rpol_http_request_duration_seconds_count{route=\"/v1/decide/batch\"}"
        ),
        1.0
    );
    assert_eq!(metric(&m, "rpol_policy_reloads_total{result=\"ok\"}"), 0.0);
    assert_eq!(metric(&m, "rpol_decision_log_dropped_total"), 0.0);
}

/// Writes `text` to `file` atomically (a reader sees the old or the new file).
fn replace(file: &Path, text: &str) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// A copy of `policies/home` and its registry in a fresh directory; returns
/// the policy directory and the text of `home.rpol`.
fn home_copy(name: &str) -> (PathBuf, String) {
    let dir = tempdir(name);
    std::fs::copy(
        repo().join("policies/features.yaml"),
        dir.join("features.yaml"),
    )
    .unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    for f in ["home.rpol", "tests.rpol", "coverage.rpol"] {
        std::fs::copy(repo().join("policies/home").join(f), home.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(home.join("home.rpol")).unwrap();
    (home, text)
}

/// The second good version: another version and a source that now needs a
/// capability, so decisions differ beyond the digest.
fn version_b(a: &str) -> String {
    let b = a
        .replace("version: \"2026.11.1\"", "version: \"2026.11.2\"")
        .replace(
            "source trending_region {}",
            "source trending_region    { requires: [context] }",
        );
    assert_ne!(a, b);
    b
}

fn reloads(c: &mut Conn) -> (u64, u64) {
    let p = c.get("/v1/policy").json();
    (
        p["reloads"]["ok"].as_u64().unwrap(),
        p["reloads"]["refused"].as_u64().unwrap(),
    )
}

#[test]
fn reload_under_load_never_fails_and_never_mixes_policies() {
    let (home, a) = home_copy("reload");
    let b = version_b(&a);
    let broken = format!("{a}\nmode broken {{ grants: [nonexistent_capability] }}\n");
    let file = home.join("home.rpol");
    let path = home.display().to_string();
    let srv = Server::start(&[&path]);
    let digest_a = compile(&path).digest().to_string();
    replace(&file, &b);
    let digest_b = compile(&path).digest().to_string();
    replace(&file, &a);
    let versions = [a.clone(), b.clone(), broken];

    let requests: Vec<&str> = vec![
        GRANTED,
        UNKNOWN,
        r#"{"tenant":"acme","surface":"pdp","purpose":"personalization","subject":{"anonymous_id":"x"}}"#,
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for t in 0..3 {
        let addr = srv.addr.clone();
        let stop = stop.clone();
        let requests: Vec<String> = requests.iter().map(|s| s.to_string()).collect();
        clients.push(std::thread::spawn(move || {
            let mut c = Conn::new(&addr);
            let mut seen: HashMap<(String, usize), HashSet<String>> = HashMap::new();
            let mut failures = Vec::new();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let i = (n + t) % requests.len();
                let r = c.post_json("/v1/decide", requests[i].as_bytes());
                if r.status != 200 {
                    failures.push(format!("{}: {}", r.status, r.text()));
                } else {
                    let d = r.header("rpol-policy-digest").unwrap_or("").to_string();
                    seen.entry((d, i)).or_default().insert(r.text());
                }
                n += 1;
            }
            (n, failures, seen)
        }));
    }

    let mut c = srv.conn();
    let mut expected = (0u64, 0u64);
    for i in 0..50 {
        replace(&file, &versions[i % 3]);
        srv.signal("HUP");
        if i % 3 == 2 {
            expected.1 += 1;
        } else {
            expected.0 += 1;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while reloads(&mut c) != expected {
            assert!(
                Instant::now() < deadline,
                "reload {i} not seen: {}",
                srv.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // Let the clients decide under this policy for a moment.
        std::thread::sleep(Duration::from_millis(15));
    }
    stop.store(true, Ordering::Relaxed);

    // In-process decisions of both good versions, by digest.
    replace(&file, &a);
    let ca = compile(&path);
    replace(&file, &b);
    let cb = compile(&path);
    assert_eq!(
        (ca.digest(), cb.digest()),
        (digest_a.as_str(), digest_b.as_str())
    );
    let by_digest: BTreeMap<&str, &rpol_engine::Compiled> =
        [(ca.digest(), &ca), (cb.digest(), &cb)]
            .into_iter()
            .collect();

    let mut total = 0;
    let mut digests_seen = HashSet::new();
    for h in clients {
        let (n, failures, seen) = h.join().unwrap();
        assert!(
            failures.is_empty(),
            "{} failed requests, the first: {:?}",
            failures.len(),
            failures.first()
        );
        total += n;
        for ((digest, i), bodies) in seen {
            let c = by_digest
                .get(digest.as_str())
                .unwrap_or_else(|| panic!("served by an unknown policy {digest}"));
            let req = c.parse_request(requests[i]).unwrap();
            let mut want = c.decide(&req, &[]).to_json_pretty(c);
            want.push('\n');
            assert_eq!(bodies.len(), 1, "one policy, one decision");
            assert!(bodies.contains(&want), "decision of {digest} differs");
            digests_seen.insert(digest);
        }
    }
    assert!(total > 100, "only {total} requests");
    assert_eq!(digests_seen.len(), 2, "both versions served");
    assert_eq!(reloads(&mut c), (34, 16));
    let log = srv.log();
    assert!(log.contains("reload refused (SIGHUP)"), "{log}");
    assert!(log.contains("error[E0"), "refusals name their codes: {log}");
    let m = c.get("/metrics").text();
    assert_eq!(
        metric(&m, "rpol_policy_reloads_total{result=\"refused\"}"),
        16.0
    );
    // Only the policy in force has an info series.
    assert_eq!(m.matches("rpol_policy_info{").count(), 1);
}

#[test]
fn watch_reloads_on_file_change() {
    let (home, a) = home_copy("watch");
    let path = home.display().to_string();
    let srv = Server::start(&[&path, "--watch"]);
    let mut c = srv.conn();
    let before = c.get("/v1/policy").json()["digest"].clone();
    replace(&home.join("home.rpol"), &version_b(&a));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p = c.get("/v1/policy").json();
        if p["digest"] != before && p["version"] == "2026.11.2" {
            break;
        }
        assert!(Instant::now() < deadline, "no reload: {}", srv.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bearer_token_and_bind_refusal() {
    let dir = tempdir("auth");
    let token = dir.join("token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    let tf = token.display().to_string();
    let srv = Server::start(&[&policy("home"), "--auth-token-file", &tf]);
    let mut c = srv.conn();
    assert_eq!(c.get("/health").status, 200);
    assert_eq!(c.get("/health/ready").status, 200);
    let r = c.get("/v1/policy");
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = c.send(
        "GET",
        "/metrics",
        &[("authorization", "Bearer 0123456789abcdef0123456789abcdeX")],
        b"",
    );
    assert_eq!(r.status, 401);
    let auth = ("authorization", "Bearer 0123456789abcdef0123456789abcdef");
    assert_eq!(c.send("GET", "/metrics", &[auth], b"").status, 200);
    let r = c.send(
        "POST",
        "/v1/decide",
        &[auth, ("content-type", "application/json")],
        GRANTED.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(c.post_json("/v1/decide", GRANTED.as_bytes()).status, 401);

    // Not loopback without a token: refused before anything is served.
    let out = Command::new(rpol())
        .args(["serve", &policy("home"), "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("E0801") && err.contains("`0.0.0.0:0`"),
        "{err}"
    );
    assert!(err.contains("--auth-token-file"), "{err}");
    // A short token is refused.
    std::fs::write(&token, "short\n").unwrap();
    let out = Command::new(rpol())
        .args(["serve", &policy("home"), "--auth-token-file", &tf])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0802"));
}

#[test]
fn broken_policy_at_start_exits_1_with_codes() {
    let (home, a) = home_copy("broken");
    std::fs::write(home.join("home.rpol"), format!("{a}\nsource {{")).unwrap();
    let out = Command::new(rpol())
        .args([
            "serve",
            &home.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[E0100]"), "{err}");
    assert!(err.contains("home.rpol:"), "{err}");
}

/// A refused policy path gets the code Python's `PolicyError` carries for it
/// (the one shared loader): E0920 unreadable, E0921 a corrupt artifact, and
/// the reader's precise code where it has one (E0102 for a FIFO).
#[test]
fn refused_policy_paths_have_the_codes_python_reports() {
    let dir = tempdir("refused-paths");
    let artifact = dir.join("cut.rpolc");
    std::fs::write(&artifact, b"rpol-compiled\0not an artifact").unwrap();
    let mut cases = vec![
        (dir.join("nope"), "error[E0920]: "),
        (artifact, "error[E0921]: "),
    ];
    #[cfg(unix)]
    {
        let fifo = dir.join("policy.rpol");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo");
        cases.push((fifo, "error[E0102]: "));
    }
    for (path, want) in cases {
        let out = Command::new(rpol())
            .args([
                "serve",
                &path.display().to_string(),
                "--listen",
                "127.0.0.1:0",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        assert!(err.contains(want), "{}: {err}", path.display());
        assert!(!err.contains("rpol::io"), "{err}");
    }
}

#[test]
fn compiled_artifact_serves_the_same_decisions() {
    let dir = tempdir("artifact");
    let art = dir.join("home.rpolc");
    let path = policy("home");
    let st = Command::new(rpol())
        .args(["compile", &path, "-o"])
        .arg(&art)
        .output()
        .unwrap();
    assert!(st.status.success());
    let srv = Server::start(&[&art.display().to_string()]);
    let direct = Server::start(&[&path]);
    let a = srv.conn().post_json("/v1/decide", GRANTED.as_bytes());
    let b = direct.conn().post_json("/v1/decide", GRANTED.as_bytes());
    assert_eq!((a.status, a.text()), (b.status, b.text()));
}

#[test]
fn sigterm_drains_flushes_the_decision_log_and_exits_0() {
    let dir = tempdir("term");
    let log = dir.join("decisions.jsonl");
    let lf = log.display().to_string();
    let mut srv = Server::start_env(
        &[&policy("home"), "--decision-log", &lf],
        &[("RPOL_LOG_KEY", "hex:00112233445566778899aabbccddeeff")],
    );
    let mut c = srv.conn();
    for _ in 0..5 {
        assert_eq!(c.post_json("/v1/decide", GRANTED.as_bytes()).status, 200);
    }
    assert_eq!(c.post_json("/v1/decide", b"{}").status, 400);
    let opa = format!("{{\"input\":{GRANTED}}}");
    let r = c.post_json("/v1/data/rpol/decision", opa.as_bytes());
    let id = r.json()["decision_id"].as_str().unwrap().to_string();
    srv.signal("TERM");
    assert_eq!(srv.wait_exit(), Some(0), "{}", srv.log());
    assert!(srv.log().contains("rpol serve: stopped"));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert_eq!(lines.iter().filter(|l| l["valid"] == false).count(), 1);
    assert!(lines.iter().any(|l| l["id"] == id.as_str()));
    // Subject ids are never logged raw.
    assert!(!text.contains("\"u1\""));

    // Without a key, `--decision-log` is refused as `eval --log` is.
    let out = Command::new(rpol())
        .args(["serve", &policy("home"), "--decision-log", &lf])
        .env_remove("RPOL_LOG_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RPOL_LOG_KEY"));
}

#[cfg(unix)]
#[test]
fn unix_socket() {
    let dir = tempdir("unix");
    let sock = dir.join("rpol.sock");
    let s = sock.display().to_string();
    let _srv = Server::start(&[&policy("home"), "--unix", &s]);
    let mut stream = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let req = format!(
        "POST /v1/decide HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{GRANTED}",
        GRANTED.len()
    );
    stream.write_all(req.as_bytes()).unwrap();
    let r = read_response(&mut BufReader::new(stream));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["mode"], "personalized");
}

#[test]
fn python_client_example() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("note: python3 is not installed; examples/clients/python/client.py was not run");
        return;
    }
    let srv = Server::start(&[&policy("home")]);
    let out = Command::new("python3")
        .arg(repo().join("examples/clients/python/client.py"))
        .arg("--url")
        .arg(format!("http://{}", srv.addr))
        .arg("--request")
        .arg(repo().join("policies/requests/granted.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mode: personalized"), "{stdout}");
    assert!(
        stdout.contains("invalid request refused with 400"),
        "{stdout}"
    );
    assert!(stdout.contains("opa decision_id:"), "{stdout}");
}
