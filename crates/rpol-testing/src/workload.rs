//! A generated policy written the way privacy teams write one (issue 18): many
//! features over a few classes, purposes and consent-driven modes, and
//! per-tenant class blocks as `forbid feature` rules that read `feature.*`
//! and `tenant`. Most features are denied for a typical request, so a
//! decision's cost is dominated by denied features and feature-reading rules.
//!
//! [`write_to`] writes it as files for `rpol bench`; [`compiled`] builds it
//! through the real checker.

use std::fmt::Write as _;
use std::path::Path;

use rpol_check::SourceInput;
use rpol_engine::Compiled;

pub const PURPOSES: [&str; 6] = [
    "personalization",
    "ranking",
    "ads_targeting",
    "analytics",
    "training",
    "fraud_prevention",
];
pub const CLASSES: [&str; 5] = [
    "public_catalog",
    "aggregate",
    "contextual",
    "behavioral",
    "sensitive",
];
pub const TENANTS: usize = 10;

/// The policy text (registry file name `registry.yaml`).
pub fn policy() -> String {
    let mut s = String::from(
        r#"policy workload {
  version: "1"
  registry: "registry.yaml"
}

purposes [personalization, ranking, ads_targeting, analytics, training, fraud_prevention]
consent [personalization, ads, analytics]
capabilities [behavior, profile, context, coarse_context]
surfaces [home, pdp, search]

context {
  region: string
  device: [mobile, desktop, tv]
}

mode personalized     { grants: [behavior, profile, context, coarse_context] }
mode contextual_only  { grants: [context, coarse_context] }
mode non_personalized { grants: [coarse_context] }

resolve mode {
  when not exists(subject.user_id)         => non_personalized
  when consent.personalization == granted  => personalized
  when consent.personalization == denied   => non_personalized
  else                                     => contextual_only
}

class public_catalog { }
class aggregate      { }
class contextual     { requires: [coarse_context] }
class behavioral {
  requires: [behavior]
  personal: true
}
class sensitive {
  requires: [behavior, profile]
  personal: true
  sensitive: true
}

source user_cf        { requires: [behavior] }
source two_tower      { requires: [behavior, profile] }
source session_intent { requires: [context] }
source item_to_item   { requires: [coarse_context] }
source trending       { }
source editorial      { }
source geo_popular    { requires: [coarse_context], when: exists(context.region) }
source ads_candidates { requires: [context] }

"#,
    );
    let _ = writeln!(
        s,
        "forbid feature when feature.sensitive and purpose == ads_targeting\n  because \"{SENSITIVE_REASON}\""
    );
    let _ = writeln!(
        s,
        "forbid source two_tower when tenant in [\"t3\", \"t8\"]\n  because \"{TWO_TOWER_REASON}\""
    );
    // Per-tenant class blocks: each class is blocked for three tenants.
    for (c, class) in CLASSES.iter().enumerate() {
        let tenants: Vec<String> = blocked_tenants(c)
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect();
        let _ = writeln!(
            s,
            "forbid feature when feature.class == {class} and tenant in [{}]\n  because \"{}\"",
            tenants.join(", "),
            block_reason(class)
        );
    }
    let _ = writeln!(
        s,
        "forbid feature when exists(feature.retention) and feature.retention > 180d and context.region == \"EU\"\n  because \"{EU_REASON}\""
    );
    s
}

pub const SENSITIVE_REASON: &str = "sensitive inferences never feed ads";
pub const TWO_TOWER_REASON: &str = "these tenants' contracts exclude cross-user embeddings";
pub const EU_REASON: &str = "EU sessions use no feature kept longer than six months";

/// The three tenants whose contracts block class `c` (index into [`CLASSES`]).
pub fn blocked_tenants(c: usize) -> Vec<String> {
    (0..3)
        .map(|k| format!("t{}", (c * 3 + k * 2) % TENANTS))
        .collect()
}

/// The `because` of the block rule of `class`.
pub fn block_reason(class: &str) -> String {
    format!("tenant contract blocks {class} signals")
}

/// The registry: `n` features, class `i % 5`, purposes and modes varying with
/// `i` so that about 88% of them are denied for a typical request.
pub fn registry(n: usize) -> String {
    let mut s = String::from("features:\n");
    for i in 0..n {
        let class = i % 5;
        // One or two allowed purposes out of six.
        let p1 = PURPOSES[(i / 5) % 6];
        let p2 = PURPOSES[(i / 30 + 1) % 6];
        let modes = match class {
            0 | 1 => "[personalized, contextual_only, non_personalized]",
            2 => "[contextual_only, non_personalized]",
            _ => "[personalized]",
        };
        let _ = write!(
            s,
            "  - name: f{i}\n    entity: {}\n    privacy_class: {}\n    allowed_privacy_modes: {modes}\n    allowed_purposes: [{p1}, {p2}]\n",
            if i % 2 == 0 { "user" } else { "item" },
            CLASSES[class],
        );
        if class >= 3 {
            let topic = if i % 7 == 0 { "ads" } else { "personalization" };
            let _ = writeln!(s, "    requires_consent: {topic}");
        }
        if i % 3 == 0 {
            let _ = writeln!(s, "    retention_days: {}", 30 + (i % 400));
        }
    }
    s
}

/// A stream of `n` requests over tenants, consent states, purposes, surfaces
/// and regions (deterministic).
pub fn requests(n: usize) -> Vec<String> {
    const STATES: [&str; 3] = ["granted", "denied", "unknown"];
    (0..n)
        .map(|i| {
            let subject = if i % 11 == 10 {
                String::from("{}")
            } else {
                format!(r#"{{"user_id":"u{i}"}}"#)
            };
            let region = match i % 4 {
                0 => r#","region":"EU""#,
                1 => r#","region":"US""#,
                _ => "",
            };
            format!(
                r#"{{"tenant":"t{}","surface":"{}","purpose":"{}","subject":{subject},"consent":{{"personalization":"{}","ads":"{}"}},"consent_version":"c-{}","context":{{"device":"mobile"{region}}}}}"#,
                i % TENANTS,
                ["home", "pdp", "search"][i % 3],
                PURPOSES[(i / 3) % 6],
                STATES[if i % 5 == 4 { 1 + i % 2 } else { 0 }],
                STATES[(i / 2) % 3],
                i % 13,
            )
        })
        .collect()
}

/// A typical request: a signed-in user who granted personalization, tenant
/// `t1` (its blocked classes apply), region unknown.
pub const TYPICAL: &str = r#"{"tenant":"t1","surface":"home","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted","ads":"denied"},"consent_version":"c-1","context":{"device":"mobile"}}"#;

/// The workload compiled through the real checker.
pub fn compiled(n: usize) -> Compiled {
    let reg = registry(n);
    let checked = rpol_check::check(
        vec![SourceInput {
            name: "workload.rpol".into(),
            text: policy(),
        }],
        Some(Path::new("registry.yaml")),
        &move |_| Ok(reg.clone()),
    );
    let policy = checked
        .policy
        .unwrap_or_else(|| panic!("workload has errors: {:#?}", checked.diagnostics));
    Compiled::build(policy.model).expect("workload compiles")
}

/// Writes `workload.rpol`, `registry.yaml` and `request.json` (the typical
/// request) into `dir`, for `rpol bench DIR --input DIR/request.json`.
pub fn write_to(dir: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("workload.rpol"), policy())?;
    std::fs::write(dir.join("registry.yaml"), registry(n))?;
    std::fs::write(dir.join("request.json"), TYPICAL)
}
