//! Decision logs and replay: a generated log of 10,000 decisions replayed
//! under an edited policy reports exactly what deciding every request directly
//! under both policies finds; the same policy reports no change; malformed and
//! undecidable lines are reported, never passed over; log lines round-trip.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::Rng;
use rpol_analysis::replay::{
    ChangeKind, Example, ReplayOptions, ReplayReport, Seen as ReportSide, codes_text, replay,
};
use rpol_engine::model::{
    CmpOp, ContextType, Expr, Forbid, ForbidKind, Literal, Operand, Path as MPath, PolicyModel,
};
use rpol_engine::{Compiled, Decision, DenyCode, LOG_DENY_CODES, LogKey};
use serde_json::{Map, Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn home_model() -> PolicyModel {
    let path = root().join("policies/home");
    let files = rpol_check::load::read_policy(&path).expect("policy files");
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    checked.policy.expect("policies/home checks").model
}

fn build(m: PolicyModel) -> Compiled {
    Compiled::build(m).expect("compiles")
}

fn key() -> LogKey {
    LogKey::parse("hex:00112233445566778899aabbccddeeff").unwrap()
}

/// A valid request over the model's vocabulary (spec 7.1).
fn request(m: &PolicyModel, rng: &mut Rng) -> Value {
    let mut r = Map::new();
    r.insert(
        "tenant".into(),
        json!(rng.pick(&["acme", "bank_a", "clinic_b", "shop"])),
    );
    r.insert("surface".into(), json!(rng.pick(&m.surfaces)));
    r.insert("purpose".into(), json!(rng.pick(&m.purposes)));
    let mut subject = Map::new();
    if rng.chance(70) {
        subject.insert("user_id".into(), json!(format!("u{}", rng.below(500))));
    }
    if rng.chance(30) {
        subject.insert(
            "anonymous_id".into(),
            json!(format!("anon_{}", rng.below(500))),
        );
    }
    if !subject.is_empty() || rng.chance(20) {
        r.insert("subject".into(), Value::Object(subject));
    }
    let mut consent = Map::new();
    for t in &m.consent_topics {
        if rng.chance(75) {
            consent.insert(
                t.clone(),
                json!(rng.pick(&["granted", "denied", "unknown"])),
            );
        }
    }
    if !consent.is_empty() || rng.chance(20) {
        r.insert("consent".into(), Value::Object(consent));
    }
    if rng.chance(50) {
        r.insert(
            "consent_version".into(),
            json!(format!("c-{}", rng.below(5))),
        );
    }
    let mut ctx = Map::new();
    for f in &m.context {
        if rng.chance(60) {
            let v = match &f.ty {
                ContextType::String => json!(rng.pick(&["ID", "US", "DE", "a \"quoted\"\nvalue"])),
                ContextType::Int => json!(rng.below(1000)),
                ContextType::Bool => json!(rng.chance(50)),
                ContextType::Duration => json!(rng.pick(&["0s", "90d", "36h", "2w", "17m"])),
                ContextType::Enum(vs) => json!(rng.pick(vs)),
            };
            ctx.insert(f.name.clone(), v);
        }
    }
    if !ctx.is_empty() || rng.chance(20) {
        r.insert("context".into(), Value::Object(ctx));
    }
    if rng.chance(30) {
        let roles: Vec<&String> = m.roles.iter().filter(|_| rng.chance(50)).collect();
        r.insert("roles".into(), json!(roles));
    }
    if rng.chance(30) {
        let mut fs: Vec<String> = (0..rng.below(5))
            .map(|_| rng.pick(&m.features).name.clone())
            .collect();
        if rng.chance(30) {
            fs.push("not_in_the_registry".into());
        }
        r.insert("features".into(), json!(fs));
    }
    Value::Object(r)
}

/// A request that is invalid in a way both policies agree on; only the
/// fields that survive into the fallback vary.
fn invalid_request(m: &PolicyModel, rng: &mut Rng) -> Value {
    let mut r = request(m, rng);
    match rng.below(3) {
        0 => r["surface"] = json!("kitchen"),
        1 => r["no_such_key"] = json!(1),
        _ => r["purpose"] = json!(42),
    }
    r
}

struct Logged {
    /// The request as sent (raw subject ids).
    raw: String,
    valid: bool,
}

/// A log of `n` decisions under `c` (one in 50 of an invalid request), and
/// the requests as sent.
fn make_log(c: &Compiled, n: usize, seed: u64) -> (String, Vec<Logged>) {
    let m = c.model();
    let mut rng = Rng(seed);
    let mut log = String::new();
    let mut sent = Vec::new();
    for i in 0..n {
        let id = format!("d-{i}");
        let t = 1_795_593_600_000 + i as u64;
        let valid = !rng.chance(2);
        let raw = if valid {
            request(m, &mut rng)
        } else {
            invalid_request(m, &mut rng)
        }
        .to_string();
        let line = match c.parse_request(&raw) {
            Ok(req) => {
                assert!(valid, "{raw}");
                let d = c.decide(&req, &[]);
                c.log_line(&req, &d, &id, t, &key())
            }
            Err(errors) => {
                assert!(!valid, "{raw}: {errors}");
                let (_, fallback) = c.decide_json(&raw, &[]).unwrap_err();
                c.log_line_invalid(&raw, &errors, &fallback, &id, t)
            }
        };
        assert!(!line.contains('\n'));
        log.push_str(&line);
        log.push('\n');
        sent.push(Logged { raw, valid });
    }
    (log, sent)
}

fn run(c: &Compiled, log: &str, threads: usize) -> ReplayReport {
    let opts = ReplayOptions {
        max_examples: 5,
        threads,
    };
    let mut last = None;
    let report = replay(c, log.as_bytes(), &opts, &mut |p| last = Some(p)).expect("replays");
    let last = last.expect("progress was reported");
    assert_eq!(last.bytes, log.len() as u64);
    assert_eq!(last.lines, report.lines);
    report
}

/// What a log line records, computed from a decision by names only (not
/// through the engine's log writer).
struct Seen {
    mode: String,
    route: String,
    sources: Side,
    features: Side,
}

struct Side {
    allowed: Vec<String>,
    codes: BTreeMap<&'static str, u32>,
}

impl Side {
    fn denied(&self) -> u32 {
        self.codes.values().sum()
    }
    fn codes_text(&self) -> String {
        if self.codes.is_empty() {
            return "none".into();
        }
        let parts: Vec<String> = self.codes.iter().map(|(c, n)| format!("{c}={n}")).collect();
        parts.join(", ")
    }
}

fn seen(c: &Compiled, d: &Decision) -> Seen {
    let m = c.model();
    let mut sources = Side {
        allowed: Vec::new(),
        codes: BTreeMap::new(),
    };
    for (v, s) in d.sources.iter().zip(&m.sources) {
        match v.code() {
            None => sources.allowed.push(s.name.clone()),
            Some(code) => *sources.codes.entry(code.as_str()).or_default() += 1,
        }
    }
    let mut features = Side {
        allowed: Vec::new(),
        codes: BTreeMap::new(),
    };
    for (i, v) in &d.features {
        match v.code() {
            None => features.allowed.push(m.features[*i as usize].name.clone()),
            Some(code) => *features.codes.entry(code.as_str()).or_default() += 1,
        }
    }
    for _ in &d.unknown_features {
        *features
            .codes
            .entry(DenyCode::UnknownFeature.as_str())
            .or_default() += 1;
    }
    Seen {
        mode: m.modes[d.mode as usize].name.clone(),
        route: d
            .route
            .map_or("none".into(), |r| m.feature_sets[r as usize].name.clone()),
        sources,
        features,
    }
}

/// The report that deciding every request directly under both policies
/// implies (examples compared with the first five of the real report).
fn expected(old: &Compiled, new: &Compiled, sent: &[Logged]) -> ReplayReport {
    let mut r = ReplayReport {
        digest: new.digest().to_string(),
        changes: vec![Default::default(); ChangeKind::ALL.len()],
        ..Default::default()
    };
    r.lines = sent.len() as u64;
    r.decisions = sent.len() as u64;
    r.digests = vec![(old.digest().to_string(), sent.len() as u64)];
    r.other_digest = if old.digest() == new.digest() {
        0
    } else {
        sent.len() as u64
    };
    for (i, s) in sent.iter().enumerate() {
        let (line, id) = (i as u64 + 1, format!("d-{i}"));
        let (d0, d1) = if s.valid {
            let before = old.decide(&old.parse_request(&s.raw).unwrap(), &[]);
            match new.parse_request(&s.raw) {
                Ok(req) => (before, new.decide(&req, &[])),
                Err(errors) => {
                    r.now_invalid.count += 1;
                    if r.now_invalid.first.len() < 5 {
                        r.now_invalid.first.push(rpol_analysis::replay::NowInvalid {
                            line,
                            id,
                            errors: errors.iter().map(ToString::to_string).collect(),
                        });
                    }
                    continue;
                }
            }
        } else {
            r.logged_invalid += 1;
            (
                old.decide_json(&s.raw, &[]).unwrap_err().1,
                new.decide_json(&s.raw, &[]).unwrap_err().1,
            )
        };
        r.redecided += 1;
        let (a, b) = (seen(old, &d0), seen(new, &d1));
        let mut changed = false;
        let mut add = |kind: ChangeKind, o: String, n: String, detail: Option<String>| {
            changed = true;
            let k = &mut r.changes[kind as usize];
            k.count += 1;
            if matches!(kind, ChangeKind::Mode | ChangeKind::Route) {
                *k.transitions.entry((o.clone(), n.clone())).or_default() += 1;
            }
            if k.examples.len() < 5 {
                k.examples.push(Example {
                    line,
                    id: id.clone(),
                    old: ReportSide::Text(o),
                    new: ReportSide::Text(n),
                    detail,
                });
            }
        };
        if a.mode != b.mode {
            add(ChangeKind::Mode, a.mode.clone(), b.mode.clone(), None);
        }
        if a.route != b.route {
            add(ChangeKind::Route, a.route.clone(), b.route.clone(), None);
        }
        let sides = [
            (&a.sources, &b.sources, ChangeKind::SourcesAllowed),
            (&a.features, &b.features, ChangeKind::FeaturesAllowed),
        ];
        for (x, y, first) in sides {
            let kind = |k: usize| ChangeKind::ALL[first as usize + k];
            if x.allowed.len() != y.allowed.len() {
                add(
                    kind(0),
                    x.allowed.len().to_string(),
                    y.allowed.len().to_string(),
                    None,
                );
            }
            if x.denied() != y.denied() {
                add(
                    kind(1),
                    x.denied().to_string(),
                    y.denied().to_string(),
                    None,
                );
            }
            if x.codes != y.codes {
                add(kind(2), x.codes_text(), y.codes_text(), None);
            }
            let (sx, sy): (BTreeSet<_>, BTreeSet<_>) =
                (x.allowed.iter().collect(), y.allowed.iter().collect());
            if sx != sy {
                let names = if y.allowed.is_empty() {
                    "none".to_string()
                } else {
                    y.allowed.join(", ")
                };
                // The old and new set hashes are the engine's; the
                // detection above and the names are not.
                add(
                    kind(3),
                    String::new(),
                    String::new(),
                    Some(format!("allowed now: {names}")),
                );
            }
        }
        if changed {
            r.changed += 1;
        }
    }
    r
}

/// The edited home policy: one change of each kind a replay reports.
fn edited(m: &PolicyModel) -> PolicyModel {
    let mut m = m.clone();
    let idx = |names: &[String], n: &str| names.iter().position(|x| x == n).unwrap() as u32;
    let modes: Vec<String> = m.modes.iter().map(|x| x.name.clone()).collect();
    // Denied personalization consent is now served contextually (mode).
    // The second arm to non_personalized is `consent.personalization == denied`.
    let arm = m
        .resolve
        .iter_mut()
        .filter(|a| a.mode == idx(&modes, "non_personalized"))
        .nth(1)
        .expect("the `denied => non_personalized` arm");
    arm.mode = idx(&modes, "contextual_only");
    // The contextual route no longer covers non_personalized (route).
    let fs = m
        .feature_sets
        .iter_mut()
        .find(|f| f.name == "home_contextual")
        .unwrap();
    fs.modes.retain(|&x| x != idx(&modes, "non_personalized"));
    // The training forbid is dropped (feature counts and codes).
    m.forbids
        .retain(|f| !f.because.as_deref().unwrap_or("").contains("training"));
    // Fraud prevention moves from device_type to context_local_hour: the same
    // counts, another set (features_set only).
    let fraud = idx(&m.purposes, "fraud_prevention");
    for f in &mut m.features {
        if f.name == "device_type" {
            f.allowed_purposes.retain(|&p| p != fraud);
        }
        if f.name == "context_local_hour" {
            f.allowed_purposes.push(fraud);
        }
    }
    // `tv` is no longer a device (logged requests with it are now invalid).
    for c in &mut m.context {
        if let ContextType::Enum(vs) = &mut c.ty {
            vs.retain(|v| v != "tv");
        }
    }
    m.digest = "ab".repeat(32);
    m
}

fn assert_matches(report: &ReplayReport, want: &ReplayReport) {
    assert_eq!(report.digest, want.digest);
    assert_eq!(
        (report.lines, report.blank_lines, report.decisions),
        (want.lines, want.blank_lines, want.decisions)
    );
    assert_eq!(
        (report.redecided, report.logged_invalid, report.changed),
        (want.redecided, want.logged_invalid, want.changed)
    );
    assert_eq!(report.other_digest, want.other_digest);
    assert_eq!(report.digests, want.digests);
    assert_eq!(report.malformed.count, 0, "{:?}", report.malformed.first);
    assert_eq!(report.undecidable.count, 0);
    assert_eq!(report.now_invalid, want.now_invalid);
    for kind in ChangeKind::ALL {
        let (got, exp) = (report.kind(kind), want.kind(kind));
        assert_eq!(got.count, exp.count, "{kind:?}");
        assert_eq!(got.transitions, exp.transitions, "{kind:?}");
        assert_eq!(got.examples.len(), exp.examples.len(), "{kind:?}");
        for (g, e) in got.examples.iter().zip(&exp.examples) {
            assert_eq!(
                (g.line, &g.id, &g.detail),
                (e.line, &e.id, &e.detail),
                "{kind:?}"
            );
            if !matches!(kind, ChangeKind::SourcesSet | ChangeKind::FeaturesSet) {
                // The reference writes every side as text; the report's
                // own text form must match it.
                assert_eq!(
                    (g.old.to_string(), g.new.to_string()),
                    (e.old.to_string(), e.new.to_string()),
                    "{kind:?}"
                );
            }
        }
    }
}

#[test]
fn replay_reports_exactly_what_direct_re_evaluation_finds() {
    let model = home_model();
    let (old, new) = (build(model.clone()), build(edited(&model)));
    let (log, sent) = make_log(&old, 10_000, 7);
    let want = expected(&old, &new, &sent);
    let report = run(&new, &log, 2);
    assert_matches(&report, &want);
    // Every kind of change occurs, so the comparison above is not vacuous.
    for kind in ChangeKind::ALL {
        assert!(want.kind(kind).count > 0, "no {kind:?} change in the log");
    }
    assert!(want.now_invalid.count > 0 && want.logged_invalid > 0);
    assert!(!report.unchanged());
    // The same report whatever the number of threads.
    assert_eq!(run(&new, &log, 1), report);
    assert_eq!(run(&new, &log, 3), report);
}

#[test]
fn replay_under_the_same_policy_changes_nothing() {
    let old = build(home_model());
    let (log, sent) = make_log(&old, 3_000, 11);
    let report = run(&old, &log, 2);
    assert!(report.unchanged(), "{:#}", report.to_json());
    assert_eq!(report.decisions, sent.len() as u64);
    assert_eq!(report.redecided, sent.len() as u64);
    assert_eq!(report.other_digest, 0);
    assert!(ChangeKind::ALL.iter().all(|k| report.kind(*k).count == 0));
    assert_eq!(report.to_json()["unchanged"], json!(true));
}

#[test]
fn malformed_lines_are_reported_with_their_line_numbers() {
    let c = build(home_model());
    let (good, _) = make_log(&c, 2, 3);
    let mut lines: Vec<Vec<u8>> = good.lines().map(|l| l.as_bytes().to_vec()).collect();
    let unknown_code = String::from_utf8(lines[0].clone()).unwrap().replacen(
        "\"denied\":{",
        "\"denied\":{\"no_such_code\":1,",
        1,
    );
    let no_mode = {
        let mut v: Value = serde_json::from_slice(&lines[0]).unwrap();
        v.as_object_mut().unwrap().remove("mode");
        v.to_string()
    };
    lines.insert(1, b"{not json".to_vec()); // line 2
    lines.insert(2, b"   ".to_vec()); // line 3, blank
    lines.insert(3, no_mode.into_bytes()); // line 4
    lines.insert(4, unknown_code.into_bytes()); // line 5
    lines.insert(5, b"{\"id\":\"\xff\"}".to_vec()); // line 6
    lines.insert(6, vec![b'x'; rpol_analysis::replay::MAX_LINE_BYTES + 10]); // line 7
    let mut log = Vec::new();
    for l in &lines {
        log.extend_from_slice(l);
        log.push(b'\n');
    }
    let report = replay(&c, log.as_slice(), &ReplayOptions::default(), &mut |_| {}).unwrap();
    let bad: Vec<u64> = report.malformed.first.iter().map(|m| m.line).collect();
    assert_eq!(bad, [2, 4, 5, 6, 7]);
    assert_eq!(report.malformed.count, 5);
    let messages: Vec<&str> = report
        .malformed
        .first
        .iter()
        .map(|m| m.message.as_str())
        .collect();
    assert!(messages[1].contains("missing field `mode`"), "{messages:?}");
    assert!(
        messages[2].contains("unknown deny code `no_such_code`"),
        "{messages:?}"
    );
    assert!(messages[3].contains("UTF-8"), "{messages:?}");
    assert!(messages[4].contains("longer than"), "{messages:?}");
    assert_eq!(report.blank_lines, 1);
    assert_eq!(
        (report.lines, report.decisions, report.redecided),
        (8, 2, 2)
    );
    assert_eq!(report.changed, 0);
    assert!(
        !report.unchanged(),
        "a malformed line is never \"no change\""
    );
}

#[test]
fn log_lines_round_trip_with_hashed_subjects() {
    let c = build(home_model());
    let m = c.model();
    let mut rng = Rng(5);
    let other = LogKey::parse("another key, long enough").unwrap();
    for i in 0..2_000 {
        let raw = request(m, &mut rng);
        let req = c.parse_request(&raw.to_string()).unwrap();
        let d = c.decide(&req, &[]);
        let line = c.log_line(&req, &d, &format!("r{i}"), 1_795_593_600_000, &key());
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], json!("2026-11-25T08:00:00.000Z"));
        assert_eq!(v["digest"], json!(c.digest()));
        assert_eq!(v["valid"], json!(true));
        // Subject ids are keyed hashes: stable per key, different across keys.
        for field in ["user_id", "anonymous_id"] {
            let sent = raw["subject"][field].as_str();
            let logged = v["request"]["subject"][field].as_str();
            assert_eq!(sent.is_some(), logged.is_some(), "{field}: {line}");
            if let (Some(sent), Some(logged)) = (sent, logged) {
                assert!(!line.contains(&format!("\"{sent}\"")), "{line}");
                assert_eq!(logged, key().pseudonym(sent));
                assert!(logged.starts_with("hmac:") && logged.len() == 37);
                assert_ne!(logged, other.pseudonym(sent));
            }
        }
        // The logged request parses back and decides the same.
        let again = c.parse_request(&v["request"].to_string()).unwrap();
        let mut d2 = c.decide(&again, &[]);
        assert_eq!(again.user_id.is_some(), req.user_id.is_some());
        // Only the subject part of the cache scope may differ.
        d2.cache_scope = d.cache_scope.clone();
        assert_eq!(d2, d, "{line}");
        assert_eq!(again.context, req.context);
        assert_eq!(again.features, req.features);
        // The summary agrees with the decision, counted by name.
        let s = seen(&c, &d);
        assert_eq!(v["mode"], json!(s.mode));
        assert_eq!(v["sources"]["allowed"], json!(s.sources.allowed.len()));
        assert_eq!(v["features"]["allowed"], json!(s.features.allowed.len()));
        let logged_codes: BTreeMap<String, u32> =
            serde_json::from_value(v["features"]["denied"].clone()).unwrap();
        let keys: Vec<&String> = logged_codes.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(
            logged_codes,
            s.features
                .codes
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect::<BTreeMap<_, _>>()
        );
        // The same input gives the same line (deterministic).
        assert_eq!(
            line,
            c.log_line(&req, &d, &format!("r{i}"), 1_795_593_600_000, &key())
        );
    }
}

