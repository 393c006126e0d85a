//! Ids, requests and prepared requests are tied to the policy that made them
//! (issue 16): used with another policy they are denied `policy_mismatch` (or
//! a request gets the invalid-request fallback), never another thing's
//! verdict and never a panic, across `Engine::swap` too.

mod common;

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use rpol_engine::{Compiled, DenyCode, Engine, ReasonOutcome, Verdict};

/// The home policy with its registry and its sources in reverse order: the
/// same names, other positions.
fn reversed_home() -> Compiled {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = rpol_check::load::read_policy(&root.join("policies/home")).unwrap();
    for f in &mut files {
        // A source item is one line, or a block from `source … {` to `}`.
        let (mut sources, mut rest): (Vec<String>, Vec<&str>) = (Vec::new(), Vec::new());
        let mut open = false;
        for l in f.text.lines() {
            if open {
                let last = sources.last_mut().expect("an open source block");
                last.push('\n');
                last.push_str(l);
                open = l != "}";
            } else if l.starts_with("source ") {
                sources.push(l.to_string());
                open = l.ends_with('{');
            } else {
                rest.push(l);
            }
        }
        let mut text = rest.join("\n");
        text.push('\n');
        for s in sources.iter().rev() {
            text.push_str(s);
            text.push('\n');
        }
        f.text = text;
    }
    let checked = rpol_check::check(files, None, &|p: &Path| {
        let text = rpol_check::load::read_registry(p)?;
        let (head, body) = text.split_once("\n  - name:").expect("a feature list");
        let mut entries: Vec<&str> = body.split("\n  - name:").collect();
        entries.reverse();
        let mut out = head.to_string();
        for e in entries {
            out.push_str("\n  - name:");
            out.push_str(e.trim_end_matches('\n'));
        }
        out.push('\n');
        Ok(out)
    });
    let policy = checked
        .policy
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics));
    Compiled::build(policy.model).unwrap()
}

const HOME: &str = r#"{"tenant":"acme","surface":"pdp","purpose":"training","subject":{"user_id":"u1"},"consent":{"personalization":"granted","training":"denied"}}"#;
const PERSONAL: &str = r#"{"tenant":"acme","surface":"pdp","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted"}}"#;
const ENTERPRISE: &str = r#"{"tenant":"acme","surface":"search","purpose":"search_ranking","subject":{"user_id":"u"},"consent":{"workspace_activity":"granted"},"context":{"plan":"business"}}"#;

#[test]
fn the_two_home_policies_really_differ() {
    let (a, b) = (common::compiled("policies/home"), reversed_home());
    let names = |c: &Compiled| -> Vec<String> {
        c.model().features.iter().map(|f| f.name.clone()).collect()
    };
    let mut reversed = names(&a);
    reversed.reverse();
    assert_eq!(names(&b), reversed);
    assert_ne!(
        a.model().sources[0].name,
        b.model().sources[0].name,
        "sources reordered"
    );
}

#[test]
fn a_feature_id_of_another_registry_is_denied_not_misread() {
    let (a, b) = (common::compiled("policies/home"), reversed_home());
    // Consent denied: non_personalized, so `user_embedding` is denied.
    let json = PERSONAL.replace("granted", "denied");
    let req_b = b.parse_request(&json).unwrap();
    let pb = b.prepare(&req_b);
    let embedding_a = a.feature_id("user_embedding").unwrap();
    let truth = a.check_feature(&a.prepare(&a.parse_request(&json).unwrap()), embedding_a);
    assert_eq!(truth, Verdict::Denied(DenyCode::ModeNotAllowed));
    // In B, A's position of `user_embedding` holds an allowed feature: the
    // hazard of issue 16 (an id naming another feature, `Allowed`).
    let at_that_position = b.feature_at(embedding_a.index()).unwrap();
    assert_ne!(b.feature_name(at_that_position), Some("user_embedding"));
    assert_eq!(b.check_feature(&pb, at_that_position), Verdict::Allowed);
    // A's id is refused by B.
    assert_eq!(
        b.check_feature(&pb, embedding_a),
        Verdict::Denied(DenyCode::PolicyMismatch)
    );
    assert_eq!(b.feature_name(embedding_a), None);
    assert!(!b.debug_visible("privacy_engineer", embedding_a));
    assert!(a.debug_visible("privacy_engineer", embedding_a));
    // Re-resolved in B, the name gets its true verdict.
    let embedding_b = b.feature_id("user_embedding").unwrap();
    assert_eq!(b.feature_name(embedding_b), Some("user_embedding"));
    assert_eq!(b.check_feature(&pb, embedding_b), truth);
    // Sources likewise.
    let source_a = a.source_id("user_cf").unwrap();
    assert_eq!(
        b.check_source(&pb, source_a),
        Verdict::Denied(DenyCode::PolicyMismatch)
    );
    assert_eq!(
        b.check_source(&pb, b.source_id("user_cf").unwrap()),
        Verdict::Denied(DenyCode::CapabilityMissing)
    );
    // A request parsed by A is decided by B only through the fallback (the
    // vocabularies differ: the registry order is part of it).
    let req_a = a.parse_request(&json).unwrap();
    assert_eq!(b.decide(&req_a, &[]).mode, b.model().fallback.mode);
    assert_eq!(
        b.decide(&req_b, &[]).to_json(&b),
        b.decide(&req_b, &[]).to_json(&b)
    );
}

