//! `diff` finds exactly the changes a policy edit makes, and every witness
//! reproduces through the engine as `rpol eval` would decide it.

mod common;

use common::{compile, edited_home, replace, root};
use rpol_analysis::diff::{Change, DiffReport, diff};
use rpol_analysis::regions::DEFAULT_MAX_REGIONS;
use rpol_engine::Compiled;
use serde_json::Value;

fn home() -> Compiled {
    compile(&root().join("policies/home"))
}

/// Decides the witness under `c` the way `rpol eval` does (JSON in, JSON out).
fn eval(c: &Compiled, w: &Value) -> Option<Value> {
    let d = c.decide_json(&w.to_string(), &[]).ok()?;
    Some(serde_json::from_str(&d.to_json(c)).expect("decision JSON"))
}

fn allowed_in(decision: &Value, kind: &str, name: &str) -> bool {
    decision[kind]["allowed"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == name))
}

/// Every difference's witness shows the claimed change through the engine.
fn assert_witnesses_reproduce(old: &Compiled, new: &Compiled, r: &DiffReport) {
    for d in &r.differences {
        let (a, b) = (eval(old, &d.witness), eval(new, &d.witness));
        match &d.change {
            Change::Validity { valid_before } => {
                assert_eq!(a.is_some(), *valid_before, "{}", d.summary);
                assert_eq!(b.is_some(), !*valid_before, "{}", d.summary);
            }
            Change::Mode { old: mo, new: mn } => {
                let (a, b) = (a.expect("valid"), b.expect("valid"));
                assert_eq!(a["mode"], mo.as_str(), "{}", d.summary);
                assert_eq!(b["mode"], mn.as_str(), "{}", d.summary);
            }
            Change::Route { old: ro, new: rn } => {
                let (a, b) = (a.expect("valid"), b.expect("valid"));
                assert_eq!(a["route"].as_str(), ro.as_deref(), "{}", d.summary);
                assert_eq!(b["route"].as_str(), rn.as_deref(), "{}", d.summary);
            }
            Change::Source { name, allowed_now } => {
                let (a, b) = (a.expect("valid"), b.expect("valid"));
                assert_eq!(
                    allowed_in(&a, "sources", name),
                    !allowed_now,
                    "{}",
                    d.summary
                );
                assert_eq!(
                    allowed_in(&b, "sources", name),
                    *allowed_now,
                    "{}",
                    d.summary
                );
            }
            Change::Feature { name, allowed_now } => {
                let (a, b) = (a.expect("valid"), b.expect("valid"));
                assert_eq!(
                    allowed_in(&a, "features", name),
                    !allowed_now,
                    "{}",
                    d.summary
                );
                assert_eq!(
                    allowed_in(&b, "features", name),
                    *allowed_now,
                    "{}",
                    d.summary
                );
            }
        }
    }
}

fn diff_home_with(tag: &str, edit: impl Fn(&str, &str) -> String) -> (Compiled, DiffReport) {
    let new = compile(&edited_home(tag, edit));
    let old = home();
    let r = diff(&old, &new, DEFAULT_MAX_REGIONS).expect("diff");
    assert_witnesses_reproduce(&old, &new, &r);
    (new, r)
}

fn summaries(r: &DiffReport) -> Vec<&str> {
    r.differences.iter().map(|d| d.summary.as_str()).collect()
}

#[test]
fn a_policy_equals_itself() {
    let (a, b) = (home(), home());
    let r = diff(&a, &b, DEFAULT_MAX_REGIONS).expect("diff");
    assert!(r.equal(), "{:?}", summaries(&r));
    assert_eq!(r.regions, 4_860);
    let e = compile(&root().join("policies/enterprise"));
    assert!(diff(&e, &e, DEFAULT_MAX_REGIONS).expect("diff").equal());
}

/// Items in another order, in one file, with other spacing and comments:
/// the same policy.
#[test]
fn a_reordered_reformatted_copy_is_equal() {
    let (_, r) = diff_home_with("reordered", |name, text| {
        if name != "home.rpol" {
            return text.to_string();
        }
        // Split at top-level items and put them in reverse order; resolve arms
        // keep their order inside their block.
        let mut items: Vec<String> = Vec::new();
        for line in text.lines() {
            let top = !line.starts_with([' ', '}', '#']) && !line.is_empty();
            if top || items.is_empty() {
                items.push(String::new());
            }
            let last = items.last_mut().expect("an item");
            // Reformat: drop comments, squeeze runs of spaces.
            let code = line.split(" #").next().unwrap_or(line);
            if !code.trim_start().starts_with('#') {
                last.push_str(&code.split_whitespace().collect::<Vec<_>>().join(" "));
                last.push('\n');
            }
        }
        items.reverse();
        items.join("\n# reordered\n")
    });
    assert!(r.equal(), "{:?}", summaries(&r));
}