#[test]
fn policies_comparing_subject_ids_make_lines_undecidable() {
    let model = home_model();
    let old = build(model.clone());
    let (log, sent) = make_log(&old, 500, 13);
    let mut m = model;
    m.forbids.push(Forbid {
        kind: ForbidKind::Source,
        targets: None,
        when: Some(Expr::Compare {
            op: CmpOp::Eq,
            lhs: Operand::Path(MPath::UserId),
            rhs: Operand::Lit(Literal::Str("u1".into())),
        }),
        because: None,
        rule: "test:1".into(),
    });
    let new = build(m);
    let report = run(&new, &log, 2);
    let with_user = sent
        .iter()
        .filter(|s| {
            s.valid && {
                let v: Value = serde_json::from_str(&s.raw).unwrap();
                v["subject"]["user_id"].is_string()
            }
        })
        .count() as u64;
    assert!(with_user > 0);
    assert_eq!(report.undecidable.count, with_user);
    assert!(
        report.undecidable.first[0]
            .reason
            .contains("`subject.user_id`")
    );
    assert_eq!(report.redecided + with_user, report.decisions);
    assert!(!report.unchanged());
}

#[test]
fn codes_text_lists_codes_in_log_order() {
    let mut counts = [0u32; LOG_DENY_CODES.len()];
    assert_eq!(codes_text(&counts), "none");
    counts[rpol_engine::log_code_index(DenyCode::Forbidden)] = 2;
    counts[rpol_engine::log_code_index(DenyCode::CapabilityMissing)] = 1;
    assert_eq!(codes_text(&counts), "capability_missing=1, forbidden=2");
}

