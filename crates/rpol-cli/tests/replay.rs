//! `rpol eval --log` and `rpol replay` end to end: the binary writes log lines
//! with hashed subject ids, and replays them with exit 0 (no change), 1
//! (changes) and 2 (malformed log, unreadable log, policy errors).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const KEY: &str = "hex:000102030405060708090a0b0c0d0e0f";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-cli-replay-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `rpol` with `args`, `stdin` and, when given, `RPOL_LOG_KEY`.
fn rpol(args: &[&str], stdin: &str, key: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rpol"));
    cmd.args(args)
        .current_dir(workspace())
        .env_remove("RPOL_LOG_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(k) = key {
        cmd.env("RPOL_LOG_KEY", k);
    }
    let mut child = cmd.spawn().unwrap();
    // `rpol` may exit before reading its input (e.g. a refused key): a
    // closed pipe here is not a failure of the test.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const REQUESTS: [&str; 4] = [
    r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u123"},"consent":{"personalization":"granted"}}"#,
    r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u7"},"consent":{"personalization":"denied"}}"#,
    r#"{"tenant":"acme","surface":"pdp","purpose":"training","subject":{"anonymous_id":"anon_1"},"context":{"device":"tv"}}"#,
    // Invalid: its fallback decision is logged.
    r#"{"tenant":"acme","surface":"kitchen","purpose":"personalization","subject":{"user_id":"u9"}}"#,
];

/// A log of `REQUESTS` written by `rpol eval --log`.
fn write_log(dir: &Path) -> PathBuf {
    let log = dir.join("decisions.jsonl");
    let log_arg = log.to_str().unwrap();
    for (i, req) in REQUESTS.iter().enumerate() {
        let (code, _, err) = rpol(
            &["eval", "policies/home", "--input", "-", "--log", log_arg],
            req,
            Some(KEY),
        );
        assert_eq!(code, if i == 3 { 2 } else { 0 }, "{err}");
    }
    log
}

/// A copy of policies/home (and its registry) with one edit to home.rpol.
fn edited_home(dir: &Path, from: &str, to: &str) -> PathBuf {
    let src = workspace().join("policies");
    std::fs::create_dir_all(dir.join("home")).unwrap();
    for entry in std::fs::read_dir(src.join("home")).unwrap() {
        let p = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&p).unwrap();
        if p.file_name().unwrap() == "home.rpol" {
            assert!(text.contains(from), "`{from}` not in home.rpol");
            text = text.replacen(from, to, 1);
        }
        std::fs::write(dir.join("home").join(p.file_name().unwrap()), text).unwrap();
    }
    std::fs::copy(src.join("features.yaml"), dir.join("features.yaml")).unwrap();
    dir.join("home")
}