#[test]
fn a_changed_resolve_arm_is_found() {
    let (_, r) = diff_home_with(
        "arm",
        replace(
            "home.rpol",
            "when consent.personalization == denied  => non_personalized",
            "when consent.personalization == denied  => contextual_only",
        ),
    );
    let s = summaries(&r);
    assert!(
        s.iter().any(|x| x.starts_with(
            "mode changes from `non_personalized` to `contextual_only` when `subject.user_id` is present and `consent.personalization` is denied"
        )),
        "{s:#?}"
    );
    // Contextual mode grants `context`, so the session source can now run.
    assert!(
        s.iter()
            .any(|x| x.starts_with("source `session_intent` newly allowed")),
        "{s:#?}"
    );
    insta::assert_json_snapshot!("changed_resolve_arm", s);
}

#[test]
fn a_dropped_forbid_is_found() {
    let (_, r) = diff_home_with(
        "forbid",
        replace(
            "home.rpol",
            "forbid source user_two_tower when tenant in [\"bank_a\", \"clinic_b\"]\n  because \"these tenants' contracts exclude cross-user embeddings\"\n",
            "",
        ),
    );
    let s = summaries(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert!(
        s[0].starts_with(
            "source `user_two_tower` newly allowed when `tenant` is \"bank_a\" or \"clinic_b\""
        ),
        "{s:#?}"
    );
    assert!(
        s[0].contains("`consent.personalization` is granted"),
        "{s:#?}"
    );
}

#[test]
fn a_purpose_added_in_the_registry_is_found() {
    let (_, r) = diff_home_with(
        "purpose",
        replace(
            "features.yaml",
            "    allowed_purposes: [personalization, training]\n    retention_days: 90\n    requires_consent: personalization\n  - name: recent_click_count",
            "    allowed_purposes: [personalization, training, quality_monitoring]\n    retention_days: 90\n    requires_consent: personalization\n  - name: recent_click_count",
        ),
    );
    let s = summaries(&r);
    assert_eq!(s.len(), 1, "{s:#?}");
    assert!(
        s[0].starts_with("feature `user_embedding` newly allowed for purpose `quality_monitoring` when `subject.user_id` is present and `consent.personalization` is granted"),
        "{s:#?}"
    );
    let d = &r.differences[0];
    assert_eq!(d.witness["features"], serde_json::json!(["user_embedding"]));
    assert_eq!(
        d.old["feature"]["user_embedding"]["code"],
        "purpose_not_allowed"
    );
    assert_eq!(d.new["feature"]["user_embedding"]["allowed"], true);
}

#[test]
fn a_flipped_when_is_found() {
    let (_, r) = diff_home_with(
        "flip",
        replace(
            "home.rpol",
            "when: consent.session == granted",
            "when: consent.session != granted",
        ),
    );
    let s = summaries(&r);
    assert_eq!(s.len(), 2, "{s:#?}");
    assert!(
        s.iter()
            .all(|x| x.starts_with("source `session_intent` newly ")),
        "{s:#?}"
    );
}

/// A vocabulary change makes some requests invalid under one side: reported,
/// never compared as if valid.
#[test]
fn a_removed_surface_makes_requests_invalid() {
    let (_, r) = diff_home_with("surface", |name, text| match name {
        "home.rpol" => text.replace("surfaces [home, pdp]", "surfaces [home]"),
        "tests.rpol" | "coverage.rpol" => text.replace("surface: pdp", "surface: home"),
        _ => text.to_string(),
    });
    let s = summaries(&r);
    assert!(
        s.iter().any(|x| x
            .starts_with("requests valid under OLD are invalid under NEW when `surface` is `pdp`")),
        "{s:#?}"
    );
    let d = r
        .differences
        .iter()
        .find(|d| matches!(d.change, Change::Validity { .. }))
        .expect("validity");
    assert_eq!(d.new["valid"], false);
    assert!(
        d.new["errors"][0]
            .as_str()
            .unwrap_or_default()
            .contains("pdp"),
        "{}",
        d.new
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let (_, r) = diff_home_with(
        "json",
        replace(
            "home.rpol",
            "when: consent.session == granted",
            "when: consent.session != granted",
        ),
    );
    let j = r.to_json();
    assert_eq!(j["equal"], false);
    assert_eq!(j["regions"], 4_860);
    let d = &j["differences"][0];
    for k in ["summary", "witness", "old", "new", "regions"] {
        assert!(d.get(k).is_some(), "missing `{k}` in {d}");
    }
    assert_eq!(d["witness"]["tenant"], "acme");
}
