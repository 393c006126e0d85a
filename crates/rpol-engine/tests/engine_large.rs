//! The word-at-a-time path for deciding every feature, on a registry of more
//! than 64 features: each verdict equals the single check, and the cache
//! scope's bitmap hash is recomputed here independently from the decision.

use std::path::Path;

use rpol_check::SourceInput;
use rpol_engine::Compiled;
use sha2::{Digest, Sha256};

fn large() -> Compiled {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut reg = std::fs::read_to_string(root.join("policies/features.yaml")).unwrap();
    for i in 0..300 {
        let (class, modes, extra) = match i % 5 {
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
                "\n    requires_consent: session",
            ),
            3 => (
                "sensitive_inferred",
                "[personalized]",
                "\n    requires_consent: personalization",
            ),
            _ => (
                "aggregate_non_personal",
                "[personalized, contextual_only, non_personalized]",
                "\n    prohibited_purposes: [fraud_prevention]",
            ),
        };
        reg.push_str(&format!(
            "  - name: g_{i}\n    entity: item\n    privacy_class: {class}\n    allowed_privacy_modes: {modes}\n    allowed_purposes: [personalization, ads_targeting, training]{extra}\n"
        ));
    }
    let home = std::fs::read_to_string(root.join("policies/home/home.rpol")).unwrap();
    let files = vec![SourceInput {
        name: "home.rpol".into(),
        text: home,
    }];
    let checked = rpol_check::check(files, Some(Path::new("features.yaml")), &move |_| {
        Ok(reg.clone())
    });
    Compiled::build(
        checked
            .policy
            .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics))
            .model,
    )
    .unwrap()
}

#[test]
fn every_feature_path_agrees_with_single_checks() {
    let c = large();
    let nf = c.model().features.len();
    assert!(nf > 300);
    let mut checked = 0;
    for purpose in [
        "personalization",
        "ads_targeting",
        "training",
        "fraud_prevention",
    ] {
        for consent in [
            r#"{}"#,
            r#"{"personalization":"granted"}"#,
            r#"{"personalization":"granted","session":"granted","training":"granted"}"#,
            r#"{"personalization":"denied"}"#,
        ] {
            for subject in ["", r#","subject":{"user_id":"u1"}"#] {
                let json = format!(
                    r#"{{"tenant":"bank_a","surface":"pdp","purpose":"{purpose}","consent":{consent}{subject}}}"#
                );
                let req = c.parse_request(&json).unwrap();
                let d = c.decide(&req, &[]);
                assert_eq!(d.features.len(), nf, "no route on pdp: every feature");
                let p = c.prepare(&req);
                for (i, v) in &d.features {
                    assert_eq!(
                        *v,
                        c.check_feature(&p, c.feature_at(*i).unwrap()),
                        "feature {i} for {json}"
                    );
                    checked += 1;
                }
                // Recompute the cache scope's bitmap hash from the decision itself.
                let ns = d.sources.len();
                let mut bits = vec![0u8; ns.div_ceil(8) + nf.div_ceil(8)];
                for (s, v) in d.sources.iter().enumerate() {
                    assert_eq!(*v, c.check_source(&p, c.source_at(s as u32).unwrap()));
                    if v.is_allowed() {
                        bits[s / 8] |= 1 << (s % 8);
                    }
                }
                for f in d.allowed_features() {
                    let f = f as usize;
                    bits[ns.div_ceil(8) + f / 8] |= 1 << (f % 8);
                }
                let hash: String = Sha256::digest(&bits)[..4]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert!(
                    d.cache_scope.ends_with(&format!("/{hash}")),
                    "{} vs {hash}",
                    d.cache_scope
                );
            }
        }
    }
    assert!(checked > 9_000, "{checked}");
}
