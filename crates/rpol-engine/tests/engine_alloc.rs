//! A single feature or source check on a prepared request allocates nothing;
//! neither do the lean outputs nor a full decision into a reused buffer.

mod common;

#[test]
fn single_checks_do_not_allocate() {
    for dir in ["policies/home", "policies/enterprise"] {
        let c = common::compiled(dir);
        let req = c
            .parse_request(r#"{"tenant":"acme","surface":"home","purpose":"training","subject":{"user_id":"u"},"consent":{"personalization":"granted"},"context":{"region":"EU"}}"#)
            .or_else(|_| c.parse_request(r#"{"tenant":"acme","surface":"search","purpose":"search_ranking","subject":{"user_id":"u"},"consent":{"workspace_activity":"granted"},"context":{"plan":"business"}}"#))
            .expect("request");
        let p = c.prepare(&req);
        let features: Vec<_> = c.feature_ids().collect();
        let sources: Vec<_> = c.source_ids().collect();
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                for &f in &features {
                    std::hint::black_box(c.check_feature(&p, f));
                }
                for &s in &sources {
                    std::hint::black_box(c.check_source(&p, s));
                }
            }
        });
        assert_eq!(
            info.count_total, 0,
            "{dir}: single checks allocated {} times",
            info.count_total
        );
    }
}

/// The lean outputs reuse their buffers: after a first call has grown them,
/// `decide_allowed_scoped` and `write_json` allocate nothing.
#[test]
fn lean_outputs_do_not_allocate() {
    let workload = rpol_testing::workload::compiled(2_000);
    let mut policies = vec![
        common::compiled("policies/home"),
        common::compiled("policies/enterprise"),
    ];
    policies.push(workload);
    for c in &policies {
        let reqs: Vec<_> = rpol_testing::workload::requests(40)
            .iter()
            .chain([&rpol_testing::workload::TYPICAL.to_string()])
            .filter_map(|r| c.parse_request(r).ok())
            .chain(c.parse_request(r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u"},"consent":{"personalization":"granted"}}"#).ok())
            .chain(c.parse_request(r#"{"tenant":"acme","surface":"search","purpose":"search_ranking","subject":{"user_id":"u"},"consent":{"workspace_activity":"granted"},"context":{"plan":"business"}}"#).ok())
            .collect();
        assert!(!reqs.is_empty());
        let decisions: Vec<_> = reqs.iter().map(|r| c.decide(r, &[])).collect();
        let mut set = rpol_engine::AllowedSet::new();
        let mut json = String::new();
        let run = |set: &mut rpol_engine::AllowedSet, json: &mut String| {
            for (r, d) in reqs.iter().zip(&decisions) {
                c.decide_allowed_scoped(r, set);
                std::hint::black_box(set.feature_words());
                json.clear();
                d.write_json(c, json);
            }
        };
        run(&mut set, &mut json); // grows the buffers
        let info = allocation_counter::measure(|| run(&mut set, &mut json));
        assert_eq!(
            info.count_total,
            0,
            "{}: lean outputs allocated {} times",
            c.model().name,
            info.count_total
        );
    }
}

/// Requests of every coverage kind for `c`: the workload stream and the
/// typical request (no feature list: the route or the whole registry), and
/// feature lists long and short (known and unknown names), so that the
/// reused buffer shrinks and grows between calls.
fn mixed_requests(c: &rpol_engine::Compiled) -> Vec<rpol_engine::Request> {
    let names: Vec<String> = c.model().features.iter().map(|f| f.name.clone()).collect();
    let list = |n: usize, unknown: usize| {
        let mut f: Vec<String> = names.iter().rev().take(n).cloned().collect();
        f.extend((0..unknown).map(|i| format!("not_registered_{i}")));
        serde_json::to_string(&f).unwrap_or_default()
    };
    let listed = |t: &str, features: String| {
        // The request with a `features` list spliced in before its last brace.
        t.strip_suffix('}')
            .map(|head| format!("{head},\"features\":{features}}}"))
            .unwrap_or_default()
    };
    let bases: Vec<String> = rpol_testing::workload::requests(40)
        .into_iter()
        .chain([rpol_testing::workload::TYPICAL.to_string()])
        .chain([r#"{"tenant":"acme","surface":"home","purpose":"personalization","subject":{"user_id":"u"},"consent":{"personalization":"granted"}}"#.to_string()])
        .chain([r#"{"tenant":"acme","surface":"pdp","purpose":"training","subject":{"anonymous_id":"a"},"consent":{"personalization":"unknown"},"context":{"region":"EU"}}"#.to_string()])
        .chain([r#"{"tenant":"acme","surface":"search","purpose":"search_ranking","subject":{"user_id":"u"},"consent":{"workspace_activity":"granted"},"context":{"plan":"business"}}"#.to_string()])
        .collect();
    let mut texts = Vec::new();
    for b in &bases {
        texts.push(b.clone());
        texts.push(listed(b, list(names.len(), 3)));
        texts.push(listed(b, list(2, 0)));
        texts.push(listed(b, list(names.len() / 2, 40)));
        texts.push(listed(b, list(0, 1)));
    }
    texts
        .iter()
        .filter_map(|r| c.parse_request(r).ok())
        .collect()
}

/// A full decision into a reused buffer allocates nothing once the buffer has
/// grown: sources, features (registry, route or list), unknown names, reasons
/// (the same codes asked again, few or many) and the cache scope.
#[test]
fn full_decisions_into_a_reused_buffer_do_not_allocate() {
    let policies = [
        common::compiled("policies/home"),
        common::compiled("policies/enterprise"),
        rpol_testing::workload::compiled(2_000),
    ];
    let few: &[&str] = &["trending_region_ID", "collab_1", "editorial", "collab_1"];
    let many: &[&str] = &[
        "trending_region_ID",
        "collab_1",
        "editorial",
        "team_a",
        "x",
        "collab_1",
        "recent_doc_2",
        "trending",
        "org_pop_9",
        "user_embedding_nn_3",
        "editorial",
        "category_affinity_x",
    ];
    for c in &policies {
        let reqs = mixed_requests(c);
        assert!(
            reqs.len() >= 5,
            "{}: {} requests",
            c.model().name,
            reqs.len()
        );
        assert!(reqs.iter().any(|r| r.features.is_some()));
        let mut d = rpol_engine::Decision::new();
        let run = |d: &mut rpol_engine::Decision| {
            for r in &reqs {
                for codes in [&[][..], few, many] {
                    c.decide_into(r, codes, d);
                    std::hint::black_box(d.features.len());
                }
            }
        };
        run(&mut d); // grows the buffers
        let info = allocation_counter::measure(|| run(&mut d));
        assert_eq!(
            info.count_total,
            0,
            "{}: full decisions into a reused buffer allocated {} times",
            c.model().name,
            info.count_total
        );
        // And the buffer holds what a fresh decision holds.
        for r in &reqs {
            c.decide_into(r, many, &mut d);
            assert_eq!(d, c.decide(r, many));
        }
    }
}

/// A new decision buffer allocates nothing until it is filled.
#[test]
fn a_new_decision_buffer_does_not_allocate() {
    drop(rpol_engine::Decision::new()); // the shared empty digest, once
    let info = allocation_counter::measure(|| {
        std::hint::black_box(rpol_engine::Decision::new());
    });
    assert_eq!(info.count_total, 0);
}
