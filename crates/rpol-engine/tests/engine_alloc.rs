//! A single feature or source check on a prepared request allocates nothing.

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
