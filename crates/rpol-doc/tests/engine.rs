//! Every cell of the sheet agrees with the engine: each outcome a cell lists
//! is what `check_feature` (`check_source`, `explain`) answers for a request
//! that resolves to the cell's mode (with its purpose), and every request of
//! a mode and purpose gets one of the outcomes its cell lists.

mod common;

use proptest::prelude::*;
use rpol_doc::{Cell, Key, Sheet};
use rpol_engine::Compiled;
use rpol_engine::model::ContextType;
use serde_json::{Map, Value, json};

fn prepared_mode_purpose(c: &Compiled, req: &rpol_engine::Request) -> (usize, usize) {
    let p = c.prepare(req);
    (
        p.mode as usize,
        req.purpose.expect("valid purpose") as usize,
    )
}

/// Each listed outcome happens: its witness resolves to the cell and gets it.
#[test]
fn every_listed_outcome_is_the_engines_answer_for_its_witness() {
    for path in common::POLICIES {
        let (sheet, c) = common::sheet(&common::root().join(path), path);
        let m = c.model();
        let features: Vec<_> = c.feature_ids().collect();
        let sources: Vec<_> = c.source_ids().collect();
        let mut checked = 0;
        for (fi, per_mode) in sheet.matrix.features.iter().enumerate() {
            for (mi, per_purpose) in per_mode.iter().enumerate() {
                for (pi, cell) in per_purpose.iter().enumerate() {
                    for o in &cell.outcomes {
                        let req = c
                            .parse_request(&o.witness.to_string())
                            .unwrap_or_else(|e| panic!("{path}: witness {}: {e}", o.witness));
                        assert_eq!(
                            prepared_mode_purpose(&c, &req),
                            (mi, pi),
                            "{path}: {}",
                            o.witness
                        );
                        let p = c.prepare(&req);
                        let got = Key::of_verdict(c.check_feature(&p, features[fi]));
                        assert_eq!(
                            got, o.key,
                            "{path}: feature `{}` mode `{}` purpose `{}` witness {}",
                            m.features[fi].name, m.modes[mi].name, m.purposes[pi], o.witness
                        );
                        checked += 1;
                    }
                }
            }
        }
        for (si, per_mode) in sheet.matrix.sources.iter().enumerate() {
            for (mi, cell) in per_mode.iter().enumerate() {
                for o in &cell.outcomes {
                    let req = c.parse_request(&o.witness.to_string()).expect("witness");
                    let p = c.prepare(&req);
                    assert_eq!(p.mode as usize, mi);
                    assert_eq!(Key::of_verdict(c.check_source(&p, sources[si])), o.key);
                    checked += 1;
                }
            }
        }
        for (ri, per_mode) in sheet.matrix.reasons.iter().enumerate() {
            for (mi, cell) in per_mode.iter().enumerate() {
                for o in &cell.outcomes {
                    let req = c.parse_request(&o.witness.to_string()).expect("witness");
                    let p = c.prepare(&req);
                    assert_eq!(p.mode as usize, mi);
                    let code = &sheet.matrix.reason_codes[ri];
                    assert_eq!(Key::of_reason(c.explain(&p, code)), o.key);
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "{path}: no outcome checked");
    }
}

/// Cells of a mode and purpose that no request reaches are exactly those the
/// engine never resolves to; and the home policy has the cells a reviewer
/// relies on.
#[test]
fn home_cells_a_reviewer_relies_on() {
    let (sheet, _) = common::sheet(&common::root().join("policies/home"), "policies/home");
    let f = |name: &str| {
        sheet
            .features
            .iter()
            .position(|x| x.name == name)
            .expect("feature")
    };
    let mode = |name: &str| {
        sheet
            .modes
            .iter()
            .position(|x| x.name == name)
            .expect("mode")
    };
    let purpose = |name: &str| {
        sheet
            .purposes
            .iter()
            .position(|x| x == name)
            .expect("purpose")
    };
    let cell = |fe: &str, mo: &str, pu: &str| -> &Cell {
        &sheet.matrix.features[f(fe)][mode(mo)][purpose(pu)]
    };
    let codes = |c: &Cell| -> Vec<String> {
        c.outcomes
            .iter()
            .map(|o| rpol_doc::text::key_label(o.key))
            .collect()
    };
    // Personal data never in non-personalized serving.
    assert_eq!(
        codes(cell(
            "user_embedding",
            "non_personalized",
            "personalization"
        )),
        ["mode_not_allowed"]
    );
    // Training depends on the training opt-in: both outcomes, exactly described.
    let t = cell("user_embedding", "personalized", "training");
    assert_eq!(t.outcomes.len(), 2, "{:?}", codes(t));
    let allowed = t
        .outcomes
        .iter()
        .find(|o| o.key.code == "allowed")
        .expect("allowed");
    assert!(allowed.exact);
    assert_eq!(allowed.when, ["`consent.training` is granted"]);
    let forbidden = t
        .outcomes
        .iter()
        .find(|o| o.key.code == "forbidden")
        .expect("forbidden");
    assert_eq!(Sheet::rule_label(forbidden.key.rule.expect("rule")), "F3");
    // The sensitive feature never feeds ads (prohibited by the registry? no: the forbid rule).
    let ads = cell("inferred_health_interest", "personalized", "ads_targeting");
    assert!(
        ads.outcomes.iter().all(|o| !o.key.grants()),
        "{:?}",
        codes(ads)
    );
}

/// Tenants, ids and context values the bundled policies compare with, and others.
fn random_request(c: &Compiled, g: &mut impl FnMut(usize) -> usize) -> Value {
    let m = c.model();
    let strs = ["acme", "bank_a", "clinic_b", "u1", "", "eu", "x_other"];
    let mut o = Map::new();
    let tenant = strs[g(strs.len())];
    o.insert(
        "tenant".into(),
        json!(if tenant.is_empty() { "t" } else { tenant }),
    );
    o.insert("surface".into(), json!(m.surfaces[g(m.surfaces.len())]));
    o.insert("purpose".into(), json!(m.purposes[g(m.purposes.len())]));
    if g(3) > 0 {
        o.insert("subject".into(), json!({ "user_id": strs[g(strs.len())] }));
    }
    let mut consent = Map::new();
    for t in &m.consent_topics {
        match g(4) {
            0 => {}
            k => {
                consent.insert(t.clone(), json!(["granted", "denied", "unknown"][k - 1]));
            }
        }
    }
    o.insert("consent".into(), Value::Object(consent));
    let mut ctx = Map::new();
    for f in &m.context {
        if g(3) == 0 {
            continue;
        }
        let v = match &f.ty {
            ContextType::String => json!(strs[g(strs.len())]),
            ContextType::Int => json!(g(200) as i64 - 10),
            ContextType::Bool => json!(g(2) == 1),
            ContextType::Duration => json!(format!("{}h", g(100))),
            ContextType::Enum(vs) => json!(vs[g(vs.len())]),
        };
        ctx.insert(f.name.clone(), v);
    }
    o.insert("context".into(), Value::Object(ctx));
    let roles: Vec<&String> = m.roles.iter().filter(|_| g(2) == 1).collect();
    o.insert("roles".into(), json!(roles));
    Value::Object(o)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every request gets, for every feature, source and reason, one of the
    /// outcomes the cell of its mode and purpose lists.
    #[test]
    fn every_request_gets_an_outcome_its_cell_lists(seed in any::<u64>()) {
        thread_local! {
            static SHEETS: Vec<(Sheet, Compiled)> = common::POLICIES
                .iter()
                .map(|p| common::sheet(&common::root().join(p), p))
                .collect();
        }
        SHEETS.with(|sheets| {
            for (sheet, c) in sheets {
                let mut state = seed;
                let mut g = |n: usize| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 33) as usize) % n.max(1)
                };
                let json = random_request(c, &mut g);
                let Ok(req) = c.parse_request(&json.to_string()) else { continue };
                let p = c.prepare(&req);
                let (mi, pi) = (p.mode as usize, req.purpose.expect("purpose") as usize);
                for (fi, id) in c.feature_ids().enumerate() {
                    let key = Key::of_verdict(c.check_feature(&p, id));
                    let cell = &sheet.matrix.features[fi][mi][pi];
                    assert!(cell.outcomes.iter().any(|o| o.key == key), "{} {json}: {key:?} not in {:?}", sheet.name, cell.outcomes);
                }
                for (si, id) in c.source_ids().enumerate() {
                    let key = Key::of_verdict(c.check_source(&p, id));
                    assert!(sheet.matrix.sources[si][mi].outcomes.iter().any(|o| o.key == key));
                }
                for (ri, code) in sheet.matrix.reason_codes.iter().enumerate() {
                    let key = Key::of_reason(c.explain(&p, code));
                    assert!(sheet.matrix.reasons[ri][mi].outcomes.iter().any(|o| o.key == key));
                }
            }
        });
    }
}
