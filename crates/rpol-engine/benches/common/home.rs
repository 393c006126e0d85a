//! The engine bench's policy: the example (`policies/home`) plus one source
//! (8 sources) and `n` generated registry features, and its two requests.
//! Shared by `benches/engine.rs` and `examples/engine_cpu.rs`.

use std::path::Path;

use rpol_check::SourceInput;
use rpol_engine::Compiled;

fn registry(n: usize) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut s = std::fs::read_to_string(root.join("policies/features.yaml")).unwrap();
    for i in 0..n {
        let (class, modes, extra) = match i % 4 {
            0 => (
                "behavioral_personal",
                "[personalized]",
                "\n    retention_days: 30\n    requires_consent: personalization",
            ),
            1 => (
                "public_catalog",
                "[personalized, contextual_only, non_personalized]",
                "",
            ),
            2 => (
                "contextual",
                "[personalized, contextual_only, non_personalized]",
                "",
            ),
            _ => (
                "aggregate_non_personal",
                "[personalized, contextual_only, non_personalized]",
                "\n    prohibited_purposes: [ads_targeting]",
            ),
        };
        s.push_str(&format!(
            "  - name: generated_{i}\n    entity: item\n    privacy_class: {class}\n    allowed_privacy_modes: {modes}\n    allowed_purposes: [personalization, quality_monitoring]{extra}\n"
        ));
    }
    s
}

pub fn compiled(n: usize) -> Compiled {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut home = std::fs::read_to_string(root.join("policies/home/home.rpol")).unwrap();
    home.push_str("\nsource fresh_items { requires: [coarse_context], when: context.device in [mobile, tv] }\n");
    let reg = registry(n);
    let files = vec![SourceInput {
        name: "home.rpol".into(),
        text: home,
    }];
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| {
        Ok(reg.clone())
    });
    let policy = checked
        .policy
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics));
    Compiled::build(policy.model).unwrap()
}

pub const GRANTED_PDP: &str = r#"{"tenant":"acme","surface":"pdp","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted","session":"granted"},"consent_version":"c-1","context":{"region":"ID","device":"mobile"}}"#;
pub const GRANTED_HOME: &str = r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted"},"context":{"device":"tv"}}"#;