#[test]
fn eval_log_appends_one_line_with_hashed_subject_ids() {
    let dir = scratch("eval");
    let log = write_log(&dir);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), REQUESTS.len());
    for raw_id in ["u123", "u7", "anon_1", "u9"] {
        assert!(!text.contains(raw_id), "raw id `{raw_id}` in the log");
    }
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    for key in [
        "id", "time", "digest", "valid", "request", "mode", "route", "sources", "features",
    ] {
        assert!(first.get(key).is_some(), "no `{key}` in {first}");
    }
    assert_eq!(first["valid"], Value::Bool(true));
    assert_eq!(first["mode"], "personalized");
    let pseudonym = first["request"]["subject"]["user_id"].as_str().unwrap();
    assert!(pseudonym.starts_with("hmac:") && pseudonym.len() == 37);
    let invalid: Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(invalid["valid"], Value::Bool(false));
    assert_eq!(invalid["errors"], 1);
    assert!(invalid["request"].get("subject").is_none());
    assert!(invalid["request"].get("surface").is_none());

    // The same request and key give the same pseudonym; another key another.
    let again = dir.join("again.jsonl");
    let other = dir.join("other.jsonl");
    for (file, key) in [(&again, KEY), (&other, "another secret key, long enough")] {
        let (code, _, err) = rpol(
            &[
                "eval",
                "policies/home",
                "--input",
                "-",
                "--log",
                file.to_str().unwrap(),
            ],
            REQUESTS[0],
            Some(key),
        );
        assert_eq!(code, 0, "{err}");
    }
    let pseudonym_of = |f: &Path| -> String {
        let v: Value = serde_json::from_str(std::fs::read_to_string(f).unwrap().trim()).unwrap();
        v["request"]["subject"]["user_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(pseudonym_of(&again), pseudonym);
    assert_ne!(pseudonym_of(&other), pseudonym);
}

#[test]
fn eval_log_without_a_key_is_refused() {
    let dir = scratch("nokey");
    let log = dir.join("decisions.jsonl");
    for key in [None, Some(""), Some("short")] {
        let (code, out, err) = rpol(
            &[
                "eval",
                "policies/home",
                "--input",
                "-",
                "--log",
                log.to_str().unwrap(),
            ],
            REQUESTS[0],
            key,
        );
        assert_eq!(code, 2, "{key:?}: {err}");
        assert!(out.is_empty(), "no decision is printed: {out}");
        assert!(err.contains("`RPOL_LOG_KEY`"), "{err}");
        assert!(!log.exists());
    }
}

#[test]
fn replay_exits_0_under_the_same_policy() {
    let dir = scratch("same");
    let log = write_log(&dir);
    let (code, out, err) = rpol(
        &["replay", "policies/home", log.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 lines: 4 decisions"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("no decision would change (4 decided again)"),
        "{out}"
    );
    // Progress goes to a terminal only.
    assert!(err.is_empty(), "{err}");
}

#[test]
fn replay_exits_1_under_a_changed_policy_and_reports_json() {
    let dir = scratch("changed");
    let log = write_log(&dir);
    let policy = edited_home(
        &dir.join("policy"),
        "when consent.personalization == denied  => non_personalized",
        "when consent.personalization == denied  => contextual_only",
    );
    let (code, out, err) = rpol(
        &["replay", policy.to_str().unwrap(), log.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("non_personalized → contextual_only"), "{out}");
    assert!(
        out.trim_end().ends_with("1 of 4 decisions would change"),
        "{out}"
    );

    let (code, out, err) = rpol(
        &[
            "replay",
            policy.to_str().unwrap(),
            log.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
        None,
    );
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["unchanged"], Value::Bool(false));
    assert_eq!(v["lines"], 4);
    assert_eq!(v["decisions"], 4);
    assert_eq!(v["redecided"], 4);
    assert_eq!(v["logged_invalid"], 1);
    assert_eq!(v["changed"], 1);
    assert_eq!(v["other_digest"], 4, "the edit changes the digest");
    assert_eq!(v["malformed"]["count"], 0);
    let mode = &v["changes"]["mode"];
    assert_eq!(mode["count"], 1);
    assert_eq!(mode["transitions"][0]["from"], "non_personalized");
    assert_eq!(mode["transitions"][0]["to"], "contextual_only");
    assert_eq!(mode["examples"][0]["line"], 2);
    for kind in [
        "mode",
        "route",
        "sources_allowed",
        "sources_denied",
        "sources_codes",
        "sources_set",
        "features_allowed",
        "features_denied",
        "features_codes",
        "features_set",
    ] {
        assert!(v["changes"][kind]["count"].is_u64(), "{kind}");
        assert!(v["changes"][kind]["examples"].is_array(), "{kind}");
    }
    // Counts are numbers, counts per deny code an object of numbers.
    let codes = &v["changes"]["sources_codes"]["examples"][0];
    assert_eq!(codes["old"], serde_json::json!({"capability_missing": 4}));
    assert_eq!(
        codes["new"],
        serde_json::json!({"capability_missing": 2, "condition_false": 2})
    );
    for (kind, ex) in ["sources", "features"]
        .iter()
        .flat_map(|side| ["allowed", "denied", "codes"].map(|k| format!("{side}_{k}")))
        .flat_map(|kind| {
            let examples = v["changes"][&kind]["examples"].as_array().unwrap().clone();
            examples.into_iter().map(move |e| (kind.clone(), e))
        })
    {
        for side in [&ex["old"], &ex["new"]] {
            let numeric = side.is_u64()
                || side
                    .as_object()
                    .is_some_and(|o| o.values().all(Value::is_u64));
            assert!(numeric, "{kind}: {ex}");
        }
    }
}

#[test]
fn replay_exits_2_on_a_malformed_or_missing_log() {
    let dir = scratch("malformed");
    let log = write_log(&dir);
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.insert_str(text.find('\n').unwrap() + 1, "{\"id\": \"truncated\n");
    std::fs::write(&log, text).unwrap();
    let (code, out, err) = rpol(
        &["replay", "policies/home", log.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("line 2:"), "{out}");
    assert!(
        err.contains("1 malformed line (the first is line 2)"),
        "{err}"
    );

    let missing = dir.join("missing.jsonl");
    let (code, _, err) = rpol(
        &["replay", "policies/home", missing.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read log"), "{err}");
    assert!(err.contains("missing.jsonl"), "{err}");
}

#[test]
fn replay_exits_2_on_policy_errors() {
    let dir = scratch("badpolicy");
    let log = write_log(&dir);
    let policy = edited_home(&dir.join("policy"), "=> personalized", "=> no_such_mode");
    let (code, _, err) = rpol(
        &["replay", policy.to_str().unwrap(), log.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has check errors"), "{err}");
}

#[test]
fn replay_reads_standard_input() {
    let dir = scratch("stdin");
    let log = write_log(&dir);
    let text = std::fs::read_to_string(&log).unwrap();
    let (code, out, err) = rpol(
        &["replay", "policies/home", "-", "--format", "json"],
        &text,
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["log"], "<stdin>");
    assert_eq!(v["unchanged"], Value::Bool(true));
}

/// Runs `rpol` with raw bytes on stdin.
fn rpol_bytes(args: &[&str], stdin: &[u8], key: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rpol"));
    cmd.args(args)
        .current_dir(workspace())
        .env_remove("RPOL_LOG_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(k) = key {
        cmd.env("RPOL_LOG_KEY", k);
    }
    let mut child = cmd.spawn().unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_request_that_is_not_utf8_gets_its_fallback_logged() {
    let dir = scratch("not-utf8");
    let log = dir.join("decisions.jsonl");
    let args = [
        "eval",
        "policies/home",
        "--input",
        "-",
        "--log",
        log.to_str().unwrap(),
    ];
    let (code, out, err) = rpol_bytes(&args, b"{\"tenant\":\"\xff\"}", Some(KEY));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("not valid UTF-8"), "{err}");
    let text = std::fs::read_to_string(&log).expect("a fallback line was logged");
    let line: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["valid"], Value::Bool(false));
    assert_eq!(line["request"], serde_json::json!({}));
    // The line replays (as the fallback) without a malformed line.
    let (code, out, err) = rpol(
        &["replay", "policies/home", log.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_upper_case_hex_prefix_is_a_hex_key() {
    let dir = scratch("hex-case");
    let lower = write_log(&dir);
    let lower_text = std::fs::read_to_string(&lower).unwrap();
    let upper = dir.join("upper.jsonl");
    let (code, _, err) = rpol(
        &[
            "eval",
            "policies/home",
            "--input",
            "-",
            "--log",
            upper.to_str().unwrap(),
        ],
        REQUESTS[0],
        Some("HEX:000102030405060708090A0B0C0D0E0F"),
    );
    assert_eq!(code, 0, "{err}");
    let pseudonym = |text: &str| {
        let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        v["request"]["subject"]["user_id"].clone()
    };
    assert_eq!(
        pseudonym(&lower_text),
        pseudonym(&std::fs::read_to_string(&upper).unwrap())
    );
    // Not hex after the prefix: refused, never taken as a text key.
    let (code, _, err) = rpol(
        &[
            "eval",
            "policies/home",
            "--input",
            "-",
            "--log",
            upper.to_str().unwrap(),
        ],
        REQUESTS[0],
        Some("HEX:this is not hex but long enough"),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("hex"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn replay_escapes_what_it_prints_and_refuses_forged_lines() {
    let dir = scratch("hostile");
    let log = write_log(&dir);
    let text = std::fs::read_to_string(&log).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut v = first.clone();
        f(v.as_object_mut().unwrap());
        v.to_string()
    };
    // A changed decision whose id holds terminal escapes (clear screen, a
    // title change, a C1 CSI and a bidi override).
    let escapes = "\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}";
    let hostile_id = with(&|o| {
        o.insert("id".into(), Value::String(format!("x{escapes}")));
        o.insert("mode".into(), Value::String(format!("contextual{escapes}")));
    });
    let unknown_key = with(&|o| {
        o.insert("note".into(), Value::String("hi".into()));
    });
    let bad_time = with(&|o| {
        o.insert("time".into(), Value::String("yesterday\u{1b}[2J".into()));
    });
    let raw_id = with(&|o| {
        o["request"]["subject"]["user_id"] = Value::String("alice@example.com".into());
    });
    let hostile = dir.join("hostile.jsonl");
    std::fs::write(
        &hostile,
        [hostile_id, unknown_key, bad_time, raw_id].join("\n") + "\n",
    )
    .unwrap();
    let (code, out, err) = rpol(
        &["replay", "policies/home", hostile.to_str().unwrap()],
        "",
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    for c in out.chars() {
        assert!(
            c == '\n' || !(c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "unescaped {c:?} in:\n{out}"
        );
    }
    assert!(
        out.contains("x\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\u{9b}31m\\u{202e}"),
        "{out}"
    );
    for (line, what) in [
        (2, "unknown field `note`"),
        (3, "is not an RFC 3339 date-time"),
        (4, "`subject.user_id` is not a pseudonym"),
    ] {
        assert!(out.contains(&format!("line {line}: ")), "{out}");
        assert!(out.contains(what), "{what}: {out}");
    }
    assert!(
        out.contains("refused: 1 with an unknown key, 1 with a `time` that is not RFC 3339, 1 with a raw subject id"),
        "{out}"
    );
    assert!(!out.contains("alice@example.com"), "{out}");
    let (_, json_out, _) = rpol(
        &[
            "replay",
            "policies/home",
            hostile.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
        None,
    );
    let report: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(
        report["malformed"]["refused"],
        serde_json::json!({"unknown_key": 1, "bad_time": 1, "raw_subject_id": 1})
    );
    assert_eq!(report["malformed"]["count"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}