#[test]
fn a_prepared_request_of_another_policy_is_denied_not_a_panic() {
    let home = common::compiled("policies/home");
    let enterprise = common::compiled("policies/enterprise");
    // `training` is purpose 4 of home; enterprise has 4 purposes (this panicked).
    let req = home.parse_request(HOME).unwrap();
    let p = home.prepare(&req);
    for f in enterprise.feature_ids() {
        assert_eq!(
            enterprise.check_feature(&p, f),
            Verdict::Denied(DenyCode::PolicyMismatch)
        );
    }
    for s in enterprise.source_ids() {
        assert_eq!(
            enterprise.check_source(&p, s),
            Verdict::Denied(DenyCode::PolicyMismatch)
        );
    }
    assert_eq!(
        enterprise.explain(&p, "anything"),
        ReasonOutcome::Suppressed(DenyCode::PolicyMismatch)
    );
    // A request of home prepared by enterprise: every check is denied.
    let p = enterprise.prepare(&req);
    for f in enterprise.feature_ids() {
        assert_eq!(
            enterprise.check_feature(&p, f),
            Verdict::Denied(DenyCode::PolicyMismatch)
        );
    }
    let p = enterprise.prepare_in(&req, 0);
    assert_eq!(
        enterprise.check_source(&p, enterprise.source_at(0).unwrap()),
        Verdict::Denied(DenyCode::PolicyMismatch)
    );
    // Decided by enterprise, it is the fallback for a request with nothing
    // valid: the `else` mode, every feature `invalid_request`.
    let d = enterprise.decide(&req, &["x"]);
    assert_eq!(d.mode, enterprise.model().fallback.mode);
    assert!(
        d.features
            .iter()
            .all(|(_, v)| *v == Verdict::Denied(DenyCode::InvalidRequest))
    );
    assert_eq!(d.features.len(), enterprise.model().features.len());
    assert!(d.to_json(&enterprise).contains(r#""cache_scope":"-/-/"#));
    // The same model built twice shares ids and requests, not prepared requests.
    let again = common::compiled("policies/home");
    let p = home.prepare(&req);
    let f = home.feature_id("user_embedding").unwrap();
    assert_eq!(
        again.check_feature(&p, f),
        Verdict::Denied(DenyCode::PolicyMismatch)
    );
    assert_eq!(
        again.check_feature(&again.prepare(&req), f),
        home.check_feature(&p, f)
    );
    assert_eq!(again.decide(&req, &[]), home.decide(&req, &[]));
}

#[test]
fn hand_built_requests_out_of_range_are_denied() {
    let c = common::compiled("policies/home");
    let mut req = c.blank_request();
    req.tenant = Some("t".into());
    req.surface = Some(99);
    req.purpose = Some(99);
    let p = c.prepare(&req);
    for f in c.feature_ids() {
        assert_eq!(
            c.check_feature(&p, f),
            Verdict::Denied(DenyCode::InvalidRequest)
        );
    }
    let valid = c.parse_request(HOME).unwrap();
    let p = c.prepare_in(&valid, 77);
    assert_eq!(
        c.check_feature(&p, c.feature_id("item_quality_score").unwrap()),
        Verdict::Denied(DenyCode::InvalidRequest)
    );
    let d = c.decide(&req, &["editorial"]);
    assert_eq!(d.features.len(), c.model().features.len());
    assert!(!d.to_json(&c).is_empty());
    // A decision rendered against a policy that did not make it: no panic.
    let enterprise = common::compiled("policies/enterprise");
    let d = c.decide(&c.parse_request(HOME).unwrap(), &["editorial"]);
    assert!(!d.to_json(&enterprise).is_empty());
}

#[test]
fn ids_resolved_at_start_up_across_swaps() {
    let engine = Engine::new(common::compiled("policies/home"));
    let json = PERSONAL;
    // Resolved once at start-up, as a service does.
    let (embedding, user_cf) = {
        let c = engine.load();
        (
            c.feature_id("user_embedding").unwrap(),
            c.source_id("user_cf").unwrap(),
        )
    };
    let verdicts = |engine: &Engine| {
        let c = engine.load();
        let req = c.parse_request(json).unwrap();
        let p = c.prepare(&req);
        (c.check_feature(&p, embedding), c.check_source(&p, user_cf))
    };
    let before = verdicts(&engine);
    assert_eq!(before.0, Verdict::Allowed);
    // A registry in another order: the old ids are refused.
    engine.swap(reversed_home());
    assert_eq!(
        verdicts(&engine),
        (
            Verdict::Denied(DenyCode::PolicyMismatch),
            Verdict::Denied(DenyCode::PolicyMismatch)
        )
    );
    // Re-resolved against the new policy, the same names decide the same way.
    {
        let c = engine.load();
        let req = c.parse_request(json).unwrap();
        let p = c.prepare(&req);
        let f = c.feature_id("user_embedding").unwrap();
        assert_eq!(c.check_feature(&p, f), before.0);
        assert_eq!(
            c.check_source(&p, c.source_id("user_cf").unwrap()),
            before.1
        );
    }
    // Back to a policy with the original registry: the start-up ids work again.
    engine.swap(common::compiled("policies/home"));
    assert_eq!(verdicts(&engine), before);
}

/// What a random mix can pick from.
struct World {
    policies: Vec<Compiled>,
    requests: Vec<(usize, rpol_engine::Request)>,
}

static WORLD: LazyLock<World> = LazyLock::new(world);

fn world() -> World {
    let policies = vec![
        common::compiled("policies/home"),
        reversed_home(),
        common::compiled("policies/enterprise"),
        common::compiled("policies/home"),
    ];
    let mut requests = Vec::new();
    for (i, c) in policies.iter().enumerate() {
        for json in [HOME, ENTERPRISE, PERSONAL] {
            if let Ok(r) = c.parse_request(json) {
                requests.push((i, r));
            }
        }
    }
    World { policies, requests }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any mix of policy, request, preparing policy and id: no panic, and a
    /// verdict other than `policy_mismatch` only when everything belongs to
    /// one policy (or to one with the same names), and then the right one.
    #[test]
    fn mixing_never_panics_nor_misreads(
        checker in 0usize..4, preparer in 0usize..4, owner in 0usize..4,
        request in 0usize..64, index in 0u32..64, code in "[a-z_]{0,12}",
    ) {
        let w = &*WORLD;
        let (req_owner, req) = &w.requests[request % w.requests.len()];
        let (c, p_by, id_by) = (&w.policies[checker], &w.policies[preparer], &w.policies[owner]);
        let p = p_by.prepare(req);
        let _ = c.decide(req, &[&code]).to_json(c);
        let _ = c.explain(&p, &code);
        if let Some(f) = id_by.feature_at(index % id_by.model().features.len() as u32) {
            let v = c.check_feature(&p, f);
            let same_names = |x: &Compiled, y: &Compiled| {
                x.model().features.iter().map(|f| &f.name).eq(y.model().features.iter().map(|f| &f.name))
            };
            let vocab_ok = same_names(p_by, &w.policies[*req_owner])
                && p_by.model().purposes == w.policies[*req_owner].model().purposes
                && p_by.model().context == w.policies[*req_owner].model().context;
            if checker != preparer || !same_names(c, id_by) || !vocab_ok {
                prop_assert_eq!(v, Verdict::Denied(DenyCode::PolicyMismatch));
            } else {
                // Everything matches: the same verdict as the owner's own id.
                let own = c.feature_id(id_by.feature_name(f).unwrap()).unwrap();
                prop_assert_eq!(v, c.check_feature(&p, own));
                prop_assert_ne!(v, Verdict::Denied(DenyCode::PolicyMismatch));
            }
        }
        if let Some(s) = id_by.source_at(index % id_by.model().sources.len() as u32) {
            let v = c.check_source(&p, s);
            if checker != preparer {
                prop_assert_eq!(v, Verdict::Denied(DenyCode::PolicyMismatch));
            }
        }
    }
}
