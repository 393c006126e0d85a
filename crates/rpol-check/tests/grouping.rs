//! Grouped E0503 and E0505 (issue 16): found without comparing every pair,
//! they still report exactly the policies that comparing every pair would.

mod common;

use proptest::prelude::*;
use rpol_check::SourceInput;

fn check(body: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(common::workspace().join("tests/check/ok.rpol"))
        .unwrap()
        .replace("registries/base.yaml", "features.yaml");
    // The fixture's own route and reason are removed so that only the
    // generated ones can overlap.
    let text = text
        .split("feature_set home_all")
        .next()
        .unwrap()
        .to_string()
        + body;
    let reg = std::fs::read_to_string(common::workspace().join("tests/check/registries/base.yaml"))
        .unwrap();
    let files = vec![SourceInput {
        name: "p.rpol".into(),
        text,
    }];
    common::check_with_registry(files, &reg)
        .diagnostics
        .iter()
        .map(|d| (d.code.to_string(), d.message.clone()))
        .collect()
}

/// (modes, surfaces) of a feature set; `None` is every surface.
type Set = (Vec<&'static str>, Option<Vec<&'static str>>);

fn set() -> impl Strategy<Value = Set> {
    let modes = proptest::sample::subsequence(vec!["personalized", "basic"], 1..=2);
    let surfaces = proptest::option::of(proptest::sample::subsequence(vec!["home", "pdp"], 1..=2));
    (modes, surfaces)
}

fn overlap(a: &Set, b: &Set) -> bool {
    a.0.iter().any(|m| b.0.contains(m))
        && match (&a.1, &b.1) {
            (Some(x), Some(y)) => x.iter().any(|s| y.contains(s)),
            _ => true,
        }
}

/// A pattern with at most one `*` over a tiny alphabet, so overlaps are common.
fn pattern() -> impl Strategy<Value = String> {
    ("[ab]{0,2}", proptest::option::of("[ab]{0,2}"))
        .prop_map(|(p, s)| s.map_or(p.clone(), |s| format!("{p}*{s}")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn feature_sets_overlap_iff_some_pair_does(sets in proptest::collection::vec(set(), 1..5)) {
        let mut body = String::new();
        for (i, (modes, surfaces)) in sets.iter().enumerate() {
            let surfaces = surfaces.as_ref().map_or(String::new(), |s| format!(", surfaces: [{}]", s.join(", ")));
            body.push_str(&format!("feature_set set_{i} {{ modes: [{}]{surfaces}, features: [item_score] }}\n", modes.join(", ")));
        }
        let diags = check(&body);
        let e0503: Vec<&String> = diags.iter().filter(|(c, _)| c == "E0503").map(|(_, m)| m).collect();
        for (j, b) in sets.iter().enumerate() {
            // Each set that overlaps an earlier one is named in an E0503
            // (groups of up to three later sets name them all).
            if sets[..j].iter().any(|a| overlap(a, b)) {
                let name = format!("`set_{j}`");
                prop_assert!(e0503.iter().any(|m| m.contains(&name)), "{name} missing in {e0503:?}\n{body}");
            }
        }
        let any = (0..sets.len()).any(|j| (0..j).any(|i| overlap(&sets[i], &sets[j])));
        prop_assert_eq!(!e0503.is_empty(), any, "{:?}\n{}", diags, body);
        prop_assert!(diags.iter().all(|(c, _)| c == "E0503"), "{:?}", diags);
    }

    #[test]
    fn reasons_overlap_iff_some_pair_does(reasons in proptest::collection::vec(proptest::collection::vec(pattern(), 1..3), 1..5)) {
        let mut body = String::new();
        for (i, codes) in reasons.iter().enumerate() {
            let codes: Vec<String> = codes.iter().map(|c| format!("\"{c}\"")).collect();
            body.push_str(&format!("reason r_{i} {{ text: \"R\", codes: [{}] }}\n", codes.join(", ")));
        }
        let diags = check(&body);
        let e0505 = diags.iter().filter(|(c, _)| c == "E0505").count();
        let any = (0..reasons.len()).any(|j| (0..j).any(|i| {
            reasons[i].iter().any(|a| reasons[j].iter().any(|b| rpol_check::patterns::overlap(a, b)))
        }));
        prop_assert_eq!(e0505 > 0, any, "{:?}\n{}", diags, body);
        // Nothing else fires (E0304: the generator may make an empty pattern).
        prop_assert!(diags.iter().all(|(c, _)| c == "E0505" || c == "E0304"), "{:?}", diags);
    }
}