#[test]
fn forged_lines_are_refused_and_counted_by_cause() {
    let c = build(home_model());
    let (good, _) = make_log(&c, 1, 9);
    let first: Value = serde_json::from_str(good.lines().next().unwrap()).unwrap();
    let with = |f: &dyn Fn(&mut Map<String, Value>)| {
        let mut v = first.clone();
        f(v.as_object_mut().unwrap());
        v.to_string()
    };
    let lines = [
        good.lines().next().unwrap().to_string(), // 1: fine
        with(&|o| {
            o.insert("extra".into(), json!(1));
        }), // 2
        with(&|o| {
            o.insert("time".into(), json!("2026-02-30T00:00:00Z"));
        }), // 3
        with(&|o| {
            o.remove("time");
        }), // 4: a missing key, malformed but not counted by cause
        with(&|o| {
            o.insert(
                "request".into(),
                json!({"subject": {"anonymous_id": "device-42"}}),
            );
        }), // 5
        with(&|o| {
            o.insert("valid".into(), json!(false));
            o.insert("request".into(), json!({"subject": {"user_id": "hmac:00"}}));
        }), // 6: a raw id is refused on an invalid line too
    ];
    let log = lines.join("\n") + "\n";
    let report = replay(&c, log.as_bytes(), &ReplayOptions::default(), &mut |_| {}).unwrap();
    let bad: Vec<u64> = report.malformed.first.iter().map(|m| m.line).collect();
    assert_eq!(bad, [2, 3, 4, 5, 6]);
    assert_eq!(report.decisions, 1);
    assert_eq!(
        (
            report.refused.unknown_key,
            report.refused.bad_time,
            report.refused.raw_subject_id
        ),
        (1, 1, 2)
    );
    let messages: Vec<&str> = report
        .malformed
        .first
        .iter()
        .map(|m| m.message.as_str())
        .collect();
    assert!(
        messages[0].contains("unknown field `extra`"),
        "{messages:?}"
    );
    assert!(messages[1].contains("RFC 3339"), "{messages:?}");
    assert!(messages[2].contains("missing field `time`"), "{messages:?}");
    assert!(messages[3].contains("subject.anonymous_id"), "{messages:?}");
    assert!(!messages[3].contains("device-42"), "{messages:?}");
    assert_eq!(
        report.to_json()["malformed"]["refused"]["raw_subject_id"],
        2
    );
}
