//! Every mapping error, as a user reads it: code, message, place, help.
//! All are found from the mapping, the policy and the schema alone.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use rpol_batch::{DropWhen, Enforcer, Mapping, Options};
use rpol_engine::Compiled;

fn home() -> Arc<Compiled> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home");
    Arc::new(rpol_check::policy_load::load_policy(&path, None).unwrap().0)
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("tenant", DataType::Utf8, true),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("consent_training", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("authorized", DataType::Boolean, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("clicks", DataType::Int64, true),
    ])
}

/// The errors of a mapping text (parse, then check), one line each.
fn errors(text: &str, options: Options) -> String {
    let mapping = match Mapping::from_yaml(text, "map.yaml") {
        Ok(m) => m,
        Err(e) => return e.lines(),
    };
    match Enforcer::new(home(), &mapping, &schema(), options) {
        Ok(_) => "no error".to_string(),
        Err(e) => e.lines(),
    }
}

const BASE: &str = "tenant: tenant\nsurface: {value: home}\npurpose: {value: training}\n";

#[test]
fn syntax_and_shape() {
    insta::assert_snapshot!(errors("tenant: [unclosed\n", Options::default()));
    insta::assert_snapshot!(errors("- tenant\n", Options::default()));
    insta::assert_snapshot!(errors(
        "tenant: 42\nsurface: {constant: home}\npurpose: {value: training}\n",
        Options::default()
    ));
    insta::assert_snapshot!(errors(
        "tenant: a\nsurface: {value: home}\npurpose: {value: training}\ntenant: b\n",
        Options::default()
    ));
}

#[test]
fn unknown_keys_topics_and_fields() {
    let text = format!("{BASE}subject.email: user_id\n");
    insta::assert_snapshot!(errors(&text, Options::default()));
    let text = format!("{BASE}consent.trainig: consent_training\ncontext.country: region\n");
    insta::assert_snapshot!(errors(&text, Options::default()));
}

#[test]
fn unknown_column_and_wrong_type() {
    let text = format!(
        "{BASE}subject.user_id: userid\ncontext.authorized: region\ncontext.region: authorized\nevent_time: tenant\n"
    );
    insta::assert_snapshot!(errors(&text, Options::default()));
}

#[test]
fn missing_required_and_expiry_needs() {
    let opts = Options {
        drop: DropWhen::parse("expired").unwrap(),
        ..Options::default()
    };
    insta::assert_snapshot!(errors("tenant: tenant\n", opts));
}

#[test]
fn constants_the_policy_does_not_declare() {
    let text = "tenant: tenant\nsurface: {value: homepage}\npurpose: {value: training}\nconsent.training: {value: yes please}\nkind: {value: raw_events}\nroles: {value: [sre, intern]}\nsubject.user_id: {value: 7}\n";
    insta::assert_snapshot!(errors(text, Options::default()));
    let opts = Options {
        purpose: Some("spying".into()),
        ..Options::default()
    };
    insta::assert_snapshot!(errors(BASE, opts));
}

#[test]
fn a_good_mapping_is_accepted_from_yaml_and_json_alike() {
    let text = format!(
        "{BASE}subject.user_id: user_id\nconsent.training: consent_training\nevent_time: ts\nkind: {{value: raw_behavior_events}}\n"
    );
    assert_eq!(errors(&text, Options::default()), "no error");
    let json = r#"{"tenant": "tenant", "surface": {"value": "home"}, "purpose": {"value": "training"}, "subject.user_id": "user_id"}"#;
    let from_json = Mapping::from_json(json).unwrap();
    let from_yaml = Mapping::from_yaml(
        "tenant: tenant\nsurface: {value: home}\npurpose: {value: training}\nsubject.user_id: user_id\n",
        "m",
    )
    .unwrap();
    let strip = |m: &Mapping| {
        m.entries
            .iter()
            .map(|e| (e.key.clone(), e.source.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&from_json), strip(&from_yaml));
    let e = Mapping::from_json(r#"{"tenant": 5}"#).unwrap_err();
    assert_eq!(e.code(), "E0901");
    assert_eq!(e.findings[0].place.as_ref().unwrap().file, "<mapping>");
}
